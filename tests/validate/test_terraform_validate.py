"""``terraform init`` + ``terraform validate`` on every shipped stack, offline
when TF_PROVIDER_MIRROR names a provider mirror (.ci/run sets it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.settings import Settings
from tests.helpers import make_settings
from tools.terraform import terraform_env, validate

Synth = dict[str, dict[str, Any]]


def write_stack(base: Path, name: str, doc: dict[str, Any]) -> Path:
    d = base / name
    d.mkdir(parents=True)
    (d / "cdk.tf.json").write_text(json.dumps(doc))
    return d


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_terraform_validate_shipped_stacks(env: str, synth: Callable[[Settings], Synth], tmp_path: Path) -> None:
    docs = synth(make_settings(env))
    tf_env = terraform_env()
    for stack, doc in docs.items():
        validate(write_stack(tmp_path, stack, doc), tf_env)


def test_terraform_validate_catches_a_broken_stack(dev: Synth, tmp_path: Path) -> None:
    doc = json.loads(json.dumps(dev["state"]))
    table = next(iter(doc["resource"]["aws_dynamodb_table"].values()))
    table["hash_keyy"] = table.pop("hash_key")
    with pytest.raises(RuntimeError, match="hash_keyy"):
        validate(write_stack(tmp_path, "broken", doc), terraform_env())

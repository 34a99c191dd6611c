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
from tools.terraform import terraform_env, validate_together

Synth = dict[str, dict[str, Any]]
SHIPPED = ("dev", "staging", "prod")


def test_terraform_validate_shipped_stacks(synth: Callable[[Settings], Synth], tmp_path: Path) -> None:
    """Every stack of every shipped environment, in one terraform run (an error names the stack)."""
    stacks = {f"{env}-{kind}": doc for env in SHIPPED for kind, doc in synth(make_settings(env)).items()}
    assert len(stacks) == 9  # state, access and platform of each
    validate_together(stacks, tmp_path, terraform_env())


def test_terraform_validate_catches_a_broken_stack(dev: Synth, tmp_path: Path) -> None:
    doc = json.loads(json.dumps(dev["state"]))
    table = next(iter(doc["resource"]["aws_dynamodb_table"].values()))
    table["hash_keyy"] = table.pop("hash_key")
    # Beside sound stacks, as the tests validate them: the broken one still fails the run, named.
    stacks = {**dev, "state": doc}
    with pytest.raises(RuntimeError, match=r'(?s)on state/cdk\.tf\.json line \d+.*"hash_keyy"'):
        validate_together(stacks, tmp_path, terraform_env())


def test_a_stack_with_import_blocks_is_refused_before_terraform_runs(dev: Synth, tmp_path: Path) -> None:
    """terraform reads import blocks in the root module only: as a module they would be ignored."""
    doc = {**dev["platform"], "import": [{"to": "aws_s3_bucket.x", "id": "x"}]}
    with pytest.raises(ValueError, match="platform: a stack with import blocks cannot be validated as a module"):
        validate_together({"platform": doc}, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing run

"""The synthesized JSON of every stack, dev and prod, pinned for review.

An intended change: ``pipenv run pytest tests/snapshot --snapshot-update``,
then review the snapshot diff in the pull request like any other code.
Normalised so a snapshot is the same on every machine: keys sorted, the
Lambda asset's content hash and folder replaced by placeholders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from constructs_lib.settings import Settings
from tests.helpers import make_settings

Synth = dict[str, dict[str, Any]]
_ASSET_PATH = re.compile(r"assets/([A-Za-z0-9_-]+?)_[0-9A-F]{8}/[0-9A-F]{32}/")
_ASSET_HASH = re.compile(r'"source_code_hash": "[0-9A-F]{32}"')


def normalise(doc: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(doc, sort_keys=True, indent=2)
    text = _ASSET_PATH.sub(r"assets/\1/<content-hash>/", text)
    text = _ASSET_HASH.sub('"source_code_hash": "<content-hash>"', text)
    return dict(json.loads(text))


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("stack", ["state", "platform", "access"])
def test_synthesized_stack_matches_snapshot(
    synth: Callable[[Settings], Synth], json_snapshot: SnapshotAssertion, environment: str, stack: str
) -> None:
    assert normalise(synth(make_settings(environment))[stack]) == json_snapshot


def test_normalise_replaces_machine_specific_values() -> None:
    doc = {"filename": "assets/orchestrator_code_80296EC8/033F29F02576C376D85EB9CCE434D2E2/archive.zip",
           "source_code_hash": "033F29F02576C376D85EB9CCE434D2E2"}  # fmt: skip
    assert normalise(doc) == {
        "filename": "assets/orchestrator_code/<content-hash>/archive.zip",
        "source_code_hash": "<content-hash>",
    }

"""The plan verdict (tools/plan_verdict.py): its schema, labels and the pull request's gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools import plan_verdict
from tools.plan_risk import evaluate


def rc(address: str, actions: list[str], before: Any = None, after: Any = None) -> dict[str, Any]:
    return {"address": address, "type": address.split(".")[0], "mode": "managed",
            "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}}}  # fmt: skip


RISKY = {"resource_changes": [rc("aws_kms_key.k", ["delete"], {"id": "k"})]}
QUIET = {"resource_changes": [rc("aws_sns_topic.t", ["update"], {"tags": {}}, {"tags": {"a": "b"}})]}
EMPTY: dict[str, Any] = {"resource_changes": []}


def verdict_of(*plans: tuple[str, dict[str, Any]]) -> plan_verdict.Verdict:
    return plan_verdict.build("prod", [(title, plan, evaluate(plan)) for title, plan in plans], commit="abc")


def test_a_deny_finding_makes_a_deny_verdict_with_its_labels() -> None:
    v = verdict_of(("state-backend-prod", EMPTY), ("platform-prod", RISKY))
    assert (v.verdict, v.labels) == ("deny", ["plan:data-loss", "plan:destroy"])
    (finding,) = v.findings
    assert (finding.stack, finding.address, finding.rule) == ("platform-prod", "aws_kms_key.k", "stateful-delete")
    assert [s.changes for s in v.stacks] == [{"create": 0, "update": 0, "replace": 0, "delete": 0},
                                             {"create": 0, "update": 0, "replace": 0, "delete": 1}]  # fmt: skip


def test_pass_and_no_changes() -> None:
    assert verdict_of(("platform-prod", QUIET)).verdict == "pass"
    assert verdict_of(("platform-prod", QUIET)).labels == []
    assert verdict_of(("platform-prod", EMPTY)).labels == ["plan:no-changes"]


def test_the_gate_blocks_deny_unless_overridden(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    risky, quiet = tmp_path / "a.json", tmp_path / "b.json"
    risky.write_text(verdict_of(("platform-prod", RISKY)).model_dump_json())
    quiet.write_text(verdict_of(("platform-dev", QUIET)).model_dump_json())
    labels = tmp_path / "labels.txt"
    assert plan_verdict.main(["gate", str(risky), str(quiet), "--labels-out", str(labels)]) == 1
    out = capsys.readouterr().out
    assert "BLOCKING: prod: platform-prod `aws_kms_key.k`: the aws_kms_key and its data (stateful-delete)" in out
    assert "plan:override" in out
    assert labels.read_text().splitlines() == ["plan:data-loss", "plan:destroy"]
    assert plan_verdict.main(["gate", str(risky), "--override", "--labels-out", str(labels)]) == 0
    assert "plan:override" in labels.read_text().splitlines()
    assert plan_verdict.main(["gate", str(quiet)]) == 0


def test_the_documented_schema_is_the_models() -> None:
    """docs/plan-verdict.schema.json is generated: python -m tools.plan_verdict schema --write."""
    assert json.loads(plan_verdict.SCHEMA_FILE.read_text()) == json.loads(plan_verdict.schema())
    v = json.loads(verdict_of(("platform-prod", RISKY)).model_dump_json())
    assert v["schema_id"] == "cicd-plan-verdict/1"
    assert set(v) == set(json.loads(plan_verdict.schema())["properties"])

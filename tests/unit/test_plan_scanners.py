"""The scanners' section of a pull request's plan comment (tools/plan_scanners.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.settings import Settings
from tests.helpers import ROOT, make_settings
from tools import plan_scanners

Synth = dict[str, dict[str, Any]]
CHECKOV = "tools/checkov/suppressions.toml"


def test_a_suppression_added_or_widened_is_listed() -> None:
    base = (ROOT / CHECKOV).read_text()
    widened = base.replace('resource = "aws_lambda_function.*_this_*"', 'resource = "*"', 1)
    added = (
        base
        + '\n[[suppression]]\ncheck_id = "CKV_AWS_999"\nresource = "x"\njustification = "because '
        + "x" * 40
        + '"\n'
    )
    lines = plan_scanners.suppression_changes({CHECKOV: base}, {CHECKOV: widened + added[len(base) :]})
    assert len(lines) == 2
    assert lines[0].startswith(f"- suppression widened in `{CHECKOV}`: `CKV_AWS_117` (resource `*`")
    assert lines[1].startswith(f"- suppression added in `{CHECKOV}`: `CKV_AWS_999` (resource `x`)")
    assert plan_scanners.suppression_changes({CHECKOV: base}, {CHECKOV: base}) == []


def test_only_created_updated_or_replaced_resources_are_scanned() -> None:
    plan = {"resource_changes": [
        {"address": "a.x", "mode": "managed", "change": {"actions": ["create"]}},
        {"address": "a.y", "mode": "managed", "change": {"actions": ["delete"]}},
        {"address": "a.z", "mode": "managed", "change": {"actions": ["no-op"]}},
        {"address": "data.a.w", "mode": "data", "change": {"actions": ["read"]}},
    ]}  # fmt: skip
    assert plan_scanners.changed_addresses(plan) == {"a.x"}


def test_iam_lint_findings_on_changed_resources(synth: Callable[[Settings], Synth]) -> None:
    doc = json.loads(json.dumps(synth(make_settings("dev"))["platform"]))
    name = next(n for n in doc["resource"]["aws_iam_role_policy"] if n.startswith("orchestrator_"))
    policy = json.loads(doc["resource"]["aws_iam_role_policy"][name]["policy"])
    policy["Statement"].append({"Sid": "Typo", "Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"})
    doc["resource"]["aws_iam_role_policy"][name]["policy"] = json.dumps(policy)
    lines = plan_scanners.iam_lint_lines(doc, "platform-dev", {f"aws_iam_role_policy.{name}"})
    assert any("UNKNOWN_ACTION" in line and "**not suppressed**" in line for line in lines), lines
    assert plan_scanners.iam_lint_lines(doc, "platform-dev", set()) == []


@pytest.mark.checkov
def test_the_section_names_checkov_findings_of_the_changed_resources(tmp_path: Path) -> None:
    values = {"bucket": "b", "force_destroy": False}
    bucket = {"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b",
              "change": {"actions": ["create"], "before": None, "after": values}}  # fmt: skip
    planned = {"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b", "values": values}
    plan = {"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": [bucket],
            "planned_values": {"root_module": {"resources": [planned]}}}  # fmt: skip
    (tmp_path / "platform-dev.json").write_text(json.dumps(plan))
    (tmp_path / "summary.md").write_text("### Terraform plan: platform-dev\n")
    assert plan_scanners.main([str(tmp_path), "--stacks", str(tmp_path), "--update", "--artifact", "plan-dev"]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "#### Scanners on the changed resources" in summary
    assert "checkov `CKV_AWS_" in summary
    assert "on `aws_s3_bucket.b`" in summary
    assert (tmp_path / "comment.md").read_text() == summary  # short enough: the comment is the summary

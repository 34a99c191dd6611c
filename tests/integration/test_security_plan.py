"""checkov over the plan JSON that upgraded the deployment from the last release (the plan
verb's own ``terraform show -json``, as CI's gate scans a pull request's plan), which also sees
what the synthesized JSON hides, such as ECS container definitions: what an upgraded environment
runs passes the gate too. Same worker as test_upgrade.py (tests/conftest.py GROUPS)."""

from __future__ import annotations

import json

import pytest

from tests.integration.upgrade import Upgrade
from tools.checkov_gate import load_suppressions, scan, unsuppressed

pytestmark = pytest.mark.integration


def test_deployment_plan_passes_the_security_gate(upgraded: Upgrade) -> None:
    # The plan verb's show -json of the upgrade's saved plan: every resource this code deploys,
    # with the values the apply then wrote (test_upgrade.py checks what it planned).
    plan_json = upgraded.plans / "platform-it.json"
    planned = json.loads(plan_json.read_text())["planned_values"]["root_module"]["resources"]
    assert {"aws_ecs_task_definition", "aws_wafv2_web_acl", "aws_s3_bucket"} <= {r["type"] for r in planned}

    findings = scan(plan_json, "terraform_plan", "platform-it")
    assert findings, "the plan scan should see the deployment's resources"
    assert [str(f) for f in unsuppressed(findings, load_suppressions())] == []

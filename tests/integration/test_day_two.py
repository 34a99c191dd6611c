"""Day two on the shared deployment: another machine deploys again, drift is
reported, the reviewed plan is the applied plan, Ctrl-C is safe.

The tests run in this order (each leaves the deployment converged):
new machine -> drift -> saved plan -> interrupt -> stale plan.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.integration.conftest import CONFIG, ENVIRONMENT, Deployment, deploy_command, our_enabled_keys
from tools.terraform import terraform_env

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]
PLATFORM_STATE = "cicd/it/terraform.tfstate"
#: Passed from the saved-plan test to the stale-plan test.
SAVED: dict[str, Path] = {}


def lock_key(deployment: Deployment) -> dict[str, Any]:
    return {"LockID": {"S": f"{deployment.outputs['state_bucket']}/{PLATFORM_STATE}"}}


def lock_held(deployment: Deployment, aws: Aws) -> bool:
    item = aws("dynamodb").get_item(TableName=deployment.outputs["lock_table"], Key=lock_key(deployment)).get("Item")
    return bool(item and "Info" in item)


def state_serial(aws: Aws) -> int:
    body = aws("s3").get_object(Bucket="cicd-tfstate-it", Key=PLATFORM_STATE)["Body"].read()
    return int(json.loads(body)["serial"])


def our_keys(aws: Aws) -> list[str]:
    return sorted(k["Description"] for k in our_enabled_keys(aws))


def test_a_new_machine_deploys_again_and_releases_a_dead_deploys_lock(deployment: Deployment, aws: Aws) -> None:
    # A deploy killed with SIGKILL left its lock (and its pid names no live process).
    stale = str(uuid.uuid4())
    info = {"ID": stale, "Operation": "OperationTypeApply", "Who": "killed@deploy", "Version": "1.11.4",
            "Created": "2026-01-01T00:00:00Z", "Path": f"cicd-tfstate-it/{PLATFORM_STATE}"}  # fmt: skip
    aws("dynamodb").put_item(
        TableName=deployment.outputs["lock_table"], Item={**lock_key(deployment), "Info": {"S": json.dumps(info)}}
    )
    # A new machine (a CI runner, a teammate): no local state, no cdktf.out, no pid file.
    for leftover in ("state", "cdktf.out"):
        shutil.rmtree(deployment.workspace / leftover, ignore_errors=True)
    (deployment.workspace / "deploy.pid").unlink(missing_ok=True)

    proc = deployment.cli("deploy")
    assert f"releasing the state lock {stale}" in proc.stdout
    assert "state-backend-it: 0 added, 0 changed, 0 destroyed" in proc.stdout
    assert "platform-it: 0 added, 0 changed, 0 destroyed" in proc.stdout
    # Exactly one state key and one platform key: nothing re-created, nothing leaked.
    assert our_keys(aws) == ["Terraform state for cicd-tfstate-it", "cicd it platform data"]


def test_drift_names_what_changed_by_hand_and_a_deploy_clears_it(deployment: Deployment, aws: Aws) -> None:
    aws("sns").tag_resource(ResourceArn=deployment.outputs["sns_topic_arn"], Tags=[{"Key": "owner", "Value": "bob"}])
    aws("ecr").put_image_scanning_configuration(
        repositoryName="cicd-app-it", imageScanningConfiguration={"scanOnPush": False}
    )
    proc = deployment.cli("drift", check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "**2** resource(s) changed outside Terraform" in proc.stdout
    assert "aws_sns_topic.notifications_topic_" in proc.stdout
    assert '`tags.owner`: (none) → "bob"' in proc.stdout
    assert "aws_ecr_repository.registry_this_" in proc.stdout
    assert "`image_scanning_configuration[0].scan_on_push`: true → false" in proc.stdout

    deployment.cli("deploy")
    proc = deployment.cli("drift")
    assert proc.stdout.count("**No drift.**") == 2


def test_the_saved_plan_is_the_applied_plan(deployment: Deployment, aws: Aws) -> None:
    topic = deployment.outputs["sns_topic_arn"]
    aws("sns").tag_resource(ResourceArn=topic, Tags=[{"Key": "owner", "Value": "carol"}])
    reviewed = deployment.workspace / "plans" / "reviewed"
    proc = deployment.cli("plan", "--out", str(reviewed), check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert sorted(p.name for p in reviewed.iterdir()) == [
        "comment.md",
        "platform-it.tfplan",
        "state-backend-it.tfplan",
        "summary.md",
    ]
    summary = (reviewed / "summary.md").read_text()
    assert "### Terraform plan: state-backend-it" in summary
    assert "### Terraform plan: platform-it" in summary

    deployment.cli("apply", "--plan-dir", str(reviewed))
    tags = {t["Key"]: t["Value"] for t in aws("sns").list_tags_for_resource(ResourceArn=topic)["Tags"]}
    assert tags["owner"] == "platform-team"

    # After apply, a plan of the deployed platform is clean: no emulator-only drift
    # either (every such moto gap is fixed by a shim in local_aws/shims.py).
    after = deployment.workspace / "plans" / "after"
    proc = deployment.cli("plan", "--out", str(after))  # exit 0: nothing left to do
    assert (after / "summary.md").read_text().count("**No changes.**") == 2, proc.stdout
    SAVED["no-change plan"] = after


def test_sigint_to_the_whole_process_group_mid_apply_is_safe(deployment: Deployment, aws: Aws) -> None:
    """A terminal's Ctrl-C reaches every process in the foreground group. terraform
    runs in its own group, so it gets exactly one SIGINT (from the tool)."""
    env = dict(terraform_env(), AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    doc = json.loads((deployment.stack_dir() / "cdk.tf.json").read_text())
    (endpoint,) = [f"aws_vpc_endpoint.{n}" for n in doc["resource"]["aws_vpc_endpoint"] if n.startswith("network_s3-")]
    subprocess.run(["terraform", "taint", "-no-color", endpoint], cwd=deployment.stack_dir(), env=env, check=True,
                   capture_output=True, timeout=120)  # fmt: skip

    proc = subprocess.Popen(
        deploy_command(deployment.workspace, "deploy"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if f"destruction {endpoint}" in line:  # the endpoint is being created again: mid-apply
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
            break
    out = "".join(seen) + proc.stdout.read()
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.wait(timeout=300) == 130, out + err
    assert "interrupted: letting terraform finish its current operations and save its state" in out
    assert "Interrupt received" in err  # terraform got the SIGINT ...
    assert "Two interrupts" not in err  # ... exactly once
    assert not lock_held(deployment, aws), "terraform released the state lock"

    deployment.cli("deploy")  # finishes what the interrupted one left, creating nothing twice
    endpoints = aws("ec2").describe_vpc_endpoints(
        Filters=[
            {"Name": "vpc-id", "Values": [deployment.outputs["vpc_id"]]},
            {"Name": "service-name", "Values": ["com.amazonaws.us-east-1.s3"]},
        ]
    )["VpcEndpoints"]
    assert len([e for e in endpoints if e["State"].lower() != "deleted"]) == 1, endpoints


def test_a_stale_saved_plan_is_refused_and_changes_nothing(deployment: Deployment, aws: Aws) -> None:
    """The no-change plan was saved before the interrupted and the following deploy changed the state."""
    before = state_serial(aws)
    proc = deployment.cli("apply", "--plan-dir", str(SAVED["no-change plan"]), check=False)
    assert proc.returncode == 1
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert "platform-it.tfplan is stale: the state of platform-it changed since it was made" in line
    assert "nothing was applied" in line
    assert state_serial(aws) == before
    assert "applying" not in proc.stdout


def test_sigint_during_synthesis_stops_with_130_before_terraform(tmp_path: Path) -> None:
    from local_aws.server import stop

    workspace = tmp_path / "ws"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.deploy", "deploy", "--environment", ENVIRONMENT, "--target", "local",
         "--config", str(CONFIG), "--work-dir", str(workspace)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("emulator: "), first
        os.killpg(proc.pid, signal.SIGINT)  # synthesis (about 5 s) has just started
        code = proc.wait(timeout=120)
        out = first + proc.stdout.read()
        err = proc.stderr.read() if proc.stderr else ""
        assert code == 130, out + err
        assert "applying" not in out
        assert "interrupted: stopped" in err
        assert "Traceback" not in err
        assert not list(workspace.glob("cdktf.out/stacks/*/.terraform")), "no terraform was started"
    finally:
        stop(workspace / "emulator")

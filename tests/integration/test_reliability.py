"""Reliability of the deployed stack: no drift, locking, recovery from interruption.

Runs after test_deployed.py (same session deployment) and before the teardown.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.integration.conftest import Deployment, deploy_command
from tools.terraform import terraform_env

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]

#: Plan differences only the emulator causes, each with the moto limitation
#: behind it. Empty: every such gap is fixed by a shim in local_aws/shims.py.
EMULATOR_DRIFT_ALLOW_LIST: dict[str, str] = {}


def terraform(deployment: Deployment, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = dict(terraform_env(), AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    return subprocess.run(
        ["terraform", *args], cwd=deployment.stack_dir(), env=env, capture_output=True, text=True, **kwargs
    )


def resource_address(deployment: Deployment, rtype: str, prefix: str) -> str:
    doc = json.loads((deployment.stack_dir() / "cdk.tf.json").read_text())
    (name,) = [n for n in doc["resource"][rtype] if n.startswith(prefix)]
    return f"{rtype}.{name}"


def lock_id(deployment: Deployment) -> dict[str, Any]:
    return {"LockID": {"S": f"{deployment.outputs['state_bucket']}/cicd/it/terraform.tfstate"}}


def test_plan_after_apply_is_clean(deployment: Deployment) -> None:
    proc = deployment.cli("plan", check=False)
    if proc.returncode == 2:
        changed = set(re.findall(r"# (\S+) will be", proc.stdout))
        unexpected = {a for a in changed if a.split(".")[0] not in EMULATOR_DRIFT_ALLOW_LIST}
        assert unexpected == set(), proc.stdout[-4000:]
    assert proc.returncode in (0, 2), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "No changes." in proc.stdout or EMULATOR_DRIFT_ALLOW_LIST


def test_plan_while_state_is_locked_fails_fast(deployment: Deployment, aws: Aws) -> None:
    env = dict(terraform_env(), AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    dashboard = resource_address(deployment, "aws_cloudwatch_dashboard", "observability_dashboard_")
    # An apply waiting at its approval prompt holds the state lock, as a
    # colleague's apply in progress would.
    holder = subprocess.Popen(
        ["terraform", "apply", "-no-color", f"-replace={dashboard}"],
        cwd=deployment.stack_dir(),
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    dynamodb = aws("dynamodb")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            item = dynamodb.get_item(TableName=deployment.outputs["lock_table"], Key=lock_id(deployment)).get("Item")
            if item and "Info" in item:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the waiting apply never took the state lock")

        started = time.monotonic()
        proc = terraform(deployment, "plan", "-input=false", "-no-color", "-lock-timeout=0s", timeout=120)
        elapsed = time.monotonic() - started
        assert proc.returncode == 1
        assert "Error acquiring the state lock" in proc.stderr
        assert elapsed < 60
    finally:
        assert holder.stdin is not None
        holder.stdin.write("no\n")  # decline: nothing is applied, the lock is released
        holder.stdin.close()
        holder.wait(timeout=120)
    item = dynamodb.get_item(TableName=deployment.outputs["lock_table"], Key=lock_id(deployment)).get("Item")
    assert not item or "Info" not in item, "the lock must be released when the holder exits"


def test_interrupted_deploy_recovers_without_duplicates(deployment: Deployment, aws: Aws) -> None:
    """Replace two resources, interrupt the deploy mid-apply, deploy again."""
    endpoint = resource_address(deployment, "aws_vpc_endpoint", "network_s3-endpoint_")
    lifecycle = resource_address(deployment, "aws_s3_bucket_lifecycle_configuration", "load-balancer_access-logs_")
    for address in (endpoint, lifecycle):
        assert terraform(deployment, "taint", "-no-color", address, timeout=120).returncode == 0

    proc = subprocess.Popen(
        deploy_command(deployment.workspace, "deploy"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "creation aws_vpc_endpoint.network_s3-endpoint" in line:
            proc.send_signal(signal.SIGTERM)  # mid-apply: the lifecycle replacement is still waiting
            break
    rest = proc.stdout.read()
    code = proc.wait(timeout=300)
    assert code != 0, "".join(seen) + rest
    assert "interrupted: letting terraform save its state" in rest

    deployment.cli("deploy")
    ec2 = aws("ec2")
    vpc_id = deployment.outputs["vpc_id"]
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "service-name", "Values": ["com.amazonaws.us-east-1.s3"]},
        ]
    )["VpcEndpoints"]
    assert len([e for e in endpoints if e["State"].lower() != "deleted"]) == 1
    rules = aws("s3").get_bucket_lifecycle_configuration(Bucket="cicd-alb-logs-it")["Rules"]
    assert [r["ID"] for r in rules] == ["expire-old-versions"]
    assert deployment.cli("plan", check=False).returncode == 0


def test_deploy_releases_a_lock_left_by_a_dead_deploy(deployment: Deployment, aws: Aws) -> None:
    """A deploy killed with SIGKILL leaves its lock; the next deploy releases it."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    (deployment.workspace / "deploy.pid").write_text(str(dead.pid))
    stale = str(uuid.uuid4())
    info = {"ID": stale, "Operation": "OperationTypeApply", "Who": "killed@deploy", "Version": "1.11.4",
            "Created": "2026-01-01T00:00:00Z", "Path": "cicd-tfstate-it/cicd/it/terraform.tfstate"}  # fmt: skip
    aws("dynamodb").put_item(
        TableName=deployment.outputs["lock_table"], Item={**lock_id(deployment), "Info": {"S": json.dumps(info)}}
    )
    proc = deployment.cli("deploy")
    assert f"releasing the state lock {stale}" in proc.stdout
    assert "platform-it: 0 added, 0 changed, 0 destroyed" in proc.stdout

"""Reliability of the deployed stack: locking.

Runs last in the day-two group (same session deployment), after test_least_privilege.py
(the terraform it runs by hand is no CI verb). Interrupted deploys are in
test_interrupted_deploys.py; locks left by dead deploys and the clean plan after apply
are in test_day_two.py.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import Deployment, emulator_terraform_env

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]


def terraform(deployment: Deployment, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = emulator_terraform_env(deployment.endpoint)
    return subprocess.run(
        ["terraform", *args], cwd=deployment.stack_dir(), env=env, capture_output=True, text=True, **kwargs
    )


def resource_address(deployment: Deployment, rtype: str, prefix: str) -> str:
    doc = json.loads((deployment.stack_dir() / "cdk.tf.json").read_text())
    (name,) = [n for n in doc["resource"][rtype] if n.startswith(prefix)]
    return f"{rtype}.{name}"


def lock_id(deployment: Deployment) -> dict[str, Any]:
    return {"LockID": {"S": f"{deployment.outputs['state_bucket']}/cicd/it/terraform.tfstate"}}


def lock_file(deployment: Deployment) -> dict[str, str]:
    """The S3 lock file terraform writes beside the state (use_lockfile)."""
    return {"Bucket": deployment.outputs["state_bucket"], "Key": "cicd/it/terraform.tfstate.tflock"}


def test_a_second_concurrent_apply_is_refused_by_both_locks(deployment: Deployment, aws: Aws) -> None:
    env = emulator_terraform_env(deployment.endpoint)
    dashboard = resource_address(deployment, "aws_cloudwatch_dashboard", "observability_dashboard_")
    # An apply waiting at its approval prompt holds the state lock, as a
    # colleague's apply in progress would. (It takes the lock before planning; without a refresh
    # it reaches its prompt without reading back every resource: CPU the test does not need.)
    holder = subprocess.Popen(
        ["terraform", "apply", "-no-color", "-refresh=false", f"-replace={dashboard}"],
        cwd=deployment.stack_dir(),
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    dynamodb, s3 = aws("dynamodb"), aws("s3")
    table = deployment.outputs["lock_table"]

    def refused() -> str:
        """A second apply of the same stack, at once: refused in seconds, nothing applied."""
        started = time.monotonic()
        proc = terraform(
            deployment, "apply", "-input=false", "-no-color", "-auto-approve", "-lock-timeout=0s", timeout=120
        )
        assert proc.returncode == 1
        assert "Error acquiring the state lock" in proc.stderr
        assert time.monotonic() - started < 60
        return proc.stderr

    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            item = dynamodb.get_item(TableName=table, Key=lock_id(deployment)).get("Item")
            if item and "Info" in item:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the waiting apply never took the state lock")
        # Both mechanisms hold it: the DynamoDB item and the lock file, naming the same lock.
        held = json.loads(s3.get_object(**lock_file(deployment))["Body"].read())
        assert held["ID"] == json.loads(item["Info"]["S"])["ID"]
        refused()
        # Either lock alone refuses it: without the table's item, the lock file's conditional
        # write (If-None-Match) fails; the item is put back for the holder to release.
        dynamodb.delete_item(TableName=table, Key=lock_id(deployment))
        try:
            message = refused()
            assert "PreconditionFailed" in message or "StatusCode: 412" in message, message
        finally:
            dynamodb.put_item(TableName=table, Item=item)
    finally:
        holder.send_signal(signal.SIGINT)  # the holder stops (nothing applied) and releases the lock
        holder.wait(timeout=120)
    item = dynamodb.get_item(TableName=table, Key=lock_id(deployment)).get("Item")
    assert not item or "Info" not in item, "the lock must be released when the holder exits"
    assert "Contents" not in s3.list_objects_v2(
        Bucket=lock_file(deployment)["Bucket"], Prefix=lock_file(deployment)["Key"]
    )

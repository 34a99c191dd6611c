"""Day two on the shared deployment: another machine deploys again (and puts a hand change
back), drift is reported, the reviewed plan is the applied plan and a stale one is refused.
Interrupts are in test_interrupted_deploys.py (the other integration group).

The tests run in this order, each leaving the deployment converged.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import Deployment, emulator_terraform_env, our_enabled_keys

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]
PLATFORM_STATE = "cicd/it/terraform.tfstate"
STATE_BACKEND_STATE = "cicd/it/state-backend.tfstate"


def state_serial(aws: Aws) -> int:
    body = aws("s3").get_object(Bucket="cicd-tfstate-it-123456789012-us-east-1", Key=PLATFORM_STATE)["Body"].read()
    return int(json.loads(body)["serial"])


def owner_tag(aws: Aws, topic: str) -> str:
    return str({t["Key"]: t["Value"] for t in aws("sns").list_tags_for_resource(ResourceArn=topic)["Tags"]}["owner"])


def our_keys(aws: Aws) -> list[str]:
    return sorted(k["Description"] for k in our_enabled_keys(aws))


def test_a_new_machine_deploys_again_and_never_steals_another_machines_lock(deployment: Deployment, aws: Aws) -> None:
    # A new machine (a CI runner, a teammate): no local state, no cdktf.out, no pid file.
    for leftover in ("state", "cdktf.out"):
        shutil.rmtree(deployment.workspace / leftover, ignore_errors=True)
    (deployment.workspace / "deploy.pid").unlink(missing_ok=True)
    # Meanwhile a colleague's deploy holds the state stack's lock: nothing here can
    # tell whether it is still running, so the deploy stops and says how to release it.
    holder = str(uuid.uuid4())
    path = f"{deployment.outputs['state_bucket']}/{STATE_BACKEND_STATE}"
    info = {"ID": holder, "Operation": "OperationTypeApply", "Who": "alice@laptop", "Version": "1.11.4",
            "Created": "2026-01-01T00:00:00Z", "Path": path}  # fmt: skip
    key = {"LockID": {"S": path}}
    aws("dynamodb").put_item(TableName=deployment.outputs["lock_table"], Item={**key, "Info": {"S": json.dumps(info)}})
    # Both mechanisms hold it, as terraform's own lock does: the table's item and the S3 lock file.
    lock_file = {"Bucket": deployment.outputs["state_bucket"], "Key": f"{STATE_BACKEND_STATE}.tflock"}
    aws("s3").put_object(**lock_file, Body=json.dumps(info).encode())
    # Reviews are read-only and take no lock, so the colleague's run neither blocks nor loses it.
    # Day one: right after the first deploy nothing has drifted (what a refresh reads back from
    # sibling resources, like a bucket's policy, is not drift).
    assert deployment.cli("drift").stdout.count("**No drift.**") == 2  # exit 0
    held = aws("dynamodb").get_item(TableName=deployment.outputs["lock_table"], Key=key)["Item"]
    assert json.loads(held["Info"]["S"])["ID"] == holder
    before = state_serial(aws)
    proc = deployment.cli("deploy", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: the state of state-backend-it is locked by alice@laptop since 2026-01-01 00:00:00")
    assert "platform-it: applying" not in proc.stdout
    assert state_serial(aws) == before
    # The colleague's run is known to be gone: the printed command releases the lock.
    env = emulator_terraform_env(deployment.endpoint)
    subprocess.run(shlex.split(line.split("release it with: ", 1)[1]), env=env, check=True, capture_output=True)
    assert "Item" not in aws("dynamodb").get_item(TableName=deployment.outputs["lock_table"], Key=key)
    assert "Contents" not in aws("s3").list_objects_v2(Bucket=lock_file["Bucket"], Prefix=lock_file["Key"])

    # Meanwhile someone changed the platform by hand: the new machine's `make deploy` (not only a
    # reviewed plan) puts it back, changing exactly that resource and re-creating nothing.
    topic = deployment.outputs["sns_topic_arn"]
    aws("sns").tag_resource(ResourceArn=topic, Tags=[{"Key": "owner", "Value": "carol"}])
    proc = deployment.cli("deploy")
    assert "state-backend-it: 0 added, 0 changed, 0 destroyed" in proc.stdout
    assert "platform-it: 0 added, 1 changed, 0 destroyed" in proc.stdout
    assert "access-it: 0 added, 0 changed, 0 destroyed" in proc.stdout
    assert owner_tag(aws, topic) == "platform-team"
    # Exactly one state key and one platform key: nothing re-created, nothing leaked.
    assert our_keys(aws) == ["Terraform state for cicd-tfstate-it-123456789012-us-east-1", "cicd it platform data"]


def test_drift_is_named_and_the_reviewed_plan_is_the_applied_plan(deployment: Deployment, aws: Aws) -> None:
    """Someone changes the platform by hand: drift names it; a plan saved for review
    is applied exactly; a plan saved before another was applied is refused as
    stale and changes nothing; afterwards nothing is left to plan. (A plain deploy
    putting a hand change back is the new machine's, above.)"""
    topic = deployment.outputs["sns_topic_arn"]
    aws("sns").tag_resource(ResourceArn=topic, Tags=[{"Key": "owner", "Value": "bob"}])
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

    reviewed, other = deployment.workspace / "plans" / "reviewed", deployment.workspace / "plans" / "other"
    # A colleague's apply holds the platform's lock meanwhile: a plan is read-only, takes no lock,
    # and neither waits for this one nor touches it.
    table = deployment.outputs["lock_table"]
    key = {"LockID": {"S": f"{deployment.outputs['state_bucket']}/{PLATFORM_STATE}"}}
    info = {"ID": "held-by-dave", "Operation": "OperationTypeApply", "Who": "dave@ci", "Version": "1.11.4",
            "Created": "2026-01-01T00:00:00Z", "Path": key["LockID"]["S"]}  # fmt: skip
    aws("dynamodb").put_item(TableName=table, Item={**key, "Info": {"S": json.dumps(info)}})
    # From the workspace with a relative path, as `make plan` passes PLAN_DIR.
    proc = deployment.cli("plan", "--out", "plans/reviewed", check=False, cwd=deployment.workspace)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert json.loads(aws("dynamodb").get_item(TableName=table, Key=key)["Item"]["Info"]["S"])["ID"] == "held-by-dave"
    aws("dynamodb").delete_item(TableName=table, Key=key)  # dave's apply ends
    assert sorted(p.name for p in reviewed.iterdir()) == [
        "comment.md",
        "platform-it.json",  # terraform show -json: for the artifact and the scanners
        "platform-it.tfplan",
        "state-backend-it.json",
        "state-backend-it.tfplan",
        "step-summary.md",
        "summary.md",
        "verdict.json",
    ]
    summary = (reviewed / "summary.md").read_text()
    assert "### Terraform plan: state-backend-it" in summary
    assert "### Terraform plan: platform-it" in summary
    # A colleague's copy of the same plan, made against the same state before the reviewed one is
    # applied: what a second `make plan` would have saved then (one terraform plan fewer).
    shutil.copytree(reviewed, other)

    deployment.cli("apply", "--plan-dir", str(reviewed))
    assert owner_tag(aws, topic) == "platform-team"

    before = state_serial(aws)
    proc = deployment.cli("apply", "--plan-dir", "plans/other", check=False, cwd=deployment.workspace)
    assert proc.returncode == 1
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert "platform-it.tfplan is stale: the state of platform-it changed since it was made" in line
    assert "nothing was applied" in line
    assert "applying" not in proc.stdout
    assert state_serial(aws) == before

    # After apply, a plan of the deployed platform is clean: no emulator-only drift
    # either (every such moto gap is fixed by a shim in local_aws/shims.py).
    after = deployment.workspace / "plans" / "after"
    proc = deployment.cli("plan", "--out", str(after))  # exit 0: nothing left to do
    assert (after / "summary.md").read_text().count("**No changes.**") == 2, proc.stdout

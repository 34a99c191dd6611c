"""Runs last: a protected environment is never half-destroyed, and destroy leaves nothing behind.

The integration environment is protected like prod (ALB deletion protection,
its log bucket keeps objects), so destroy refuses without confirmation, and
with confirmation while a protected bucket still holds objects. An operator
who really means it turns protection off in the settings, deploys, and destroys.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.settings import load_settings
from tests.integration.conftest import CONFIG, Deployment, inventory, run_cli
from tests.integration.least_privilege import (
    check,
    deploy_role_union,
    recorded,
    shared_folder,
    synthesized_documents,
    unexplained,
)

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]
ALB_LOGS = "cicd-alb-logs-it-123456789012-us-east-1"


def test_protected_environment_is_not_destroyed_without_confirmation(deployment: Deployment, aws: Aws) -> None:
    before = inventory(aws)
    proc = deployment.cli("destroy", "--keep-emulator", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    err = proc.stderr
    assert "error: refusing to destroy it: it is protected; nothing was changed" in err
    assert "--confirm it" in err  # how to confirm, by name
    assert "protection: load balancer cicd-alb-it (platform-it): deletion protection on" in err
    assert f"protection: bucket {ALB_LOGS} (platform-it): kept unless empty (force_destroy off)" in err
    assert "make emulator-stop" in err  # the quick way to discard a local deployment
    assert "destroying" not in proc.stdout
    assert inventory(aws) == before


def test_confirmed_destroy_still_refuses_a_protected_bucket_with_objects(deployment: Deployment, aws: Aws) -> None:
    aws("s3").put_object(Bucket=ALB_LOGS, Key="alb/AWSLogs/123456789012/elasticloadbalancing/log.gz", Body=b"x")
    before = inventory(aws)
    proc = deployment.cli("destroy", "--keep-emulator", "--confirm", "it", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "refusing to destroy it: these would stop it halfway; nothing was changed" in proc.stderr
    assert f"blocker: bucket {ALB_LOGS} holds" in proc.stderr
    assert "destroying" not in proc.stdout
    assert "lifting" not in proc.stdout
    assert inventory(aws) == before


def test_destroy_leaves_nothing_behind(deployment: Deployment, aws: Aws, tmp_path: Path) -> None:
    # The operator's deliberate step: protection off in the settings, deployed.
    unprotected = tmp_path / "it.toml"
    unprotected.write_text(
        CONFIG.read_text().replace("alb_deletion_protection = true", "alb_deletion_protection = false")
    )
    run_cli(deployment.workspace, "deploy", config=unprotected)
    proc = run_cli(deployment.workspace, "destroy", "--keep-emulator", config=unprotected)
    assert "platform-it: destroyed" in proc.stdout
    assert "access-it: destroyed" in proc.stdout
    assert "state-backend-it: destroyed" in proc.stdout

    leftovers = inventory(aws)
    assert {k: v for k, v in leftovers.items() if v} == {}

    # Customer-managed keys cannot be deleted at once: they must be scheduled for
    # deletion. AWS-managed keys (aws/...) belong to AWS and are not ours to delete.
    # (moto, like AWS, creates alias/aws/dynamodb on its own and keeps it.)
    kms = aws("kms")
    aws_managed = {a["TargetKeyId"] for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith("alias/aws/")}
    keys = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]]
    ours = {k["KeyId"]: k["KeyState"] for k in keys if k["KeyManager"] == "CUSTOMER" and k["KeyId"] not in aws_managed}
    assert len(ours) >= 2, keys  # the platform key and the state key
    assert set(ours.values()) == {"PendingDeletion"}, keys
    assert not any((deployment.workspace / "state").glob("*.tfstate")), "no local state left behind"


def test_the_deploy_role_allowed_every_deploy_and_destroy(
    deployment: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """This group's deploys and destroys (each signed as CI's deploy role would sign them)."""
    settings = load_settings(CONFIG)
    calls = recorded(deployment.workspace)
    documents = synthesized_documents(deployment.workspace, "it")
    verdicts = check(calls, documents, settings, roles=("deploy",), complete=())
    called = {n.action for n in verdicts["deploy"].needed}
    assert {"s3:DeleteBucket", "iam:DeleteRole", "ec2:DeleteVpc"} <= called  # the destroys are in
    unused = deploy_role_union("teardown", called, documents["deploy"], shared_folder(tmp_path_factory))
    if unused is not None:  # the day-two group finished first: the deploy role's union is complete
        assert unexplained(unused) == []

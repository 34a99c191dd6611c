"""Runs last: destroy leaves nothing behind.

The integration environment is protected like prod (ALB deletion protection, its log bucket
keeps objects); test_destroy_refusals.py (first in the group) shows destroy refusing it. An
operator who really means it turns protection off in the settings, deploys, and destroys.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.settings import load_settings
from tests.integration.conftest import CONFIG, Deployment, inventory, unprotected_config
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
ALB = "cicd-alb-it"


def test_destroy_leaves_nothing_behind(deployment: Deployment, aws: Aws, tmp_path: Path) -> None:
    # The operator's deliberate step: protection off in the settings, deployed. In the group's
    # order the interrupted deploy's re-run already deployed it (one deploy fewer); alone, this
    # test deploys it itself.
    if deployment.config == CONFIG:
        deployment.config = unprotected_config(tmp_path)
        deployment.cli("deploy")
    elbv2 = aws("elbv2")
    (alb,) = elbv2.describe_load_balancers(Names=[ALB])["LoadBalancers"]
    attributes = elbv2.describe_load_balancer_attributes(LoadBalancerArn=alb["LoadBalancerArn"])
    assert {"Key": "deletion_protection.enabled", "Value": "false"} in attributes["Attributes"]
    proc = deployment.cli("destroy", "--keep-emulator")
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

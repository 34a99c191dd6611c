"""Runs last: ``destroy`` leaves nothing behind, enumerated with boto3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import Deployment, inventory

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]


def test_destroy_leaves_nothing_behind(deployment: Deployment, aws: Aws) -> None:
    proc = deployment.cli("destroy", "--keep-emulator")
    assert "platform-it: destroyed" in proc.stdout
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

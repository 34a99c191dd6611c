"""Recovering from a region outage on the emulator: the state and artifact buckets replicate
to the replica region (read back with boto3), and the documented recovery (`make
recover-state`: both stacks initialised on the state's replica, then planned) finds the
deployment exactly as terraform left it: no changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import Deployment
from tests.integration.upgrade import Upgrade

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]
REPLICA_REGION = "us-west-2"
STATE = "cicd-tfstate-it-123456789012-us-east-1"
STATE_REPLICA = f"cicd-tfstate-it-123456789012-{REPLICA_REGION}"


@pytest.fixture(scope="module")
def deployment(upgraded: Upgrade) -> Deployment:
    """This group's deployment: the last release upgraded to this code (replication included)."""
    return upgraded.deployment


def test_both_buckets_replicate_to_the_replica_region_with_its_key(deployment: Deployment) -> None:
    s3 = deployment.client("s3")
    for source, component in ((STATE, "tfstate"), (deployment.outputs["artifact_bucket"], "artifacts")):
        (rule,) = s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"]
        replica = f"cicd-{component}-it-123456789012-{REPLICA_REGION}"
        assert rule["Status"] == "Enabled"
        assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{replica}"
        # The state's lock files come and go: their delete markers follow them to the replica.
        markers = "Enabled" if component == "tfstate" else "Disabled"
        assert rule["DeleteMarkerReplication"] == {"Status": markers}, component
        kms = deployment.client("kms", region=REPLICA_REGION)
        replica_key = kms.describe_key(KeyId=rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"])
        assert replica_key["KeyMetadata"]["Arn"].split(":")[3] == REPLICA_REGION
        assert s3.get_bucket_versioning(Bucket=replica)["Status"] == "Enabled"
    # The lock files of the stacks recovery plans, written in the primary and deleted there, are
    # gone from the replica too (the access stack's first one predates the upgraded rule).
    live = s3.list_objects_v2(Bucket=STATE_REPLICA).get("Contents", [])
    recovered = ("cicd/it/state-backend.tfstate.tflock", "cicd/it/terraform.tfstate.tflock")
    assert [o["Key"] for o in live if o["Key"] in recovered] == []
    # Both states are in the replica, encrypted with the replica region's key, and current.
    for key in ("cicd/it/state-backend.tfstate", "cicd/it/terraform.tfstate"):
        head = s3.head_object(Bucket=STATE_REPLICA, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms"
        primary = json.loads(s3.get_object(Bucket=STATE, Key=key)["Body"].read())
        replica = json.loads(s3.get_object(Bucket=STATE_REPLICA, Key=key)["Body"].read())
        assert (replica["lineage"], replica["serial"]) == (primary["lineage"], primary["serial"]), key


def test_logs_and_source_replicate_and_the_replicas_are_access_logged(deployment: Deployment) -> None:
    """The access-log buckets replicate SSE-S3 to log buckets of the same name in the replica
    region, which log the replicas' own access; the pipeline's source replicates like the
    artifacts. Read back from the emulator's S3, as the upgraded deployment left them."""
    s3 = deployment.client("s3")

    def name(component: str, region: str = "us-east-1") -> str:
        return f"cicd-{component}-it-123456789012-{region}"

    for component, kms in (("tfstate-logs", False), ("alb-logs", False), ("source", True)):
        (rule,) = s3.get_bucket_replication(Bucket=name(component))["ReplicationConfiguration"]["Rules"]
        assert rule["Status"] == "Enabled", component
        assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{name(component, REPLICA_REGION)}"
        assert ("EncryptionConfiguration" in rule["Destination"]) == kms, component
        assert s3.get_bucket_versioning(Bucket=name(component, REPLICA_REGION))["Status"] == "Enabled"
    for component, logs in (("tfstate", "tfstate-logs"), ("artifacts", "alb-logs"), ("source", "alb-logs")):
        logging = s3.get_bucket_logging(Bucket=name(component, REPLICA_REGION))["LoggingEnabled"]
        assert logging["TargetBucket"] == name(logs, REPLICA_REGION), component


def test_the_documented_recovery_plans_no_changes_against_the_replica(deployment: Deployment) -> None:
    proc = deployment.cli("recover")  # with the deployment's settings (replication on)
    for stack in ("state-backend-it", "platform-it"):
        assert f"{stack}: planned against s3://{STATE_REPLICA} ({REPLICA_REGION}): no changes" in proc.stdout
    # The lock table lives in the primary region: the recovery locked with S3 lock files instead,
    # and released them.
    s3 = deployment.client("s3")
    listed = s3.list_objects_v2(Bucket=STATE_REPLICA).get("Contents", [])
    assert [o["Key"] for o in listed if o["Key"].endswith((".tfstate.tflock",)) and "access" not in o["Key"]] == []

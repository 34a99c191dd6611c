"""Cross-region replication of the state and artifact buckets (on in prod, off elsewhere)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.settings import ConfigError, Settings
from tests.helpers import ACCOUNT_TOKEN, make_settings, resources

Synth = dict[str, dict[str, Any]]
REPLICA_REGION = "us-west-2"


def replicas(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Resources that live in the replica region (provider aws.replica), by type."""
    out: dict[str, dict[str, Any]] = {}
    for rtype, items in doc.get("resource", {}).items():
        for name, body in items.items():
            if body.get("provider") == "aws.replica":
                out.setdefault(rtype, {})[name] = body
    return out


def key_ref(body: dict[str, Any]) -> str:
    return str(body["rule"][0]["destination"]["encryption_configuration"]["replica_kms_key_id"])


@pytest.mark.parametrize(
    ("stack", "component", "alias"), [("state", "tfstate", "state"), ("platform", "artifacts", "")]
)
def test_prod_replicates_the_bucket_to_its_replica_region(prod: Synth, stack: str, component: str, alias: str) -> None:
    doc = prod[stack]
    (provider,) = [p for p in doc["provider"]["aws"] if p.get("alias") == "replica"]
    assert provider["region"] == REPLICA_REGION
    there = replicas(doc)
    (replica,) = there["aws_s3_bucket"].values()
    assert replica["bucket"] == f"cicd-{component}-prod-123456789012-{REPLICA_REGION}"
    assert replica["force_destroy"] is False  # prod
    # A full bucket of its own: versioned, the replica key, TLS only, nothing public.
    assert next(iter(there["aws_s3_bucket_versioning"].values()))["versioning_configuration"] == {"status": "Enabled"}
    sse = next(iter(there["aws_s3_bucket_server_side_encryption_configuration"].values()))["rule"][0]
    (key_name,) = there["aws_kms_key"]
    assert sse["apply_server_side_encryption_by_default"]["kms_master_key_id"] == f"${{aws_kms_key.{key_name}.arn}}"
    assert there["aws_kms_key"][key_name]["enable_key_rotation"] is True
    assert "DenyInsecureTransport" in next(iter(there["aws_s3_bucket_policy"].values()))["policy"]
    (alias_body,) = there["aws_kms_alias"].values()
    assert alias_body["name"] == (f"alias/cicd-{alias}-prod" if alias else "alias/cicd-prod")

    (config,) = resources(doc, "aws_s3_bucket_replication_configuration").values()
    assert "provider" not in config  # the rule belongs to the source, in the stack's region
    (rule,) = config["rule"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": ""}
    assert rule["delete_marker_replication"] == {"status": "Disabled"}
    assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
    (replica_name,) = there["aws_s3_bucket"]
    assert rule["destination"]["bucket"] == f"${{aws_s3_bucket.{replica_name}.arn}}"
    assert key_ref(config) == f"${{aws_kms_key.{key_name}.arn}}"
    # Both sides versioned before S3 accepts the rule.
    assert sum("aws_s3_bucket_versioning." in d for d in config["depends_on"]) == 2


def role_policy(doc: dict[str, Any], role_name: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    (key, role) = next((k, r) for k, r in resources(doc, "aws_iam_role").items() if r["name"] == role_name)
    policy = next(p for p in resources(doc, "aws_iam_role_policy").values() if f"aws_iam_role.{key}." in p["role"])
    return role, {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}


@pytest.mark.parametrize(("stack", "component"), [("state", "tfstate"), ("platform", "artifacts")])
def test_replication_role_names_only_its_two_buckets_and_keys(prod: Synth, stack: str, component: str) -> None:
    doc = prod[stack]
    role, st = role_policy(doc, f"cicd-{component}-replication-prod")
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_TOKEN}
    (config,) = resources(doc, "aws_s3_bucket_replication_configuration").values()
    source_arn = trust["Condition"]["ArnLike"]["aws:SourceArn"]
    assert config["bucket"].replace(".id}", ".arn}") == source_arn
    replica_arn = config["rule"][0]["destination"]["bucket"]
    assert set(st) == {"SourceBucket", "SourceObjects", "ReplicaObjects", "DecryptSource", "EncryptReplica"}
    assert st["SourceBucket"]["Resource"] == source_arn
    assert st["SourceObjects"]["Resource"] == f"{source_arn}/*"
    assert st["ReplicaObjects"]["Resource"] == f"{replica_arn}/*"
    assert st["ReplicaObjects"]["Action"] == ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    assert st["EncryptReplica"]["Resource"] == key_ref(config)
    assert st["DecryptSource"]["Action"] == "kms:Decrypt"
    # Each key only through S3 in its own region, only for its own bucket's objects.
    assert st["DecryptSource"]["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert st["EncryptReplica"]["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{REPLICA_REGION}.amazonaws.com"}
    context = "kms:EncryptionContext:aws:s3:arn"
    assert st["DecryptSource"]["Condition"]["StringLike"] == {context: [source_arn, f"{source_arn}/*"]}
    assert st["EncryptReplica"]["Condition"]["StringLike"] == {context: [replica_arn, f"{replica_arn}/*"]}


def test_no_replication_outside_prod_by_default(dev: Synth) -> None:
    for doc in dev.values():
        assert replicas(doc) == {}
        assert resources(doc, "aws_s3_bucket_replication_configuration") == {}
        assert [p for p in doc["provider"]["aws"] if p.get("alias")] == []


def test_replication_can_be_turned_on_anywhere_and_off_in_prod(synth: Callable[[Settings], Synth]) -> None:
    dev = synth(make_settings("dev", recovery={"replicate": True, "replica_region": "eu-west-1"}))
    assert len(resources(dev["state"], "aws_s3_bucket_replication_configuration")) == 1
    (replica,) = replicas(dev["state"])["aws_s3_bucket"].values()
    assert replica["force_destroy"] is True  # a disposable environment's replica goes with it
    prod = synth(make_settings("prod", recovery={"replicate": False}))
    assert resources(prod["state"], "aws_s3_bucket_replication_configuration") == {}


@pytest.mark.parametrize(
    ("recovery", "field", "expected"),
    [
        ({"replica_region": None}, "recovery.replica_region = None", "name the region the replicas live in"),
        ({"replica_region": "us-east-1"}, "recovery.replica_region = 'us-east-1'", "is the stack's own region"),
        ({"replica_region": "mars-north-1"}, "recovery.replica_region = 'mars-north-1'", "unknown AWS region"),
    ],
)
def test_bad_replica_region_refused(recovery: dict[str, Any], field: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("prod", recovery=recovery)
    (problem,) = info.value.problems
    assert problem.startswith(field)
    assert expected in problem


def test_a_replica_region_whose_bucket_names_overflow_is_refused() -> None:
    """Replica bucket names end with the replica region: a longer region name can push the longest
    name past S3's 63 characters even when the stack's own region fits (22 characters of suffix fit
    us-east-1, 17 fit ap-southeast-2)."""
    suffix = "a" * 20
    make_settings("prod", environment_suffix=suffix)  # fits in us-east-1 with the us-west-2 replica
    with pytest.raises(ConfigError) as info:
        make_settings("prod", environment_suffix=suffix, recovery={"replica_region": "ap-southeast-2"})
    (problem,) = info.value.problems
    assert problem.startswith("recovery.replica_region = 'ap-southeast-2': makes the replica bucket name ")
    assert "over S3's 63" in problem

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


#: Per stack: source bucket component -> whether it is SSE-KMS (else SSE-S3 logs), all replicated.
REPLICATED = {
    "state": {"tfstate": True, "tfstate-logs": False},
    "platform": {"artifacts": True, "alb-logs": False, "source": True},
}


def bucket_names(doc: dict[str, Any]) -> dict[str, str]:
    """Terraform reference (``aws_s3_bucket.<name>``) -> bucket name."""
    return {f"aws_s3_bucket.{k}": b["bucket"] for k, b in resources(doc, "aws_s3_bucket").items()}


def ref(token: str) -> str:
    """``${aws_s3_bucket.x.arn}`` -> ``aws_s3_bucket.x``."""
    return token.removeprefix("${").rsplit(".", 1)[0]


@pytest.mark.parametrize(("stack", "alias"), [("state", "state"), ("platform", "")])
def test_prod_replicates_every_bucket_to_its_replica_region(prod: Synth, stack: str, alias: str) -> None:
    """The main bucket, its access logs and (platform) the pipeline's source each replicate to a
    bucket of the same name in the replica region: SSE-KMS ones under the replica key, logs SSE-S3."""
    doc = prod[stack]
    (provider,) = [p for p in doc["provider"]["aws"] if p.get("alias") == "replica"]
    assert provider["region"] == REPLICA_REGION
    names = bucket_names(doc)
    there = replicas(doc)
    (key_name,) = there["aws_kms_key"]
    assert there["aws_kms_key"][key_name]["enable_key_rotation"] is True
    (alias_body,) = there["aws_kms_alias"].values()
    assert alias_body["name"] == (f"alias/cicd-{alias}-prod" if alias else "alias/cicd-prod")
    pairs = {}
    for config in resources(doc, "aws_s3_bucket_replication_configuration").values():
        assert "provider" not in config  # the rule belongs to the source, in the stack's region
        (rule,) = config["rule"]
        source, replica = names[ref(config["bucket"])], names[ref(rule["destination"]["bucket"])]
        # Delete markers only for the state bucket: terraform's lock files come and go there.
        markers = "Enabled" if source.startswith("cicd-tfstate-prod-") else "Disabled"
        assert (rule["status"], rule["filter"], rule["delete_marker_replication"]) == (
            "Enabled", {"prefix": ""}, {"status": markers},
        )  # fmt: skip
        kms = "encryption_configuration" in rule["destination"]
        assert ("source_selection_criteria" in rule) == kms
        if kms:
            assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
            assert key_ref(config) == f"${{aws_kms_key.{key_name}.arn}}"
        # Both sides versioned before S3 accepts the rule.
        assert sum("aws_s3_bucket_versioning." in d for d in config["depends_on"]) == 2
        pairs[source] = (replica, kms)
    assert pairs == {
        f"cicd-{c}-prod-123456789012-us-east-1": (f"cicd-{c}-prod-123456789012-{REPLICA_REGION}", kms)
        for c, kms in REPLICATED[stack].items()
    }
    # Every replica a full bucket of its own: versioned, encrypted, TLS only, nothing public,
    # kept in prod, and access-logged to the replica region's log bucket (itself a log target).
    replica_buckets = there["aws_s3_bucket"]
    assert {b["bucket"] for b in replica_buckets.values()} == {r for r, _ in pairs.values()}
    assert all(b["force_destroy"] is False for b in replica_buckets.values())
    assert len(there["aws_s3_bucket_versioning"]) == len(replica_buckets)
    assert len(there["aws_s3_bucket_policy"]) == len(replica_buckets)
    assert all("DenyInsecureTransport" in p["policy"] for p in there["aws_s3_bucket_policy"].values())
    (log_ref,) = [f"aws_s3_bucket.{k}" for k, b in replica_buckets.items() if "-logs-" in b["bucket"]]
    logging = there["aws_s3_bucket_logging"].values()
    assert sorted(names[ref(lg["bucket"])] for lg in logging) == sorted(r for r, kms in pairs.values() if kms)
    assert {ref(lg["target_bucket"]) for lg in logging} == {log_ref}
    (log_policy,) = [p for p in there["aws_s3_bucket_policy"].values() if ref(p["bucket"]) == log_ref]
    assert "logging.s3.amazonaws.com" in log_policy["policy"]
    for sse in there["aws_s3_bucket_server_side_encryption_configuration"].values():
        default = sse["rule"][0]["apply_server_side_encryption_by_default"]
        if ref(sse["bucket"]) == log_ref:
            assert default == {"sse_algorithm": "AES256"}  # S3 delivers access logs only to SSE-S3
        else:
            assert default["kms_master_key_id"] == f"${{aws_kms_key.{key_name}.arn}}"


def role_policy(doc: dict[str, Any], role_name: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    (key, role) = next((k, r) for k, r in resources(doc, "aws_iam_role").items() if r["name"] == role_name)
    policy = next(p for p in resources(doc, "aws_iam_role_policy").values() if f"aws_iam_role.{key}." in p["role"])
    return role, {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}


@pytest.mark.parametrize(("stack", "component"), [("state", "tfstate"), ("platform", "artifacts")])
def test_replication_role_names_only_its_buckets_and_keys(prod: Synth, stack: str, component: str) -> None:
    doc = prod[stack]
    role, st = role_policy(doc, f"cicd-{component}-replication-prod")
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_TOKEN}
    configs = resources(doc, "aws_s3_bucket_replication_configuration").values()
    sources = [c["bucket"].replace(".id}", ".arn}") for c in configs]
    replicas_ = [c["rule"][0]["destination"]["bucket"] for c in configs]
    encrypted = [c for c in configs if "encryption_configuration" in c["rule"][0]["destination"]]
    kms_sources = [c["bucket"].replace(".id}", ".arn}") for c in encrypted]
    kms_replicas = [c["rule"][0]["destination"]["bucket"] for c in encrypted]
    assert len(sources) == len(REPLICATED[stack])
    assert sorted(trust["Condition"]["ArnLike"]["aws:SourceArn"]) == sorted(sources)
    assert set(st) == {"SourceBucket", "SourceObjects", "ReplicaObjects", "DecryptSource", "EncryptReplica"}
    assert sorted(st["SourceBucket"]["Resource"]) == sorted(sources)
    assert sorted(st["SourceObjects"]["Resource"]) == sorted(f"{a}/*" for a in sources)
    assert sorted(st["ReplicaObjects"]["Resource"]) == sorted(f"{a}/*" for a in replicas_)
    assert st["ReplicaObjects"]["Action"] == ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    assert st["EncryptReplica"]["Resource"] == key_ref(encrypted[0])
    assert st["DecryptSource"]["Action"] == "kms:Decrypt"
    # Each key only through S3 in its own region, only for the SSE-KMS buckets' objects.
    assert st["DecryptSource"]["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert st["EncryptReplica"]["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{REPLICA_REGION}.amazonaws.com"}
    context = "kms:EncryptionContext:aws:s3:arn"
    assert sorted(st["DecryptSource"]["Condition"]["StringLike"][context]) == sorted(
        a for arn in kms_sources for a in (arn, f"{arn}/*")
    )
    assert sorted(st["EncryptReplica"]["Condition"]["StringLike"][context]) == sorted(
        a for arn in kms_replicas for a in (arn, f"{arn}/*")
    )


def test_no_replication_outside_prod_by_default(dev: Synth) -> None:
    for doc in dev.values():
        assert replicas(doc) == {}
        assert resources(doc, "aws_s3_bucket_replication_configuration") == {}
        assert [p for p in doc["provider"]["aws"] if p.get("alias")] == []


def test_replication_can_be_turned_on_anywhere_and_off_in_prod(synth: Callable[[Settings], Synth]) -> None:
    dev = synth(make_settings("dev", recovery={"replicate": True, "replica_region": "eu-west-1"}))
    assert len(resources(dev["state"], "aws_s3_bucket_replication_configuration")) == 2
    there = replicas(dev["state"])["aws_s3_bucket"].values()
    assert all(b["bucket"].endswith("-eu-west-1") for b in there)
    assert all(b["force_destroy"] is True for b in there)  # a disposable environment's replicas go with it
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


def test_state_replication_replicates_delete_markers(prod: Synth) -> None:
    """The deleted lock file must not outlive its delete in the replica (recover locks there)."""
    names = bucket_names(prod["state"])
    markers = {
        names[ref(c["bucket"])]: c["rule"][0]["delete_marker_replication"]["status"]
        for c in resources(prod["state"], "aws_s3_bucket_replication_configuration").values()
    }
    assert markers == {
        "cicd-tfstate-prod-123456789012-us-east-1": "Enabled",
        "cicd-tfstate-logs-prod-123456789012-us-east-1": "Disabled",
    }

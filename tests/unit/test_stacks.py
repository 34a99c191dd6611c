"""State backend stack, platform backend block, provider, and target equivalence."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from constructs_lib.settings import Settings
from local_aws import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from tests.helpers import make_settings, one, resources, statements

Synth = dict[str, dict[str, Any]]


def of_state_bucket(doc: dict[str, Any], rtype: str) -> dict[str, Any]:
    """The ``rtype`` resource attached to the state bucket (not its log bucket)."""
    (found,) = [r for r in resources(doc, rtype).values() if r["bucket"].startswith("${aws_s3_bucket.state_bucket_")]
    return dict(found)


def test_state_bucket_versioned_kms_encrypted_private_tls_only(dev: Synth) -> None:
    state = dev["state"]
    names = sorted(b["bucket"] for b in resources(state, "aws_s3_bucket").values())
    assert names == ["cicd-tfstate-dev-123456789012-us-east-1", "cicd-tfstate-logs-dev-123456789012-us-east-1"]
    assert of_state_bucket(state, "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    rule = of_state_bucket(state, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    assert rule["apply_server_side_encryption_by_default"]["kms_master_key_id"].startswith("${aws_kms_key.")
    pab = of_state_bucket(state, "aws_s3_bucket_public_access_block")
    flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    assert all(pab[k] is True for k in flags)
    deny = statements(of_state_bucket(state, "aws_s3_bucket_policy")["policy"])["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


#: AWS's statement for Security Hub S3.5 ("S3 general purpose buckets should require requests to
#: use SSL"), as the S3 User Guide's example writes it: deny every principal every S3 action on the
#: bucket and its objects when aws:SecureTransport is false. A statement without its Principal or
#: Resource is refused by S3; one on another bucket, or an action no request matches, protects nothing.
def tls_only(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_every_bucket_policy_refuses_plain_http_to_its_own_bucket_and_objects(shipped: tuple[Settings, Synth]) -> None:
    _, docs = shipped
    policies = [p for doc in docs.values() for p in resources(doc, "aws_s3_bucket_policy").values()]
    assert len(policies) >= 5  # state, state logs, artifacts, source, ALB logs (and replicas in prod)
    for policy in policies:
        bucket = re.fullmatch(r"\$\{aws_s3_bucket\.([^.]+)\.(?:id|bucket)\}", policy["bucket"])
        assert bucket, policy["bucket"]
        arn = f"${{aws_s3_bucket.{bucket.group(1)}.arn}}"
        assert statements(policy["policy"])["DenyInsecureTransport"] == tls_only(arn)


def test_state_bucket_access_logged_and_disposable_outside_prod(dev: Synth, prod: Synth) -> None:
    logging = of_state_bucket(dev["state"], "aws_s3_bucket_logging")
    assert logging["target_bucket"].startswith("${aws_s3_bucket.state_access-logs_")
    # One prefix per source bucket (S3 API, LoggingEnabled: "choose a different TargetPrefix for
    # each source bucket so that the delivered log files can be distinguished by key").
    assert logging["target_prefix"] == "s3/cicd-tfstate-dev-123456789012-us-east-1/"
    (dependency,) = logging["depends_on"]
    assert dependency.startswith("aws_s3_bucket_policy.state_access-logs_account-scoped_policy_")
    force = {b["bucket"]: b["force_destroy"] for b in resources(dev["state"], "aws_s3_bucket").values()}
    assert force == {
        "cicd-tfstate-dev-123456789012-us-east-1": True,
        "cicd-tfstate-logs-dev-123456789012-us-east-1": True,
    }
    force = {b["bucket"]: b["force_destroy"] for b in resources(prod["state"], "aws_s3_bucket").values()}
    assert force == {
        "cicd-tfstate-prod-123456789012-us-east-1": False,
        "cicd-tfstate-logs-prod-123456789012-us-east-1": False,
        "cicd-tfstate-prod-123456789012-us-west-2": False,  # the replicas
        "cicd-tfstate-logs-prod-123456789012-us-west-2": False,
    }


def test_state_bucket_expires_noncurrent_versions(dev: Synth) -> None:
    rule = of_state_bucket(dev["state"], "aws_s3_bucket_lifecycle_configuration")["rule"][0]
    assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] == 90
    assert "expiration" not in rule  # current state is never expired


def test_state_key_rotates(dev: Synth) -> None:
    key = one(dev["state"], "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert one(dev["state"], "aws_kms_alias")["name"] == "alias/cicd-state-dev"


def test_lock_table(dev: Synth, prod: Synth) -> None:
    table = one(dev["state"], "aws_dynamodb_table")
    assert table["name"] == "cicd-tflock-dev"
    assert table["hash_key"] == "LockID"
    assert table["attribute"] == [{"name": "LockID", "type": "S"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"]["enabled"] is True
    assert table["deletion_protection_enabled"] is False
    assert one(prod["state"], "aws_dynamodb_table")["deletion_protection_enabled"] is True


def test_state_backend_stack_keeps_its_state_in_its_own_bucket(dev: Synth) -> None:
    """Self-hosted: no path on one machine, the same JSON everywhere (tools/bootstrap_state.py
    applies the very first time with a local override, then migrates)."""
    assert dev["state"]["terraform"]["backend"] == {
        "s3": {
            "bucket": "cicd-tfstate-dev-123456789012-us-east-1",
            "key": "cicd/dev/state-backend.tfstate",
            "region": "us-east-1",
            "encrypt": True,
            "kms_key_id": "alias/cicd-state-dev",
            "dynamodb_table": "cicd-tflock-dev",
            "use_lockfile": True,
            "allowed_account_ids": ["123456789012"],
        }
    }
    bucket = next(
        b
        for b in resources(dev["state"], "aws_s3_bucket").values()
        if b["bucket"] == "cicd-tfstate-dev-123456789012-us-east-1"
    )
    assert bucket["bucket"] == dev["state"]["terraform"]["backend"]["s3"]["bucket"]
    assert (
        one(dev["state"], "aws_dynamodb_table")["name"] == dev["state"]["terraform"]["backend"]["s3"]["dynamodb_table"]
    )


def test_platform_backend_points_at_state_bucket_and_table(dev: Synth, prod: Synth) -> None:
    backend = dev["platform"]["terraform"]["backend"]["s3"]
    assert backend == {
        "bucket": "cicd-tfstate-dev-123456789012-us-east-1",
        "key": "cicd/dev/terraform.tfstate",
        "region": "us-east-1",
        "encrypt": True,
        "kms_key_id": "alias/cicd-state-dev",
        "dynamodb_table": "cicd-tflock-dev",
        "use_lockfile": True,
        "allowed_account_ids": ["123456789012"],
    }
    assert prod["platform"]["terraform"]["backend"]["s3"]["key"] == "cicd/prod/terraform.tfstate"


def test_state_is_encrypted_with_the_state_key_not_sse_s3(dev: Synth) -> None:
    """encrypt alone makes the backend request SSE-S3 on every write; the key alias overrides it."""
    alias = one(dev["state"], "aws_kms_alias")["name"]
    for stack in ("platform", "state"):
        assert dev[stack]["terraform"]["backend"]["s3"]["kms_key_id"] == alias


def test_provider_default_tags(dev: Synth) -> None:
    tags = dev["platform"]["provider"]["aws"][0]["default_tags"][0]["tags"]
    assert tags == {
        "owner": "platform-team",
        "cost-center": "engineering",
        "project": "cicd",
        "environment": "dev",
        "managed-by": "cdktf",
    }


def test_provider_pins_aws_5_100(dev: Synth) -> None:
    assert dev["platform"]["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"


LOCAL = {"deploy_target": "local", "endpoint_url": "http://127.0.0.1:4599"}


def test_local_target_points_provider_and_backend_at_emulator(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", **LOCAL))["platform"]
    provider = doc["provider"]["aws"][0]
    assert provider["skip_credentials_validation"] is True
    assert provider["s3_use_path_style"] is True
    # The emulator's URL reaches the provider as AWS_ENDPOINT_URL (tools/deploy.py sets it for
    # every terraform run; tests/emulator/test_deploy_env.py): an endpoints block, even of one
    # entry, costs the provider about 8 CPU-s per run (constructs_lib/stacks/target.py).
    assert "endpoints" not in provider
    # Signed with the emulator's keys only: without the variable no request can act on an account.
    assert (provider["access_key"], provider["secret_key"]) == (ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    backend = doc["terraform"]["backend"]["s3"]
    assert backend["endpoints"]["s3"] == backend["endpoints"]["dynamodb"] == "http://127.0.0.1:4599"
    assert backend["use_path_style"] is True


def _without_target_blocks(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc.pop("provider")
    doc["terraform"].pop("backend")
    return doc


def test_resources_identical_for_local_and_aws_targets(synth: Callable[[Settings], Synth]) -> None:
    for env in ("dev", "prod"):
        aws = synth(make_settings(env))
        local = synth(make_settings(env, **LOCAL))
        for stack in ("platform", "state"):
            assert aws[stack]["provider"] != local[stack]["provider"]
            a = json.dumps(_without_target_blocks(aws[stack]), sort_keys=True)
            b = json.dumps(_without_target_blocks(local[stack]), sort_keys=True)
            assert a == b, f"{env}/{stack} differs beyond provider and backend"


def test_every_stack_has_resources(shipped: tuple[Settings, Synth]) -> None:
    _, docs = shipped
    assert resources(docs["state"], "aws_s3_bucket")
    assert resources(docs["platform"], "aws_kms_key")


# --- account guard --------------------------------------------------------------

ROLE = "arn:aws:iam::111111111111:role/cicd-deploy"


def test_account_id_becomes_allowed_account_ids_in_both_stacks(synth: Callable[[Settings], Synth]) -> None:
    docs = synth(make_settings("dev", account_id="111111111111"))
    for stack in ("platform", "state"):
        assert docs[stack]["provider"]["aws"][0]["allowed_account_ids"] == ["111111111111"], stack
    assert docs["platform"]["terraform"]["backend"]["s3"]["allowed_account_ids"] == ["111111111111"]


def test_without_account_id_the_local_target_names_the_emulators_account(synth: Callable[[Settings], Synth]) -> None:
    """Only the local target may leave account_id unset (settings refuse it for aws): no guard
    is written, and bucket names carry the emulator's account."""
    docs = synth(make_settings("dev", account_id=None, **LOCAL))
    for stack in ("platform", "state"):
        assert "allowed_account_ids" not in docs[stack]["provider"]["aws"][0], stack
    assert "allowed_account_ids" not in docs["platform"]["terraform"]["backend"]["s3"]
    assert docs["platform"]["terraform"]["backend"]["s3"]["bucket"] == "cicd-tfstate-dev-123456789012-us-east-1"


def test_bucket_names_carry_the_settings_account_and_region(synth: Callable[[Settings], Synth]) -> None:
    docs = synth(make_settings("dev", account_id="111111111111", region="eu-west-1"))
    names = sorted(b["bucket"] for doc in docs.values() for b in resources(doc, "aws_s3_bucket").values())
    assert names == [
        f"cicd-{c}-dev-111111111111-eu-west-1" for c in ("alb-logs", "artifacts", "source", "tfstate", "tfstate-logs")
    ]
    assert docs["platform"]["terraform"]["backend"]["s3"]["bucket"] == "cicd-tfstate-dev-111111111111-eu-west-1"


def test_deploy_role_is_assumed_by_provider_and_backend(synth: Callable[[Settings], Synth]) -> None:
    docs = synth(make_settings("dev", account_id="111111111111", deploy_role_arn=ROLE))
    for stack in ("platform", "state"):
        (assume,) = docs[stack]["provider"]["aws"][0]["assume_role"]
        assert assume == {"role_arn": ROLE, "session_name": "cicd-dev-terraform"}, stack
    assert docs["platform"]["terraform"]["backend"]["s3"]["assume_role"] == {
        "role_arn": ROLE,
        "session_name": "cicd-dev-terraform",
    }


def test_local_target_never_assumes_the_deploy_role(synth: Callable[[Settings], Synth]) -> None:
    docs = synth(make_settings("dev", account_id="111111111111", deploy_role_arn=ROLE, **LOCAL))
    assert "assume_role" not in docs["platform"]["provider"]["aws"][0]
    assert "assume_role" not in docs["platform"]["terraform"]["backend"]["s3"]
    assert docs["platform"]["provider"]["aws"][0]["allowed_account_ids"] == ["111111111111"]


def test_every_access_log_source_has_its_own_prefix(shipped: tuple[Settings, Synth]) -> None:
    """S3 API (LoggingEnabled): "choose a different TargetPrefix for each source bucket so that
    the delivered log files can be distinguished by key"."""
    _, docs = shipped
    for doc in (docs["state"], docs["platform"]):  # the access stack has no bucket
        names = {f"${{aws_s3_bucket.{k}.id}}": b["bucket"] for k, b in resources(doc, "aws_s3_bucket").items()}
        logging = list(resources(doc, "aws_s3_bucket_logging").values())
        assert logging
        targets = [(entry["target_bucket"], entry["target_prefix"]) for entry in logging]
        assert len(set(targets)) == len(targets)
        for entry in logging:
            assert entry["target_prefix"] == f"s3/{names[entry['bucket']]}/"

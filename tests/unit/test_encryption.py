"""The environment key: rotation, alias, and one key-policy statement per purpose."""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib import policies
from constructs_lib.context import Aws
from tests.helpers import ACCOUNT_TOKEN as ACCOUNT
from tests.helpers import PARTITION_TOKEN as PARTITION
from tests.helpers import all_resources, one, resources, statements

Synth = dict[str, dict[str, Any]]


def key_statements(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return statements(one(doc, "aws_kms_key")["policy"])


def test_key_rotation_and_deletion_window(dev: Synth) -> None:
    key = one(dev["platform"], "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 30


def test_each_key_says_what_it_protects_and_carries_the_environments_tags(prod: Synth) -> None:
    # The description is what the KMS console and CloudTrail show for a key; the tags come from
    # the provider's default_tags (the key passes none of its own, so none can differ).
    keys = {(stack, key["description"], "tags" in key) for stack, doc in prod.items()
            for key in doc.get("resource", {}).get("aws_kms_key", {}).values()}  # fmt: skip
    assert keys == {
        ("platform", "cicd prod platform data", False),
        ("platform", "Replica of artifacts in us-west-2", False),
        ("state", "Terraform state for cicd-tfstate-prod-123456789012-us-east-1", False),
        ("state", "Replica of bucket in us-west-2", False),
    }


def test_every_key_policy_statement_names_the_key_itself(prod: Synth) -> None:
    # AWS KMS, "Key policies": "In a key policy, the value of the Resource element is "*", which
    # means 'this KMS key'." Any other value names no key: the statement grants nothing.
    found = 0
    for stack, doc in prod.items():
        for key_id, key in doc.get("resource", {}).get("aws_kms_key", {}).items():
            for sid, stmt in statements(key["policy"]).items():
                assert stmt["Resource"] == "*", (stack, key_id, sid)
                found += 1
    assert found >= 12, found  # every key of the prod stacks, each with its statements


def test_alias_is_project_suffix(dev: Synth) -> None:
    assert one(dev["platform"], "aws_kms_alias")["name"] == "alias/cicd-dev"


def test_root_statement_administers_but_cannot_use_the_key(dev: Synth) -> None:
    stmt = key_statements(dev["platform"])["EnableIAMPolicies"]
    assert stmt["Principal"] == {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT}:root"}
    assert "kms:PutKeyPolicy" not in stmt["Action"]  # covered by kms:Put*
    assert "kms:Put*" in stmt["Action"]
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:*"} & set(stmt["Action"])


def test_logs_statement_exact(dev: Synth) -> None:
    stmt = key_statements(dev["platform"])["AllowCloudWatchLogs"]
    assert stmt == {
        "Sid": "AllowCloudWatchLogs",
        "Effect": "Allow",
        "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
        "Action": [
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:DescribeKey",
            "kms:CreateGrant",
        ],
        "Resource": "*",
        "Condition": {
            "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{PARTITION}:logs:us-east-1:{ACCOUNT}:log-group:*"}
        },
    }


@pytest.mark.parametrize(
    ("sid", "principal", "actions"),
    [
        ("AllowCodeBuild", "codebuild.amazonaws.com", {"kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*"}),
        (
            "AllowSecretsManager",
            "secretsmanager.amazonaws.com",
            {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"},
        ),
        ("AllowSNS", "sns.amazonaws.com", {"kms:GenerateDataKey*", "kms:Decrypt"}),
        ("AllowSQS", "sqs.amazonaws.com", {"kms:GenerateDataKey*", "kms:Decrypt"}),
    ],
)
def test_service_statement_with_source_account(dev: Synth, sid: str, principal: str, actions: set[str]) -> None:
    stmt = key_statements(dev["platform"])[sid]
    assert stmt["Principal"] == {"Service": principal}
    assert actions <= set(stmt["Action"])
    assert stmt["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


TOPIC_ARN = f"arn:{PARTITION}:sns:us-east-1:{ACCOUNT}:cicd-notifications-dev"
SOURCE_KEYS = {"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid"}


def condition_keys(stmt: dict[str, Any]) -> set[str]:
    return {k.lower() for operator in stmt.get("Condition", {}).values() for k in operator}


def test_eventbridge_can_use_the_key_for_the_encrypted_topic(dev: Synth) -> None:
    """AWS's rule (SNS developer guide, compatibility with AWS services): "Adding the
    aws:SourceAccount, aws:SourceArn, and aws:SourceOrgID to a AWS KMS policy is not supported
    for EventBridge-to-encrypted topics." Some statement must grant EventBridge data-key use
    for the topic without any of those keys, or every notice is dropped."""
    stmts = [
        s for s in key_statements(dev["platform"]).values() if s["Principal"] == {"Service": "events.amazonaws.com"}
    ]
    for_topic = [s for s in stmts if not condition_keys(s) & SOURCE_KEYS]
    assert [s["Sid"] for s in for_topic] == ["AllowEventBridgeToTopic"]
    (stmt,) = for_topic
    assert set(stmt["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    # Scoped to the topic by its encryption context instead.
    assert stmt["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": TOPIC_ARN}}


def test_eventbridge_dead_letters_only_from_this_environments_rules(dev: Synth) -> None:
    stmt = key_statements(dev["platform"])["AllowEventBridgeDeadLetters"]
    assert stmt["Principal"] == {"Service": "events.amazonaws.com"}
    assert set(stmt["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert stmt["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:{PARTITION}:events:us-east-1:{ACCOUNT}:rule/cicd-dev-*"}
    }


def test_alarms_use_the_key_only_for_the_topic(dev: Synth) -> None:
    stmt = key_statements(dev["platform"])["AllowCloudWatchAlarms"]
    assert stmt["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(stmt["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert stmt["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": TOPIC_ARN}}


def test_topic_name_in_the_key_policy_is_the_topics(dev: Synth) -> None:
    """The key policy builds the topic ARN from its name (the topic is created after the key)."""
    assert one(dev["platform"], "aws_sns_topic")["name"] == TOPIC_ARN.rsplit(":", 1)[1]


def test_state_key_has_its_own_minimal_policy(dev: Synth) -> None:
    """The state key is used only through S3 and DynamoDB: no service principal, no other service."""
    stmts = key_statements(dev["state"])
    assert set(stmts) == {"EnableIAMPolicies", "AllowUseThroughAwsServices"}
    via = stmts["AllowUseThroughAwsServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == ["s3.us-east-1.amazonaws.com", "dynamodb.us-east-1.amazonaws.com"]
    assert all("Service" not in s["Principal"] for s in stmts.values())


def test_role_use_limited_to_via_service(dev: Synth) -> None:
    stmt = key_statements(dev["platform"])["AllowUseThroughAwsServices"]
    via = stmt["Condition"]["StringEquals"]["kms:ViaService"]
    assert {"s3.us-east-1.amazonaws.com", "codepipeline.us-east-1.amazonaws.com"} <= set(via)
    assert stmt["Condition"]["StringEquals"]["kms:CallerAccount"] == ACCOUNT
    # AWS's default key policy for key users ("Allow use of the key"), plus CreateGrant: the
    # services that keep data under the key (Lambda, ECR, Secrets Manager) create grants for it.
    # Written from AWS KMS "Default key policy", not read from constructs_lib.policies.
    assert stmt["Action"] == [
        "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant",
    ]  # fmt: skip


def test_statement_sids_unique_and_complete() -> None:
    aws = Aws(partition="aws", account_id="123456789012", region="eu-west-1")
    sids = [s.sid for s in policies.kms_key_policy(aws, topic_arn="arn:aws:sns:eu-west-1:1:t", rules_arn="r")]
    assert len(sids) == len(set(sids)) == 10


def test_duplicate_sid_refused() -> None:
    stmt = policies.Statement(sid="A", actions=["s3:GetObject"], resources=["arn:aws:s3:::b/*"])
    with pytest.raises(ValueError, match="duplicate Sid"):
        policies.document(stmt, stmt)


#: The service whose endpoint encrypts a resource type's data under a key it names: the
#: ``kms:ViaService`` value AWS sets when that service calls KMS for a principal
#: (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
#: A new encrypted resource type fails the test below until it is placed here.
ENCRYPTING_SERVICE = {
    "aws_cloudwatch_log_group": "logs",
    "aws_codebuild_project": "codebuild",
    "aws_codepipeline": "codepipeline",
    "aws_dynamodb_table": "dynamodb",
    "aws_ecr_repository": "ecr",
    "aws_lambda_function": "lambda",
    "aws_s3_bucket_server_side_encryption_configuration": "s3",
    "aws_s3_bucket_replication_configuration": "s3",
    "aws_secretsmanager_secret": "secretsmanager",
    "aws_sns_topic": "sns",
    "aws_sqs_queue": "sqs",
}
#: Resources that name a key without storing data under it.
NOT_ENCRYPTING = {"aws_kms_alias", "aws_iam_role_policy"}


def _provider_region(doc: dict[str, Any], provider: str | None) -> str:
    """The region of the provider a resource names (``aws.replica``), or of the default one."""
    alias = provider.split(".", 1)[1] if provider else None
    (region,) = [p["region"] for p in doc["provider"]["aws"] if p.get("alias") == alias]
    return str(region)


@pytest.mark.parametrize("stack", ["platform", "state"])
def test_each_key_is_usable_through_exactly_the_services_that_store_data_under_it(prod: Synth, stack: str) -> None:
    """Least privilege on the account's principals: a role may use a key only through a service
    that holds data encrypted under it. A missing service breaks reads of that data (AccessDenied
    from KMS); an extra one lets any role with kms permissions use the key through a service that
    has no business with it."""
    doc = prod[stack]
    for key_id, key in resources(doc, "aws_kms_key").items():
        via = statements(key["policy"])["AllowUseThroughAwsServices"]["Condition"]["StringEquals"]["kms:ViaService"]
        region = _provider_region(doc, key.get("provider"))
        storing = set()
        for rtype, _name, body in all_resources(doc):
            if f"aws_kms_key.{key_id}." in json.dumps(body) and rtype not in NOT_ENCRYPTING:
                assert rtype in ENCRYPTING_SERVICE, f"{rtype} names {key_id}: which service encrypts under it?"
                storing.add(ENCRYPTING_SERVICE[rtype])
        assert sorted(via) == sorted(f"{svc}.{region}.amazonaws.com" for svc in storing), key_id
        assert len(via) == len(set(via)), key_id


def test_key_administrators_get_exactly_awss_key_administrator_actions(dev: Synth) -> None:
    """The "Allows key administrators to administer the KMS key" statement of AWS's default key
    policy, action for action (key-policy-default.html#key-policy-default-allow-administrators):
    every administration action and none that uses the key."""
    stmt = key_statements(dev["platform"])["EnableIAMPolicies"]
    assert sorted(stmt["Action"]) == sorted(
        [
            "kms:Create*",
            "kms:Describe*",
            "kms:Enable*",
            "kms:List*",
            "kms:Put*",
            "kms:Update*",
            "kms:Revoke*",
            "kms:Disable*",
            "kms:Get*",
            "kms:Delete*",
            "kms:TagResource",
            "kms:UntagResource",
            "kms:ScheduleKeyDeletion",
            "kms:CancelKeyDeletion",
            "kms:RotateKeyOnDemand",
        ]
    )
    assert stmt["Resource"] == "*"
    assert "Condition" not in stmt

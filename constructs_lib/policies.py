"""Typed builders for IAM and KMS policy documents.

Statements are small frozen dataclasses rendered to JSON only at the edge, so
constructs compose them and tests look them up by ``Sid`` instead of grepping
strings. Values may contain cdktf tokens (``${aws_s3_bucket.x.arn}``); they
are resolved when the stack synthesizes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # pragma: no cover - import for annotations only
    from constructs_lib.context import Aws

#: Actions AWS only grants on ``"Resource": "*"``; the wildcard walker in the
#: tests allows exactly these.
#: - X-Ray: https://docs.aws.amazon.com/xray/latest/devguide/security_iam_service-with-iam.html
#:   ("X-Ray does not support resource-level permissions" for these actions)
#: - ECR: https://docs.aws.amazon.com/AmazonECR/latest/userguide/security_iam_id-based-policy-examples.html
#:   (GetAuthorizationToken "cannot be scoped to a resource")
#: - CodePipeline job results: https://docs.aws.amazon.com/codepipeline/latest/userguide/permissions-reference.html
#:   (PutJobSuccessResult / PutJobFailureResult support only "*")
#: - ECS task definitions: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
#:   (RegisterTaskDefinition / DescribeTaskDefinition have no resource type)
STAR_ONLY_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "ecr:GetAuthorizationToken",
        "codepipeline:PutJobSuccessResult",
        "codepipeline:PutJobFailureResult",
        "ecs:RegisterTaskDefinition",
        "ecs:DescribeTaskDefinition",
        # Lambda functions in the VPC: Lambda checks the execution role when it creates or updates
        # the function, and roles narrower than AWS's managed AWSLambdaVPCAccessExecutionRole
        # ("Resource": "*") are reported to fail that check (terraform-provider-aws #20698,
        # serverless-application-model #1074); constructs_lib/network.py FunctionPlacement.
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        # VPC flow logs / CodeBuild VPC config describe calls have no resource type.
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeVpcs",
        # The VPC flow logs role (constructs_lib/network.py): DescribeLogGroups has no resource type.
        "logs:DescribeLogGroups",
    }
)


@dataclass(frozen=True)
class Statement:
    """One policy statement. ``principals`` is only for resource policies."""

    sid: str
    actions: Sequence[str]
    resources: Sequence[str] = ()
    effect: Literal["Allow", "Deny"] = "Allow"
    principals: Mapping[str, Sequence[str]] | Literal["*"] | None = None
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Sid": self.sid, "Effect": self.effect}
        if self.principals == "*":
            out["Principal"] = "*"
        elif self.principals is not None:
            out["Principal"] = {k: _one_or_list(v) for k, v in self.principals.items()}
        out["Action"] = _one_or_list(self.actions)
        if self.resources:
            out["Resource"] = _one_or_list(self.resources)
        if self.conditions:
            out["Condition"] = {op: dict(kv) for op, kv in self.conditions.items()}
        return out


def _one_or_list(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


class Grantee(Protocol):
    """Whatever can be granted permissions: a role (``ServiceRole``).

    The construct that owns a resource writes the statement (``grant_*``
    methods), so each permission is spelled once, next to its resource.
    """

    def add_statements(self, *statements: Statement) -> None: ...  # pragma: no cover - protocol


def document(*statements: Statement) -> str:
    """Render statements as a policy document JSON string."""
    sids = [s.sid for s in statements]
    if len(sids) != len(set(sids)):
        raise ValueError(f"duplicate Sid in policy: {sids}")
    return json.dumps({"Version": "2012-10-17", "Statement": [s.render() for s in statements]}, indent=None)


def source_account(account_id: str) -> dict[str, dict[str, str]]:
    """Confused-deputy guard for service principals."""
    return {"StringEquals": {"aws:SourceAccount": account_id}}


def service_trust(service: str, account_id: str, *, source_arn: str | Sequence[str] | None = None) -> str:
    """Trust policy letting exactly one service principal assume a role.

    ``aws:SourceAccount`` limits it to this account (confused-deputy
    protection); ``source_arn`` narrows it to one resource where the service
    sets ``aws:SourceArn`` (or to several: any of them).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    """
    conditions: dict[str, dict[str, str | list[str]]] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn if isinstance(source_arn, str) else list(source_arn)}
    return document(
        Statement(
            sid="TrustService",
            actions=["sts:AssumeRole"],
            principals={"Service": [service]},
            conditions=conditions,
        )
    )


def deny_insecure_transport(bucket_arn: str) -> Statement:
    """TLS-only bucket policy statement (AWS FSBP S3.5)."""
    return Statement(
        sid="DenyInsecureTransport",
        effect="Deny",
        principals="*",
        actions=["s3:*"],
        resources=[bucket_arn, f"{bucket_arn}/*"],
        conditions={"Bool": {"aws:SecureTransport": "false"}},
    )


# --- Secrets Manager resource policy ------------------------------------------


def secret_policy(readers: Sequence[str]) -> str:
    """Nobody but ``readers`` (role ARNs) reads the value, whatever their IAM policies say.

    A Deny on every other principal: a same-account principal needs no Allow in the resource
    policy (IAM grants it), and an explicit Deny wins over any Allow. ``aws:PrincipalArn`` is
    the role's ARN for a session of that role.
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_resource-policies.html
    """
    return document(
        Statement(
            sid="OnlyItsReaders",
            effect="Deny",
            principals="*",
            actions=["secretsmanager:GetSecretValue"],
            resources=["*"],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": list(readers)}},
        )
    )


# --- KMS key policy ---------------------------------------------------------

#: Key administration without key *use* (the AWS "key administrators" set).
#: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators
KEY_ADMIN_ACTIONS = (
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
)
#: Using the key: the one spelling of this set. Narrower grants take a subset.
KEY_USE_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
#: Writing data under the key and reading it back (a sender to an encrypted
#: topic or queue, a reader and writer of SSE-KMS objects).
KEY_DATA_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")
#: Reading data encrypted under the key (a secret, say).
KEY_DECRYPT_ACTIONS = ("kms:Decrypt",)

#: Services through which principals of this account may use the key
#: (``kms:ViaService``). Nothing else may use it directly. Exactly the services that store the
#: platform's data under it (tests/unit/test_encryption.py derives them from the resources):
#: DynamoDB is not one of them, the lock table is under the state key.
VIA_SERVICES = ("s3", "codepipeline", "codebuild", "secretsmanager", "ecr", "logs", "sqs", "sns", "lambda")


def kms_key_policy(aws: Aws, *, topic_arn: str, rules_arn: str) -> list[Statement]:
    """The platform key: one statement per purpose; see docs/compliance.md for the mapping.

    ``topic_arn``: the encrypted notifications topic EventBridge and CloudWatch
    alarms publish to; ``rules_arn``: an ``ArnLike`` pattern of the environment's
    EventBridge rules (they dead-letter into a queue encrypted with this key).
    """
    return [*key_policy_for_account(aws), *_key_policy_for_services(aws, topic_arn, rules_arn)]


def state_key_policy(aws: Aws) -> list[Statement]:
    """The Terraform state key: administered by the account, used only through S3 (the
    state objects) and DynamoDB (the lock table). No service principal reads state."""
    return key_policy_for_account(aws, via_services=STATE_VIA_SERVICES)


#: The only services through which the state key is used.
STATE_VIA_SERVICES = ("s3", "dynamodb")


def key_policy_for_account(aws: Aws, via_services: Sequence[str] = VIA_SERVICES) -> list[Statement]:
    root = {"AWS": [aws.account_root()]}
    return [
        # IAM in this account may administer the key (not use it): without this
        # statement a key can become unmanageable.
        Statement(sid="EnableIAMPolicies", principals=root, actions=KEY_ADMIN_ACTIONS, resources=["*"]),
        Statement(
            sid="AllowUseThroughAwsServices",
            principals=root,
            actions=(*KEY_USE_ACTIONS, "kms:CreateGrant"),
            resources=["*"],
            conditions={
                "StringEquals": {
                    "kms:ViaService": [f"{svc}.{aws.region}.amazonaws.com" for svc in via_services],
                    "kms:CallerAccount": aws.account_id,
                }
            },
        ),
    ]


#: SNS encrypts each message under the topic's ARN as encryption context; a grant
#: conditioned on it serves exactly that topic (what a publisher's KMS calls carry, seen
#: in CloudTrail's GenerateDataKey events; AWS's guide names no other scoping that
#: EventBridge can satisfy).
SNS_TOPIC_CONTEXT = "kms:EncryptionContext:aws:sns:topicArn"


def _key_policy_for_services(aws: Aws, topic_arn: str, rules_arn: str) -> list[Statement]:
    """Service principals, each limited to this account, its log groups, its topic or its rules."""
    topic_only = {"StringEquals": {SNS_TOPIC_CONTEXT: topic_arn}}
    return [
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
        Statement(
            sid="AllowCloudWatchLogs",
            principals={"Service": [f"logs.{aws.region}.amazonaws.com"]},
            actions=(*KEY_USE_ACTIONS, "kms:CreateGrant"),
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": aws.arn("logs", "log-group:*")}},
        ),
        *(
            Statement(
                sid=sid,
                principals={"Service": [principal]},
                actions=actions,
                resources=["*"],
                conditions=source_account(aws.account_id),
            )
            for sid, principal, actions in (
                ("AllowCodeBuild", "codebuild.amazonaws.com", KEY_USE_ACTIONS),
                ("AllowSecretsManager", "secretsmanager.amazonaws.com", KEY_USE_ACTIONS),
                ("AllowSNS", "sns.amazonaws.com", KEY_DATA_ACTIONS),
                ("AllowSQS", "sqs.amazonaws.com", KEY_DATA_ACTIONS),
            )
        ),
        # EventBridge -> the encrypted topic. "Adding the aws:SourceAccount, aws:SourceArn, and
        # aws:SourceOrgID to a AWS KMS policy is not supported for EventBridge-to-encrypted topics."
        # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
        Statement(
            sid="AllowEventBridgeToTopic",
            principals={"Service": ["events.amazonaws.com"]},
            actions=KEY_DATA_ACTIONS,
            resources=["*"],
            conditions=topic_only,
        ),
        # EventBridge -> the encrypted dead-letter queue of its targets: scoped to this
        # environment's rules (EventBridge sends aws:SourceArn, the rule, for SQS targets).
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
        Statement(
            sid="AllowEventBridgeDeadLetters",
            principals={"Service": ["events.amazonaws.com"]},
            actions=KEY_DATA_ACTIONS,
            resources=["*"],
            conditions={"ArnLike": {"aws:SourceArn": rules_arn}},
        ),
        # CloudWatch alarms -> the encrypted topic: AWS documents the statement without
        # conditions (re:Post, "configure a CloudWatch alarm with an encrypted SNS topic");
        # the topic's encryption context keeps it to this topic.
        Statement(
            sid="AllowCloudWatchAlarms",
            principals={"Service": ["cloudwatch.amazonaws.com"]},
            actions=KEY_DATA_ACTIONS,
            resources=["*"],
            conditions=topic_only,
        ),
    ]

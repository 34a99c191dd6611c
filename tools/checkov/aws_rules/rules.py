"""AWS's service-side rules that neither the provider's schema nor the emulator checks.

Each rule reads one synthesized resource (its body in ``cdk.tf.json``) and
returns ``None`` when the resource obeys the rule, or one line saying why AWS
would refuse it (or break at run time). The AWS document is quoted beside
every rule; ``docs/aws-rules.md`` lists them with how each is enforced.

The rules run in two places, on the same function:

- checkov, as custom checks (``checks.py`` beside this file, loaded with
  ``--external-checks-dir``): the gate ``tools/checkov_gate.py`` runs them over
  every shipped environment and the all-on/all-off variants in ``make test``;
- the unit tests, directly on synthesized JSON, for one fixture per rule.

Standard library only: checkov imports this file inside its own virtualenv.
Rules that need two resources at once (a role and its policy, a cluster and a
log group's name) are unit tests instead: checkov's Python checks see one
resource at a time (``docs/aws-rules.md`` says which rules are which).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Body = Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    id: str
    resource_type: str
    name: str
    #: Where AWS says so, and what it says (verbatim).
    source: str
    quote: str
    check: Callable[[Body], str | None]


def _one(value: Any) -> Any:
    """A nested block is a dict in cdk.tf.json and a one-element list in some renderings."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        return value[0]
    return value


def _statements(policy: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(policy, str):
        return  # an interpolated document (jsonencode(...)): nothing literal to read
    try:
        doc = json.loads(policy)
    except json.JSONDecodeError:
        return
    found = doc.get("Statement", []) if isinstance(doc, dict) else []
    for statement in found if isinstance(found, list) else [found]:
        if isinstance(statement, dict):
            yield statement


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _service_principals(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return []
    return [str(p) for p in _listed(principal.get("Service", []))]


def _condition_keys(statement: Mapping[str, Any]) -> set[str]:
    keys: set[str] = set()
    for operator in (statement.get("Condition") or {}).values():
        if isinstance(operator, dict):
            keys |= {str(k).lower() for k in operator}
    return keys


# -- CloudWatch Logs ---------------------------------------------------------------


def metric_filter_dimensions_without_default(body: Body) -> str | None:
    transformation = _one(body.get("metric_transformation")) or {}
    if transformation.get("dimensions") and transformation.get("default_value") not in (None, ""):
        return "metric_transformation has both dimensions and default_value"
    return None


# -- KMS and SNS: EventBridge -> encrypted topic --------------------------------------

EVENTS = "events.amazonaws.com"
SOURCE_KEYS = {"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid"}


def eventbridge_key_statement_without_source_keys(body: Body) -> str | None:
    granted = [s for s in _statements(body.get("policy")) if EVENTS in _service_principals(s)]
    if granted and all(_condition_keys(s) & SOURCE_KEYS for s in granted):
        sids = ", ".join(str(s.get("Sid", "?")) for s in granted)
        return f"every statement for {EVENTS} ({sids}) carries aws:SourceAccount/SourceArn/SourceOrgID"
    return None


def eventbridge_topic_statement_without_condition(body: Body) -> str | None:
    for statement in _statements(body.get("policy")):
        if EVENTS in _service_principals(statement) and statement.get("Condition"):
            return f"statement {statement.get('Sid', '?')} for {EVENTS} has a Condition block"
    return None


# -- names -------------------------------------------------------------------------------

#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3", "-an")
_S3_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
#: ``...-<12-digit account>-<region>``: unique per account and region (names are global in a partition).
_ACCOUNT_REGION_SCOPED = re.compile(r"-\d{12}-[a-z]{2}(-[a-z]+)+-\d$")


def s3_bucket_name(body: Body) -> str | None:
    name = body.get("bucket")
    if not isinstance(name, str) or "${" in name:
        return "bucket name is not a literal (the S3 backend and reviewers need the exact name)"
    if not _S3_NAME.match(name) or ".." in name:
        return f"{name!r}: 3-63 lower-case letters, digits, dots and hyphens, starting and ending alphanumeric"
    for prefix in S3_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"{name!r} starts with the reserved prefix {prefix!r}"
    for suffix in S3_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"{name!r} ends with the reserved suffix {suffix!r}"
    if not _ACCOUNT_REGION_SCOPED.search(name):
        return f"{name!r} does not end with -<account id>-<region>: another account can own (or squat) it"
    return None


_ELB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")


def load_balancer_name(body: Body) -> str | None:
    name = body.get("name")
    if not isinstance(name, str) or "${" in name:
        return None  # a generated name (name_prefix) is AWS's own
    if name.lower().startswith("internal-"):
        return f"{name!r} begins with 'internal-'"
    if not _ELB_NAME.match(name):
        return f"{name!r}: at most 32 alphanumeric characters or hyphens, not starting or ending with a hyphen"
    return None


# -- IAM: CodeConnections --------------------------------------------------------------


def use_connection_matches_arn(body: Body) -> str | None:
    for statement in _statements(body.get("policy")):
        for action in _listed(statement.get("Action", [])):
            service, _, verb = str(action).partition(":")
            if verb != "UseConnection":
                continue
            for resource in _listed(statement.get("Resource", [])):
                parts = str(resource).split(":")
                if len(parts) > 2 and parts[2] != service and not parts[2].startswith("${"):
                    return f"{action} granted on {resource}: the action's prefix must be {parts[2]}"
    return None


# -- ECS Container Insights ------------------------------------------------------------

_LOG_GROUP_REF = re.compile(r"^(\$\{)?aws_cloudwatch_log_group\.[\w-]+\}?$")


def container_insights_log_group_first(body: Body) -> str | None:
    settings = [_one(s) for s in _listed(body.get("setting") or [])]
    insights = [s for s in settings if isinstance(s, dict) and s.get("name") == "containerInsights"]
    if not insights or insights[0].get("value") not in ("enabled", "enhanced"):
        return None
    if not any(_LOG_GROUP_REF.match(str(d)) for d in _listed(body.get("depends_on") or [])):
        return "Container Insights is on but the cluster does not depend on its performance log group"
    return None


RULES: tuple[Rule, ...] = (
    Rule(
        "CKV_CICD_1",
        "aws_cloudwatch_log_metric_filter",
        "A metric filter has dimensions or a default value, never both",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/MonitoringLogData.html",
        "If you assign dimensions to a metric created by a metric filter, you can't assign a default value "
        "for that metric.",
        metric_filter_dimensions_without_default,
    ),
    Rule(
        "CKV_CICD_2",
        "aws_kms_key",
        "EventBridge's key-policy grant for an encrypted topic carries no aws:Source* condition",
        "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services",
        "Adding the aws:SourceAccount, aws:SourceArn, and aws:SourceOrgID to a AWS KMS policy is not "
        "supported for EventBridge-to-encrypted topics.",
        eventbridge_key_statement_without_source_keys,
    ),
    Rule(
        "CKV_CICD_3",
        "aws_sns_topic_policy",
        "The topic policy's EventBridge statement has no Condition block",
        "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions",
        "You can't use Condition blocks in Amazon SNS topic policies for EventBridge.",
        eventbridge_topic_statement_without_condition,
    ),
    Rule(
        "CKV_CICD_4",
        "aws_s3_bucket",
        "Bucket names are legal, avoid reserved prefixes and suffixes, and carry the account and region",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
        "General purpose buckets exist in a global namespace, which means that each bucket name must be unique "
        "across all AWS accounts in all the AWS Regions within a partition.",
        s3_bucket_name,
    ),
    Rule(
        "CKV_CICD_5",
        "aws_lb",
        "Load balancer names do not begin with internal-",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
        "This name must be unique per region per account, can have a maximum of 32 characters, must contain only "
        'alphanumeric characters or hyphens, must not begin or end with a hyphen, and must not begin with "internal-".',
        load_balancer_name,
    ),
    Rule(
        "CKV_CICD_6",
        "aws_iam_role_policy",
        "UseConnection is granted under the service prefix of the connection's ARN",
        "https://docs.aws.amazon.com/dtconsole/latest/userguide/security-iam.html",
        "When specifying a resource in the IAM policy, the service prefix needs to match that of the resource.",
        use_connection_matches_arn,
    ),
    Rule(
        "CKV_CICD_7",
        "aws_ecs_cluster",
        "Container Insights' performance log group exists (encrypted, with retention) before the cluster",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-reference.html",
        "When you deploy Container Insights, it automatically creates a log group for the performance log events.",
        container_insights_log_group_first,
    ),
)


def check_stack(doc: Mapping[str, Any]) -> list[str]:
    """Every rule over every resource of one synthesized stack: ``<id> <type>.<name>: <why>``."""
    out = []
    for rule in RULES:
        for name, body in (doc.get("resource", {}).get(rule.resource_type) or {}).items():
            why = rule.check(body)
            if why is not None:
                out.append(f"{rule.id} {rule.resource_type}.{name}: {why}")
    return out

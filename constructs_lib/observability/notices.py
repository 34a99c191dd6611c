"""EventBridge rules whose events become one readable sentence on the notifications topic."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from constructs_lib import policies
from constructs_lib.naming import NameKind, Naming
from constructs_lib.notifications import Notifications

#: Every notification target retries like this, then goes to the DLQ.
RETRY_POLICY = {"maximum_retry_attempts": 3, "maximum_event_age_in_seconds": 3600}


@dataclass(frozen=True)
class Notice:
    """An EventBridge rule whose events become one readable sentence on SNS."""

    id: str
    description: str
    pattern: Mapping[str, Any]
    paths: Mapping[str, str]
    template: str


@dataclass(frozen=True)
class Watched:
    """What the notices are about: names and ARNs, not constructs."""

    pipeline_name: str
    pipeline_states: list[str]
    service_arn: str
    repository_name: str


def notices(w: Watched) -> list[Notice]:
    return [
        Notice(
            id="pipeline-state",
            description="Pipeline execution state changes",
            pattern={
                "source": ["aws.codepipeline"],
                "detail-type": ["CodePipeline Pipeline Execution State Change"],
                "detail": {"pipeline": [w.pipeline_name], "state": w.pipeline_states},
            },
            paths={"pipeline": "$.detail.pipeline", "execution": "$.detail.execution-id", "state": "$.detail.state"},
            template="Pipeline <pipeline> execution <execution> entered state <state>.",
        ),
        Notice(
            id="ecs-deployment-failed",
            description="ECS service deployment failures",
            pattern={
                "source": ["aws.ecs"],
                "detail-type": ["ECS Deployment State Change"],
                "resources": [w.service_arn],
                "detail": {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]},
            },
            paths={"service": "$.resources[0]", "deployment": "$.detail.deploymentId", "reason": "$.detail.reason"},
            template="ECS deployment <deployment> of <service> failed: <reason>",
        ),
        _scan_findings(w.repository_name),
    ]


def _scan_findings(repository_name: str) -> Notice:
    return Notice(
        id="ecr-scan-findings",
        description="ECR image scans with CRITICAL or HIGH findings",
        pattern={
            "source": ["aws.ecr"],
            "detail-type": ["ECR Image Scan"],
            "detail": {
                "repository-name": [repository_name],
                "$or": [
                    {"finding-severity-counts": {"CRITICAL": [{"numeric": [">", 0]}]}},
                    {"finding-severity-counts": {"HIGH": [{"numeric": [">", 0]}]}},
                ],
            },
        },
        paths={
            "repository": "$.detail.repository-name",
            "tag": "$.detail.image-tags[0]",
            "critical": "$.detail.finding-severity-counts.CRITICAL",
            "high": "$.detail.finding-severity-counts.HIGH",
        },
        template="Image <repository>:<tag> scan found <critical> CRITICAL and <high> HIGH vulnerabilities.",
    )


def add_notices(
    scope: Construct, naming: Naming, notifications: Notifications, watched: Watched
) -> tuple[dict[str, CloudwatchEventRule], dict[str, CloudwatchEventTarget]]:
    """One rule and one target (the topic, retried, then dead-lettered) per notice."""
    rules: dict[str, CloudwatchEventRule] = {}
    targets: dict[str, CloudwatchEventTarget] = {}
    for notice in notices(watched):
        rule = CloudwatchEventRule(
            scope,
            f"{notice.id}-rule",
            name=naming.scoped(notice.id, NameKind.EVENT_RULE),
            description=notice.description,
            event_pattern=json.dumps(notice.pattern),
        )
        rules[notice.id] = rule
        targets[notice.id] = CloudwatchEventTarget(
            scope,
            f"{notice.id}-target",
            rule=rule.name,
            arn=notifications.topic_arn,
            input_transformer={
                "input_paths": dict(notice.paths),
                # SNS delivers the template as the message: a JSON string literal.
                "input_template": json.dumps(notice.template),
            },
            retry_policy=RETRY_POLICY,
            dead_letter_config={"arn": notifications.dead_letter_queue_arn},
        )
    return rules, targets


def allow_dead_letters(scope: Construct, notifications: Notifications, rules: list[CloudwatchEventRule]) -> None:
    """The dead-letter queue accepts messages from exactly these rules (after all exist)."""
    SqsQueuePolicy(
        scope,
        "dlq-policy",
        queue_url=notifications.dead_letter_queue.url,
        policy=policies.document(
            policies.Statement(
                sid="AllowNotificationRulesOnly",
                principals={"Service": ["events.amazonaws.com"]},
                actions=["sqs:SendMessage"],
                resources=[notifications.dead_letter_queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": [r.arn for r in rules]}},
            )
        ),
    )

"""EventBridge notifications, pipeline history, alarms and the dashboard."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import CloudwatchLogMetricFilter
from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from constructs_lib import policies
from constructs_lib.edge import Edge
from constructs_lib.load_balancer import LoadBalancer
from constructs_lib.naming import Naming
from constructs_lib.notifications import Notifications
from constructs_lib.orchestrator import DeployOrchestrator
from constructs_lib.pipeline import Pipeline
from constructs_lib.registry import Registry
from constructs_lib.service import Service
from constructs_lib.settings import ObservabilitySettings

#: Every notification target retries like this, then goes to the DLQ.
RETRY_POLICY = {"maximum_retry_attempts": 3, "maximum_event_age_in_seconds": 3600}
PIPELINE_METRIC_NAMESPACE = "CICD/Pipeline"
FAILED_EXECUTIONS_METRIC = "FailedExecutions"


@dataclass(frozen=True)
class Notice:
    """An EventBridge rule whose events become one readable sentence on SNS."""

    id: str
    description: str
    pattern: Mapping[str, Any]
    paths: Mapping[str, str]
    template: str


def notices(*, pipeline_name: str, states: list[str], service_arn: str, repository_name: str) -> list[Notice]:
    return [
        Notice(
            id="pipeline-state",
            description="Pipeline execution state changes",
            pattern={
                "source": ["aws.codepipeline"],
                "detail-type": ["CodePipeline Pipeline Execution State Change"],
                "detail": {"pipeline": [pipeline_name], "state": states},
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
                "resources": [service_arn],
                "detail": {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]},
            },
            paths={"service": "$.resources[0]", "deployment": "$.detail.deploymentId", "reason": "$.detail.reason"},
            template="ECS deployment <deployment> of <service> failed: <reason>",
        ),
        Notice(
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
        ),
    ]


@dataclass(frozen=True)
class AlarmSpec:
    id: str
    description: str
    namespace: str
    metric: str
    dimensions: Mapping[str, str]
    threshold: float
    statistic: str = "Sum"
    period: int = 300
    evaluation_periods: int = 1
    comparison: str = "GreaterThanOrEqualToThreshold"
    #: Chosen per alarm: what does silence from this metric mean?
    treat_missing_data: str = "notBreaching"


class Observability(Construct):
    """Attributes: rules (id -> rule), targets (id -> target), alarms (id -> alarm), dashboard."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: ObservabilitySettings,
        naming: Naming,
        region: str,
        account_id: str,
        notifications: Notifications,
        pipeline: Pipeline,
        service: Service,
        registry: Registry,
        load_balancer: LoadBalancer,
        edge: Edge,
        orchestrator: DeployOrchestrator,
    ) -> None:
        super().__init__(scope, id)
        prefix = f"{naming.project}-{naming.suffix}"
        topic_arn, dlq, dlq_arn = (
            notifications.topic_arn,
            notifications.dead_letter_queue,
            notifications.dead_letter_queue_arn,
        )
        self.rules: dict[str, CloudwatchEventRule] = {}
        self.targets: dict[str, CloudwatchEventTarget] = {}
        for notice in notices(
            pipeline_name=pipeline.pipeline.name,
            states=list(settings.pipeline_notify_states),
            service_arn=service.service_arn,
            repository_name=registry.repository.name,
        ):
            rule = CloudwatchEventRule(
                self,
                f"{notice.id}-rule",
                name=f"{prefix}-{notice.id}",
                description=notice.description,
                event_pattern=json.dumps(notice.pattern),
            )
            self.rules[notice.id] = rule
            self.targets[notice.id] = CloudwatchEventTarget(
                self,
                f"{notice.id}-target",
                rule=rule.name,
                arn=topic_arn,
                input_transformer={
                    "input_paths": dict(notice.paths),
                    # SNS delivers the template as the message: a JSON string literal.
                    "input_template": json.dumps(notice.template),
                },
                retry_policy=RETRY_POLICY,
                dead_letter_config={"arn": dlq_arn},
            )
        self._pipeline_history(prefix, pipeline, dlq_arn)
        # After every rule exists: each one that dead-letters must be allowed to send.
        SqsQueuePolicy(
            self,
            "dlq-policy",
            queue_url=dlq.url,
            policy=policies.document(
                policies.Statement(
                    sid="AllowNotificationRulesOnly",
                    principals={"Service": ["events.amazonaws.com"]},
                    actions=["sqs:SendMessage"],
                    resources=[dlq_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": [r.arn for r in self.rules.values()]}},
                )
            ),
        )
        self.alarms = {
            spec.id: CloudwatchMetricAlarm(
                self,
                spec.id,
                alarm_name=f"{prefix}-{spec.id}",
                alarm_description=spec.description,
                namespace=spec.namespace,
                metric_name=spec.metric,
                dimensions=dict(spec.dimensions),
                threshold=spec.threshold,
                period=spec.period,
                evaluation_periods=spec.evaluation_periods,
                comparison_operator=spec.comparison,
                treat_missing_data=spec.treat_missing_data,
                # Percentiles (p99) are "extended" statistics in the CloudWatch API.
                statistic=None if spec.statistic.startswith("p") else spec.statistic,
                extended_statistic=spec.statistic if spec.statistic.startswith("p") else None,
                alarm_actions=[topic_arn],
                ok_actions=[topic_arn],
            )
            for spec in alarm_specs(
                settings, region, load_balancer, service, orchestrator, notifications, edge, pipeline.pipeline.name
            )
        }
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=prefix,
            dashboard_body=json.dumps(
                dashboard_body(
                    region, load_balancer, service, orchestrator, notifications, edge, pipeline.pipeline.name
                )
            ),
        )

    def _pipeline_history(self, prefix: str, pipeline: Pipeline, dlq_arn: str) -> None:
        """Every pipeline execution event lands in the pipeline log group; a
        metric filter counts failures for the pipeline-failures alarm."""
        group = pipeline.pipeline_log_group
        rule = CloudwatchEventRule(
            self,
            "pipeline-history-rule",
            name=f"{prefix}-pipeline-history",
            description="All pipeline execution events, kept in the pipeline log group",
            event_pattern=json.dumps(
                {
                    "source": ["aws.codepipeline"],
                    "detail-type": ["CodePipeline Pipeline Execution State Change"],
                    "detail": {"pipeline": [pipeline.pipeline.name]},
                }
            ),
        )
        self.rules["pipeline-history"] = rule
        # EventBridge writes to a log group only when its resource policy allows it.
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-cloudwatchlogs-permissions
        CloudwatchLogResourcePolicy(
            self,
            "pipeline-history-policy",
            policy_name=f"{prefix}-pipeline-history",
            policy_document=policies.document(
                policies.Statement(
                    sid="EventBridgeWritesPipelineHistory",
                    principals={"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]},
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[f"{group.arn}:*"],
                )
            ),
        )
        self.targets["pipeline-history"] = CloudwatchEventTarget(
            self,
            "pipeline-history-target",
            rule=rule.name,
            arn=group.arn,
            retry_policy=RETRY_POLICY,
            dead_letter_config={"arn": dlq_arn},
        )
        CloudwatchLogMetricFilter(
            self,
            "pipeline-failures-filter",
            name=f"{prefix}-pipeline-failures",
            log_group_name=group.name,
            pattern='{ $.detail.state = "FAILED" }',
            metric_transformation={
                "name": FAILED_EXECUTIONS_METRIC,
                "namespace": PIPELINE_METRIC_NAMESPACE,
                "value": "1",
                "default_value": "0",
                "dimensions": {"Pipeline": "$.detail.pipeline"},
            },
        )


def alarm_specs(
    settings: ObservabilitySettings,
    region: str,
    lb: LoadBalancer,
    service: Service,
    orchestrator: DeployOrchestrator,
    notifications: Notifications,
    edge: Edge,
    pipeline_name: str,
) -> list[AlarmSpec]:
    """One alarm per failure a person must hear about; thresholds from settings."""
    a = settings.alarms
    alb = {"LoadBalancer": lb.lb.arn_suffix}
    tg = {"LoadBalancer": lb.lb.arn_suffix, "TargetGroup": lb.target_group.arn_suffix}
    ecs = {"ClusterName": service.cluster.name, "ServiceName": service.service.name}
    fn = {"FunctionName": orchestrator.function.function_name}
    return [
        AlarmSpec(
            "alb-5xx", "ALB returned 5xx responses", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb,
            a.alb_5xx_count,
        ),
        # Missing = the ALB stopped reporting target health: treat as unhealthy.
        AlarmSpec(
            "unhealthy-targets", "Targets failing ALB health checks", "AWS/ApplicationELB", "UnHealthyHostCount",
            tg, a.unhealthy_targets, statistic="Maximum", period=60, evaluation_periods=3,
            treat_missing_data="breaching",
        ),
        AlarmSpec(
            "target-response-time", "p99 target response time high", "AWS/ApplicationELB", "TargetResponseTime",
            tg, a.target_response_time_seconds, statistic="p99", evaluation_periods=3,
        ),
        # Missing CPU data = no running tasks: that is an outage, so breaching.
        AlarmSpec(
            "ecs-cpu", "Service CPU high (or no tasks reporting)", "AWS/ECS", "CPUUtilization", ecs,
            a.ecs_cpu_percent, statistic="Average", evaluation_periods=3, treat_missing_data="breaching",
        ),
        # Missing memory data has the same cause the CPU alarm already reports.
        AlarmSpec(
            "ecs-memory", "Service memory high", "AWS/ECS", "MemoryUtilization", ecs, a.ecs_memory_percent,
            statistic="Average", evaluation_periods=3,
        ),
        AlarmSpec("lambda-errors", "Deploy orchestrator errors", "AWS/Lambda", "Errors", fn, a.lambda_errors),
        AlarmSpec(
            "lambda-throttles", "Deploy orchestrator throttled", "AWS/Lambda", "Throttles", fn, a.lambda_throttles
        ),
        AlarmSpec(
            "dlq-messages", "Notifications EventBridge could not deliver", "AWS/SQS",
            "ApproximateNumberOfMessagesVisible", {"QueueName": notifications.dead_letter_queue.name},
            a.dlq_visible_messages, statistic="Maximum",
        ),
        AlarmSpec(
            "waf-blocked-spike", "Spike of WAF-blocked requests", "AWS/WAFV2", "BlockedRequests",
            {"WebACL": edge.web_acl.name, "Region": region, "Rule": "ALL"}, a.waf_blocked_requests,
        ),
        AlarmSpec(
            "pipeline-failures", "Pipeline executions failed", PIPELINE_METRIC_NAMESPACE,
            FAILED_EXECUTIONS_METRIC, {"Pipeline": pipeline_name}, a.pipeline_failures,
        ),
    ]  # fmt: skip


def dashboard_body(
    region: str,
    lb: LoadBalancer,
    service: Service,
    orchestrator: DeployOrchestrator,
    notifications: Notifications,
    edge: Edge,
    pipeline_name: str,
) -> dict[str, Any]:
    def widget(x: int, y: int, name: str, metrics: list[list[Any]], stat: str = "Sum") -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {"title": name, "region": region, "stat": stat, "period": 300, "metrics": metrics},
        }

    alb = lb.lb.arn_suffix
    ecs = ["ClusterName", service.cluster.name, "ServiceName", service.service.name]
    fn = orchestrator.function.function_name
    return {
        "widgets": [
            widget(
                0,
                0,
                "Pipeline failures",
                [[PIPELINE_METRIC_NAMESPACE, FAILED_EXECUTIONS_METRIC, "Pipeline", pipeline_name]],
            ),
            widget(
                12,
                0,
                "ALB requests and errors",
                [
                    ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", alb],
                    ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", alb],
                    ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", alb],
                ],
            ),
            widget(
                0,
                6,
                "ECS CPU and memory",
                [["AWS/ECS", "CPUUtilization", *ecs], ["AWS/ECS", "MemoryUtilization", *ecs]],
                stat="Average",
            ),
            widget(
                12,
                6,
                "Deploy orchestrator",
                [
                    ["AWS/Lambda", "Invocations", "FunctionName", fn],
                    ["AWS/Lambda", "Errors", "FunctionName", fn],
                    ["AWS/Lambda", "Throttles", "FunctionName", fn],
                ],
            ),
            widget(
                0,
                12,
                "WAF",
                [
                    ["AWS/WAFV2", "AllowedRequests", "WebACL", edge.web_acl.name, "Region", region, "Rule", "ALL"],
                    ["AWS/WAFV2", "BlockedRequests", "WebACL", edge.web_acl.name, "Region", region, "Rule", "ALL"],
                ],
            ),
            widget(
                12,
                12,
                "Notification dead-letter queue",
                [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", notifications.dead_letter_queue.name]],
                stat="Maximum",
            ),
        ]
    }

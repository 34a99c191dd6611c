"""One alarm per failure a person must hear about; thresholds from settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from constructs_lib.metrics import Metric
from constructs_lib.naming import Naming
from constructs_lib.settings import AlarmThresholds


class MetricSource(Protocol):
    """A construct that says how its metrics are addressed."""

    def metric(self, name: str) -> Metric: ...  # pragma: no cover - protocol


class LoadBalancerMetrics(Protocol):
    def metric(self, name: str, *, per_target_group: bool = False) -> Metric: ...  # pragma: no cover - protocol


@dataclass(frozen=True)
class Watched:
    """What the alarms and the dashboard watch: metric sources, not whole constructs."""

    load_balancer: LoadBalancerMetrics
    service: MetricSource
    orchestrator: MetricSource
    web_acl: MetricSource
    dead_letters: Metric
    failed_executions: Metric


@dataclass(frozen=True)
class AlarmSpec:
    id: str
    description: str
    metric: Metric
    threshold: float
    statistic: str = "Sum"
    period: int = 300
    evaluation_periods: int = 1
    comparison: str = "GreaterThanOrEqualToThreshold"
    #: Chosen per alarm: what does silence from this metric mean?
    treat_missing_data: str = "notBreaching"


def alarm_specs(a: AlarmThresholds, w: Watched) -> list[AlarmSpec]:
    lb, ecs, fn = w.load_balancer, w.service, w.orchestrator
    return [
        AlarmSpec("alb-5xx", "ALB returned 5xx responses", lb.metric("HTTPCode_ELB_5XX_Count"), a.alb_5xx_count),
        # Missing = the ALB stopped reporting target health: treat as unhealthy.
        AlarmSpec(
            "unhealthy-targets", "Targets failing ALB health checks",
            lb.metric("UnHealthyHostCount", per_target_group=True), a.unhealthy_targets, statistic="Maximum",
            period=60, evaluation_periods=3, treat_missing_data="breaching",
        ),
        AlarmSpec(
            "target-response-time", "p99 target response time high",
            lb.metric("TargetResponseTime", per_target_group=True), a.target_response_time_seconds,
            statistic="p99", evaluation_periods=3,
        ),
        # Missing CPU data = no running tasks: that is an outage, so breaching.
        AlarmSpec(
            "ecs-cpu", "Service CPU high (or no tasks reporting)", ecs.metric("CPUUtilization"), a.ecs_cpu_percent,
            statistic="Average", evaluation_periods=3, treat_missing_data="breaching",
        ),
        # Missing memory data has the same cause the CPU alarm already reports.
        AlarmSpec(
            "ecs-memory", "Service memory high", ecs.metric("MemoryUtilization"), a.ecs_memory_percent,
            statistic="Average", evaluation_periods=3,
        ),
        AlarmSpec("lambda-errors", "Deploy orchestrator errors", fn.metric("Errors"), a.lambda_errors),
        AlarmSpec("lambda-throttles", "Deploy orchestrator throttled", fn.metric("Throttles"), a.lambda_throttles),
        AlarmSpec(
            "dlq-messages", "Notifications EventBridge could not deliver", w.dead_letters, a.dlq_visible_messages,
            statistic="Maximum",
        ),
        AlarmSpec(
            "waf-blocked-spike", "Spike of WAF-blocked requests", w.web_acl.metric("BlockedRequests"),
            a.waf_blocked_requests,
        ),
        # The metric filter publishes a point only when an execution fails (it may not have a
        # default value beside its dimensions): no data means no failure.
        AlarmSpec(
            "pipeline-failures", "Pipeline executions failed", w.failed_executions, a.pipeline_failures,
            treat_missing_data="notBreaching",
        ),
    ]  # fmt: skip


#: The alarms ECS watches while it rolls a new revision out, rolling back when one of them
#: goes into ALARM (besides the circuit breaker, which sees only tasks that fail to start):
#: the new version starts but serves errors, or fails its health checks.
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
#: An alarm already in ALARM when a deployment starts does not fail it (AWS ignores it, as
#: the Copilot docs note for the same setting), so the unhealthy-targets alarm, which treats
#: missing data as breaching, cannot fail the service's first deployment.
DEPLOYMENT_ALARMS = ("alb-5xx", "unhealthy-targets")


def alarm_name(naming: Naming, alarm_id: str) -> str:
    """The one spelling of an alarm's name (the service refers to alarms by name)."""
    return naming.scoped(alarm_id)


def deployment_alarm_names(naming: Naming) -> list[str]:
    return [alarm_name(naming, alarm_id) for alarm_id in DEPLOYMENT_ALARMS]


def add_alarms(
    scope: Construct, naming: Naming, specs: list[AlarmSpec], topic_arn: str
) -> dict[str, CloudwatchMetricAlarm]:
    """Each alarm notifies the topic when it fires and when it recovers."""
    return {
        spec.id: CloudwatchMetricAlarm(
            scope,
            spec.id,
            alarm_name=alarm_name(naming, spec.id),
            alarm_description=spec.description,
            namespace=spec.metric.namespace,
            metric_name=spec.metric.name,
            dimensions=spec.metric.dimension_map,
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
        for spec in specs
    }

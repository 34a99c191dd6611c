"""Pipeline history: every execution event kept in the pipeline's log group,
and a metric filter that counts failures for the pipeline-failures alarm."""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import CloudwatchLogMetricFilter
from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from constructs import Construct

from constructs_lib import policies
from constructs_lib.logs import EncryptedLogGroup
from constructs_lib.metrics import Metric
from constructs_lib.naming import NameKind, Naming
from constructs_lib.observability.notices import RETRY_POLICY


def add_history(
    scope: Construct,
    naming: Naming,
    *,
    pipeline_name: str,
    group: EncryptedLogGroup,
    failed_executions: Metric,
    dead_letter_queue_arn: str,
) -> tuple[CloudwatchEventRule, CloudwatchEventTarget]:
    rule = CloudwatchEventRule(
        scope,
        "pipeline-history-rule",
        name=naming.scoped("pipeline-history", NameKind.EVENT_RULE),
        description="All pipeline execution events, kept in the pipeline log group",
        event_pattern=json.dumps(
            {
                "source": ["aws.codepipeline"],
                "detail-type": ["CodePipeline Pipeline Execution State Change"],
                "detail": {"pipeline": [pipeline_name]},
            }
        ),
    )
    # EventBridge writes to a log group only when its resource policy allows it.
    # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-cloudwatchlogs-permissions
    CloudwatchLogResourcePolicy(
        scope,
        "pipeline-history-policy",
        policy_name=naming.scoped("pipeline-history"),
        policy_document=policies.document(
            group.write_statement(
                sid="EventBridgeWritesPipelineHistory",
                principals={"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]},
            )
        ),
    )
    target = CloudwatchEventTarget(
        scope,
        "pipeline-history-target",
        rule=rule.name,
        arn=group.arn,
        retry_policy=RETRY_POLICY,
        dead_letter_config={"arn": dead_letter_queue_arn},
    )
    _failure_metric(scope, naming, group, failed_executions)
    return rule, target


def _failure_metric(scope: Construct, naming: Naming, group: EncryptedLogGroup, failed_executions: Metric) -> None:
    """Counts FAILED execution events, per pipeline, for the pipeline-failures alarm."""
    CloudwatchLogMetricFilter(
        scope,
        "pipeline-failures-filter",
        name=naming.scoped("pipeline-failures"),
        log_group_name=group.name,
        pattern='{ $.detail.state = "FAILED" }',
        # No default_value: CloudWatch Logs refuses it beside dimensions ("If you assign
        # dimensions to a metric created by a metric filter, you can't assign a default
        # value for that metric", MonitoringLogData.html; PutMetricFilter answers
        # InvalidParameterException). With no failure there is no data point, which the
        # pipeline-failures alarm reads as OK (treat_missing_data = notBreaching).
        metric_transformation={
            "name": failed_executions.name,
            "namespace": failed_executions.namespace,
            "value": "1",
            # The pipeline's name comes from the event itself.
            "dimensions": {name: "$.detail.pipeline" for name, _ in failed_executions.dimensions},
        },
    )

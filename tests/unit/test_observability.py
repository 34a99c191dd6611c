"""Log groups, SNS, EventBridge notifications with transformer/retry/DLQ, alarms, dashboard."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.observability import RETRY_POLICY
from constructs_lib.settings import ConfigError, Settings
from tests.helpers import all_resources, make_settings, one, resources, statements

Synth = dict[str, dict[str, Any]]
REF = re.compile(r"\$\{((?:aws_|data\.)[A-Za-z0-9_.-]+?)\.[a-z_]+\}")


def log_groups(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["name"]: g for g in resources(doc, "aws_cloudwatch_log_group").values()}


def address_of(token: str) -> str:
    """``${aws_x.name.attr}`` -> ``aws_x.name``."""
    return token[2:-1].rsplit(".", 1)[0]


@pytest.mark.parametrize(
    "name",
    ["/aws/codepipeline/cicd-dev", "/aws/codebuild/cicd-dev", "/aws/lambda/cicd-orchestrator-dev", "/ecs/cicd-dev"],
)
def test_core_log_groups_named_encrypted_retained(dev: Synth, name: str) -> None:
    group = log_groups(dev["platform"])[name]
    assert group["kms_key_id"].startswith("${aws_kms_key.key_")
    assert group["retention_in_days"] == 14


def test_every_log_group_encrypted_with_settings_retention(shipped: tuple[Settings, Synth]) -> None:
    settings, docs = shipped
    groups = log_groups(docs["platform"])
    assert len(groups) == 8
    for group in groups.values():
        assert group["kms_key_id"].startswith("${aws_kms_key.key_")
        assert group["retention_in_days"] == settings.observability.log_retention_days


def test_retention_only_cloudwatch_values() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", observability={"log_retention_days": 31})
    assert info.value.problems[0].startswith("observability.log_retention_days = 31: CloudWatch Logs accepts only 1, 3")


def test_every_writer_has_its_log_group_created_first(shipped: tuple[Settings, Synth]) -> None:
    """Derived from the resources: each Lambda, CodeBuild project and ECS task
    writes to a group the stack creates, and depends on it."""
    _, docs = shipped
    doc = docs["platform"]
    names = {g["name"] for g in resources(doc, "aws_cloudwatch_log_group").values()}
    group_keys = {f"aws_cloudwatch_log_group.{k}" for k in resources(doc, "aws_cloudwatch_log_group")}
    writers = 0
    for fn in resources(doc, "aws_lambda_function").values():
        assert f"/aws/lambda/{fn['function_name']}" in names
        assert group_keys & set(fn["depends_on"])
        writers += 1
    for project in resources(doc, "aws_codebuild_project").values():
        ref = project["logs_config"]["cloudwatch_logs"]["group_name"]
        assert address_of(ref) in group_keys
        assert group_keys & set(project["depends_on"])
        writers += 1
    for td in resources(doc, "aws_ecs_task_definition").values():
        for container in json.loads(td["container_definitions"]):
            ref = container["logConfiguration"]["options"]["awslogs-group"]
            assert address_of(ref) in group_keys
        assert group_keys & set(td["depends_on"])
        writers += 1
    # Container Insights writes /aws/ecs/containerinsights/<cluster>/performance, creating it
    # unencrypted with no retention when it does not exist first.
    for cluster in resources(doc, "aws_ecs_cluster").values():
        assert f"/aws/ecs/containerinsights/{cluster['name']}/performance" in names
        assert group_keys & set(cluster["depends_on"])
        writers += 1
    assert writers == 5  # orchestrator, image mirror, CodeBuild, the task, Container Insights


def test_pipeline_failure_metric_has_no_default_beside_its_dimensions(dev: Synth) -> None:
    """CloudWatch Logs: "If you assign dimensions to a metric created by a metric filter, you
    can't assign a default value for that metric." The alarm reads no data as no failure."""
    (metric_filter,) = resources(dev["platform"], "aws_cloudwatch_log_metric_filter").values()
    transformation = metric_filter["metric_transformation"]
    assert transformation["dimensions"] == {"Pipeline": "$.detail.pipeline"}
    assert "default_value" not in transformation
    alarm = next(
        a for a in resources(dev["platform"], "aws_cloudwatch_metric_alarm").values()
        if a["metric_name"] == transformation["name"]
    )  # fmt: skip
    assert alarm["treat_missing_data"] == "notBreaching"
    (pipeline,) = resources(dev["platform"], "aws_codepipeline")
    assert alarm["dimensions"] == {"Pipeline": f"${{aws_codepipeline.{pipeline}.name}}"}


def test_topic_encrypted_and_policy_for_events_and_alarms(dev: Synth) -> None:
    doc = dev["platform"]
    assert one(doc, "aws_sns_topic")["kms_master_key_id"].startswith("${aws_kms_key.key_")
    stmts = statements(one(doc, "aws_sns_topic_policy")["policy"])
    account = "${data.aws_caller_identity.caller.account_id}"
    partition = "${data.aws_partition.partition.partition}"
    for sid, principal in (
        ("AllowEventBridgePublish", "events.amazonaws.com"),
        ("AllowCloudWatchAlarmsPublish", "cloudwatch.amazonaws.com"),
    ):
        assert stmts[sid]["Principal"] == {"Service": principal}
        assert stmts[sid]["Action"] == "sns:Publish"
    # EventBridge user guide: "You can't use Condition blocks in Amazon SNS topic policies for EventBridge."
    assert "Condition" not in stmts["AllowEventBridgePublish"]
    # Alarms: only this environment's (alarm names start with cicd-dev-).
    assert stmts["AllowCloudWatchAlarmsPublish"]["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:us-east-1:{account}:alarm:cicd-dev-*"}
    }
    alarm_names = [a["alarm_name"] for a in resources(doc, "aws_cloudwatch_metric_alarm").values()]
    assert alarm_names
    assert all(n.startswith("cicd-dev-") for n in alarm_names)


def test_email_subscriptions_from_settings(synth: Callable[[Settings], Synth], dev: Synth) -> None:
    assert resources(dev["platform"], "aws_sns_topic_subscription") == {}
    s = make_settings("dev", observability={"alarm_emails": ["a@example.com", "b@example.com"]})
    (sub,) = resources(synth(s)["platform"], "aws_sns_topic_subscription").values()
    assert sub["protocol"] == "email"
    assert sub["for_each"] == '${toset(["a@example.com", "b@example.com"])}'


def test_bad_email_refused() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", observability={"alarm_emails": ["oncall", "ok@example.com"]})
    assert "not e-mail addresses: oncall" in info.value.problems[0]


def notification_targets(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        t["rule"]: t
        for t in resources(doc, "aws_cloudwatch_event_target").values()
        if t["arn"].startswith("${aws_sns_topic.")
    }


def rule_by_ref(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    return dict(resources(doc, "aws_cloudwatch_event_rule")[address_of(ref).split(".")[1]])


def test_three_notification_rules_with_readable_transformers(dev: Synth) -> None:
    doc = dev["platform"]
    targets = notification_targets(doc)
    by_name = {rule_by_ref(doc, ref)["name"]: t for ref, t in targets.items()}
    assert set(by_name) == {"cicd-dev-pipeline-state", "cicd-dev-ecs-deployment-failed", "cicd-dev-ecr-scan-findings"}
    pipeline = by_name["cicd-dev-pipeline-state"]["input_transformer"]
    assert pipeline["input_paths"] == {
        "pipeline": "$.detail.pipeline",
        "execution": "$.detail.execution-id",
        "state": "$.detail.state",
    }
    assert json.loads(pipeline["input_template"]) == "Pipeline <pipeline> execution <execution> entered state <state>."
    for target in by_name.values():
        template = json.loads(target["input_transformer"]["input_template"])
        assert set(re.findall(r"<([a-z-]+)>", template)) == set(target["input_transformer"]["input_paths"])


def test_pipeline_states_from_settings(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", observability={"pipeline_notify_states": ["FAILED"]}))["platform"]
    rule = next(
        r for r in resources(doc, "aws_cloudwatch_event_rule").values() if r["name"] == "cicd-dev-pipeline-state"
    )
    assert json.loads(rule["event_pattern"])["detail"]["state"] == ["FAILED"]


def test_unknown_pipeline_state_refused() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", observability={"pipeline_notify_states": ["FAILED", "EXPLODED"]})
    assert "unknown pipeline states EXPLODED" in info.value.problems[0]


def test_unknown_pipeline_states_are_all_named_with_every_state_codepipeline_sends() -> None:
    # CodePipeline's execution-level events ("Monitoring CodePipeline events"): the states are
    # STARTED, SUCCEEDED, FAILED, CANCELED, SUPERSEDED, RESUMED, STOPPED and STOPPING.
    with pytest.raises(ConfigError) as info:
        make_settings("dev", observability={"pipeline_notify_states": ["EXPLODED", "FAILED", "PAUSED"]})
    assert info.value.problems == [
        "observability.pipeline_notify_states = ['EXPLODED', 'FAILED', 'PAUSED']: unknown pipeline states "
        "EXPLODED, PAUSED; allowed: STARTED, SUCCEEDED, FAILED, CANCELED, SUPERSEDED, RESUMED, STOPPED, STOPPING"
    ]


def test_ecr_rule_matches_critical_or_high(dev: Synth) -> None:
    rule = next(
        r
        for r in resources(dev["platform"], "aws_cloudwatch_event_rule").values()
        if r["name"] == "cicd-dev-ecr-scan-findings"
    )
    detail = json.loads(rule["event_pattern"])["detail"]
    severities = {next(iter(alt["finding-severity-counts"])) for alt in detail["$or"]}
    assert severities == {"CRITICAL", "HIGH"}


def test_every_event_target_retries_then_dead_letters(dev: Synth) -> None:
    doc = dev["platform"]
    dlq_key = next(iter(resources(doc, "aws_sqs_queue")))
    targets = [t for t in resources(doc, "aws_cloudwatch_event_target").values() if "source-changed" not in t["rule"]]
    assert len(targets) == 4
    for target in targets:
        assert (
            target["retry_policy"]
            == RETRY_POLICY
            == {"maximum_retry_attempts": 3, "maximum_event_age_in_seconds": 3600}
        )
        assert target["dead_letter_config"]["arn"] == f"${{aws_sqs_queue.{dlq_key}.arn}}"


def test_dlq_encrypted_and_only_these_rules_may_send(dev: Synth) -> None:
    doc = dev["platform"]
    queue = one(doc, "aws_sqs_queue")
    assert queue["kms_master_key_id"].startswith("${aws_kms_key.key_")
    (queue_key,) = resources(doc, "aws_sqs_queue")
    stmt = statements(one(doc, "aws_sqs_queue_policy")["policy"])["AllowNotificationRulesOnly"]
    assert stmt["Principal"] == {"Service": "events.amazonaws.com"}
    assert stmt["Action"] == "sqs:SendMessage"
    # The grant names this queue only (a statement with no Resource is refused by IAM's grammar).
    assert stmt["Resource"] == f"${{aws_sqs_queue.{queue_key}.arn}}"
    sources = stmt["Condition"]["ArnEquals"]["aws:SourceArn"]
    dead_lettered = {
        address_of(t["rule"]).split(".")[1]
        for t in resources(doc, "aws_cloudwatch_event_target").values()
        if "dead_letter_config" in t
    }
    assert {address_of(s).split(".")[1] for s in sources} == dead_lettered


def test_every_alarm_notifies_the_topic(shipped: tuple[Settings, Synth]) -> None:
    _, docs = shipped
    alarms = resources(docs["platform"], "aws_cloudwatch_metric_alarm")
    assert len(alarms) == 10
    for alarm in alarms.values():
        assert alarm["alarm_actions"]
        assert all(a.startswith("${aws_sns_topic.") for a in alarm["alarm_actions"])
        assert alarm["treat_missing_data"] in {"breaching", "notBreaching"}


def test_every_alarm_says_what_went_wrong_in_its_own_words(dev: Synth) -> None:
    # The description is the line the on-call engineer reads in the alarm's notification
    # (SNS carries AlarmDescription); PutMetricAlarm: "AlarmDescription ... Length Constraints:
    # Minimum length of 0. Maximum length of 1024." An alarm without one, or with another
    # alarm's, tells them nothing.
    descriptions = [
        a.get("alarm_description") for a in resources(dev["platform"], "aws_cloudwatch_metric_alarm").values()
    ]
    assert all(isinstance(d, str) and 0 < len(d.strip()) <= 1024 for d in descriptions), descriptions
    assert len(set(descriptions)) == len(descriptions), descriptions


def test_alarm_thresholds_from_settings(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", observability={"alarms": {"alb_5xx_count": 42}}))["platform"]
    alarm = next(
        a for a in resources(doc, "aws_cloudwatch_metric_alarm").values() if a["alarm_name"] == "cicd-dev-alb-5xx"
    )
    assert alarm["threshold"] == 42


def test_response_time_alarm_uses_p99(dev: Synth) -> None:
    alarm = next(
        a
        for a in resources(dev["platform"], "aws_cloudwatch_metric_alarm").values()
        if a["metric_name"] == "TargetResponseTime"
    )
    assert alarm["extended_statistic"] == "p99"
    assert "statistic" not in alarm


def test_waf_alarm_watches_the_acls_metric_name(dev: Synth) -> None:
    """CloudWatch files WAF metrics under the visibility config's metric name (the WebACL
    dimension), which need not be the ACL's name: the alarm must use the former."""
    doc = dev["platform"]
    acl = one(doc, "aws_wafv2_web_acl")
    alarm = next(a for a in resources(doc, "aws_cloudwatch_metric_alarm").values() if a["namespace"] == "AWS/WAFV2")
    assert alarm["dimensions"]["WebACL"] == acl["visibility_config"]["metric_name"] == "cicd-waf-dev"


def test_pipeline_history_is_delivered_to_its_log_group(dev: Synth) -> None:
    """EventBridge writes to a log group only through the group's resource policy."""
    doc = dev["platform"]
    target = next(t for t in resources(doc, "aws_cloudwatch_event_target").values() if "log_group" in t["arn"])
    group_ref = target["arn"].removesuffix(".arn}").removeprefix("${")
    (policy,) = resources(doc, "aws_cloudwatch_log_resource_policy").values()
    stmt = statements(policy["policy_document"])["EventBridgeWritesPipelineHistory"]
    assert stmt["Principal"] == {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]}
    assert stmt["Resource"] == f"${{{group_ref}.arn}}:*"


def test_pipeline_failures_counted_from_history_log(dev: Synth) -> None:
    doc = dev["platform"]
    metric_filter = one(doc, "aws_cloudwatch_log_metric_filter")
    assert metric_filter["pattern"] == '{ $.detail.state = "FAILED" }'
    alarm = next(
        a
        for a in resources(doc, "aws_cloudwatch_metric_alarm").values()
        if a["alarm_name"] == "cicd-dev-pipeline-failures"
    )
    assert alarm["metric_name"] == metric_filter["metric_transformation"]["name"]
    assert alarm["namespace"] == metric_filter["metric_transformation"]["namespace"]


#: CloudWatch Logs JSON filter pattern of one equality ("Using metric filters to extract values
#: from JSON log events": ``{ $.<selector> = "<string>" }``); anything richer fails loudly here.
EQUALITY_PATTERN = re.compile(r'^\{ \$\.([A-Za-z0-9_.-]+) = "([^"]*)" \}$')
#: The comparison operators an alarm can use on a static threshold (PutMetricAlarm).
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


def pipeline_event(pipeline: str, state: str) -> dict[str, Any]:
    """A "CodePipeline Pipeline Execution State Change" event as EventBridge delivers it
    (CodePipeline User Guide, "Monitoring CodePipeline events": pipeline-level example)."""
    return {
        "version": "0",
        "id": "01234567-EXAMPLE",
        "detail-type": "CodePipeline Pipeline Execution State Change",
        "source": "aws.codepipeline",
        "account": "123456789012",
        "time": "2026-12-02T00:00:00Z",
        "region": "eu-west-1",
        "resources": [f"arn:aws:codepipeline:eu-west-1:123456789012:{pipeline}"],
        "detail": {
            "pipeline": pipeline,
            "execution-id": "01234567-0123-0123-0123-012345678901",
            "execution-trigger": {"trigger-type": "StartPipelineExecution", "trigger-detail": "arn:aws:sts::1:x"},
            "state": state,
            "version": 1,
            "pipeline-execution-attempt": 1,
        },
    }


def select(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def test_one_failed_execution_raises_the_pipeline_failures_alarm_and_others_publish_nothing(dev: Synth) -> None:
    """A day of executions through the history log's metric filter into the alarm: only the
    FAILED one publishes a data point, under the dimensions the alarm reads, and that one point
    alone breaches (an alarm goes to ALARM when datapoints_to_alarm of evaluation_periods breach)."""
    doc = dev["platform"]
    metric_filter = one(doc, "aws_cloudwatch_log_metric_filter")
    transformation = metric_filter["metric_transformation"]
    match = EQUALITY_PATTERN.match(metric_filter["pattern"])
    assert match, f"not a single JSON equality: {metric_filter['pattern']!r}"
    selector, wanted = match.groups()
    ((pipeline_address, pipeline),) = resources(doc, "aws_codepipeline").items()
    day = [pipeline_event(pipeline["name"], s) for s in ("STARTED", "SUCCEEDED", "STARTED", "FAILED", "SUPERSEDED")]
    published = [
        (
            float(transformation["value"]),  # a number, or CloudWatch Logs refuses the filter
            {dim: select(event, path.removeprefix("$.")) for dim, path in transformation["dimensions"].items()},
        )
        for event in day
        if select(event, selector) == wanted
    ]
    alarm = next(
        a for a in resources(doc, "aws_cloudwatch_metric_alarm").values()
        if (a["namespace"], a["metric_name"]) == (transformation["namespace"], transformation["name"])
    )  # fmt: skip
    name_ref = f"${{aws_codepipeline.{pipeline_address}.name}}"
    assert alarm["dimensions"] == dict.fromkeys(alarm["dimensions"], name_ref)
    assert [dims for _, dims in published] == [dict.fromkeys(alarm["dimensions"], pipeline["name"])]
    assert alarm["statistic"] == "Sum"
    period_sum = sum(value for value, _ in published)
    assert COMPARE[alarm["comparison_operator"]](period_sum, alarm["threshold"]), "one failure must alarm"
    assert alarm.get("datapoints_to_alarm", alarm["evaluation_periods"]) == 1
    # A day with no failure publishes nothing, which the alarm reads as not breaching.
    assert alarm["treat_missing_data"] == "notBreaching"


def test_dashboard_parses_and_names_only_existing_resources(shipped: tuple[Settings, Synth]) -> None:
    _, docs = shipped
    doc = docs["platform"]
    body_text = one(doc, "aws_cloudwatch_dashboard")["dashboard_body"]
    body = json.loads(body_text)
    titles = {w["properties"]["title"] for w in body["widgets"]}
    assert titles == {
        "Pipeline failures",
        "ALB requests and errors",
        "ECS CPU and memory",
        "Deploy orchestrator",
        "WAF",
        "Notification dead-letter queue",
    }
    existing = {f"{rtype}.{name}" for rtype, name, _ in all_resources(doc)}
    refs = set(REF.findall(body_text))
    assert refs, "dashboard should reference resources"
    assert refs <= existing, refs - existing


#: Each threshold set apart from every other and from its default, so an alarm reading
#: another alarm's setting (or a default) is seen.
DISTINCT_THRESHOLDS = {
    "alb_5xx_count": 11,
    "unhealthy_targets": 2,
    "target_response_time_seconds": 1.5,
    "ecs_cpu_percent": 71.0,
    "ecs_memory_percent": 73.0,
    "lambda_errors": 3,
    "lambda_throttles": 5,
    "dlq_visible_messages": 7,
    "waf_blocked_requests": 503,
    "pipeline_failures": 13,
}
#: Every alarm: (namespace, metric, dimensions, statistic, period, evaluation periods, threshold
#: setting, what missing data means). Each fires at or above its threshold.
ALARM_TABLE = {
    "alb-5xx": (
        "AWS/ApplicationELB",
        "HTTPCode_ELB_5XX_Count",
        ["LoadBalancer"],
        "Sum",
        300,
        1,
        "alb_5xx_count",
        "notBreaching",
    ),
    "unhealthy-targets": (
        "AWS/ApplicationELB",
        "UnHealthyHostCount",
        ["LoadBalancer", "TargetGroup"],
        "Maximum",
        60,
        3,
        "unhealthy_targets",
        "breaching",
    ),
    "target-response-time": (
        "AWS/ApplicationELB",
        "TargetResponseTime",
        ["LoadBalancer", "TargetGroup"],
        "p99",
        300,
        3,
        "target_response_time_seconds",
        "notBreaching",
    ),
    "ecs-cpu": (
        "AWS/ECS",
        "CPUUtilization",
        ["ClusterName", "ServiceName"],
        "Average",
        300,
        3,
        "ecs_cpu_percent",
        "breaching",
    ),
    "ecs-memory": (
        "AWS/ECS",
        "MemoryUtilization",
        ["ClusterName", "ServiceName"],
        "Average",
        300,
        3,
        "ecs_memory_percent",
        "notBreaching",
    ),
    "lambda-errors": ("AWS/Lambda", "Errors", ["FunctionName"], "Sum", 300, 1, "lambda_errors", "notBreaching"),
    "lambda-throttles": (
        "AWS/Lambda",
        "Throttles",
        ["FunctionName"],
        "Sum",
        300,
        1,
        "lambda_throttles",
        "notBreaching",
    ),
    "dlq-messages": (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        ["QueueName"],
        "Maximum",
        300,
        1,
        "dlq_visible_messages",
        "notBreaching",
    ),
    "waf-blocked-spike": (
        "AWS/WAFV2",
        "BlockedRequests",
        ["Region", "Rule", "WebACL"],
        "Sum",
        300,
        1,
        "waf_blocked_requests",
        "notBreaching",
    ),
    "pipeline-failures": (
        "CICD/Pipeline",
        "FailedExecutions",
        ["Pipeline"],
        "Sum",
        300,
        1,
        "pipeline_failures",
        "notBreaching",
    ),
}


def test_every_alarm_watches_its_metric_with_its_own_threshold(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", observability={"alarms": DISTINCT_THRESHOLDS}))["platform"]
    alarms = {
        a["alarm_name"].removeprefix("cicd-dev-"): a for a in resources(doc, "aws_cloudwatch_metric_alarm").values()
    }
    assert set(alarms) == set(ALARM_TABLE)
    topic = one(doc, "aws_sns_topic")
    for alarm_id, (namespace, metric, dimensions, statistic, period, periods, setting, missing) in ALARM_TABLE.items():
        alarm = alarms[alarm_id]
        percentile = statistic.startswith("p")
        used = alarm.get("extended_statistic") if percentile else alarm.get("statistic")
        found: tuple[Any, ...] = (alarm["namespace"], alarm["metric_name"], sorted(alarm["dimensions"]), used)
        found += (alarm["period"], alarm["evaluation_periods"], alarm["threshold"], alarm["treat_missing_data"])
        wanted = (namespace, metric, dimensions, statistic, period, periods, DISTINCT_THRESHOLDS[setting], missing)
        assert found == wanted, alarm_id
        assert alarm.get("statistic" if percentile else "extended_statistic") is None, alarm_id
        assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold", alarm_id
        # It tells the topic when it fires and when it recovers.
        assert (
            alarm["alarm_actions"]
            == alarm["ok_actions"]
            == [f"${{aws_sns_topic.{next(iter(resources(doc, 'aws_sns_topic')))}.arn}}"]
        ), alarm_id
    assert topic["name"] == "cicd-notifications-dev"


def test_every_dashboard_widget_reads_its_metrics_in_the_environments_region(
    synth: Callable[[Settings], Synth],
) -> None:
    # CloudWatch "Dashboard Body Structure and Syntax", metric widget properties: region is
    # required ("The region of the metric"); a widget without it, or with another region, shows
    # nothing for this environment's metrics.
    doc = synth(make_settings("dev", region="eu-west-1"))["platform"]
    body = json.loads(one(doc, "aws_cloudwatch_dashboard")["dashboard_body"])
    assert {w["properties"]["region"] for w in body["widgets"]} == {"eu-west-1"}


#: The statistic that answers each dashboard metric's question, from the metric's own page in
#: AWS's docs: counts are summed per period (ALB "RequestCount ... Statistics: The most useful
#: statistic is Sum"; Lambda "Invocations ... use the Sum statistic"; WAF "AllowedRequests ...
#: Valid statistics: Sum"); ECS utilisation is a percentage ("Valid statistics: Average,
#: Minimum, Maximum" — a Sum of percentages means nothing); an SQS queue's depth is a gauge
#: (its Maximum in a period is the backlog that alarms should see).
DASHBOARD_STATS = {
    "FailedExecutions": {"Sum"},
    "RequestCount": {"Sum"},
    "HTTPCode_ELB_5XX_Count": {"Sum"},
    "HTTPCode_Target_5XX_Count": {"Sum"},
    "CPUUtilization": {"Average", "Maximum"},
    "MemoryUtilization": {"Average", "Maximum"},
    "Invocations": {"Sum"},
    "Errors": {"Sum"},
    "Throttles": {"Sum"},
    "AllowedRequests": {"Sum"},
    "BlockedRequests": {"Sum"},
    "ApproximateNumberOfMessagesVisible": {"Maximum"},
}


def test_dashboard_widgets_tile_the_grid_and_read_each_metric_with_its_statistic(dev: Synth) -> None:
    # CloudWatch "Dashboard Body Structure and Syntax": width is in grid units "in a 24-column
    # grid" ("Valid Values: 1–24"), height "Valid Values: 1–1000"; a period is one CloudWatch
    # serves (GetMetricData: "1, 5, 10, 30, 60, or any multiple of 60"). Widgets that overlap
    # hide each other; one past the 24th column is moved by the console, out of its place.
    body = json.loads(one(dev["platform"], "aws_cloudwatch_dashboard")["dashboard_body"])
    cells: dict[tuple[int, int], str] = {}
    for w in body["widgets"]:
        props = w["properties"]
        assert w["type"] == "metric"
        assert w["x"] >= 0, props["title"]
        assert w["width"] >= 1, props["title"]
        assert w["x"] + w["width"] <= 24, props["title"]  # ends within the 24th column
        assert w["y"] >= 0, props["title"]
        assert w["height"] >= 1, props["title"]
        assert w["height"] <= 1000, props["title"]
        for cell in itertools.product(range(w["x"], w["x"] + w["width"]), range(w["y"], w["y"] + w["height"])):
            assert cell not in cells, f"{props['title']!r} overlaps {cells[cell]!r} at {cell}"
            cells[cell] = props["title"]
        assert props["period"] in {1, 5, 10, 30} or props["period"] % 60 == 0, props["title"]
        for row in props["metrics"]:
            assert props["stat"] in DASHBOARD_STATS[row[1]], (props["title"], row[1], props["stat"])
    # Two widgets side by side per row, no holes: the whole of the top of the grid is used.
    rows = max(y for _, y in cells) + 1
    assert len(cells) == 24 * rows

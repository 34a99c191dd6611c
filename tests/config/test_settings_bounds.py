"""Every bounded setting accepts its bounds and refuses one step beyond, naming the field.

The table is written from the limits themselves (AWS's API limits where AWS sets one, quoted
in the field's docstring or below), not read from the model: a loosened or tightened bound in
``constructs_lib/settings.py`` fails here, as does a message that stops naming the field or the
limit. Cross-field rules and patterns have their own tests in ``test_settings.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.settings import ConfigError
from tests.helpers import make_settings

#: (section.field, lowest accepted, refused below it, highest accepted, refused above it, source).
#: None: no such bound. Floats with an exclusive lower bound use a small step above it.
NUMBERS: list[tuple[str, Any, Any, Any, Any, str]] = [
    # KMS ScheduleKeyDeletion PendingWindowInDays: "minimum of 7 ... maximum of 30".
    ("security.kms_deletion_window_days", 7, 6, 30, 31, "AWS KMS"),
    # Secrets Manager RotationRules AutomaticallyAfterDays: "Minimum value of 1. Maximum value of 1000."
    ("security.secret_rotation_days", 1, 0, 1000, 1001, "AWS Secrets Manager"),
    # WAFv2 RateBasedStatement Limit: at most 2,000,000,000; 100 is this platform's floor.
    ("edge.waf_rate_limit", 100, 99, 2_000_000_000, 2_000_000_001, "AWS WAF + platform"),
    ("service.container_port", 1, 0, 65535, 65536, "TCP"),
    ("service.desired_count", 1, 0, 100, 101, "platform"),
    # ECS CreateService healthCheckGracePeriodSeconds: an Integer, 0 up to 2,147,483,647.
    ("service.health_check_grace_period_seconds", 0, -1, 2_147_483_647, 2_147_483_648, "AWS ECS"),
    # ECR lifecycle policy countNumber: an integer greater than 0.
    ("service.ecr_keep_tagged_images", 1, 0, 1000, 1001, "AWS ECR + platform"),
    ("pipeline.artifact_expiration_days", 1, 0, 3650, 3651, "platform"),
    # Lambda reserved concurrency: at least 1 when set (0 would stop the function).
    ("pipeline.orchestrator_reserved_concurrency", 1, 0, 1000, 1001, "platform"),
    ("pipeline.mirror_reserved_concurrency", 1, 0, 1000, 1001, "platform"),
    # X-Ray SamplingRule FixedRate: "Minimum value of 0. Maximum value of 1."
    ("observability.xray_sampling_rate", 0.0, -0.01, 1.0, 1.01, "AWS X-Ray"),
    ("observability.alarms.alb_5xx_count", 1, 0, None, None, "platform"),
    ("observability.alarms.unhealthy_targets", 1, 0, None, None, "platform"),
    ("observability.alarms.target_response_time_seconds", 0.001, 0.0, 60.0, 60.01, "platform"),
    ("observability.alarms.ecs_cpu_percent", 0.1, 0.0, 100.0, 100.1, "percent"),
    ("observability.alarms.ecs_memory_percent", 0.1, 0.0, 100.0, 100.1, "percent"),
    ("observability.alarms.lambda_errors", 1, 0, None, None, "platform"),
    ("observability.alarms.lambda_throttles", 1, 0, None, None, "platform"),
    ("observability.alarms.dlq_visible_messages", 1, 0, None, None, "platform"),
    ("observability.alarms.waf_blocked_requests", 1, 0, None, None, "platform"),
    ("observability.alarms.pipeline_failures", 1, 0, None, None, "platform"),
]

#: What pydantic says for each kind of bound (the message must carry the limit).
BELOW = {"ge": "greater than or equal to", "gt": "greater than"}
ABOVE = "less than or equal to"


def number(bound: float) -> str:
    """A limit as pydantic's message writes it (as the model declares it: 60, not 60.0)."""
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def overrides(path: str, value: Any) -> dict[str, Any]:
    *sections, field = path.split(".")
    tree: dict[str, Any] = {field: value}
    for section in reversed(sections):
        tree = {section: tree}
    return tree


def read(settings: Any, path: str) -> Any:
    for part in path.split("."):
        settings = getattr(settings, part)
    return settings


def refusal(path: str, value: Any) -> str:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", **overrides(path, value))
    (problem,) = info.value.problems
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."  # long values are cut
    assert problem.startswith(f"{path} = {shown}: "), problem
    return problem


@pytest.mark.parametrize(("path", "low", "below", "high", "above", "source"), NUMBERS, ids=[n[0] for n in NUMBERS])
def test_each_number_accepts_its_bounds_and_refuses_one_step_beyond(
    path: str, low: Any, below: Any, high: Any, above: Any, source: str
) -> None:
    assert read(make_settings("dev", **overrides(path, low)), path) == low
    problem = refusal(path, below)
    exclusive = isinstance(low, float) and below == 0.0 and low > 0  # gt=0: the limit is 0, not `low`
    assert f"{BELOW['gt' if exclusive else 'ge']} {number(0 if exclusive else low)}" in problem, problem
    if high is None:
        assert read(make_settings("dev", **overrides(path, 10**9)), path) == 10**9  # no upper bound
    else:
        assert read(make_settings("dev", **overrides(path, high)), path) == high
        assert f"{ABOVE} {number(high)}" in refusal(path, above)


def test_each_list_that_must_hold_something_refuses_an_empty_list() -> None:
    for path in ("edge.allowed_ingress_cidrs", "observability.pipeline_notify_states"):
        assert "at least 1 item" in refusal(path, [])


def test_the_health_check_path_is_at_most_1024_characters() -> None:
    # ALB target group HealthCheckPath: "Length Constraints: Minimum length of 1. Maximum length of 1024."
    longest = "/" + "a" * 1023
    assert make_settings("dev", edge={"health_check_path": longest}).edge.health_check_path == longest
    assert "at most 1024 characters" in refusal("edge.health_check_path", longest + "a")


def test_the_branch_name_is_1_to_255_characters() -> None:
    assert make_settings("dev", pipeline={"branch": "b" * 255}).pipeline.branch == "b" * 255
    assert "at least 1 character" in refusal("pipeline.branch", "")
    assert "at most 255 characters" in refusal("pipeline.branch", "b" * 256)

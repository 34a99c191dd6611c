"""The environment's CloudWatch dashboard: one widget per part of the delivery path."""

from __future__ import annotations

from typing import Any

from constructs_lib.metrics import Metric
from constructs_lib.observability.alarms import Watched


def widget(region: str, x: int, y: int, title: str, metrics: list[Metric], stat: str = "Sum") -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": region,
            "stat": stat,
            "period": 300,
            "metrics": [m.dashboard_row() for m in metrics],
        },
    }


def dashboard_body(region: str, w: Watched) -> dict[str, Any]:
    lb, ecs, fn, waf = w.load_balancer, w.service, w.orchestrator, w.web_acl
    alb = [lb.metric(name) for name in ("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count")]
    return {
        "widgets": [
            widget(region, 0, 0, "Pipeline failures", [w.failed_executions]),
            widget(region, 12, 0, "ALB requests and errors", alb),
            widget(
                region,
                0,
                6,
                "ECS CPU and memory",
                [ecs.metric("CPUUtilization"), ecs.metric("MemoryUtilization")],
                stat="Average",
            ),
            widget(
                region,
                12,
                6,
                "Deploy orchestrator",
                [fn.metric(name) for name in ("Invocations", "Errors", "Throttles")],
            ),
            widget(region, 0, 12, "WAF", [waf.metric("AllowedRequests"), waf.metric("BlockedRequests")]),
            widget(region, 12, 12, "Notification dead-letter queue", [w.dead_letters], stat="Maximum"),
        ]
    }

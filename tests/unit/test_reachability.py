"""Runtime reachability: every image and service a task needs is reachable through its egress."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.settings import Settings
from tests.helpers import VARIANTS, make_settings, one, resources
from tools.reachability import check

Synth = dict[str, dict[str, Any]]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_dependency_of_every_task_is_reachable(variant: str, synth: Callable[[Settings], Synth]) -> None:
    environment, overrides = VARIANTS[variant]
    settings = make_settings(environment, **overrides)
    assert check(synth(settings)["platform"], variant, settings.account_id) == []


def with_image(doc: dict[str, Any], container: str, image: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    td = one(doc, "aws_ecs_task_definition")
    defs = json.loads(td["container_definitions"])
    next(c for c in defs if c["name"] == container)["image"] = image
    td["container_definitions"] = json.dumps(defs)
    return doc


def without_endpoint(doc: dict[str, Any], service: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    endpoints = doc["resource"]["aws_vpc_endpoint"]
    (key,) = [k for k, e in endpoints.items() if e["service_name"].endswith(f".{service}")]
    del endpoints[key]
    return doc


def test_an_ecr_public_image_without_nat_fails_naming_everything(dev: Synth) -> None:
    doc = with_image(dev["platform"], "app", "public.ecr.aws/nginx/nginx:1.27")
    assert check(doc, "dev") == [
        "dev: container 'app': image public.ecr.aws/nginx/nginx:1.27 (public.ecr.aws) is reachable only through "
        "NAT, and the task subnets have no NAT route"
    ]


def test_the_same_image_with_nat_is_reachable(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("staging"))["platform"]
    assert check(with_image(doc, "app", "public.ecr.aws/nginx/nginx:1.27"), "staging") == []


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("ecr.dkr", "container 'app': image {aws_ecr_pull_through_cache_rule."),
        ("logs", "container 'app': awslogs log driver (CloudWatch Logs): no NAT route from the task subnets and "
                 "no the logs interface endpoint"),
        ("secretsmanager", "container 'app': secret APP_SECRET (secretsmanager): no NAT route"),
        ("xray", "container 'xray-daemon': X-Ray daemon (X-Ray API): no NAT route from the task subnets and no "
                 "the xray interface endpoint"),
        ("s3", "the s3 gateway endpoint"),
    ],
)  # fmt: skip
def test_each_missing_endpoint_is_named(dev: Synth, service: str, expected: str) -> None:
    problems = check(without_endpoint(dev["platform"], service), "dev")
    assert problems
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("dev: container ") for p in problems)


def test_an_interface_endpoint_without_private_dns_does_not_count(dev: Synth) -> None:
    doc = copy.deepcopy(dev["platform"])
    for endpoint in resources(doc, "aws_vpc_endpoint").values():
        if endpoint["service_name"].endswith(".logs"):
            endpoint["private_dns_enabled"] = False
    assert any("awslogs" in p for p in check(doc, "dev"))


def test_a_task_security_group_without_https_egress_fails(dev: Synth) -> None:
    doc = copy.deepcopy(dev["platform"])
    rules = doc["resource"]["aws_vpc_security_group_egress_rule"]
    for key in [k for k in rules if k.startswith("load-balancer_service-out-https")]:
        del rules[key]
    problems = check(doc, "dev")
    assert any("allow no HTTPS (tcp/443) egress" in p for p in problems), problems


def test_an_image_under_a_prefix_without_a_cache_rule_target_fails(dev: Synth) -> None:
    doc = copy.deepcopy(dev["platform"])
    one(doc, "aws_ecr_pull_through_cache_rule")["upstream_registry_url"] = "registry-1.docker.io"
    assert any("not public.ecr.aws" in p for p in check(doc, "dev"))


def test_another_accounts_registry_is_only_reachable_through_nat(dev: Synth) -> None:
    doc = with_image(dev["platform"], "app", "222222222222.dkr.ecr.us-east-1.amazonaws.com/web:1")
    assert "another account or region's ECR" in check(doc, "dev", account="111111111111")[0]
    own = with_image(dev["platform"], "app", "111111111111.dkr.ecr.us-east-1.amazonaws.com/web:1")
    assert check(own, "dev", account="111111111111") == []

"""Runtime reachability: every image and service a task needs is reachable through its egress."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.settings import Settings
from tests.helpers import ROOT, VARIANTS, make_settings, one, resources
from tools.reachability import check, main

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
        ("ecr.dkr", "container 'app': image {aws_ecr_repository.mirror_bootstrap_repository_"),
        ("logs", "container 'app': awslogs log driver (CloudWatch Logs): no NAT route from the task subnets and "
                 "no logs interface endpoint"),
        ("secretsmanager", "container 'app': secret APP_SECRET (secretsmanager): no NAT route"),
        ("xray", "container 'xray-daemon': X-Ray daemon (X-Ray API): no NAT route from the task subnets and no "
                 "xray interface endpoint"),
        ("s3", "no s3 gateway endpoint"),
        ("ecr.api", "container 'app': image {aws_ecr_repository.mirror_bootstrap_repository_"),
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
    assert problems
    assert all(p.endswith(": the task security groups allow no HTTPS (tcp/443) egress") for p in problems), problems


def test_each_missing_endpoint_is_named_by_kind(dev: Synth) -> None:
    doc = without_endpoint(without_endpoint(dev["platform"], "logs"), "s3")
    assert "no NAT route from the task subnets and no logs interface endpoint" in "\n".join(check(doc, "dev"))
    assert "no s3 gateway endpoint" in "\n".join(check(doc, "dev"))
    logs = [p for p in check(doc, "dev") if "log driver" in p]
    assert len(logs) == 2  # the app and the X-Ray daemon
    assert all(p.endswith("no NAT route from the task subnets and no logs interface endpoint") for p in logs)


def last_release_dev() -> dict[str, Any]:
    """platform-dev exactly as the last release synthesized it (its snapshot): both images through
    the ECR Public pull-through cache, no NAT."""
    with gzip.open(ROOT / "tests" / "fixtures" / "last_release_platform_dev.json.gz", "rt") as f:
        return dict(json.load(f))


def test_the_last_releases_dev_fails_on_awss_first_pull_rule() -> None:
    problems = check(last_release_dev(), "dev")
    assert [p.split(":", 2)[1].strip() for p in problems] == ["container 'app'", "container 'xray-daemon'"]
    for problem in problems:
        assert "reaches the task only by a first pull through cache rule 'cicd-ecrpub-dev'" in problem
        assert "and the task subnets have no NAT route: AWS's ECR guide (pull through cache considerations)" in problem
        assert '"you need to create a public subnet in the same VPC, with a NAT gateway' in problem


def test_a_cache_image_with_nat_is_reachable() -> None:
    doc = copy.deepcopy(last_release_dev())
    subnets = [k for k, s in doc["resource"]["aws_subnet"].items() if s["tags"]["tier"] == "private"]
    tables = [a["route_table_id"] for a in doc["resource"]["aws_route_table_association"].values()
              if a["subnet_id"].split(".")[1] in subnets]  # fmt: skip
    doc["resource"]["aws_nat_gateway"] = {"nat": {"subnet_id": "x", "allocation_id": "y"}}
    doc["resource"]["aws_route"].update({f"nat-{i}": {"route_table_id": t, "destination_cidr_block": "0.0.0.0/0",
                                                      "nat_gateway_id": "${aws_nat_gateway.nat.id}"}
                                         for i, t in enumerate(tables)})  # fmt: skip
    assert check(doc, "dev") == []


def test_an_image_under_a_cache_prefix_of_another_upstream_fails() -> None:
    doc = copy.deepcopy(last_release_dev())
    one(doc, "aws_ecr_pull_through_cache_rule")["upstream_registry_url"] = "registry-1.docker.io"
    assert any("not public.ecr.aws" in p for p in check(doc, "dev"))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_no_service_depends_on_a_first_cache_pull(variant: str, synth: Callable[[Settings], Synth]) -> None:
    """Every image a task runs is this account's own (mirrored or built), never a cache's first pull."""
    environment, overrides = VARIANTS[variant]
    doc = synth(make_settings(environment, **overrides))["platform"]
    assert resources(doc, "aws_ecr_pull_through_cache_rule") == {}
    images = [c["image"] for c in json.loads(one(doc, "aws_ecs_task_definition")["container_definitions"])]
    copies = resources(doc, "aws_lambda_invocation")
    for image in images:
        repo, _, digest = image.partition("@")
        assert repo.startswith("${aws_ecr_repository.mirror_"), image
        (copy_name,) = [n for n in copies if f"aws_lambda_invocation.{n}.result" in digest]
        assert json.loads(copies[copy_name]["input"])["repository"] in {
            r["name"] for r in resources(doc, "aws_ecr_repository").values()
        }


def test_an_image_run_by_another_repositorys_copy_fails(dev: Synth) -> None:
    doc = dev["platform"]
    defs = json.loads(one(doc, "aws_ecs_task_definition")["container_definitions"])
    app, xray = (next(c["image"] for c in defs if c["name"] == n) for n in ("app", "xray-daemon"))
    swapped = with_image(doc, "app", app.split("@")[0] + "@" + xray.split("@")[1])
    (problem,) = check(swapped, "dev")
    assert "runs the digest of a copy into cicd-mirror-dev/xray/aws-xray-daemon, not of its own repository" in problem


def test_another_accounts_registry_is_only_reachable_through_nat(dev: Synth) -> None:
    doc = with_image(dev["platform"], "app", "222222222222.dkr.ecr.us-east-1.amazonaws.com/web:1")
    assert "another account or region's ECR" in check(doc, "dev", account="111111111111")[0]
    own = with_image(dev["platform"], "app", "111111111111.dkr.ecr.us-east-1.amazonaws.com/web:1")
    assert check(own, "dev", account="111111111111") == []


def test_the_command_checks_each_stack_file_and_exits_1_naming_each_problem(
    dev: Synth, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m tools.reachability <stack.json>...``: what CI and `make test` run on the synthesized stacks."""
    good = tmp_path / "platform-dev" / "cdk.tf.json"
    good.parent.mkdir()
    good.write_text(json.dumps(dev["platform"]))
    assert main([str(good)]) == 0
    assert capsys.readouterr().out == ""
    bad = tmp_path / "platform-broken" / "cdk.tf.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps(with_image(dev["platform"], "app", "public.ecr.aws/nginx/nginx:1.27")))
    assert main([str(bad), str(good)]) == 1  # every file's problems, not only the last one's
    # Each line names the stack (its folder) it is about.
    assert capsys.readouterr().out.splitlines() == [
        "platform-broken: container 'app': image public.ecr.aws/nginx/nginx:1.27 (public.ecr.aws) is reachable "
        "only through NAT, and the task subnets have no NAT route"
    ]
    # --account: a literal registry of the environment's own account counts as its own.
    account = "111111111111"
    own = f"{account}.dkr.ecr.us-east-1.amazonaws.com/cicd-app-dev:1"
    mine = tmp_path / "platform-own" / "cdk.tf.json"
    mine.parent.mkdir()
    mine.write_text(json.dumps(with_image(dev["platform"], "app", own)))
    assert main([str(mine), "--account", account]) == 0
    assert main([str(mine)]) == 1


def test_the_commands_help(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m tools.reachability [-h] [--account ACCOUNT] stack_json [stack_json ...]")
    assert "\nCan the service's tasks reach everything they need at run time?\n" in out
    assert "--account ACCOUNT  the environment's account id (settings account_id)" in out


def test_only_the_missing_registry_endpoint_is_named(dev: Synth) -> None:
    for service in ("ecr.api", "ecr.dkr"):
        problems = check(without_endpoint(dev["platform"], service), "dev")
        assert problems
        assert all(
            p.endswith(f"no NAT route from the task subnets and no {service} interface endpoint") for p in problems
        )


def test_a_copy_that_is_not_in_the_stack_or_not_of_a_repository_of_it(dev: Synth) -> None:
    digest = "@${jsondecode(aws_lambda_invocation.%s.result).digest}"
    gone = with_image(
        dev["platform"],
        "app",
        "${aws_ecr_repository.mirror_bootstrap_repository_013BBB2E.repository_url}" + digest % "vanished",
    )
    assert any(p.endswith("runs the digest of vanished, which is not in the stack") for p in check(gone, "dev"))
    copy_name = next(iter(resources(dev["platform"], "aws_lambda_invocation")))
    literal = with_image(
        dev["platform"], "app", "111111111111.dkr.ecr.us-east-1.amazonaws.com/web" + digest % copy_name
    )
    problems = [p for p in check(literal, "dev", account="111111111111") if "runs the digest of a copy into" in p]
    assert len(problems) == 1
    assert problems[0].endswith(", not of its own repository")


def test_a_stack_without_a_service_says_so() -> None:
    assert check({}, "dev") == ["dev: no ECS service in this stack"]
    assert check({"resource": {"aws_s3_bucket": {}}}, "dev") == ["dev: no ECS service in this stack"]

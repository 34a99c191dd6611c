"""ECR: the pull-through cache of ECR Public, the images tasks run, and what pulling needs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from constructs_lib.settings import Settings
from tests.helpers import ACCOUNT_TOKEN, PARTITION_TOKEN, make_settings, one, resources, statements

Synth = dict[str, dict[str, Any]]

#: The account's own private registry, through the cache rule's registry_id.
PRIVATE_REGISTRY = re.compile(
    r"^\$\{aws_ecr_pull_through_cache_rule\.registry_ecr-public-cache_[0-9A-F]{8}\.registry_id\}"
    r"\.dkr\.ecr\.us-east-1\.amazonaws\.com/"
)


def images(doc: dict[str, Any]) -> dict[str, str]:
    td = one(doc, "aws_ecs_task_definition")
    return {c["name"]: c["image"] for c in json.loads(td["container_definitions"])}


def execution_policy(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (policy,) = [
        p for k, p in resources(doc, "aws_iam_role_policy").items() if k.startswith("service_execution-role_policy_")
    ]
    return statements(policy["policy"])


def test_every_platform_stack_has_the_ecr_public_cache(shipped: tuple[Settings, Synth]) -> None:
    settings, docs = shipped
    rule = one(docs["platform"], "aws_ecr_pull_through_cache_rule")
    assert rule == {
        "ecr_repository_prefix": f"cicd-ecrpub-{settings.environment_suffix}",
        "upstream_registry_url": "public.ecr.aws",
    }


def test_tasks_run_images_only_from_the_accounts_private_registry(shipped: tuple[Settings, Synth]) -> None:
    settings, docs = shipped
    suffix = settings.environment_suffix
    found = images(docs["platform"])
    assert set(found) == {"app", "xray-daemon"}
    for name, image in found.items():
        assert PRIVATE_REGISTRY.match(image), (name, image)
        assert "public.ecr.aws" not in image
    assert found["app"].endswith(f"/cicd-ecrpub-{suffix}/nginx/nginx-unprivileged:1.27-alpine")
    assert found["xray-daemon"].endswith(f"/cicd-ecrpub-{suffix}/xray/aws-xray-daemon:3.3.14")


def test_execution_role_pull_through_statement_exact(dev: Synth) -> None:
    stmts = execution_policy(dev["platform"])
    cached = f"arn:{PARTITION_TOKEN}:ecr:us-east-1:{ACCOUNT_TOKEN}:repository/cicd-ecrpub-dev/*"
    assert stmts["PullThroughCache"] == {
        "Sid": "PullThroughCache",
        "Effect": "Allow",
        "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
        "Resource": cached,
    }
    assert stmts["PullImage"]["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
    ]
    (repository,) = resources(dev["platform"], "aws_ecr_repository")
    assert stmts["PullImage"]["Resource"] == [f"${{aws_ecr_repository.{repository}.arn}}", cached]
    assert stmts["EcrLogin"]["Resource"] == "*"
    assert list(stmts) == ["EcrLogin", "PullImage", "PullThroughCache", "WriteLogs", "ReadAppSecret", "DecryptSecret"]


def test_a_private_ecr_bootstrap_image_is_run_as_is_and_pullable(synth: Callable[[Settings], Synth]) -> None:
    image = "111111111111.dkr.ecr.us-east-1.amazonaws.com/base/web:1.0"
    doc = synth(make_settings("dev", account_id="111111111111", service={"bootstrap_image": image}))["platform"]
    assert images(doc)["app"] == image
    repository = f"arn:{PARTITION_TOKEN}:ecr:us-east-1:111111111111:repository/base/web"
    assert repository in execution_policy(doc)["PullImage"]["Resource"]


def test_a_docker_hub_image_with_nat_runs_as_is(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("staging", service={"bootstrap_image": "nginx:1.27"}))["platform"]
    assert images(doc)["app"] == "nginx:1.27"
    assert len(execution_policy(doc)["PullImage"]["Resource"]) == 2  # nothing to grant for a public registry

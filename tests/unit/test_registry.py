"""ECR: the service's repository, the mirrored public images tasks run, and what pulling needs.

AWS's rule behind the design (ECR guide, pull through cache considerations): a NAT-less
task's first pull through a cache over the VPC endpoints fails. So public images are copied
into repositories of this account before any task runs them (constructs_lib/mirror.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.mirror import COPY_ACTIONS, HANDLER
from constructs_lib.settings import ConfigError, Settings
from tests.helpers import ACCOUNT_TOKEN, PARTITION_TOKEN, VARIANTS, make_settings, one, resources, statements

Synth = dict[str, dict[str, Any]]

#: An image of a mirrored repository, by the digest its copy returned.
MIRRORED = re.compile(
    r"^\$\{aws_ecr_repository\.(mirror_[\w-]+_repository_[0-9A-F]{8})\.repository_url\}"
    r"@\$\{jsondecode\(aws_lambda_invocation\.(mirror_[\w-]+_copy_[0-9A-F]{8})\.result\)\.digest\}$"
)


def images(doc: dict[str, Any]) -> dict[str, str]:
    td = one(doc, "aws_ecs_task_definition")
    return {c["name"]: c["image"] for c in json.loads(td["container_definitions"])}


def execution_policy(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (policy,) = [
        p for k, p in resources(doc, "aws_iam_role_policy").items() if k.startswith("service_execution-role_policy_")
    ]
    return statements(policy["policy"])


def copies(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: json.loads(body["input"]) for name, body in resources(doc, "aws_lambda_invocation").items()}


def test_tasks_run_public_images_from_their_mirrored_repositories(shipped: tuple[Settings, Synth]) -> None:
    settings, docs = shipped
    doc = docs["platform"]
    suffix = settings.environment_suffix
    repos = resources(doc, "aws_ecr_repository")
    for name, image in images(doc).items():
        match = MIRRORED.match(image)
        assert match, (name, image)
        copy = copies(doc)[match.group(2)]
        assert copy["repository"] == repos[match.group(1)]["name"]  # the copy fills the repository run
    assert {c["source"]: (c["repository"], c["tag"]) for c in copies(doc).values()} == {
        "public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine": (f"cicd-mirror-{suffix}/nginx/nginx-unprivileged",
                                                                "1.27-alpine"),
        "public.ecr.aws/xray/aws-xray-daemon:3.3.14": (f"cicd-mirror-{suffix}/xray/aws-xray-daemon", "3.3.14"),
    }  # fmt: skip
    assert resources(doc, "aws_ecr_pull_through_cache_rule") == {}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_image_repository_is_encrypted_with_the_environment_key_and_scanned(
    variant: str, synth: Callable[[Settings], Synth]
) -> None:
    environment, overrides = VARIANTS[variant]
    doc = synth(make_settings(environment, **overrides))["platform"]
    # The environment key (prod also has its artifact replica's key, in the replica region).
    (key,) = [k for k, body in resources(doc, "aws_kms_key").items() if "provider" not in body]
    repos = resources(doc, "aws_ecr_repository")
    assert len(repos) >= 2
    for repo in repos.values():
        assert repo["encryption_configuration"] == [
            {"encryption_type": "KMS", "kms_key": f"${{aws_kms_key.{key}.arn}}"}
        ], repo["name"]
        assert repo["image_scanning_configuration"] == {"scan_on_push": True}
        assert repo["image_tag_mutability"] == "IMMUTABLE"
        assert repo["force_delete"] is (environment != "prod")  # destroy leaves none behind outside prod
    lifecycles = {p["repository"] for p in resources(doc, "aws_ecr_lifecycle_policy").values()}
    assert lifecycles == {f"${{aws_ecr_repository.{r}.name}}" for r in repos}


def test_the_copy_runs_before_the_task_definition_and_after_its_repository(dev: Synth) -> None:
    """Terraform's graph: repository -> copy (depends_on) -> task definition (its image is the
    copy's result) -> service. No task definition names an image not yet copied."""
    doc = dev["platform"]
    td_images = " ".join(images(doc).values())
    for name, body in resources(doc, "aws_lambda_invocation").items():
        assert f"aws_lambda_invocation.{name}.result" in td_images
        assert any(d.startswith("aws_ecr_repository.mirror_") for d in body["depends_on"])
        assert any(d.startswith("aws_lambda_function.mirror_") for d in body["depends_on"])


def test_the_mirror_function_and_what_it_may_do(dev: Synth) -> None:
    doc = dev["platform"]
    (fn,) = [f for f in resources(doc, "aws_lambda_function").values() if f["function_name"] == "cicd-mirror-dev"]
    assert fn["handler"] == HANDLER == "image_mirror.handler.handler"
    assert "vpc_config" not in fn  # it needs the internet (ECR Public), which NAT-less subnets lack
    assert (fn["timeout"], fn["tracing_config"]) == (900, {"mode": "Active"})
    (role_key,) = [k for k, r in resources(doc, "aws_iam_role").items() if r["name"] == "cicd-mirror-role-dev"]
    (policy,) = [p for p in resources(doc, "aws_iam_role_policy").values() if f"aws_iam_role.{role_key}." in p["role"]]
    stmts = statements(policy["policy"])
    mirrored = f"arn:{PARTITION_TOKEN}:ecr:us-east-1:{ACCOUNT_TOKEN}:repository/cicd-mirror-dev/*"
    assert stmts["CopyImages"] == {"Sid": "CopyImages", "Effect": "Allow", "Action": list(COPY_ACTIONS),
                                   "Resource": mirrored}  # fmt: skip
    assert stmts["EcrLogin"]["Resource"] == "*"


def test_execution_role_pulls_the_service_and_mirrored_repositories_only(dev: Synth) -> None:
    stmts = execution_policy(dev["platform"])
    pull = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    (repository,) = [k for k in resources(dev["platform"], "aws_ecr_repository") if k.startswith("registry_")]
    assert stmts["PullImage"] == {"Sid": "PullImage", "Effect": "Allow", "Action": pull,
                                  "Resource": f"${{aws_ecr_repository.{repository}.arn}}"}  # fmt: skip
    assert stmts["PullMirroredImages"]["Action"] == pull
    assert stmts["PullMirroredImages"]["Resource"] == (
        f"arn:{PARTITION_TOKEN}:ecr:us-east-1:{ACCOUNT_TOKEN}:repository/cicd-mirror-dev/*"
    )
    assert stmts["EcrLogin"]["Resource"] == "*"
    assert "PullThroughCache" not in stmts  # no repository is created by a pull any more
    assert list(stmts) == ["EcrLogin", "PullImage", "PullMirroredImages", "WriteLogs", "ReadAppSecret",
                           "DecryptSecret"]  # fmt: skip


def test_a_new_xray_daemon_version_goes_through_the_same_copy(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", service={"xray_daemon_image": "public.ecr.aws/xray/aws-xray-daemon:3.3.15"}))[
        "platform"
    ]
    (copy,) = [c for c in copies(doc).values() if "xray" in c["source"]]
    assert copy == {"source": "public.ecr.aws/xray/aws-xray-daemon:3.3.15",
                    "repository": "cicd-mirror-dev/xray/aws-xray-daemon", "tag": "3.3.15"}  # fmt: skip


def test_an_image_pinned_by_digest_is_tagged_after_it(synth: Callable[[Settings], Synth]) -> None:
    digest = "sha256:" + "ab" * 32
    doc = synth(make_settings("dev", service={"bootstrap_image": f"public.ecr.aws/nginx/nginx-unprivileged@{digest}"}))[
        "platform"
    ]
    (copy,) = [c for c in copies(doc).values() if "nginx" in c["source"]]
    assert copy["tag"] == "pinned-abababababab"


@pytest.mark.parametrize("image", ["nginx:1.27", "public.ecr.aws/xray/aws-xray-daemon", "quay.io/x/y:1"])
def test_the_xray_daemon_image_must_be_a_tagged_ecr_public_image(image: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("staging", service={"xray_daemon_image": image})
    assert info.value.problems[0].startswith(f"service.xray_daemon_image = '{image}'")
    assert "the mirror copies from ECR Public" in info.value.problems[0]


def test_a_private_ecr_bootstrap_image_is_run_as_is_and_pullable(synth: Callable[[Settings], Synth]) -> None:
    image = "111111111111.dkr.ecr.us-east-1.amazonaws.com/base/web:1.0"
    doc = synth(make_settings("dev", account_id="111111111111", service={"bootstrap_image": image}))["platform"]
    assert images(doc)["app"] == image
    repository = f"arn:{PARTITION_TOKEN}:ecr:us-east-1:111111111111:repository/base/web"
    assert repository in execution_policy(doc)["PullImage"]["Resource"]
    assert [c["source"] for c in copies(doc).values()] == ["public.ecr.aws/xray/aws-xray-daemon:3.3.14"]


def test_a_docker_hub_image_with_nat_runs_as_is(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("staging", service={"bootstrap_image": "nginx:1.27"}))["platform"]
    assert images(doc)["app"] == "nginx:1.27"
    assert isinstance(execution_policy(doc)["PullImage"]["Resource"], str)  # nothing to grant for a public registry


def test_the_lifecycle_policy_follows_ecrs_rules_and_says_what_each_rule_does(
    synth: Callable[[Settings], Synth],
) -> None:
    # ECR "Lifecycle policy properties": rulePriority values are unique, "a rule with a tagStatus
    # value of any must have the highest value for rulePriority and be evaluated last";
    # countUnit goes with sinceImagePushed only; the one action is expire.
    doc = synth(make_settings("dev", service={"ecr_keep_tagged_images": 35}))["platform"]
    policies = {p["repository"]: json.loads(p["policy"]) for p in resources(doc, "aws_ecr_lifecycle_policy").values()}
    (repository,) = [k for k in resources(doc, "aws_ecr_repository") if k.startswith("registry_")]
    rules = policies[f"${{aws_ecr_repository.{repository}.name}}"]["rules"]
    assert rules == [
        {"rulePriority": 1, "description": "expire untagged images after 7 days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": "keep the last 35 tagged images",
         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 35},
         "action": {"type": "expire"}},
    ]  # fmt: skip
    assert max(rules, key=lambda r: r["rulePriority"])["selection"]["tagStatus"] == "any"


def test_a_private_ecr_image_of_another_region_is_granted_in_its_own_region(
    synth: Callable[[Settings], Synth],
) -> None:
    image = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/base/web:1.0"
    # Another region's ECR is reached through the NAT gateway (the endpoints serve this region's).
    settings = make_settings("staging", account_id="111111111111", service={"bootstrap_image": image})
    doc = synth(settings)["platform"]
    repository = f"arn:{PARTITION_TOKEN}:ecr:eu-west-1:111111111111:repository/base/web"
    assert repository in execution_policy(doc)["PullImage"]["Resource"]

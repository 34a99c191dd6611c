"""ECR, ECS, CodeBuild, CodePipeline, the orchestrator Lambda and X-Ray."""

from __future__ import annotations

import functools
import gzip
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib.orchestrator import HANDLER, SOURCE_DIR, package_source
from constructs_lib.pipeline import BUILDSPEC_SHELL
from constructs_lib.service import PIPELINE_OWNED_ATTRIBUTES, XRAY_CONTAINER
from constructs_lib.settings import ConfigError, Settings
from lambda_src.deploy_orchestrator import contract
from tests.helpers import ACCOUNT_TOKEN, PARTITION_TOKEN, ROOT, make_settings, one, resources, statements

Synth = dict[str, dict[str, Any]]
CONNECTION = "arn:aws:codestar-connections:us-east-1:123456789012:connection/0e8a5d3c-2f55-4b6f-9a56-8f3c7f1f7c11"


def role_named(doc: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    key, role = next((k, r) for k, r in resources(doc, "aws_iam_role").items() if r["name"] == name)
    return key, role


def inline_policy(doc: dict[str, Any], role_key: str) -> dict[str, dict[str, Any]]:
    policy = next(p for p in resources(doc, "aws_iam_role_policy").values() if f"aws_iam_role.{role_key}." in p["role"])
    return statements(policy["policy"])


def containers(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in json.loads(one(doc, "aws_ecs_task_definition")["container_definitions"])}


# --- ECR -------------------------------------------------------------------


def service_repository(doc: dict[str, Any], rtype: str = "aws_ecr_repository") -> dict[str, Any]:
    (body,) = [b for k, b in resources(doc, rtype).items() if k.startswith("registry_")]
    return body


def test_ecr_immutable_scanned_encrypted(dev: Synth) -> None:
    repo = service_repository(dev["platform"])
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"] == {"scan_on_push": True}
    assert repo["encryption_configuration"][0]["encryption_type"] == "KMS"
    assert repo["encryption_configuration"][0]["kms_key"].startswith("${aws_kms_key.key_")


def test_ecr_lifecycle_keeps_tagged_and_expires_untagged(dev: Synth) -> None:
    rules = json.loads(service_repository(dev["platform"], "aws_ecr_lifecycle_policy")["policy"])["rules"]
    untagged = next(r for r in rules if r["selection"]["tagStatus"] == "untagged")
    assert (untagged["selection"]["countType"], untagged["selection"]["countNumber"]) == ("sinceImagePushed", 7)
    keep = next(r for r in rules if r["selection"]["tagStatus"] == "any")
    assert (keep["selection"]["countType"], keep["selection"]["countNumber"]) == ("imageCountMoreThan", 20)


# --- ECS -------------------------------------------------------------------


def test_cluster_has_container_insights(dev: Synth) -> None:
    assert one(dev["platform"], "aws_ecs_cluster")["setting"] == [{"name": "containerInsights", "value": "enabled"}]


def test_task_definition_size_roles_and_platform(prod: Synth) -> None:
    td = one(prod["platform"], "aws_ecs_task_definition")
    assert (td["cpu"], td["memory"]) == ("512", "1024")
    assert td["requires_compatibilities"] == ["FARGATE"]
    # "If you're using Fargate, the awsvpc network mode is required." (ECS task definition
    # parameters, networkMode); RegisterTaskDefinition refuses any other for FARGATE.
    assert td["network_mode"] == "awsvpc"
    assert td["execution_role_arn"] != td["task_role_arn"]
    assert td["execution_role_arn"].startswith("${aws_iam_role.service_execution-role_")
    assert td["task_role_arn"].startswith("${aws_iam_role.service_task-role_")


def test_app_container_secrets_logging_readonly(dev: Synth) -> None:
    app = containers(dev["platform"])["app"]
    (secret,) = app["secrets"]
    assert secret["name"] == "APP_SECRET"
    assert secret["valueFrom"].startswith("${aws_secretsmanager_secret.secrets_app_")
    assert all(e["name"] != "APP_SECRET" for e in app["environment"])
    assert app["readonlyRootFilesystem"] is True
    assert app["logConfiguration"]["logDriver"] == "awslogs"
    # Availability over log completeness, stated (an account setting can change ECS's default).
    for container in containers(dev["platform"]).values():
        options = container["logConfiguration"]["options"]
        assert (options["mode"], options["max-buffer-size"]) == ("non-blocking", "25m")
    assert app["logConfiguration"]["options"]["awslogs-group"].startswith(
        "${aws_cloudwatch_log_group.service_log-group_"
    )
    assert app["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]


def test_task_roles_trust_only_ecs_tasks_of_this_account_and_region(dev: Synth) -> None:
    # The trust AWS documents for both roles ("Task IAM role", "Task execution IAM role"):
    # ecs-tasks.amazonaws.com, with ArnLike aws:SourceArn arn:aws:ecs:<region>:<account>:* and
    # StringEquals aws:SourceAccount against the confused deputy.
    for name in ("cicd-task-exec-role-dev", "cicd-task-role-dev"):
        (trust,) = json.loads(role_named(dev["platform"], name)[1]["assume_role_policy"])["Statement"]
        assert trust == {
            "Sid": "TrustService",
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT_TOKEN},
                "ArnLike": {"aws:SourceArn": f"arn:{PARTITION_TOKEN}:ecs:us-east-1:{ACCOUNT_TOKEN}:*"},
            },
        }, name


def test_every_container_runs_on_a_read_only_root_and_on_the_platform_fargate_offers(dev: Synth) -> None:
    # Security Hub ECS.5: "ECS containers should be limited to read-only access to root
    # filesystems" (the sidecar too: it writes nothing). RegisterTaskDefinition's RuntimePlatform:
    # cpuArchitecture "Valid Values: X86_64 | ARM64", and LINUX is the family of these images.
    for name, container in containers(dev["platform"]).items():
        assert container["readonlyRootFilesystem"] is True, name
    td = one(dev["platform"], "aws_ecs_task_definition")
    assert td["runtime_platform"] == {"operating_system_family": "LINUX", "cpu_architecture": "X86_64"}


def test_the_app_sends_its_traces_to_the_sidecars_port(dev: Synth) -> None:
    # X-Ray SDKs send segments over UDP to AWS_XRAY_DAEMON_ADDRESS ("By default, the SDK uses
    # 127.0.0.1:2000"); in awsvpc mode a task's containers share localhost, so the address must
    # be the sidecar's UDP port mapping on the loopback.
    found = containers(dev["platform"])
    environment = {e["name"]: e["value"] for e in found["app"].get("environment", [])}
    host, _, port = environment.get("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000").rpartition(":")
    assert host in {"localhost", "127.0.0.1"}
    assert {"containerPort": int(port), "protocol": "udp"} in found[XRAY_CONTAINER]["portMappings"]
    assert {"containerName": XRAY_CONTAINER, "condition": "START"} in found["app"]["dependsOn"]


def test_xray_daemon_sidecar(dev: Synth) -> None:
    sidecar = containers(dev["platform"])[XRAY_CONTAINER]
    assert sidecar["image"].startswith("${aws_ecr_repository.mirror_xray-daemon_repository_")
    assert sidecar["portMappings"] == [{"containerPort": 2000, "protocol": "udp"}]
    assert sidecar["essential"] is False


def test_every_container_logs_with_exactly_the_options_the_awslogs_driver_takes(
    synth: Callable[[Settings], Synth],
) -> None:
    # LogConfiguration, awslogs: "awslogs-region ... Required: Yes"; "awslogs-stream-prefix ...
    # Required: Yes, when using Fargate". Docker's awslogs driver refuses an option it does not know
    # ("unknown log opt"), so a misspelt key stops the task from starting. A region other than the
    # shipped configs' one sets the stack's region apart from any default.
    doc = synth(make_settings("dev", region="eu-west-2"))["platform"]
    (group,) = [k for k in resources(doc, "aws_cloudwatch_log_group") if k.startswith("service_log-group_")]
    for name, container in containers(doc).items():
        assert container["logConfiguration"] == {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": f"${{aws_cloudwatch_log_group.{group}.name}}",
                "awslogs-region": "eu-west-2",
                "awslogs-stream-prefix": name,
                "mode": "non-blocking",
                "max-buffer-size": "25m",
            },
        }, name


@functools.cache
def container_definition_shape() -> Any:
    """RegisterTaskDefinition's ContainerDefinition in botocore's ECS model (loaded once: it is large)."""
    import botocore.session

    return botocore.session.get_session().get_service_model("ecs").shape_for("ContainerDefinition")


def api_problems(value: Any, shape: Any, path: str) -> list[str]:
    """Where ``value`` departs from an AWS API shape of botocore's service model: a field the API does
    not have, a required one missing, a scalar of the wrong type. The provider decodes the container
    definitions with Go's JSON decoder, which drops a field it does not know without a word."""
    if shape.type_name == "structure":
        problems = [f"{path}.{k}: not a field of {shape.name}" for k in value if k not in shape.members]
        problems += [f"{path}.{k}: required by {shape.name}" for k in shape.required_members if k not in value]
        for key, item in value.items():
            if key in shape.members:
                problems += api_problems(item, shape.members[key], f"{path}.{key}")
        return problems
    if shape.type_name == "list":
        return [p for i, item in enumerate(value) for p in api_problems(item, shape.member, f"{path}[{i}]")]
    if shape.type_name == "map":
        return [p for k, item in value.items() for p in api_problems(item, shape.value, f"{path}[{k}]")]
    scalar = {"string": str, "boolean": bool, "integer": int}.get(shape.type_name)
    if scalar is None or (isinstance(value, scalar) and not (scalar is int and isinstance(value, bool))):
        return []
    return [f"{path}: {value!r} is not {shape.type_name}"]


def test_every_container_definition_is_one_ecs_reads_field_for_field(shipped: tuple[Settings, Synth]) -> None:
    # The oracle is AWS's own API model (botocore's ECS service-2.json, RegisterTaskDefinition's
    # ContainerDefinition): a misspelt field ("memoryreservation", "XXcpuXX") would be dropped on
    # its way to ECS, and the sidecar would run without its reservation, the app without its mounts.
    shape = container_definition_shape()
    settings, docs = shipped
    for name, container in containers(docs["platform"]).items():
        assert api_problems(container, shape, name) == [], settings.environment


def test_api_problems_names_an_unknown_field_a_missing_one_and_a_wrong_type() -> None:
    shape = container_definition_shape()
    wrong = {"name": "app", "XXcpuXX": 32, "essential": "true", "mountPoints": [{"readonly": False}], "secrets": [{}]}
    assert api_problems(wrong, shape, "app") == [
        "app.XXcpuXX: not a field of ContainerDefinition",
        "app.essential: 'true' is not boolean",
        "app.mountPoints[0].readonly: not a field of MountPoint",
        "app.secrets[0].name: required by Secret",
        "app.secrets[0].valueFrom: required by Secret",
    ]


def test_the_app_alone_is_essential(dev: Synth) -> None:
    # ContainerDefinition.essential: "If the essential parameter of a container is marked as true,
    # and that container fails or stops for any reason, all other containers that are part of the
    # task are stopped." An app that dies must end its task (the service starts another); the
    # tracing sidecar's failure must not take the app down with it.
    assert {name: c["essential"] for name, c in containers(dev["platform"]).items()} == {
        "app": True,
        XRAY_CONTAINER: False,
    }


def test_the_app_writes_to_a_tmp_volume_of_its_task_and_nowhere_else(dev: Synth) -> None:
    # With a read-only root (ECS.5) the app's only writable path is a volume of the task mounted at
    # /tmp; MountPoint.sourceVolume "must match the name of a volume" of the task definition.
    td = one(dev["platform"], "aws_ecs_task_definition")
    found = containers(dev["platform"])
    (mount,) = found["app"]["mountPoints"]
    assert mount == {"sourceVolume": mount["sourceVolume"], "containerPath": "/tmp", "readOnly": False}
    assert mount["sourceVolume"] in {v["name"] for v in td["volume"]}
    assert "mountPoints" not in found[XRAY_CONTAINER]


def test_readonly_root_can_be_turned_off(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", service={"readonly_root_filesystem": False}))["platform"]
    assert containers(doc)["app"]["readonlyRootFilesystem"] is False


def test_service_private_no_public_ip_behind_alb_with_circuit_breaker(dev: Synth) -> None:
    svc = one(dev["platform"], "aws_ecs_service")
    net = svc["network_configuration"]
    assert net["assign_public_ip"] is False
    assert all("network_private-" in s for s in net["subnets"])
    assert svc["launch_type"] == "FARGATE"
    assert svc["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert svc["health_check_grace_period_seconds"] == 60
    (lb,) = svc["load_balancer"]
    assert (lb["container_name"], lb["container_port"]) == ("app", 8080)
    assert lb["target_group_arn"].startswith("${aws_lb_target_group.")


def test_the_service_runs_its_desired_count_and_keeps_it_serving_through_a_deployment(
    shipped: tuple[Settings, Synth],
) -> None:
    """CreateService's deploymentConfiguration: with a minimum healthy percent of 100, ECS starts
    the new revision's tasks before it stops any old one, so a rollout never serves with fewer
    than desired_count tasks (with one task, anything lower lets ECS stop the only one first);
    a maximum of 200 leaves room for a whole new set beside the old."""
    settings, docs = shipped
    svc = one(docs["platform"], "aws_ecs_service")
    assert svc["desired_count"] == settings.service.desired_count
    assert svc["deployment_minimum_healthy_percent"] == 100
    assert svc["deployment_maximum_percent"] == 200


def test_an_apply_does_not_wait_for_the_rollout_it_starts(shipped: tuple[Settings, Synth]) -> None:
    """ECS judges a rollout itself (the circuit breaker and the deployment alarms roll it back), so
    terraform returns once ECS has the service: waiting for a steady state (the provider's
    ``wait_for_steady_state``, false unless set) would hold the state lock for up to 20 minutes
    and fail an apply whose resources all exist when the first tasks are slow."""
    _, docs = shipped
    svc = one(docs["platform"], "aws_ecs_service")
    assert svc.get("wait_for_steady_state", False) is False
    assert svc["deployment_circuit_breaker"] == {"enable": True, "rollback": True}


def test_the_service_waits_for_the_listener_that_forwards_to_its_target_group(shipped: tuple[Settings, Synth]) -> None:
    """ECS refuses a service whose target group no listener uses yet ("The target group with
    targetGroupArn ... does not have an associated load balancer"), and the provider retries
    CreateService for about four minutes. Terraform sees only the service's reference to the
    target group, so the service depends on the forwarding listener explicitly: with HTTPS the
    HTTPS one (it waits for the certificate's validation); the HTTP one then only redirects."""
    settings, docs = shipped
    doc = docs["platform"]
    svc = one(doc, "aws_ecs_service")
    (lb,) = svc["load_balancer"]
    forwarding = {
        f"aws_lb_listener.{key}": listener
        for key, listener in resources(doc, "aws_lb_listener").items()
        if any(
            a["type"] == "forward" and a["target_group_arn"] == lb["target_group_arn"]
            for a in listener["default_action"]
        )
    }
    assert forwarding, "no listener forwards to the service's target group"
    assert set(forwarding) <= set(svc["depends_on"])
    https = settings.edge.domain_name is not None or settings.edge.certificate_arn is not None
    assert {listener["protocol"] for listener in forwarding.values()} == {"HTTPS" if https else "HTTP"}


def test_tasks_carry_the_platforms_tags_on_a_platform_version_fargate_names(dev: Synth) -> None:
    # CreateService: propagateTags "If no value is specified, the tags aren't propagated" (tasks
    # then carry none of the cost-allocation tags); platformVersion is LATEST or a version
    # number ("1.4.0"), spelled as AWS spells it.
    svc = one(dev["platform"], "aws_ecs_service")
    assert svc["propagate_tags"] in {"SERVICE", "TASK_DEFINITION"}
    assert svc["enable_ecs_managed_tags"] is True
    assert re.fullmatch(r"LATEST|\d+\.\d+\.\d+", svc["platform_version"]), svc["platform_version"]


def test_service_rolls_back_when_a_health_alarm_fires_during_a_deployment(shipped: tuple[Settings, Synth]) -> None:
    """Every environment: ECS watches the 5xx and unhealthy-targets alarms during a rollout and
    rolls back when one fires; the names are those of alarms this stack creates, on the
    metrics of this service's load balancer and target group."""
    settings, docs = shipped
    doc = docs["platform"]
    svc = one(doc, "aws_ecs_service")
    assert svc["alarms"]["enable"] is True
    assert svc["alarms"]["rollback"] is True
    alarms = {a["alarm_name"]: a for a in resources(doc, "aws_cloudwatch_metric_alarm").values()}
    names = svc["alarms"]["alarm_names"]
    prefix = f"{settings.project}-{settings.environment_suffix}"
    assert names == [f"{prefix}-alb-5xx", f"{prefix}-unhealthy-targets"]
    watched = {alarms[n]["metric_name"]: alarms[n] for n in names}
    assert set(watched) == {"HTTPCode_ELB_5XX_Count", "UnHealthyHostCount"}
    for alarm in watched.values():
        assert alarm["namespace"] == "AWS/ApplicationELB"
        assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["dimensions"]["LoadBalancer"].startswith("${aws_lb.load-balancer_this_")
    assert watched["UnHealthyHostCount"]["dimensions"]["TargetGroup"].startswith(
        "${aws_lb_target_group.load-balancer_target-group_"
    )
    # Plain names, not references: the service does not wait for the observability resources.
    assert not any("${" in n for n in names)


def test_terraform_ignores_exactly_the_pipeline_owned_attributes(shipped: tuple[Settings, Synth]) -> None:
    _, docs = shipped
    ignored = {
        f"{rtype}.{name}": body["lifecycle"]["ignore_changes"]
        for rtype, items in docs["platform"]["resource"].items()
        for name, body in items.items()
        if body.get("lifecycle", {}).get("ignore_changes")
    }
    service = [k for k in ignored if k.startswith("aws_ecs_service.")]
    assert len(service) == 1
    assert ignored.pop(service[0]) == ["task_definition"] == list(PIPELINE_OWNED_ATTRIBUTES)
    # The first source.zip (the sample application) is Terraform's only once: a user's upload
    # afterwards is theirs (constructs_lib/first_source.py).
    (first_source,) = [k for k in ignored if k.startswith("aws_s3_object.")]
    assert ignored.pop(first_source) == "all"
    # The only other ignored attribute: secret values owned by rotation/operators.
    assert set(map(tuple, ignored.values())) == {("secret_string",)}
    assert all(k.startswith("aws_secretsmanager_secret_version.") for k in ignored)


def test_fargate_memory_must_match_cpu() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", service={"cpu": 256, "memory": 4096})
    assert info.value.problems[0].startswith("service = ")
    assert "not a Fargate size for cpu = 256; allowed: 512, 1024, 2048" in info.value.problems[0]


# --- buckets -----------------------------------------------------------------


def test_artifact_and_source_buckets_encrypted_versioned_expiring(dev: Synth) -> None:
    doc = dev["platform"]
    names = {k: b["bucket"] for k, b in resources(doc, "aws_s3_bucket").items()}
    for purpose in ("artifacts", "source"):
        key = next(k for k, n in names.items() if n == f"cicd-{purpose}-dev-123456789012-us-east-1")
        sse = next(
            s
            for s in resources(doc, "aws_s3_bucket_server_side_encryption_configuration").values()
            if key in s["bucket"]
        )
        assert sse["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
        versioning = next(v for v in resources(doc, "aws_s3_bucket_versioning").values() if key in v["bucket"])
        assert versioning["versioning_configuration"]["status"] == "Enabled"
        policy = next(p for p in resources(doc, "aws_s3_bucket_policy").values() if key in p["bucket"])
        assert "DenyInsecureTransport" in statements(policy["policy"])
        lifecycle = next(
            lc for lc in resources(doc, "aws_s3_bucket_lifecycle_configuration").values() if key in lc["bucket"]
        )
        assert lifecycle["rule"][0]["noncurrent_version_expiration"][0]["noncurrent_days"] == 30
    artifacts_key = next(k for k, n in names.items() if n == "cicd-artifacts-dev-123456789012-us-east-1")
    lifecycle = next(
        lc for lc in resources(doc, "aws_s3_bucket_lifecycle_configuration").values() if artifacts_key in lc["bucket"]
    )
    assert lifecycle["rule"][0]["expiration"] == [{"days": 30}]


# --- CodeBuild -------------------------------------------------------------


def test_codebuild_encrypted_privileged_logged(dev: Synth) -> None:
    project = one(dev["platform"], "aws_codebuild_project")
    assert project["encryption_key"].startswith("${aws_kms_key.key_")
    assert project["environment"]["privileged_mode"] is True
    assert project["logs_config"]["cloudwatch_logs"]["status"] == "ENABLED"
    assert project["logs_config"]["cloudwatch_logs"]["group_name"].startswith(
        "${aws_cloudwatch_log_group.pipeline_build-log-group_"
    )
    assert project["source"]["type"] == project["artifacts"]["type"] == "CODEPIPELINE"


def test_codebuild_gets_the_buildspec_as_written_after_terraform_renders_it() -> None:
    """Terraform would read the shell's ``${VAR}`` as interpolation; the escape must
    leave exactly the shell script in the project. Checked on what terraform
    applied (a real plan of the emulator deployment), not by repeating the escape."""
    with gzip.open(ROOT / "tests" / "fixtures" / "plans" / "no_change.json.gz", "rt", encoding="utf-8") as f:
        plan = json.load(f)
    (project,) = [
        r["values"] for r in plan["prior_state"]["values"]["root_module"]["resources"]
        if r["type"] == "aws_codebuild_project"
    ]  # fmt: skip
    assert project["source"][0]["buildspec"] == BUILDSPEC_SHELL
    assert '"${REPOSITORY_URI%%/*}"' in project["source"][0]["buildspec"]


def test_buildspec_builds_tags_with_commit_pushes_and_writes_imagedefinitions(dev: Synth) -> None:
    spec = yaml.safe_load(BUILDSPEC_SHELL)
    commands = "\n".join(c for phase in spec["phases"].values() for c in phase["commands"])
    assert "CODEBUILD_RESOLVED_SOURCE_VERSION" in commands
    assert 'docker build --tag "$REPOSITORY_URI:$IMAGE_TAG"' in commands
    assert 'docker push "$REPOSITORY_URI:$IMAGE_TAG"' in commands
    assert "imagedefinitions.json" in commands
    assert spec["artifacts"]["files"] == ["imagedefinitions.json"]


def test_codebuild_role_least_privilege(dev: Synth) -> None:
    key, role = role_named(dev["platform"], "cicd-codebuild-role-dev")
    assert statements(role["assume_role_policy"])["TrustService"]["Principal"] == {"Service": "codebuild.amazonaws.com"}
    stmts = inline_policy(dev["platform"], key)
    assert set(stmts) == {"WriteLogs", "Artifacts", "ArtifactsBucketIdentity", "EcrLogin", "PushImage", "UseKey"}
    assert stmts["PushImage"]["Resource"].startswith("${aws_ecr_repository.")
    # CodeBuild's documented service-role policy ("S3BucketIdentity"), on the artifact bucket only.
    assert stmts["ArtifactsBucketIdentity"]["Action"] == ["s3:GetBucketAcl", "s3:GetBucketLocation"]
    assert stmts["ArtifactsBucketIdentity"]["Resource"] == stmts["Artifacts"]["Resource"].removesuffix("/*")
    assert stmts["ArtifactsBucketIdentity"]["Resource"].startswith("${aws_s3_bucket.artifacts_")


#: An S3 object version id as AWS documents one: "URL-ready, opaque strings" with + and /.
VERSION_IDS = (
    "3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
    "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
    ".lead-dot_and-dash",
)
DOCKER_TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"


def image_tag(source_version: str | None, build_number: str = "7") -> str:
    """Runs the buildspec's own tag commands in bash, as CodeBuild would."""
    spec = yaml.safe_load(BUILDSPEC_SHELL)
    pre = spec["phases"]["pre_build"]["commands"]
    script = "\n".join(c for c in pre if "docker login" not in c) + '\nprintf "%s" "$IMAGE_TAG"'
    env = {"PATH": "/usr/bin:/bin", "CODEBUILD_BUILD_NUMBER": build_number, "REPOSITORY_URI": "r/x"}
    if source_version is not None:
        env["CODEBUILD_RESOLVED_SOURCE_VERSION"] = source_version
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1]  # after the build log's "image tag ..." line


@pytest.mark.parametrize("version", VERSION_IDS)
def test_image_tag_from_an_s3_version_id_is_a_valid_docker_tag(version: str) -> None:
    import re

    tag = image_tag(version)
    assert re.match(DOCKER_TAG, tag), tag
    assert tag == image_tag(version)  # the same source always gets the same tag (tags are immutable)
    assert tag != image_tag(version + "x")


def test_image_tag_of_a_commit_is_its_short_id_and_a_build_without_source_is_tagged_too() -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    assert image_tag(commit) == "0123456789ab"
    import re

    assert re.match(DOCKER_TAG, image_tag(None))


# --- CodePipeline ----------------------------------------------------------


def stage_names(doc: dict[str, Any]) -> list[str]:
    return [s["name"] for s in one(doc, "aws_codepipeline")["stage"]]


def test_pipeline_v2_stages_without_approval(dev: Synth) -> None:
    pipeline = one(dev["platform"], "aws_codepipeline")
    assert pipeline["pipeline_type"] == "V2"
    assert stage_names(dev["platform"]) == ["Source", "Build", "Deploy"]


def test_pipeline_stages_with_approval_in_prod(prod: Synth) -> None:
    assert stage_names(prod["platform"]) == ["Source", "Build", "Approval", "Deploy"]
    approval = one(prod["platform"], "aws_codepipeline")["stage"][2]["action"][0]
    assert (approval["category"], approval["provider"]) == ("Approval", "Manual")
    assert approval["configuration"]["NotificationArn"].startswith("${aws_sns_topic.")


def test_artifact_store_encrypted_with_key(dev: Synth) -> None:
    store = one(dev["platform"], "aws_codepipeline")["artifact_store"][0]
    assert store["type"] == "S3"
    assert store["encryption_key"]["type"] == "KMS"
    assert store["encryption_key"]["id"].startswith("${aws_kms_key.key_")


def test_s3_source_started_by_eventbridge_not_polling(dev: Synth) -> None:
    doc = dev["platform"]
    source = one(doc, "aws_codepipeline")["stage"][0]["action"][0]
    assert source["provider"] == "S3"
    assert source["configuration"]["PollForSourceChanges"] == "false"
    notifications = [
        n for n in resources(doc, "aws_s3_bucket_notification").values() if "pipeline_source_" in n["bucket"]
    ]
    assert [n["eventbridge"] for n in notifications] == [True]
    rule = next(
        r for r in resources(doc, "aws_cloudwatch_event_rule").values() if r["name"] == "cicd-source-changed-dev"
    )
    pattern = json.loads(rule["event_pattern"])
    assert pattern["detail"]["object"]["key"] == ["source.zip"]
    target = next(t for t in resources(doc, "aws_cloudwatch_event_target").values() if "source-changed" in t["rule"])
    assert target["arn"].startswith("${aws_codepipeline.")


def test_github_source_through_codestar_connection(synth: Callable[[Settings], Synth]) -> None:
    s = make_settings("dev", pipeline={"codestar_connection_arn": CONNECTION, "github_repository": "acme/web"})
    doc = synth(s)["platform"]
    source = one(doc, "aws_codepipeline")["stage"][0]["action"][0]
    assert source["provider"] == "CodeStarSourceConnection"
    assert source["configuration"]["FullRepositoryId"] == "acme/web"
    assert not any(
        b["bucket"] == "cicd-source-dev-123456789012-us-east-1" for b in resources(doc, "aws_s3_bucket").values()
    )
    key, _ = role_named(doc, "cicd-pipeline-role-dev")
    assert inline_policy(doc, key)["UseConnection"]["Resource"] == CONNECTION
    assert inline_policy(doc, key)["UseConnection"]["Action"] == "codestar-connections:UseConnection"


def test_codeconnections_arn_gets_the_codeconnections_action(synth: Callable[[Settings], Synth]) -> None:
    """ "When specifying a resource in the IAM policy, the service prefix needs to match that of
    the resource" (Developer Tools console guide): connections made since July 2024 are codeconnections."""
    arn = CONNECTION.replace(":codestar-connections:", ":codeconnections:")
    doc = synth(make_settings("dev", pipeline={"codestar_connection_arn": arn, "github_repository": "acme/web"}))[
        "platform"
    ]
    key, _ = role_named(doc, "cicd-pipeline-role-dev")
    stmt = inline_policy(doc, key)["UseConnection"]
    assert (stmt["Action"], stmt["Resource"]) == ("codeconnections:UseConnection", arn)


def test_github_settings_must_come_together() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", pipeline={"github_repository": "acme/web"})
    assert "must be set together" in info.value.problems[0]


def test_deploy_stage_invokes_the_orchestrator(dev: Synth) -> None:
    deploy = one(dev["platform"], "aws_codepipeline")["stage"][-1]["action"][0]
    assert (deploy["category"], deploy["provider"]) == ("Invoke", "Lambda")
    assert deploy["configuration"]["FunctionName"].startswith("${aws_lambda_function.orchestrator_")
    assert deploy["input_artifacts"] == ["build"]


def test_pipeline_role_trust_is_exactly_codepipeline(dev: Synth) -> None:
    _, role = role_named(dev["platform"], "cicd-pipeline-role-dev")
    trust = statements(role["assume_role_policy"])["TrustService"]
    assert trust["Principal"] == {"Service": "codepipeline.amazonaws.com"}


# --- orchestrator Lambda ------------------------------------------------------


def test_the_packaged_function_loads_the_way_lambda_loads_it(tmp_path: Path) -> None:
    """Lambda puts the package's root on sys.path and imports the handler string's
    module: the handler and the contract it imports must both be in the package."""
    packaged = package_source(SOURCE_DIR)
    assert sorted(p.relative_to(packaged).as_posix() for p in packaged.rglob("*")) == [
        "deploy_orchestrator",
        "deploy_orchestrator/__init__.py",
        "deploy_orchestrator/contract.py",
        "deploy_orchestrator/handler.py",
    ]
    # Imported from a copy: an import writes __pycache__, and the packaged folder is shared.
    staging = tmp_path / "package"
    shutil.copytree(packaged, staging)
    module, function = HANDLER.rsplit(".", 1)
    probe = f"import importlib; f = getattr(importlib.import_module({module!r}), {function!r}); print(callable(f))"
    # -I: no current directory, no PYTHONPATH from this process; only the package root.
    proc = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(staging)!r}); {probe}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=staging,
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, "True"), proc.stderr


def test_orchestrator_function_settings(dev: Synth) -> None:
    (fn,) = [f for k, f in resources(dev["platform"], "aws_lambda_function").items() if k.startswith("orchestrator_")]
    assert fn["runtime"] == "python3.12"
    assert fn["tracing_config"] == {"mode": "Active"}
    assert fn["handler"] == HANDLER == "deploy_orchestrator.handler.handler"
    assert set(fn["environment"]["variables"]) == set(contract.ENVIRONMENT_VARIABLES)
    assert fn["filename"].startswith("assets/")
    # No reservation unless the settings ask: AWS keeps 100 unreserved executions per account,
    # which new accounts with a low quota cannot spare.
    assert "reserved_concurrent_executions" not in fn


def test_reserved_concurrency_only_when_set(synth: Callable[[Settings], Synth], dev: Synth, prod: Synth) -> None:
    """Each function reserves exactly its own setting (the two values are set apart), and prod
    ships both, so a deploy or rollback is never starved by the account's other functions."""

    def reserved(doc: Synth) -> dict[str, int | None]:
        functions = resources(doc["platform"], "aws_lambda_function").items()
        return {k.split("_")[0]: f.get("reserved_concurrent_executions") for k, f in functions}

    both = {"orchestrator_reserved_concurrency": 5, "mirror_reserved_concurrency": 3}
    assert reserved(synth(make_settings("dev", pipeline=both))) == {"orchestrator": 5, "mirror": 3}
    assert reserved(dev) == {"orchestrator": None, "mirror": None}
    assert reserved(prod) == {"orchestrator": 5, "mirror": 2}


def test_orchestrator_role_statements_exact(dev: Synth) -> None:
    doc = dev["platform"]
    key, role = role_named(doc, "cicd-orchestrator-role-dev")
    assert statements(role["assume_role_policy"])["TrustService"]["Principal"] == {"Service": "lambda.amazonaws.com"}
    stmts = inline_policy(doc, key)
    assert stmts["XRayTracing"]["Action"] == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    assert stmts["XRayTracing"]["Resource"] == "*"
    assert stmts["ReadSettings"]["Action"] == "secretsmanager:GetSecretValue"
    assert stmts["ReadSettings"]["Resource"].startswith("${aws_secretsmanager_secret.secrets_orchestrator_")
    assert stmts["RollService"]["Action"] == ["ecs:UpdateService", "ecs:DescribeServices"]
    service = "service/cicd-cluster-dev/cicd-service-dev"
    assert stmts["RollService"]["Resource"] == f"arn:{PARTITION_TOKEN}:ecs:us-east-1:{ACCOUNT_TOKEN}:{service}"
    assert stmts["TaskDefinitions"]["Action"] == ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"]
    assert stmts["PassTaskRoles"]["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert len(stmts["PassTaskRoles"]["Resource"]) == 2
    assert all(r.startswith("${aws_iam_role.service_") for r in stmts["PassTaskRoles"]["Resource"])
    assert stmts["ReportJobResult"]["Action"] == [
        "codepipeline:PutJobSuccessResult",
        "codepipeline:PutJobFailureResult",
    ]
    assert stmts["ReadArtifacts"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert stmts["ReadArtifacts"]["Resource"].endswith("/*")
    assert stmts["UseKey"]["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    assert stmts["DeadLetter"]["Action"] == "sqs:SendMessage"
    assert stmts["DeadLetter"]["Resource"].startswith("${aws_sqs_queue.notifications_dlq_")
    assert set(stmts) == {
        "WriteLogs", "XRayTracing", "ReadSettings", "RollService", "TaskDefinitions",
        "PassTaskRoles", "ReportJobResult", "ReadArtifacts", "UseKey", "DeadLetter", "TagNewRevisions",
    }  # fmt: skip
    # Registering a revision with the family's tags needs ecs:TagResource, only on registration.
    assert stmts["TagNewRevisions"] == {
        "Sid": "TagNewRevisions",
        "Effect": "Allow",
        "Action": "ecs:TagResource",
        "Resource": f"arn:{PARTITION_TOKEN}:ecs:us-east-1:{ACCOUNT_TOKEN}:task-definition/cicd-app-dev:*",
        "Condition": {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}},
    }


def test_active_tracing_always_comes_with_xray_permissions(shipped: tuple[Settings, Synth]) -> None:
    """Tracing without PutTraceSegments silently loses every trace."""
    _, docs = shipped
    doc = docs["platform"]
    traced = {n: fn for n, fn in resources(doc, "aws_lambda_function").items()
              if fn.get("tracing_config", {}).get("mode") == "Active"}  # fmt: skip
    assert any(n.startswith("orchestrator_this_") for n in traced), "the orchestrator is traced"
    for fn in traced.values():
        role_key = fn["role"].split(".")[1]
        actions = {
            a
            for s in inline_policy(doc, role_key).values()
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= actions


# --- X-Ray -------------------------------------------------------------------


def test_sampling_rule_fields(dev: Synth) -> None:
    rule = one(dev["platform"], "aws_xray_sampling_rule")
    assert rule["rule_name"] == "cicd-dev"
    assert (rule["priority"], rule["version"], rule["reservoir_size"], rule["fixed_rate"]) == (1000, 1, 1, 0.1)
    for field in ("url_path", "http_method", "service_name", "service_type", "host", "resource_arn"):
        assert rule[field] == "*", field


def test_sampling_rate_from_settings(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", observability={"xray_sampling_rate": 0.5}))["platform"]
    assert one(doc, "aws_xray_sampling_rule")["fixed_rate"] == 0.5

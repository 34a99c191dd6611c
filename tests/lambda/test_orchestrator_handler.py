"""The deploy orchestrator's handler against moto's in-process mocks.

ECS, S3 and Secrets Manager are moto; CodePipeline's job-result APIs are not
in moto, so that client is a botocore Stubber that records each call. Every
path must report exactly one job result.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from lambda_src.deploy_orchestrator import handler as orchestrator
from lambda_src.deploy_orchestrator.contract import APP_CONTAINER, ENV_CLUSTER, ENV_SECRET_ARN, ENV_SERVICE

REGION = "us-east-1"
CLUSTER, SERVICE = "cicd-cluster-test", "cicd-service-test"
ARTIFACT_BUCKET, ARTIFACT_KEY = "cicd-artifacts-test", "pipeline/build/abc.zip"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cicd-app-test:0123456789ab"
NOW = 1_800_000_000.0
#: A revision as Terraform registers it (constructs_lib/service.py): every field the
#: orchestrator must carry over, tags included.
LOGS: dict[str, Any] = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/cicd-test", "awslogs-region": REGION,
                                            "awslogs-stream-prefix": "app", "mode": "non-blocking",
                                            "max-buffer-size": "25m"}}  # fmt: skip
TERRAFORMS_REVISION: dict[str, Any] = {
    "family": "cicd-app-test",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "executionRoleArn": "arn:aws:iam::123456789012:role/cicd-task-exec-role-test",
    "taskRoleArn": "arn:aws:iam::123456789012:role/cicd-task-role-test",
    "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
    "volumes": [{"name": "tmp"}],
    "tags": [{"key": "project", "value": "cicd"}, {"key": "cost-center", "value": "engineering"}],
    "containerDefinitions": [
        {
            "name": APP_CONTAINER,
            "image": "public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine",
            "essential": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "readonlyRootFilesystem": True,
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
            "secrets": [{"name": "APP_SECRET", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:a"}],
            "environment": [{"name": "AWS_XRAY_DAEMON_ADDRESS", "value": "localhost:2000"}],
            "logConfiguration": LOGS,
            "dependsOn": [{"containerName": "xray-daemon", "condition": "START"}],
        },
        {
            "name": "xray-daemon",
            "image": "public.ecr.aws/xray/aws-xray-daemon:3.3.14",
            "essential": False,
            "cpu": 32,
            "memoryReservation": 64,
            "readonlyRootFilesystem": True,
            "portMappings": [{"containerPort": 2000, "protocol": "udp"}],
            "logConfiguration": {**LOGS, "options": {**LOGS["options"], "awslogs-stream-prefix": "xray-daemon"}},
        },
    ],
}


@dataclass
class World:
    clients: dict[str, Any]
    secret_arn: str
    env: dict[str, str]
    results: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stubber: Stubber | None = None

    def expect(self, method: str, count: int = 1) -> None:
        """Queue ``count`` job-result calls; the stub records their parameters."""
        assert self.stubber is not None
        for _ in range(count):
            self.stubber.add_response(method, {}, None)

    def factory(self) -> Callable[[str], Any]:
        return lambda name: self.clients[name]

    def run(self, event: dict[str, Any], clock: float = NOW) -> dict[str, Any]:
        return orchestrator.Orchestrator(self.env, self.factory(), clock=lambda: clock).run(event, "req-1")


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        ecs = boto3.client("ecs", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        secrets = boto3.client("secretsmanager", region_name=REGION)
        codepipeline = boto3.client("codepipeline", region_name=REGION)
        ecs.create_cluster(clusterName=CLUSTER)
        td = ecs.register_task_definition(**TERRAFORMS_REVISION)["taskDefinition"]
        ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=td["taskDefinitionArn"], desiredCount=1)
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)
        secret_arn = secrets.create_secret(
            Name="cicd/test/orchestrator",
            SecretString=json.dumps({"deployment_timeout_seconds": 600, "container_name": APP_CONTAINER}),
        )["ARN"]
        w = World(
            clients={"ecs": ecs, "s3": s3, "secretsmanager": secrets, "codepipeline": codepipeline},
            secret_arn=secret_arn,
            env={ENV_CLUSTER: CLUSTER, ENV_SERVICE: SERVICE, ENV_SECRET_ARN: secret_arn},
        )

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:  # every job-result call
            w.results.append((model.name, dict(params)))

        codepipeline.meta.events.register("before-parameter-build.codepipeline.*", record)
        stubber = Stubber(codepipeline)
        w.stubber = stubber
        with stubber:
            yield w
        stubber.assert_no_pending_responses()


def put_artifact(world: World, definitions: Any = None, raw: bytes | None = None) -> None:
    if raw is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr(
                orchestrator.IMAGE_DEFINITIONS,
                json.dumps(definitions if definitions is not None else [{"name": APP_CONTAINER, "imageUri": IMAGE}]),
            )
        raw = buf.getvalue()
    world.clients["s3"].put_object(Bucket=ARTIFACT_BUCKET, Key=ARTIFACT_KEY, Body=raw)


def job(token: str | None = None, artifacts: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if artifacts:
        data["inputArtifacts"] = [
            {
                "name": "build",
                "location": {"type": "S3", "s3Location": {"bucketName": ARTIFACT_BUCKET, "objectKey": ARTIFACT_KEY}},
            }
        ]
    if token is not None:
        data["continuationToken"] = token
    return {"CodePipeline.job": {"id": "job-1", "data": data}}


def only_result(world: World) -> tuple[str, dict[str, Any]]:
    assert len(world.results) == 1, world.results
    return world.results[0]


def describe_service(world: World) -> dict[str, Any]:
    return dict(world.clients["ecs"].describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0])


def patch_deployments(world: World, deployments: list[dict[str, Any]]) -> None:
    """moto does not simulate rollouts: wrap describe_services to return these."""
    ecs = world.clients["ecs"]
    real = ecs.describe_services

    def fake(**kwargs: Any) -> dict[str, Any]:
        out = real(**kwargs)
        out["services"][0]["deployments"] = deployments
        return dict(out)

    ecs.describe_services = fake


# --- start: register a revision and hand back a continuation token ---------


def test_start_registers_revision_with_only_the_image_changed(world: World) -> None:
    put_artifact(world)
    before = describe_service(world)["taskDefinition"]
    world.expect("put_job_success_result")
    result = world.run(job())
    assert result == {"result": "in-progress"}

    after = describe_service(world)["taskDefinition"]
    assert after != before
    old = world.clients["ecs"].describe_task_definition(taskDefinition=before, include=["TAGS"])
    new = world.clients["ecs"].describe_task_definition(taskDefinition=after, include=["TAGS"])
    assert [c["image"] for c in new["taskDefinition"]["containerDefinitions"]] == [IMAGE, TERRAFORMS_REVISION[
        "containerDefinitions"][1]["image"]]  # fmt: skip
    # Everything else as Terraform registered it: a field dropped is a defect (the task role,
    # the read-only root, the secret, the sidecar's log stream, the tags).
    expected = {k: v for k, v in old["taskDefinition"].items() if k not in orchestrator.READ_ONLY_FIELDS}
    expected["containerDefinitions"] = [
        {**c, "image": IMAGE} if c["name"] == APP_CONTAINER else c for c in expected["containerDefinitions"]
    ]
    assert {k: v for k, v in new["taskDefinition"].items() if k not in orchestrator.READ_ONLY_FIELDS} == expected
    assert new["tags"] == old["tags"] == TERRAFORMS_REVISION["tags"]

    name, params = only_result(world)
    assert name == "PutJobSuccessResult"
    token = json.loads(params["continuationToken"])
    assert token == {"taskDefinition": after, "image": IMAGE, "deadline": int(NOW) + 600}


def test_start_builds_on_the_newest_revision_terraform_registered(world: World) -> None:
    """Terraform ignores the service's task_definition; what it changed since the
    last deploy (here the sidecar's image and the memory) goes out with the next one."""
    ecs = world.clients["ecs"]
    running = ecs.describe_task_definition(taskDefinition=describe_service(world)["taskDefinition"])["taskDefinition"]
    cached_sidecar = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cicd-ecrpub-test/xray/aws-xray-daemon:3.3.14"
    changed = {k: v for k, v in running.items() if k not in orchestrator.READ_ONLY_FIELDS}
    changed["memory"] = "1024"
    changed["containerDefinitions"] = [
        {**c, "image": cached_sidecar} if c["name"] == "xray-daemon" else c for c in running["containerDefinitions"]
    ]
    ecs.register_task_definition(**changed)  # what `terraform apply` does; the service stays on the old one
    put_artifact(world)
    world.expect("put_job_success_result")
    world.run(job())

    new = ecs.describe_task_definition(taskDefinition=describe_service(world)["taskDefinition"])["taskDefinition"]
    assert new["revision"] == running["revision"] + 2
    assert [c["image"] for c in new["containerDefinitions"]] == [IMAGE, cached_sidecar]
    assert new["memory"] == "1024"


# --- continuation: in progress, success, failure, rollback, timeout --------


def _token(world: World, deadline: float = NOW + 600) -> tuple[str, str]:
    arn = describe_service(world)["taskDefinition"]
    return arn, json.dumps({"taskDefinition": arn, "image": IMAGE, "deadline": deadline})


def test_in_progress_returns_another_continuation(world: World) -> None:
    arn, token = _token(world)
    patch_deployments(world, [{"taskDefinition": arn, "status": "PRIMARY", "rolloutState": "IN_PROGRESS"}])
    world.expect("put_job_success_result")
    assert world.run(job(token)) == {"result": "in-progress"}
    name, params = only_result(world)
    assert name == "PutJobSuccessResult"
    assert json.loads(params["continuationToken"])["taskDefinition"] == arn


def test_completed_deployment_succeeds_without_token(world: World) -> None:
    arn, token = _token(world)
    patch_deployments(world, [{"taskDefinition": arn, "status": "PRIMARY", "rolloutState": "COMPLETED"}])
    world.expect("put_job_success_result")
    assert world.run(job(token)) == {"result": "succeeded"}
    name, params = only_result(world)
    assert name == "PutJobSuccessResult"
    assert "continuationToken" not in params


def test_failed_deployment_reports_failure(world: World) -> None:
    arn, token = _token(world)
    patch_deployments(
        world,
        [{"taskDefinition": arn, "status": "PRIMARY", "rolloutState": "FAILED", "rolloutStateReason": "tasks failed"}],
    )
    world.expect("put_job_failure_result")
    result = world.run(job(token))
    assert result["result"] == "failed"
    name, params = only_result(world)
    assert name == "PutJobFailureResult"
    assert "failed and was rolled back: tasks failed" in params["failureDetails"]["message"]
    assert params["failureDetails"]["externalExecutionId"] == "req-1"


def test_rolled_back_deployment_reports_failure(world: World) -> None:
    arn, token = _token(world)
    patch_deployments(
        world,
        [
            {"taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/old:1", "status": "PRIMARY"},
            {"taskDefinition": arn, "status": "ACTIVE", "rolloutState": "FAILED"},
        ],
    )
    world.expect("put_job_failure_result")
    assert world.run(job(token))["result"] == "failed"
    name, params = only_result(world)
    assert name == "PutJobFailureResult"
    assert "rolled back" in params["failureDetails"]["message"]


def test_alarm_rollback_reports_failure_naming_the_alarm(world: World) -> None:
    """A revision that starts but serves errors: a deployment alarm fires, ECS fails the rollout
    and rolls back to the last completed deployment (the shape DescribeServices returns while
    it does: the old revision PRIMARY again, ours ACTIVE and FAILED with the reason)."""
    arn, token = _token(world)
    reason = "ECS deployment ecs-svc/123 detected triggered alarms: cicd-test-alb-5xx. Rolling back."
    patch_deployments(
        world,
        [
            {"taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/old:1", "status": "PRIMARY",
             "rolloutState": "IN_PROGRESS"},
            {"taskDefinition": arn, "status": "ACTIVE", "rolloutState": "FAILED", "rolloutStateReason": reason},
        ],
    )  # fmt: skip
    world.expect("put_job_failure_result")
    message = f"deployment of {arn} failed and was rolled back: {reason}"
    assert world.run(job(token)) == {"result": "failed", "message": message}
    name, params = only_result(world)
    assert name == "PutJobFailureResult"
    assert params["failureDetails"]["message"] == message
    assert params["failureDetails"]["type"] == "JobFailed"


REPLACED = (
    "deployment of {arn} was replaced by another deployment (rolled back or superseded); "
    "see the service's events in the ECS console"
)


def test_deployment_replaced_by_another_reports_failure(world: World) -> None:
    arn, token = _token(world)
    patch_deployments(world, [{"taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/x:9", "status": "PRIMARY"}])
    world.expect("put_job_failure_result")
    assert world.run(job(token)) == {"result": "failed", "message": REPLACED.format(arn=arn)}
    assert only_result(world)[1]["failureDetails"]["message"] == REPLACED.format(arn=arn)


def test_a_service_that_lists_no_deployments_reports_ours_replaced(world: World) -> None:
    """DescribeServices leaves out ``deployments`` for a service being deleted (and moto for a
    service it never deployed): nothing of ours runs."""
    arn, token = _token(world)
    ecs = world.clients["ecs"]
    real = ecs.describe_services

    def without(**kwargs: Any) -> dict[str, Any]:
        out = real(**kwargs)
        out["services"][0].pop("deployments", None)
        return dict(out)

    ecs.describe_services = without
    world.expect("put_job_failure_result")
    assert world.run(job(token)) == {"result": "failed", "message": REPLACED.format(arn=arn)}


def test_timeout_reports_failure(world: World) -> None:
    arn, token = _token(world, deadline=NOW - 1)
    patch_deployments(world, [{"taskDefinition": arn, "status": "PRIMARY", "rolloutState": "IN_PROGRESS"}])
    world.expect("put_job_failure_result")
    assert world.run(job(token))["result"] == "failed"
    assert only_result(world)[1]["failureDetails"]["message"] == (
        f"deployment of {arn} still in progress after the timeout; "
        "check task health in the target group and the service events"
    )


def test_at_the_deadline_itself_the_deployment_still_has_time(world: World) -> None:
    arn, token = _token(world, deadline=NOW)
    patch_deployments(world, [{"taskDefinition": arn, "status": "PRIMARY", "rolloutState": "IN_PROGRESS"}])
    world.expect("put_job_success_result")
    assert world.run(job(token), clock=NOW) == {"result": "in-progress"}


def test_a_rollback_without_a_reason_names_what_rolls_back(world: World) -> None:
    arn, token = _token(world)
    patch_deployments(world, [{"taskDefinition": arn, "status": "PRIMARY", "rolloutState": "FAILED"}])
    world.expect("put_job_failure_result")
    assert world.run(job(token)) == {
        "result": "failed",
        "message": f"deployment of {arn} failed and was rolled back: "
        "the deployment circuit breaker or a deployment alarm rolled it back",
    }


def test_corrupt_continuation_token_reports_failure(world: World) -> None:
    world.expect("put_job_failure_result")
    assert world.run(job("not-json"))["result"] == "failed"
    assert only_result(world)[1]["failureDetails"]["message"] == "continuation token is corrupt; retry the stage"


# --- bad input and AWS errors: always exactly one failure result ------------


@pytest.mark.parametrize(
    ("artifact", "message"),
    [
        (
            {"raw": b"not a zip"},
            f"artifact s3://{ARTIFACT_BUCKET}/{ARTIFACT_KEY} is not a zip with a valid imagedefinitions.json; "
            "check the buildspec's artifacts section",
        ),
        ({"definitions": {"name": "app"}}, "imagedefinitions.json must be a list of {name, imageUri} objects"),
        (
            {"definitions": [{"name": "other", "imageUri": IMAGE}]},
            "imagedefinitions.json has no imageUri for container 'app'",
        ),
    ],
    ids=["not-zip", "not-list", "no-container"],
)
def test_malformed_artifact_reports_failure(world: World, artifact: dict[str, Any], message: str) -> None:
    put_artifact(world, **artifact)
    world.expect("put_job_failure_result")
    assert world.run(job())["result"] == "failed"
    assert only_result(world)[1]["failureDetails"]["message"] == message


def test_missing_artifact_object_reports_failure(world: World) -> None:
    world.expect("put_job_failure_result")
    assert world.run(job())["result"] == "failed"
    assert "cannot read artifact s3://" in only_result(world)[1]["failureDetails"]["message"]


def test_no_input_artifact_reports_failure(world: World) -> None:
    world.expect("put_job_failure_result")
    assert world.run(job(artifacts=False))["result"] == "failed"
    assert only_result(world)[1]["failureDetails"]["message"] == (
        "the deploy action has no input artifact; wire the build output into it"
    )


def test_a_job_without_data_reports_the_missing_artifact(world: World) -> None:
    world.expect("put_job_failure_result")
    assert world.run({"CodePipeline.job": {"id": "job-1"}}) == {
        "result": "failed",
        "message": "the deploy action has no input artifact; wire the build output into it",
    }


def test_an_event_that_is_not_a_pipeline_job_is_an_error_not_a_result(world: World) -> None:
    """No job id: nothing to report a result to, so the invocation itself fails (Lambda logs it)."""
    events: list[dict[str, Any]] = [{}, {"CodePipeline.job": {"data": {}}}, {"CodePipeline.job": "job-1"}]
    for event in events:
        with pytest.raises(orchestrator.DeployError) as error:
            world.run(event)
        assert str(error.value) == "event is not a CodePipeline job (missing CodePipeline.job.id)"
    assert world.results == []


def test_missing_secret_reports_failure(world: World) -> None:
    put_artifact(world)
    world.clients["secretsmanager"].delete_secret(SecretId=world.secret_arn, ForceDeleteWithoutRecovery=True)
    world.expect("put_job_failure_result")
    assert world.run(job())["result"] == "failed"
    message = only_result(world)[1]["failureDetails"]["message"]
    assert message == (
        f"cannot read orchestrator settings from secret {world.secret_arn} (ResourceNotFoundException); "
        "check the secret exists, has a value, and the role may read it"
    )


@pytest.mark.parametrize(("value", "message"), [("{nope", "is not JSON"), ("[1, 2]", "must hold a JSON object")])
def test_bad_secret_value_reports_failure(world: World, value: str, message: str) -> None:
    world.clients["secretsmanager"].put_secret_value(SecretId=world.secret_arn, SecretString=value)
    world.expect("put_job_failure_result")
    assert world.run(job())["result"] == "failed"
    assert message in only_result(world)[1]["failureDetails"]["message"]


def test_missing_service_reports_failure(world: World) -> None:
    put_artifact(world)
    world.env[ENV_SERVICE] = "no-such-service"
    world.expect("put_job_failure_result")
    assert world.run(job())["result"] == "failed"
    assert "not found or not active" in only_result(world)[1]["failureDetails"]["message"]


def test_container_missing_from_task_definition_reports_failure(world: World) -> None:
    put_artifact(world, [{"name": "web", "imageUri": IMAGE}])
    world.clients["secretsmanager"].put_secret_value(
        SecretId=world.secret_arn, SecretString=json.dumps({"container_name": "web"})
    )
    world.expect("put_job_failure_result")
    assert world.run(job())["result"] == "failed"
    running = describe_service(world)["taskDefinition"]
    assert only_result(world)[1]["failureDetails"]["message"] == (
        f"task definition {running} has no container named 'web'"
    )


def test_settings_left_out_of_the_secret_take_the_contracts_defaults(world: World) -> None:
    put_artifact(world)
    world.clients["secretsmanager"].put_secret_value(SecretId=world.secret_arn, SecretString="{}")
    world.expect("put_job_success_result")
    assert world.run(job()) == {"result": "in-progress"}
    token = json.loads(only_result(world)[1]["continuationToken"])
    # The app container got the image; the deployment may take the default 1800 s.
    assert token["image"] == IMAGE
    assert token["deadline"] == int(NOW) + 1800
    new = world.clients["ecs"].describe_task_definition(taskDefinition=token["taskDefinition"])["taskDefinition"]
    assert [c["image"] for c in new["containerDefinitions"] if c["name"] == APP_CONTAINER] == [IMAGE]


def test_aws_error_reports_failure(world: World) -> None:
    put_artifact(world)
    world.env[ENV_CLUSTER] = "no-such-cluster"
    world.expect("put_job_failure_result")
    assert world.run(job())["result"] == "failed"
    message = only_result(world)[1]["failureDetails"]["message"]
    assert "AWS call failed" in message or "not found or not active" in message


def test_unexpected_error_still_answers_the_job(world: World) -> None:
    put_artifact(world)
    world.clients["ecs"].register_task_definition = None  # calling it raises TypeError
    world.expect("put_job_failure_result")
    assert world.run(job())["result"] == "failed"
    assert "unexpected error (TypeError)" in only_result(world)[1]["failureDetails"]["message"]


def test_missing_configuration_reports_failure(world: World) -> None:
    del world.env[ENV_SECRET_ARN]
    world.expect("put_job_failure_result")
    assert world.run(job())["result"] == "failed"
    assert f"{ENV_SECRET_ARN} is not set" in only_result(world)[1]["failureDetails"]["message"]


def test_long_messages_are_truncated(world: World) -> None:
    put_artifact(world, [{"name": "other" * 2000, "imageUri": IMAGE}])
    world.expect("put_job_failure_result")
    orchestrator.Orchestrator(world.env, world.factory()).fail("job-1", "x" * 10_000, "req-1")
    assert len(only_result(world)[1]["failureDetails"]["message"]) == orchestrator.MAX_MESSAGE


def test_event_without_job_is_refused_without_a_result(world: World) -> None:
    with pytest.raises(orchestrator.DeployError, match="not a CodePipeline job"):
        world.run({"hello": "world"})
    assert world.results == []


def test_lambda_entry_point_reads_its_environment(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(orchestrator, "_default_clients", world.factory())
    world.expect("put_job_failure_result")

    class Context:
        aws_request_id = "lambda-req"

    assert orchestrator.handler(job(artifacts=False), Context())["result"] == "failed"
    assert only_result(world)[1]["failureDetails"]["externalExecutionId"] == "lambda-req"


def test_default_clients_are_boto3_clients(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    assert orchestrator._default_clients("ecs").meta.service_model.service_name == "ecs"


# --- the Lambda entry point ---------------------------------------------------------------


def test_the_entry_point_reads_its_configuration_from_the_functions_environment(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``handler(event, context)``, as the Lambda runtime calls it: settings from the function's
    environment variables, each job result naming the invocation (CodePipeline shows it)."""
    for name, value in world.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(orchestrator, "_default_clients", world.factory())
    put_artifact(world)
    world.expect("put_job_success_result")
    context = SimpleNamespace(aws_request_id="8f3c7f1f-0e8a-4b6f-9a56-5d3c2f554b6f")
    assert orchestrator.handler(job(), context) == {"result": "in-progress"}
    assert only_result(world)[0] == "PutJobSuccessResult"

    world.results.clear()
    monkeypatch.delenv(ENV_CLUSTER)
    world.expect("put_job_failure_result")
    assert orchestrator.handler(job(), context)["result"] == "failed"
    name, params = only_result(world)
    assert name == "PutJobFailureResult"
    assert params["failureDetails"]["externalExecutionId"] == "8f3c7f1f-0e8a-4b6f-9a56-5d3c2f554b6f"
    assert params["failureDetails"]["message"] == (
        f"orchestrator misconfigured: environment variable {ENV_CLUSTER} is not set"
    )

    # Invoked without a Lambda context (a local test event): the invocation is "local".
    world.results.clear()
    world.expect("put_job_failure_result")
    orchestrator.handler(job(), object())
    assert only_result(world)[1]["failureDetails"]["externalExecutionId"] == "local"

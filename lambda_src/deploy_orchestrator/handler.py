"""CodePipeline deploy action: roll the ECS service onto the image just built.

Invoked by CodePipeline's Lambda invoke action. Contract: every invocation
reports exactly one job result.

First call (no continuation token):
  1. read settings from the Secrets Manager secret (``SECRET_ARN``; the
     variables and defaults are in ``contract.py``);
  2. read ``imagedefinitions.json`` from the input artifact (a zip in S3);
  3. copy the newest active revision of the service's task-definition family
     (Terraform registers one whenever anything it owns changes: size,
     secrets, the sidecar image) with its tags, change only the app
     container's image, register it, and ``UpdateService`` onto it;
  4. ``PutJobSuccessResult`` with a continuation token: CodePipeline calls
     again (about every 30 s to 1 min) while the deployment runs.
Later calls (with a token): inspect the deployment and report success when it
completed, failure when it failed, was rolled back by the circuit breaker, or
ran past the timeout, or another continuation token while it is in progress.

Only the standard library and boto3 (present in the Lambda runtime).
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .contract import ENV_CLUSTER, ENV_SECRET_ARN, ENV_SERVICE, SETTINGS_DEFAULTS

IMAGE_DEFINITIONS = "imagedefinitions.json"
# Fields DescribeTaskDefinition returns that RegisterTaskDefinition refuses.
READ_ONLY_FIELDS = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
)
#: Messages CodePipeline shows are limited to 5000 characters.
MAX_MESSAGE = 4000


class DeployError(Exception):
    """A failure with a message a person can act on."""


@dataclass(frozen=True)
class Config:
    cluster: str
    service: str
    secret_arn: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        try:
            return cls(cluster=env[ENV_CLUSTER], service=env[ENV_SERVICE], secret_arn=env[ENV_SECRET_ARN])
        except KeyError as exc:
            raise DeployError(f"orchestrator misconfigured: environment variable {exc.args[0]} is not set") from None


ClientFactory = Callable[[str], Any]


def _default_clients(service: str) -> Any:
    return boto3.client(service)


class Orchestrator:
    def __init__(
        self,
        env: Mapping[str, str],
        clients: ClientFactory = _default_clients,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.env = env
        self.config = Config("", "", "")
        self.ecs = clients("ecs")
        self.s3 = clients("s3")
        self.secrets = clients("secretsmanager")
        self.codepipeline = clients("codepipeline")
        self.clock = clock

    # -- reporting ---------------------------------------------------------

    def succeed(self, job_id: str, continuation: dict[str, Any] | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"jobId": job_id}
        if continuation is not None:
            kwargs["continuationToken"] = json.dumps(continuation, sort_keys=True)
        self.codepipeline.put_job_success_result(**kwargs)
        return {"result": "in-progress" if continuation else "succeeded"}

    def fail(self, job_id: str, message: str, invocation_id: str) -> dict[str, Any]:
        self.codepipeline.put_job_failure_result(
            jobId=job_id,
            failureDetails={
                "type": "JobFailed",
                "message": message[:MAX_MESSAGE],
                "externalExecutionId": invocation_id,
            },
        )
        return {"result": "failed", "message": message}

    # -- steps ---------------------------------------------------------------

    def read_settings(self) -> dict[str, Any]:
        try:
            raw = self.secrets.get_secret_value(SecretId=self.config.secret_arn)["SecretString"]
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            raise DeployError(
                f"cannot read orchestrator settings from secret {self.config.secret_arn} ({code}); "
                "check the secret exists, has a value, and the role may read it"
            ) from None
        try:
            settings = json.loads(raw)
        except json.JSONDecodeError:
            raise DeployError(f"secret {self.config.secret_arn} is not JSON; expected an object of settings") from None
        if not isinstance(settings, dict):
            raise DeployError(f"secret {self.config.secret_arn} must hold a JSON object")
        return settings

    def read_image(self, job_data: Mapping[str, Any], container: str) -> str:
        artifacts = job_data.get("inputArtifacts") or []
        if not artifacts:
            raise DeployError("the deploy action has no input artifact; wire the build output into it")
        location = artifacts[0]["location"]["s3Location"]
        bucket, key = location["bucketName"], location["objectKey"]
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                definitions = json.loads(archive.read(IMAGE_DEFINITIONS))
        except ClientError as exc:
            raise DeployError(f"cannot read artifact s3://{bucket}/{key}: {exc.response['Error']['Code']}") from None
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError):
            raise DeployError(
                f"artifact s3://{bucket}/{key} is not a zip with a valid {IMAGE_DEFINITIONS}; "
                "check the buildspec's artifacts section"
            ) from None
        if not isinstance(definitions, list):
            raise DeployError(f"{IMAGE_DEFINITIONS} must be a list of {{name, imageUri}} objects")
        for entry in definitions:
            if isinstance(entry, dict) and entry.get("name") == container and entry.get("imageUri"):
                return str(entry["imageUri"])
        raise DeployError(f"{IMAGE_DEFINITIONS} has no imageUri for container {container!r}")

    def start(self, job_id: str, job_data: Mapping[str, Any], invocation_id: str) -> dict[str, Any]:
        settings = self.read_settings()
        container = str(settings.get("container_name", SETTINGS_DEFAULTS["container_name"]))
        image = self.read_image(job_data, container)

        services = self.ecs.describe_services(cluster=self.config.cluster, services=[self.config.service])["services"]
        if not services or services[0].get("status") != "ACTIVE":
            raise DeployError(f"service {self.config.service} not found or not active in {self.config.cluster}")
        running = self.ecs.describe_task_definition(taskDefinition=services[0]["taskDefinition"])["taskDefinition"]
        # Not the running revision: the family's newest, so what Terraform changed since
        # the last deploy (it ignores the service's task_definition) goes out with this image.
        # include=TAGS: without it DescribeTaskDefinition returns no tags, and the new revision
        # would lose every tag Terraform gave the family (cost allocation, ownership).
        described = self.ecs.describe_task_definition(taskDefinition=running["family"], include=["TAGS"])
        current = described["taskDefinition"]
        current_arn = current["taskDefinitionArn"]

        new = {k: v for k, v in current.items() if k not in READ_ONLY_FIELDS}
        if described.get("tags"):
            # Tagging on create is authorised separately (ecs:TagResource, ecs:CreateAction).
            new["tags"] = described["tags"]
        containers = new["containerDefinitions"]
        if not any(c["name"] == container for c in containers):
            raise DeployError(f"task definition {current_arn} has no container named {container!r}")
        new["containerDefinitions"] = [{**c, "image": image} if c["name"] == container else c for c in containers]
        registered = self.ecs.register_task_definition(**new)["taskDefinition"]["taskDefinitionArn"]
        self.ecs.update_service(cluster=self.config.cluster, service=self.config.service, taskDefinition=registered)
        timeout = int(settings.get("deployment_timeout_seconds", SETTINGS_DEFAULTS["deployment_timeout_seconds"]))
        return self.succeed(
            job_id, {"taskDefinition": registered, "image": image, "deadline": int(self.clock()) + timeout}
        )

    def check(self, job_id: str, token: str, invocation_id: str) -> dict[str, Any]:
        try:
            state = json.loads(token)
            task_definition, deadline = state["taskDefinition"], int(state["deadline"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise DeployError("continuation token is corrupt; retry the stage") from None
        service = self.ecs.describe_services(cluster=self.config.cluster, services=[self.config.service])["services"][0]
        ours = [d for d in service.get("deployments", []) if d.get("taskDefinition") == task_definition]
        if not ours:
            return self.fail(
                job_id,
                f"deployment of {task_definition} was replaced by another deployment (rolled back or superseded); "
                "see the service's events in the ECS console",
                invocation_id,
            )
        deployment = ours[0]
        rollout = deployment.get("rolloutState", "IN_PROGRESS")
        if rollout == "COMPLETED" and deployment.get("status") == "PRIMARY":
            return self.succeed(job_id)
        if rollout == "FAILED" or (deployment.get("status") != "PRIMARY"):
            # Two things fail a rollout and roll it back: the circuit breaker (tasks that never
            # start) and the deployment alarms (tasks that start but serve 5xx or fail health
            # checks); ECS names the cause in rolloutStateReason.
            reason = deployment.get(
                "rolloutStateReason", "the deployment circuit breaker or a deployment alarm rolled it back"
            )
            return self.fail(
                job_id, f"deployment of {task_definition} failed and was rolled back: {reason}", invocation_id
            )
        if self.clock() > deadline:
            return self.fail(
                job_id,
                f"deployment of {task_definition} still in progress after the timeout; "
                "check task health in the target group and the service events",
                invocation_id,
            )
        return self.succeed(job_id, state)

    def run(self, event: Mapping[str, Any], invocation_id: str) -> dict[str, Any]:
        job = event.get("CodePipeline.job")
        if not isinstance(job, dict) or "id" not in job:
            # Not a pipeline job: there is no job to answer, so fail loudly.
            raise DeployError("event is not a CodePipeline job (missing CodePipeline.job.id)")
        job_id = job["id"]
        try:
            self.config = Config.from_env(self.env)
            data = job.get("data", {})
            token = data.get("continuationToken")
            if token:
                return self.check(job_id, token, invocation_id)
            return self.start(job_id, data, invocation_id)
        except DeployError as exc:
            return self.fail(job_id, str(exc), invocation_id)
        except (ClientError, BotoCoreError) as exc:
            return self.fail(job_id, f"AWS call failed: {exc}", invocation_id)
        except Exception as exc:  # a job must never be left unanswered
            return self.fail(job_id, f"unexpected error ({type(exc).__name__}): {exc}", invocation_id)


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    invocation_id = getattr(context, "aws_request_id", "local")
    # The Lambda runtime's environment carries this function's configuration.
    return Orchestrator(os.environ, _default_clients).run(event, invocation_id)

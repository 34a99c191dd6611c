"""Delivery: artifact and source buckets, CodeBuild, CodePipeline (V2), source trigger.

Source -> Build -> [Manual approval] -> Deploy (Lambda orchestrator).
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.codebuild_project import (
    CodebuildProject,
    CodebuildProjectEnvironmentEnvironmentVariable,
)
from cdktf_cdktf_provider_aws.codepipeline import (
    Codepipeline,
    CodepipelineArtifactStore,
    CodepipelineStage,
    CodepipelineStageAction,
)
from constructs import Construct

from constructs_lib import policies
from constructs_lib.context import PlatformContext
from constructs_lib.first_source import FirstSource
from constructs_lib.iam import ServiceRole
from constructs_lib.logs import EncryptedLogGroup
from constructs_lib.metrics import Metric
from constructs_lib.notifications import Notifications
from constructs_lib.orchestrator import DeployOrchestrator
from constructs_lib.registry import Registry
from constructs_lib.settings import PipelineSettings
from constructs_lib.storage import SecureBucket
from lambda_src.deploy_orchestrator.contract import APP_CONTAINER

SOURCE_OBJECT_KEY = "source.zip"
BUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
#: The metric the pipeline-history filter publishes (observability's history module).
METRIC_NAMESPACE = "CICD/Pipeline"
FAILED_EXECUTIONS_METRIC = "FailedExecutions"

#: Builds the image, tags it with the source version, pushes it (once: tags are
#: immutable), and writes imagedefinitions.json for the orchestrator.
#:
#: The tag: a git commit id (a GitHub source) is cut to 12 hex characters; any other
#: source version is hashed, because an S3 object version id is an "opaque string"
#: that holds characters such as + and / (S3 user guide, versioning-workflows), and
#: a Docker tag allows only letters, digits, _, . and - (docs.docker.com, image tag).
BUILDSPEC_SHELL = """\
version: 0.2
env:
  shell: bash
phases:
  pre_build:
    commands:
      - REGISTRY="${REPOSITORY_URI%%/*}"
      - aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$REGISTRY"
      - SOURCE_VERSION="${CODEBUILD_RESOLVED_SOURCE_VERSION:-build-$CODEBUILD_BUILD_NUMBER}"
      - |
        if [[ "$SOURCE_VERSION" =~ ^[0-9a-f]{40}$ ]]; then
          IMAGE_TAG="${SOURCE_VERSION:0:12}"
        else
          IMAGE_TAG="src-$(printf '%s' "$SOURCE_VERSION" | sha256sum | cut -c1-12)"
        fi
      - echo "image tag $IMAGE_TAG"
  build:
    commands:
      - |
        if aws ecr describe-images --repository-name "${REPOSITORY_URI##*/}" \\
             --image-ids imageTag="$IMAGE_TAG" >/dev/null 2>&1; then
          echo "$REPOSITORY_URI:$IMAGE_TAG already exists (tags are immutable): not rebuilding"
        else
          docker build --tag "$REPOSITORY_URI:$IMAGE_TAG" .
          docker push "$REPOSITORY_URI:$IMAGE_TAG"
        fi
  post_build:
    commands:
      - |
        if [ "$CODEBUILD_BUILD_SUCCEEDING" = "1" ]; then
          printf '[{"name":"%s","imageUri":"%s"}]' "$CONTAINER_NAME" "$REPOSITORY_URI:$IMAGE_TAG" \\
            > imagedefinitions.json
        fi
artifacts:
  files:
    - imagedefinitions.json
"""
#: Terraform would read the shell's ``${VAR}`` as interpolation; ``$${`` is its escape.
BUILDSPEC = BUILDSPEC_SHELL.replace("${", "$${")


class Pipeline(Construct):
    """Attributes: artifacts (given), source (bucket or None for GitHub), first_source (the sample
    uploaded as the first source.zip, or None for GitHub), build_project, build_log_group,
    pipeline_log_group, pipeline, role, build_role, stage_names."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PlatformContext,
        settings: PipelineSettings,
        registry: Registry,
        artifacts: SecureBucket,
        access_log_bucket: SecureBucket,
        orchestrator: DeployOrchestrator,
        notifications: Notifications,
        require_manual_approval: bool,
        container_port: int,
    ) -> None:
        super().__init__(scope, id)
        self.artifacts = artifacts
        self.source: SecureBucket | None = None
        self.first_source: FirstSource | None = None
        if settings.codestar_connection_arn is None:
            # SecureBucket sends its events to EventBridge: a rule (not polling)
            # starts the pipeline when source.zip changes.
            self.source = SecureBucket(
                self,
                "source",
                bucket_name=ctx.naming.name("source"),
                key=ctx.key,
                noncurrent_expiration_days=settings.artifact_expiration_days,
                force_destroy=ctx.disposable,
                access_log_bucket=access_log_bucket,
            )
            # The sample application as source.zip, before the pipeline's automatic first run.
            self.first_source = FirstSource(
                self, "first-source", bucket=self.source, key=SOURCE_OBJECT_KEY, container_port=container_port
            )
        self.build_log_group = EncryptedLogGroup(
            self, "build-log-group", ctx=ctx, name=ctx.naming.log_group("codebuild")
        )
        self.pipeline_log_group = EncryptedLogGroup(
            self, "pipeline-log-group", ctx=ctx, name=ctx.naming.log_group("codepipeline")
        )
        self._build(ctx, settings, registry)
        pipeline_name = ctx.naming.name("pipeline")
        pipeline_arn = ctx.aws.arn("codepipeline", pipeline_name)
        self._pipeline_role(ctx, settings, pipeline_arn, orchestrator, notifications, require_manual_approval)
        self._pipeline(
            ctx,
            settings,
            pipeline_name,
            orchestrator.function_name,
            notifications.topic_arn if require_manual_approval else None,
        )
        self.pipeline_name: str = self.pipeline.name  # read once: every read is a round trip to jsii
        if self.source is not None:
            self._s3_trigger(ctx, pipeline_arn)

    def _pipeline(
        self,
        ctx: PlatformContext,
        settings: PipelineSettings,
        name: str,
        function_name: str,
        approval_topic_arn: str | None,
    ) -> None:
        """Source -> Build -> [Approval, when ``approval_topic_arn`` is given] -> Deploy."""
        stages = [self._source_stage(settings), self._build_stage()]
        if approval_topic_arn is not None:
            stages.append(self._approval_stage(approval_topic_arn))
        stages.append(self._deploy_stage(function_name))
        self.stage_names = [s.name for s in stages]
        self.pipeline = Codepipeline(
            self,
            "this",
            name=name,
            pipeline_type="V2",
            role_arn=self.role.arn,
            artifact_store=[
                CodepipelineArtifactStore(
                    location=self.artifacts.name,
                    type="S3",
                    encryption_key={"id": ctx.key.arn, "type": "KMS"},
                )
            ],
            stage=stages,
            # A pipeline starts an execution when it is created: its first source must exist.
            depends_on=[self.role.policy, *([self.first_source.object] if self.first_source else [])],
        )

    def _build(self, ctx: PlatformContext, settings: PipelineSettings, registry: Registry) -> None:
        """The CodeBuild project that builds and pushes the image, and its role."""
        build_name = ctx.naming.name("build")
        self.build_role = ServiceRole(
            self,
            "build-role",
            role_name=ctx.naming.name("codebuild-role"),
            service="codebuild.amazonaws.com",
            account_id=ctx.aws.account_id,
            source_arn=ctx.aws.arn("codebuild", f"project/{build_name}"),
        )
        self.build_log_group.grant_write(self.build_role)
        self.artifacts.grant_read_write(self.build_role, sid="Artifacts")
        self.artifacts.grant_identity(self.build_role, sid="ArtifactsBucketIdentity")
        registry.grant_push(self.build_role)
        ctx.key.grant_use(self.build_role)
        self.build_project = CodebuildProject(
            self,
            "build",
            name=build_name,
            description="Builds the service image, pushes it to ECR, writes imagedefinitions.json",
            service_role=self.build_role.arn,
            encryption_key=ctx.key.arn,
            build_timeout=30,
            artifacts={"type": "CODEPIPELINE"},
            source={"type": "CODEPIPELINE", "buildspec": BUILDSPEC},
            environment={
                "compute_type": settings.build_compute_type,
                "image": BUILD_IMAGE,
                "type": "LINUX_CONTAINER",
                "privileged_mode": True,  # docker build needs the Docker daemon
                "image_pull_credentials_type": "CODEBUILD",
                "environment_variable": [
                    CodebuildProjectEnvironmentEnvironmentVariable(
                        name="REPOSITORY_URI", value=registry.repository.repository_url
                    ),
                    # The buildspec names this container in imagedefinitions.json.
                    CodebuildProjectEnvironmentEnvironmentVariable(name="CONTAINER_NAME", value=APP_CONTAINER),
                ],
            },
            logs_config={
                "cloudwatch_logs": {"status": "ENABLED", "group_name": self.build_log_group.name},
                "s3_logs": {"status": "DISABLED"},
            },
            depends_on=[self.build_log_group.group, self.build_role.policy],
        )

    def _pipeline_role(
        self,
        ctx: PlatformContext,
        settings: PipelineSettings,
        pipeline_arn: str,
        orchestrator: DeployOrchestrator,
        notifications: Notifications,
        require_manual_approval: bool,
    ) -> None:
        self.role = ServiceRole(
            self,
            "pipeline-role",
            role_name=ctx.naming.name("pipeline-role"),
            service="codepipeline.amazonaws.com",
            account_id=ctx.aws.account_id,
            source_arn=pipeline_arn,
        )
        self.artifacts.grant_read_write(self.role, sid="ArtifactStore", for_codepipeline=True)
        if self.source is None:
            connection = str(settings.codestar_connection_arn)
            # "When specifying a resource in the IAM policy, the service prefix needs to match that
            # of the resource": codeconnections:UseConnection for arn:aws:codeconnections:...,
            # codestar-connections:UseConnection for the older arn:aws:codestar-connections:...
            # https://docs.aws.amazon.com/dtconsole/latest/userguide/security-iam.html
            self.role.add_statements(
                policies.Statement(
                    sid="UseConnection",
                    actions=[f"{connection.split(':')[2]}:UseConnection"],
                    resources=[connection],
                )
            )
        else:
            self.source.grant_read(self.role, sid="ReadSource", for_codepipeline=True)
        self.role.add_statements(
            policies.Statement(
                sid="Build",
                actions=["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
                resources=[self.build_project.arn],
            )
        )
        orchestrator.grant_invoke(self.role, sid="Deploy")
        if require_manual_approval:
            notifications.grant_publish(self.role, sid="NotifyApprovers")
        ctx.key.grant_use(self.role)

    def metric_failed_executions(self) -> Metric:
        """Failed executions of this pipeline (published by the pipeline-history metric filter)."""
        return Metric(METRIC_NAMESPACE, FAILED_EXECUTIONS_METRIC, (("Pipeline", self.pipeline_name),))

    def _source_stage(self, settings: PipelineSettings) -> CodepipelineStage:
        if self.source is None:
            action = CodepipelineStageAction(
                name="GitHub",
                category="Source",
                owner="AWS",
                provider="CodeStarSourceConnection",
                version="1",
                output_artifacts=["source"],
                configuration={
                    "ConnectionArn": str(settings.codestar_connection_arn),
                    "FullRepositoryId": str(settings.github_repository),
                    "BranchName": settings.branch,
                    "OutputArtifactFormat": "CODE_ZIP",
                },
            )
        else:
            action = CodepipelineStageAction(
                name="S3",
                category="Source",
                owner="AWS",
                provider="S3",
                version="1",
                output_artifacts=["source"],
                configuration={
                    "S3Bucket": self.source.name,
                    "S3ObjectKey": SOURCE_OBJECT_KEY,
                    "PollForSourceChanges": "false",
                },
            )
        return CodepipelineStage(name="Source", action=[action])

    def _build_stage(self) -> CodepipelineStage:
        return CodepipelineStage(
            name="Build",
            action=[
                CodepipelineStageAction(
                    name="Image",
                    category="Build",
                    owner="AWS",
                    provider="CodeBuild",
                    version="1",
                    input_artifacts=["source"],
                    output_artifacts=["build"],
                    configuration={"ProjectName": self.build_project.name},
                )
            ],
        )

    def _approval_stage(self, topic_arn: str) -> CodepipelineStage:
        # Approvers hear about a waiting approval on the notifications topic.
        configuration = {
            "CustomData": "Approve to deploy the image built in the previous stage.",
            "NotificationArn": topic_arn,
        }
        return CodepipelineStage(
            name="Approval",
            action=[
                CodepipelineStageAction(
                    name="Approve",
                    category="Approval",
                    owner="AWS",
                    provider="Manual",
                    version="1",
                    configuration=configuration,
                )
            ],
        )

    def _deploy_stage(self, function_name: str) -> CodepipelineStage:
        return CodepipelineStage(
            name="Deploy",
            action=[
                CodepipelineStageAction(
                    name="RollService",
                    category="Invoke",
                    owner="AWS",
                    provider="Lambda",
                    version="1",
                    input_artifacts=["build"],
                    configuration={"FunctionName": function_name},
                )
            ],
        )

    def _s3_trigger(self, ctx: PlatformContext, pipeline_arn: str) -> None:
        assert self.source is not None
        rule = CloudwatchEventRule(
            self,
            "source-changed",
            name=ctx.naming.name("source-changed"),
            description=f"Start the pipeline when s3://.../{SOURCE_OBJECT_KEY} changes",
            event_pattern=json.dumps(
                {
                    "source": ["aws.s3"],
                    "detail-type": ["Object Created"],
                    "detail": {
                        "bucket": {"name": [self.source.name]},
                        "object": {"key": [SOURCE_OBJECT_KEY]},
                    },
                }
            ),
        )
        events_role = ServiceRole(
            self,
            "events-role",
            role_name=ctx.naming.name("events-role"),
            service="events.amazonaws.com",
            account_id=ctx.aws.account_id,
            statements=[
                policies.Statement(
                    sid="StartPipeline", actions=["codepipeline:StartPipelineExecution"], resources=[pipeline_arn]
                )
            ],
        )
        CloudwatchEventTarget(self, "start-pipeline", rule=rule.name, arn=self.pipeline.arn, role_arn=events_role.arn)

"""The deploy orchestrator Lambda (code in lambda_src/deploy_orchestrator)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from constructs_lib import policies
from constructs_lib.encryption import EnvironmentKey
from constructs_lib.iam import ServiceRole
from constructs_lib.logs import EncryptedLogGroup
from constructs_lib.naming import Naming
from constructs_lib.secrets import PlatformSecrets
from constructs_lib.service import Service
from constructs_lib.storage import SecureBucket

SOURCE_DIR = Path(__file__).resolve().parent.parent / "lambda_src" / "deploy_orchestrator"
RUNTIME = "python3.12"
#: Without these, Active tracing silently drops every trace.
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


def package_source(source: Path = SOURCE_DIR) -> Path:
    """Copy only the function's ``.py`` files into a fresh folder for the zip.

    The asset must not pick up ``__pycache__`` written by tests or editors: it
    would bloat the package and make its hash differ between machines.
    """
    staging = Path(tempfile.mkdtemp(prefix="orchestrator-src-"))
    for path in sorted(source.glob("*.py")):
        shutil.copy2(path, staging / path.name)
    return staging


def orchestrator_statements(
    *,
    log_group_arn: str,
    secret_arn: str,
    service_arn: str,
    passable_role_arns: list[str],
    artifact_bucket_arn: str,
    key_arn: str,
    dead_letter_queue_arn: str,
) -> list[policies.Statement]:
    return [
        policies.Statement(
            sid="WriteLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[f"{log_group_arn}:*"]
        ),
        policies.Statement(sid="XRayTracing", actions=XRAY_ACTIONS, resources=["*"]),
        policies.Statement(sid="ReadSettings", actions=["secretsmanager:GetSecretValue"], resources=[secret_arn]),
        policies.Statement(
            sid="RollService", actions=["ecs:UpdateService", "ecs:DescribeServices"], resources=[service_arn]
        ),
        policies.Statement(
            sid="TaskDefinitions",
            actions=["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"],
            resources=["*"],
        ),
        policies.Statement(
            sid="PassTaskRoles",
            actions=["iam:PassRole"],
            resources=passable_role_arns,
            conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ),
        policies.Statement(
            sid="ReportJobResult",
            actions=["codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult"],
            resources=["*"],
        ),
        policies.Statement(sid="ReadArtifacts", actions=["s3:GetObject"], resources=[f"{artifact_bucket_arn}/*"]),
        policies.Statement(
            sid="UseKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key_arn]
        ),  # artifacts, secret, and the encrypted dead-letter queue
        policies.Statement(sid="DeadLetter", actions=["sqs:SendMessage"], resources=[dead_letter_queue_arn]),
    ]


class DeployOrchestrator(Construct):
    """Attributes: function, role, log_group."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        key: EnvironmentKey,
        secrets: PlatformSecrets,
        service: Service,
        artifacts: SecureBucket,
        dead_letter_queue: SqsQueue,
        account_id: str,
        log_retention_in_days: int,
    ) -> None:
        super().__init__(scope, id)
        function_name = naming.name("orchestrator")
        dlq_arn = dead_letter_queue.arn
        # Exactly the group Lambda writes to, created first so Lambda never
        # auto-creates an unencrypted one.
        self.log_group = EncryptedLogGroup(
            self,
            "log-group",
            name=naming.lambda_log_group(function_name),
            key=key,
            retention_in_days=log_retention_in_days,
        )
        self.role = ServiceRole(
            self,
            "role",
            role_name=naming.name("orchestrator-role"),
            service="lambda.amazonaws.com",
            account_id=account_id,
            statements=orchestrator_statements(
                log_group_arn=self.log_group.arn,
                secret_arn=secrets.orchestrator.arn,
                service_arn=service.service_arn,
                passable_role_arns=[service.execution_role.arn, service.task_role.arn],
                artifact_bucket_arn=artifacts.arn,
                key_arn=key.arn,
                dead_letter_queue_arn=dlq_arn,
            ),
        )
        code = TerraformAsset(self, "code", path=str(package_source()), type=AssetType.ARCHIVE)
        self.function = LambdaFunction(
            self,
            "this",
            function_name=function_name,
            description="CodePipeline deploy action: rolls the ECS service onto the built image",
            role=self.role.arn,
            runtime=RUNTIME,
            handler="handler.handler",
            filename=code.path,
            source_code_hash=code.asset_hash,
            timeout=60,
            memory_size=256,
            reserved_concurrent_executions=5,
            tracing_config={"mode": "Active"},
            # CodePipeline invokes synchronously; an asynchronous invocation
            # (say, by hand) that keeps failing lands here and raises the DLQ alarm.
            dead_letter_config={"target_arn": dlq_arn},
            kms_key_arn=key.arn,
            environment={
                "variables": {
                    "CLUSTER_NAME": service.cluster_name,
                    "SERVICE_NAME": service.service_name,
                    "SECRET_ARN": secrets.orchestrator.arn,
                }
            },
            depends_on=[self.log_group.group, self.role.policy],
        )

"""The deploy orchestrator Lambda (code in lambda_src/deploy_orchestrator)."""

from __future__ import annotations

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from constructs import Construct

from constructs_lib import policies, tracing
from constructs_lib.context import PlatformContext
from constructs_lib.functions import LAMBDA_SOURCES, RUNTIME, package_source
from constructs_lib.iam import ServiceRole
from constructs_lib.logs import EncryptedLogGroup
from constructs_lib.metrics import Metric
from constructs_lib.network import FunctionPlacement
from constructs_lib.notifications import Notifications
from constructs_lib.secrets import PlatformSecrets
from constructs_lib.service import Service
from constructs_lib.storage import SecureBucket
from lambda_src.deploy_orchestrator import contract

SOURCE_DIR = LAMBDA_SOURCES / "deploy_orchestrator"
#: The function's code ships as this package, so its modules import each other
#: (``handler`` imports ``contract``) the same way in Lambda and in the tests.
PACKAGE = SOURCE_DIR.name
HANDLER = f"{PACKAGE}.handler.handler"

__all__ = ["HANDLER", "RUNTIME", "DeployOrchestrator", "package_source"]


class DeployOrchestrator(Construct):
    """Attributes: function, role, log_group.

    ``reserved_concurrency``: executions reserved for the function (default: none). AWS refuses a
    reservation that leaves fewer than 100 unreserved executions, which new accounts with a low
    quota cannot spare ("You can reserve up to the Unreserved account concurrency value minus
    100"); the deploy tool checks the account before applying one (tools/account_checks.py).
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
    ``placement``: the VPC subnets it runs in (None: outside the VPC; see FunctionPlacement).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PlatformContext,
        secrets: PlatformSecrets,
        service: Service,
        artifacts: SecureBucket,
        notifications: Notifications,
        reserved_concurrency: int | None = None,
        placement: FunctionPlacement | None = None,
    ) -> None:
        super().__init__(scope, id)
        function_name = ctx.naming.name("orchestrator")
        # Exactly the group Lambda writes to, created first so Lambda never
        # auto-creates an unencrypted one.
        self.log_group = EncryptedLogGroup(self, "log-group", ctx=ctx, name=ctx.naming.lambda_log_group(function_name))
        self.role = ServiceRole(
            self,
            "role",
            role_name=ctx.naming.name("orchestrator-role"),
            service="lambda.amazonaws.com",
            account_id=ctx.aws.account_id,
        )
        self._grant(ctx, secrets, service, artifacts, notifications)
        if placement is not None:
            placement.grant_attach(self.role)
        code = TerraformAsset(self, "code", path=str(package_source(SOURCE_DIR)), type=AssetType.ARCHIVE)
        self.function = LambdaFunction(
            self,
            "this",
            function_name=function_name,
            description="CodePipeline deploy action: rolls the ECS service onto the built image",
            role=self.role.arn,
            runtime=RUNTIME,
            handler=HANDLER,
            filename=code.path,
            source_code_hash=code.asset_hash,
            timeout=60,
            memory_size=256,
            reserved_concurrent_executions=reserved_concurrency,
            tracing_config={"mode": "Active"},
            # CodePipeline invokes synchronously; an asynchronous invocation
            # (say, by hand) that keeps failing lands here and raises the DLQ alarm.
            dead_letter_config={"target_arn": notifications.dead_letter_queue_arn},
            kms_key_arn=ctx.key.arn,
            vpc_config=placement.vpc_config if placement is not None else None,
            environment={
                "variables": {
                    contract.ENV_CLUSTER: service.cluster_name,
                    contract.ENV_SERVICE: service.service_name,
                    contract.ENV_SECRET_ARN: secrets.orchestrator.arn,
                }
            },
            depends_on=[self.log_group.group, self.role.policy],
        )
        # Tokens read once (every read is a round trip to jsii).
        self.function_name: str = self.function.function_name

    def _grant(
        self,
        ctx: PlatformContext,
        secrets: PlatformSecrets,
        service: Service,
        artifacts: SecureBucket,
        notifications: Notifications,
    ) -> None:
        """Exactly what one deploy does, in the order it does it."""
        self.log_group.grant_write(self.role)
        tracing.grant_send_traces(self.role)
        secrets.grant_read(self.role, secrets.orchestrator, sid="ReadSettings")
        service.grant_deploy(self.role)
        self.role.add_statements(
            policies.Statement(
                sid="ReportJobResult",
                actions=["codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult"],
                resources=["*"],
            )
        )
        artifacts.grant_read(self.role, sid="ReadArtifacts")
        # The artifacts, the settings secret and the encrypted dead-letter queue.
        ctx.key.grant_data(self.role)
        notifications.grant_send_dead_letter(self.role, sid="DeadLetter")

    def grant_invoke(self, grantee: policies.Grantee, *, sid: str) -> None:
        grantee.add_statements(
            policies.Statement(sid=sid, actions=["lambda:InvokeFunction"], resources=[self.function.arn])
        )

    def metric(self, name: str) -> Metric:
        """An ``AWS/Lambda`` metric of the function."""
        return Metric("AWS/Lambda", name, (("FunctionName", self.function_name),))

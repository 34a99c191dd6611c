"""ECS on Fargate: cluster, task definition (app + X-Ray daemon), service behind the ALB.

Ownership split: the pipeline owns the running image, Terraform owns
everything else. The orchestrator registers a new task-definition revision
(copied from the family's newest revision, which is Terraform's after any
change it made, with only the app image changed) and points the service at
it, so the service's ``task_definition`` is the one attribute Terraform
ignores (``PIPELINE_OWNED_ATTRIBUTES``; a unit test asserts the list exactly).
A Terraform change to the task definition therefore reaches the running
service with the next pipeline deploy.
"""

from __future__ import annotations

import json
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_service import EcsService, EcsServiceLoadBalancer
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition, EcsTaskDefinitionVolume
from constructs import Construct

from constructs_lib import policies, tracing
from constructs_lib.context import PlatformContext
from constructs_lib.iam import ServiceRole
from constructs_lib.images import ImageRef
from constructs_lib.load_balancer import LoadBalancer
from constructs_lib.logs import EncryptedLogGroup
from constructs_lib.metrics import Metric
from constructs_lib.mirror import ImageMirror
from constructs_lib.network import Network
from constructs_lib.registry import Registry
from constructs_lib.secrets import PlatformSecrets
from constructs_lib.settings import ServiceSettings
from lambda_src.deploy_orchestrator.contract import APP_CONTAINER

XRAY_CONTAINER = "xray-daemon"
PIPELINE_OWNED_ATTRIBUTES = ("task_definition",)
#: How containers hand log lines to CloudWatch Logs: availability over completeness.
#: In blocking mode a container's writes to stdout/stderr block when CloudWatch Logs cannot
#: take them (throttling, an endpoint outage), and the application stops serving; in
#: non-blocking mode lines wait in a buffer and only an overflowing buffer drops lines.
#: ECS made non-blocking its default on 25 June 2025, but an account's defaultLogDriverMode
#: setting can change that default, so the mode is stated here (the same in every account).
#: The buffer: 25 MiB per container instead of the driver's 1 MiB default, room for minutes
#: of a busy container's output while CloudWatch Logs recovers; it is memory of the task
#: (the smallest Fargate size here has 512 MiB). The trade-off and its measurements:
#: aws.amazon.com/blogs/containers/preventing-log-loss-with-non-blocking-mode-in-the-awslogs-container-log-driver/
#: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LogConfiguration.html
LOG_DELIVERY = {"mode": "non-blocking", "max-buffer-size": "25m"}


def container_definitions(
    *, settings: ServiceSettings, image: str, xray_image: str, log_group: str, region: str, app_secret_arn: str
) -> list[dict[str, Any]]:
    def logging(stream_prefix: str) -> dict[str, Any]:
        return {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": stream_prefix,
                **LOG_DELIVERY,
            },
        }

    return [
        {
            "name": APP_CONTAINER,
            "image": image,
            "essential": True,
            "portMappings": [{"containerPort": settings.container_port, "protocol": "tcp"}],
            "readonlyRootFilesystem": settings.readonly_root_filesystem,
            # Writable scratch space even with a read-only root.
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],  # noqa: S108
            # Injected by ECS from Secrets Manager at start; never a plain environment value.
            "secrets": [{"name": "APP_SECRET", "valueFrom": app_secret_arn}],
            "environment": [{"name": "AWS_XRAY_DAEMON_ADDRESS", "value": "localhost:2000"}],
            "logConfiguration": logging(APP_CONTAINER),
            "dependsOn": [{"containerName": XRAY_CONTAINER, "condition": "START"}],
        },
        {
            "name": XRAY_CONTAINER,
            "image": xray_image,
            "essential": False,
            "cpu": 32,
            "memoryReservation": 64,
            "readonlyRootFilesystem": True,
            "portMappings": [{"containerPort": 2000, "protocol": "udp"}],
            "logConfiguration": logging(XRAY_CONTAINER),
        },
    ]


class Service(Construct):
    """Attributes: cluster, task_definition, service, execution_role, task_role, log_group,
    insights_log_group;
    cluster_name, service_name, service_arn as plain strings.

    The plain names and ARN let the orchestrator and alarms refer to the
    service without depending on the ``aws_ecs_service`` resource, which
    waits for the ALB (about a minute): the pipeline builds in parallel.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PlatformContext,
        settings: ServiceSettings,
        network: Network,
        load_balancer: LoadBalancer,
        registry: Registry,
        mirror: ImageMirror,
        secrets: PlatformSecrets,
        deployment_alarms: list[str],
    ) -> None:
        super().__init__(scope, id)
        self.cluster_name = ctx.naming.name("cluster")
        self.service_name = ctx.naming.name("service")
        self.service_arn = ctx.aws.arn("ecs", f"service/{self.cluster_name}/{self.service_name}")
        self.family = ctx.naming.name("app")
        #: Every revision of the family (what the orchestrator registers).
        self.task_definition_family_arn = ctx.aws.arn("ecs", f"task-definition/{self.family}:*")
        self.log_group = EncryptedLogGroup(self, "log-group", ctx=ctx, name=ctx.naming.log_group("ecs"))
        self._cluster(ctx)
        self._roles(ctx, settings, registry, mirror, secrets)
        self._task_definition(ctx, settings, mirror, secrets)
        self._service(settings, network, load_balancer, deployment_alarms)

    def _cluster(self, ctx: PlatformContext) -> None:
        # Container Insights writes its performance events to a group it creates itself when it
        # does not exist ("it automatically creates a log group for the performance log events"):
        # unencrypted, kept forever. Created here first, with the key and the retention.
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-reference.html
        self.insights_log_group = EncryptedLogGroup(
            self, "insights-log-group", ctx=ctx, name=ctx.naming.container_insights_log_group(self.cluster_name)
        )
        self.cluster = EcsCluster(
            self,
            "cluster",
            name=self.cluster_name,
            setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
            depends_on=[self.insights_log_group.group],
        )

    def _task_definition(
        self, ctx: PlatformContext, settings: ServiceSettings, mirror: ImageMirror, secrets: PlatformSecrets
    ) -> None:
        # ECR Public images run from their mirrored repositories, by the digest the copy
        # returned (constructs_lib/mirror.py): the task definition waits for the copy.
        xray_image = mirror.mirror("xray-daemon", settings.xray_daemon_image).uri
        app_image = settings.bootstrap_image
        if ImageRef.parse(app_image).is_ecr_public:
            app_image = mirror.mirror("bootstrap", app_image).uri
        self.task_definition = EcsTaskDefinition(
            self,
            "task",
            family=self.family,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(settings.cpu),
            memory=str(settings.memory),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
            volume=[EcsTaskDefinitionVolume(name="tmp")],
            container_definitions=json.dumps(
                container_definitions(
                    settings=settings,
                    image=app_image,
                    xray_image=xray_image,
                    log_group=self.log_group.name,
                    region=ctx.aws.region,
                    app_secret_arn=secrets.app.arn,
                )
            ),
            depends_on=[self.log_group.group],
        )

    def _roles(
        self,
        ctx: PlatformContext,
        settings: ServiceSettings,
        registry: Registry,
        mirror: ImageMirror,
        secrets: PlatformSecrets,
    ) -> None:
        """The execution role (ECS: pull, log, inject the secret) and the task role (the app: traces)."""
        ecs_trust_arn = ctx.aws.arn("ecs", "*")
        self.execution_role = ServiceRole(
            self,
            "execution-role",
            role_name=ctx.naming.name("task-exec-role"),
            service="ecs-tasks.amazonaws.com",
            account_id=ctx.aws.account_id,
            source_arn=ecs_trust_arn,
        )
        # A bootstrap image in another private repository needs pulling too.
        registry.grant_pull(self.execution_role, settings.bootstrap_image)
        mirror.grant_pull(self.execution_role)
        self.log_group.grant_write(self.execution_role)
        secrets.grant_read(self.execution_role, secrets.app, sid="ReadAppSecret")
        ctx.key.grant_decrypt(self.execution_role, sid="DecryptSecret")
        self.task_role = ServiceRole(
            self,
            "task-role",
            role_name=ctx.naming.name("task-role"),
            service="ecs-tasks.amazonaws.com",
            account_id=ctx.aws.account_id,
            source_arn=ecs_trust_arn,
        )
        tracing.grant_daemon(self.task_role)

    def _service(
        self, settings: ServiceSettings, network: Network, load_balancer: LoadBalancer, deployment_alarms: list[str]
    ) -> None:
        self.service = EcsService(
            self,
            "this",
            name=self.service_name,
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=settings.desired_count,
            launch_type="FARGATE",
            platform_version="LATEST",
            network_configuration={
                "subnets": network.private_subnet_ids,
                "security_groups": [load_balancer.service_security_group_id],
                "assign_public_ip": False,
            },
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=load_balancer.target_group.arn,
                    container_name=APP_CONTAINER,
                    container_port=settings.container_port,
                )
            ],
            health_check_grace_period_seconds=settings.health_check_grace_period_seconds,
            # Tasks that never start: the circuit breaker. Tasks that start but serve errors or
            # fail health checks: the deployment alarms (by name; they need not exist first).
            deployment_circuit_breaker={"enable": True, "rollback": True},
            alarms={"enable": True, "rollback": True, "alarm_names": deployment_alarms},
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            wait_for_steady_state=False,
            lifecycle=TerraformResourceLifecycle(ignore_changes=list(PIPELINE_OWNED_ATTRIBUTES)),
            # ECS refuses a target group no listener forwards to yet ("The target group with
            # targetGroupArn ... does not have an associated load balancer"), and the provider
            # retries CreateService for about four minutes only. Terraform cannot see the listener
            # from the service, so the edge is stated: the forwarding one, which with HTTPS waits
            # for the certificate's DNS validation (the provider allows that 75 minutes).
            depends_on=[load_balancer.forwarding_listener],
        )

    def grant_deploy(self, grantee: policies.Grantee) -> None:
        """Roll the service onto a new task-definition revision (what the orchestrator does)."""
        grantee.add_statements(
            policies.Statement(
                sid="RollService", actions=["ecs:UpdateService", "ecs:DescribeServices"], resources=[self.service_arn]
            ),
            policies.Statement(
                sid="TaskDefinitions",
                actions=["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"],
                resources=["*"],
            ),
            # A revision registered with the family's tags needs ecs:TagResource too ("if the user
            # attempts to create a resource with tags, the request fails if the user does not have
            # permissions to use the ecs:TagResource action"); only when registering, only this family.
            # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
            policies.Statement(
                sid="TagNewRevisions",
                actions=["ecs:TagResource"],
                resources=[self.task_definition_family_arn],
                conditions={"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}},
            ),
            policies.Statement(
                sid="PassTaskRoles",
                actions=["iam:PassRole"],
                resources=[self.execution_role.arn, self.task_role.arn],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            ),
        )

    def metric(self, name: str) -> Metric:
        """An ``AWS/ECS`` metric of this service."""
        return Metric("AWS/ECS", name, (("ClusterName", self.cluster.name), ("ServiceName", self.service.name)))

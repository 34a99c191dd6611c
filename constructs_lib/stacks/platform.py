"""One environment's platform. Composition only: resource details live in the
construct modules, so any resource is two hops from main.py."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from constructs import Construct

from constructs_lib.edge import Edge
from constructs_lib.encryption import EnvironmentKey
from constructs_lib.load_balancer import LoadBalancer
from constructs_lib.network import Network
from constructs_lib.notifications import Notifications
from constructs_lib.observability import Observability
from constructs_lib.orchestrator import DeployOrchestrator
from constructs_lib.pipeline import Pipeline
from constructs_lib.registry import Registry
from constructs_lib.secrets import PlatformSecrets
from constructs_lib.service import APP_CONTAINER, Service
from constructs_lib.settings import Settings
from constructs_lib.stacks.target import add_provider, add_s3_backend
from constructs_lib.storage import SecureBucket
from constructs_lib.tracing import Tracing


def platform_stack_name(settings: Settings) -> str:
    return f"platform-{settings.environment}"


class PlatformStack(TerraformStack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        naming = settings.naming
        add_provider(self, settings)
        add_s3_backend(
            self, settings, bucket=naming.name("tfstate"), table=naming.name("tflock"), key=settings.state_key
        )
        account_id = DataAwsCallerIdentity(self, "caller").account_id
        region = settings.region
        retention = settings.observability.log_retention_days
        # Outside prod a torn-down environment must leave nothing behind.
        disposable = not settings.is_production

        self.key = EnvironmentKey(
            self,
            "key",
            alias_name=naming.key_alias,
            description=f"{settings.project} {settings.environment} platform data",
            account_id=account_id,
            region=region,
            deletion_window_in_days=settings.security.kms_deletion_window_days,
        )
        self.secrets = PlatformSecrets(
            self,
            "secrets",
            naming=naming,
            key=self.key,
            settings=settings.security,
            # Prod keeps a deleted secret recoverable for 30 days; elsewhere a
            # torn-down environment can be recreated at once under the same name.
            recovery_window_in_days=0 if disposable else 30,
        )
        self.network = Network(
            self,
            "network",
            settings=settings.network,
            availability_zones=settings.availability_zones,
            naming=naming,
            key=self.key,
            account_id=account_id,
            region=region,
            log_retention_in_days=retention,
        )
        self.load_balancer = LoadBalancer(
            self,
            "load-balancer",
            settings=settings.edge,
            naming=naming,
            network=self.network,
            container_port=settings.service.container_port,
            deletion_protection=settings.alb_deletion_protection,
            account_id=account_id,
            region=region,
        )
        self.edge = Edge(
            self,
            "edge",
            settings=settings.edge,
            naming=naming,
            key=self.key,
            load_balancer=self.load_balancer,
            log_retention_in_days=retention,
        )
        self.registry = Registry(
            self,
            "registry",
            name=naming.name("app"),
            key=self.key,
            keep_tagged=settings.service.ecr_keep_tagged_images,
            force_delete=disposable,
            cache_prefix=naming.name("ecrpub"),
            account_id=account_id,
            region=region,
        )
        self.service = Service(
            self,
            "service",
            settings=settings.service,
            naming=naming,
            key=self.key,
            network=self.network,
            load_balancer=self.load_balancer,
            registry=self.registry,
            secrets=self.secrets,
            account_id=account_id,
            region=region,
            log_retention_in_days=retention,
        )
        self.artifacts = SecureBucket(
            self,
            "artifacts",
            bucket_name=naming.name("artifacts"),
            key=self.key,
            expiration_days=settings.pipeline.artifact_expiration_days,
            noncurrent_expiration_days=settings.pipeline.artifact_expiration_days,
            force_destroy=disposable,
            access_log_bucket=self.load_balancer.access_logs,
        )
        self.notifications = Notifications(
            self,
            "notifications",
            naming=naming,
            key=self.key,
            account_id=account_id,
            emails=settings.observability.alarm_emails,
        )
        self.orchestrator = DeployOrchestrator(
            self,
            "orchestrator",
            naming=naming,
            key=self.key,
            secrets=self.secrets,
            service=self.service,
            artifacts=self.artifacts,
            dead_letter_queue=self.notifications.dead_letter_queue,
            account_id=account_id,
            log_retention_in_days=retention,
        )
        self.pipeline = Pipeline(
            self,
            "pipeline",
            settings=settings.pipeline,
            naming=naming,
            key=self.key,
            registry=self.registry,
            artifacts=self.artifacts,
            access_log_bucket=self.load_balancer.access_logs,
            orchestrator=self.orchestrator,
            container_name=APP_CONTAINER,
            require_manual_approval=settings.require_manual_approval,
            approval_topic=self.notifications.topic,
            account_id=account_id,
            region=region,
            log_retention_in_days=retention,
            force_destroy=disposable,
        )
        self.tracing = Tracing(
            self, "tracing", rule_name=naming.sampling_rule, fixed_rate=settings.observability.xray_sampling_rate
        )
        self.observability = Observability(
            self,
            "observability",
            settings=settings.observability,
            naming=naming,
            region=region,
            account_id=account_id,
            notifications=self.notifications,
            pipeline=self.pipeline,
            service=self.service,
            registry=self.registry,
            load_balancer=self.load_balancer,
            edge=self.edge,
            orchestrator=self.orchestrator,
        )
        self._outputs()

    def _outputs(self) -> None:
        """What operators and the integration tests need. Secret ARNs, never values."""
        outputs = {
            "alb_dns_name": self.load_balancer.lb.dns_name,
            "pipeline_name": self.pipeline.pipeline.name,
            "ecr_repository_url": self.registry.repository.repository_url,
            "cluster_name": self.service.cluster.name,
            "service_name": self.service.service.name,
            "kms_key_arn": self.key.arn,
            "sns_topic_arn": self.notifications.topic_arn,
            "dlq_url": self.notifications.dead_letter_queue.url,
            "waf_web_acl_arn": self.edge.web_acl.arn,
            "orchestrator_function_name": self.orchestrator.function.function_name,
            "orchestrator_secret_arn": self.secrets.orchestrator.arn,
            "app_secret_arn": self.secrets.app.arn,
            "sampling_rule_name": self.tracing.sampling_rule.rule_name,
            "artifact_bucket": self.artifacts.name,
            "source_bucket": self.pipeline.source.name if self.pipeline.source else "",
            "vpc_id": self.network.vpc_id,
            "log_group_pipeline": self.pipeline.pipeline_log_group.name,
            "log_group_codebuild": self.pipeline.build_log_group.name,
            "log_group_orchestrator": self.orchestrator.log_group.name,
            "log_group_ecs": self.service.log_group.name,
            "log_group_waf": self.edge.log_group.name,
            "log_group_flow_logs": self.network.flow_log_group.name,
        }
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)

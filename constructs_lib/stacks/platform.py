"""One environment's platform. Composition only: resource details live in the
construct modules, so any resource is two hops from main.py."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from constructs_lib import addresses, ci_access, policies
from constructs_lib.context import Aws, PlatformContext
from constructs_lib.domain import PublicDomain
from constructs_lib.edge import Edge
from constructs_lib.encryption import EnvironmentKey
from constructs_lib.iam import bound_every_role
from constructs_lib.load_balancer import ACCESS_LOG_DAYS, LoadBalancer
from constructs_lib.mirror import ImageMirror
from constructs_lib.network import FunctionPlacement, Network
from constructs_lib.notifications import Notifications
from constructs_lib.observability import Observability, Watched, alarms, notices
from constructs_lib.orchestrator import DeployOrchestrator
from constructs_lib.pipeline import Pipeline
from constructs_lib.registry import Registry
from constructs_lib.replication import CrossRegionReplica, ExtraSource
from constructs_lib.secrets import PlatformSecrets
from constructs_lib.service import Service
from constructs_lib.settings import Settings
from constructs_lib.stacks.target import add_provider, add_s3_backend
from constructs_lib.storage import SecureBucket
from constructs_lib.tracing import Tracing


def platform_stack_name(settings: Settings) -> str:
    return f"platform-{settings.environment}"


class PlatformStack(TerraformStack):
    """Construct IDs here and in the constructs decide terraform addresses: never rename one."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        naming = settings.naming
        add_provider(self, settings)
        add_s3_backend(
            self, settings, bucket=naming.name("tfstate"), table=naming.name("tflock"), key=settings.state_key
        )
        aws = Aws.discover(self, settings.region)
        key = EnvironmentKey(
            self,
            "key",
            alias_name=naming.key_alias,
            description=f"{settings.project} {settings.environment} platform data",
            # ARNs built from names (the topic and rules are created after the key).
            policy_statements=policies.kms_key_policy(
                aws,
                topic_arn=aws.arn("sns", naming.name("notifications")),
                rules_arn=aws.arn("events", f"rule/{naming.prefix}-*"),
            ),
            deletion_window_in_days=settings.security.kms_deletion_window_days,
        )
        self.ctx = PlatformContext(
            aws=aws,
            naming=naming,
            key=key,
            log_retention_in_days=settings.observability.log_retention_days,
            disposable=not settings.is_production,
        )
        self.key = key
        self._runtime(settings)
        self._delivery(settings)
        # Every reader of a secret is granted by now: each secret's policy names exactly them.
        self.secrets.restrict_readers(list(ci_access.role_arns(aws, settings).values()) if settings.ci_on else None)
        self._observability(settings)
        self._outputs()
        # Buckets renamed to carry the account and region: their old addresses are forgotten,
        # never destroyed (README: Upgrading to account-scoped bucket names).
        buckets = [
            self.artifacts,
            self.load_balancer.access_logs,
            *([self.pipeline.source] if self.pipeline.source else []),
        ]
        addresses.forget(self, [a for b in buckets for a in b.legacy_addresses])
        bound_every_role(self, ci_access.boundary_arn(self.ctx.aws, settings))

    def _runtime(self, settings: Settings) -> None:
        """Where the service runs: secrets, network, ALB and WAF, image registry, ECS."""
        ctx = self.ctx
        self.notifications = Notifications(self, "notifications", ctx=ctx, emails=settings.observability.alarm_emails)
        self.secrets = PlatformSecrets(self, "secrets", ctx=ctx, settings=settings.security)
        self.network = Network(
            self, "network", ctx=ctx, settings=settings.network, availability_zones=settings.availability_zones
        )
        # The functions run in the private subnets when these have a way out (NAT).
        self.function_placement: FunctionPlacement | None = None
        if settings.network.enable_nat_gateway:
            self.function_placement = FunctionPlacement(self.network, "functions", ctx=ctx, network=self.network)
        edge = settings.edge
        self.domain: PublicDomain | None = None
        if edge.domain_name is not None and edge.hosted_zone is not None:
            # A certificate the settings bring wins; otherwise one is requested for the name.
            self.domain = PublicDomain(
                self,
                "domain",
                domain_name=edge.domain_name,
                hosted_zone=edge.hosted_zone,
                request_certificate=edge.certificate_arn is None,
            )
        self.load_balancer = LoadBalancer(
            self,
            "load-balancer",
            ctx=ctx,
            settings=edge,
            network=self.network,
            container_port=settings.service.container_port,
            deletion_protection=settings.alb_deletion_protection,
            certificate_arn=edge.certificate_arn or (self.domain.certificate_arn if self.domain else None),
        )
        if self.domain is not None:
            self.domain.point_at(self.load_balancer.lb)
        self.edge = Edge(self, "edge", ctx=ctx, settings=settings.edge, load_balancer=self.load_balancer)
        self.registry = Registry(self, "registry", ctx=ctx, keep_tagged=settings.service.ecr_keep_tagged_images)
        self.mirror = ImageMirror(
            self,
            "mirror",
            ctx=ctx,
            notifications=self.notifications,
            keep_tagged=settings.service.ecr_keep_tagged_images,
            reserved_concurrency=settings.pipeline.mirror_reserved_concurrency,
            placement=self.function_placement,
        )
        self.service = Service(
            self,
            "service",
            ctx=ctx,
            settings=settings.service,
            network=self.network,
            load_balancer=self.load_balancer,
            registry=self.registry,
            mirror=self.mirror,
            secrets=self.secrets,
            deployment_alarms=alarms.deployment_alarm_names(ctx.naming),
        )

    def _delivery(self, settings: Settings) -> None:
        """How a change reaches the service: artifacts, notifications, orchestrator, pipeline."""
        ctx = self.ctx
        self.artifacts = SecureBucket(
            self,
            "artifacts",
            bucket_name=ctx.naming.name("artifacts"),
            key=ctx.key,
            expiration_days=settings.pipeline.artifact_expiration_days,
            noncurrent_expiration_days=settings.pipeline.artifact_expiration_days,
            force_destroy=ctx.disposable,
            access_log_bucket=self.load_balancer.access_logs,
        )
        self.orchestrator = DeployOrchestrator(
            self,
            "orchestrator",
            ctx=ctx,
            secrets=self.secrets,
            service=self.service,
            artifacts=self.artifacts,
            notifications=self.notifications,
            reserved_concurrency=settings.pipeline.orchestrator_reserved_concurrency,
            placement=self.function_placement,
        )
        self.pipeline = Pipeline(
            self,
            "pipeline",
            ctx=ctx,
            settings=settings.pipeline,
            registry=self.registry,
            artifacts=self.artifacts,
            access_log_bucket=self.load_balancer.access_logs,
            orchestrator=self.orchestrator,
            notifications=self.notifications,
            require_manual_approval=settings.require_manual_approval,
            container_port=settings.service.container_port,
        )
        self.artifacts_replica = self._replicate(settings)

    def _replicate(self, settings: Settings) -> CrossRegionReplica | None:
        """What the pipeline deployed and built from, and who accessed it, kept in another region too."""
        replica_naming = settings.replica_naming
        if replica_naming is None:
            return None
        ctx = self.ctx
        return CrossRegionReplica(
            self,
            "artifacts-replica",
            aws=ctx.aws,
            provider=add_provider(self, settings, replica=True),
            region=replica_naming.region,
            source=self.artifacts,
            source_key=ctx.key,
            bucket_name=replica_naming.name("artifacts"),
            key_alias=ctx.naming.key_alias,
            role_name=ctx.naming.name("artifacts-replication"),
            deletion_window_in_days=settings.security.kms_deletion_window_days,
            force_destroy=ctx.disposable,
            expiration_days=settings.pipeline.artifact_expiration_days,
            noncurrent_expiration_days=settings.pipeline.artifact_expiration_days,
            # The ALB's and the platform buckets' access logs, and the pipeline's source.
            log_source=self.load_balancer.access_logs,
            log_bucket_name=replica_naming.name("alb-logs"),
            log_expiration_days=ACCESS_LOG_DAYS,
            extra=[
                ExtraSource(
                    id="source",
                    source=self.pipeline.source,
                    bucket_name=replica_naming.name("source"),
                    noncurrent_expiration_days=settings.pipeline.artifact_expiration_days,
                )
            ]
            if self.pipeline.source is not None
            else [],
        )

    def _observability(self, settings: Settings) -> None:
        self.tracing = Tracing(
            self,
            "tracing",
            rule_name=self.ctx.naming.sampling_rule,
            fixed_rate=settings.observability.xray_sampling_rate,
        )
        self.observability = Observability(
            self,
            "observability",
            ctx=self.ctx,
            settings=settings.observability,
            notifications=self.notifications,
            events=notices.Watched(
                pipeline_name=self.pipeline.pipeline_name,
                pipeline_states=list(settings.observability.pipeline_notify_states),
                service_arn=self.service.service_arn,
                repository_name=self.registry.repository.name,
            ),
            pipeline_log_group=self.pipeline.pipeline_log_group,
            watched=Watched(
                load_balancer=self.load_balancer,
                service=self.service,
                orchestrator=self.orchestrator,
                web_acl=self.edge,
                dead_letters=self.notifications.metric_dead_letters(),
                failed_executions=self.pipeline.metric_failed_executions(),
            ),
        )

    def _service_url(self) -> str:
        if self.domain is not None:
            return f"https://{self.domain.domain_name}"
        scheme = "https" if self.load_balancer.https_listener is not None else "http"
        return f"{scheme}://{self.load_balancer.lb.dns_name}"

    def _outputs(self) -> None:
        """What operators and the integration tests need. Secret ARNs, never values."""
        outputs = {
            "alb_dns_name": self.load_balancer.lb.dns_name,
            # What clients use: the domain over HTTPS, else the ALB's own name (plain HTTP when no
            # certificate: prod only with edge.allow_plain_http, which the summaries repeat).
            "service_url": self._service_url(),
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

"""One environment's platform. Composition only: resource details live in the
construct modules, so any resource is two hops from main.py."""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from constructs import Construct

from constructs_lib.edge import Edge
from constructs_lib.encryption import EnvironmentKey
from constructs_lib.load_balancer import LoadBalancer
from constructs_lib.network import Network
from constructs_lib.secrets import PlatformSecrets
from constructs_lib.settings import Settings
from constructs_lib.stacks.target import add_provider, add_s3_backend


def platform_stack_name(settings: Settings) -> str:
    return f"platform-{settings.environment}"


class PlatformStack(TerraformStack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        naming = settings.naming
        add_provider(self, settings)
        add_s3_backend(self, settings, bucket=naming.name("tfstate"), table=naming.name("tflock"))
        account_id = DataAwsCallerIdentity(self, "caller").account_id
        region = settings.region
        retention = settings.observability.log_retention_days

        self.key = EnvironmentKey(
            self,
            "key",
            alias_name=naming.key_alias,
            description=f"{settings.project} {settings.environment} platform data",
            account_id=account_id,
            region=region,
            deletion_window_in_days=settings.security.kms_deletion_window_days,
        )
        self.network = Network(
            self,
            "network",
            settings=settings.network,
            naming=naming,
            key=self.key,
            account_id=account_id,
            region=region,
            log_retention_in_days=retention,
        )
        self.secrets = PlatformSecrets(
            self,
            "secrets",
            naming=naming,
            key=self.key,
            settings=settings.security,
            # Prod keeps a deleted secret recoverable for 30 days; elsewhere a
            # torn-down environment can be recreated at once under the same name.
            recovery_window_in_days=30 if settings.is_production else 0,
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

"""Bootstrap stack: the remote-state bucket, lock table and key, keeping its own state in them.

Self-hosted state, the pattern of cloudposse/terraform-aws-tfstate-backend:
the stack's backend is the bucket and table it creates, under its own key.
On an environment's first deploy the bucket does not exist yet, so the deploy
tool applies once with a local-backend override and then migrates the state
into the bucket (``terraform init -migrate-state``); ``destroy`` moves it back
to a local file first. Every later run, on any machine, reads it from S3.
"""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from constructs_lib import addresses, ci_access
from constructs_lib.context import Aws
from constructs_lib.iam import bound_every_role
from constructs_lib.replication import CrossRegionReplica
from constructs_lib.settings import Settings
from constructs_lib.stacks.target import add_provider, add_s3_backend
from constructs_lib.state_store import STATE_ACCESS_LOG_DAYS, StateStore


def state_backend_stack_name(settings: Settings) -> str:
    return f"state-backend-{settings.environment}"


class StateBackendStack(TerraformStack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        add_provider(self, settings)
        naming = settings.naming
        add_s3_backend(
            self,
            settings,
            bucket=naming.name("tfstate"),
            table=naming.name("tflock"),
            key=settings.bootstrap_state_key,
        )
        aws = Aws.discover(self, settings.region)
        self.store = StateStore(
            self,
            "state",
            bucket_name=naming.name("tfstate"),
            table_name=naming.name("tflock"),
            key_alias=naming.state_key_alias,
            aws=aws,
            deletion_window_in_days=settings.security.kms_deletion_window_days,
            deletion_protection=settings.is_production,
            access_log_bucket_name=naming.name("tfstate-logs"),
        )
        self.replica: CrossRegionReplica | None = None
        replica_naming = settings.replica_naming
        if replica_naming is not None:
            # The state's copy in another region: what terraform reads when this region is down.
            self.replica = CrossRegionReplica(
                self,
                "state-replica",
                aws=aws,
                provider=add_provider(self, settings, replica=True),
                region=replica_naming.region,
                source=self.store.bucket,
                source_key=self.store.key,
                bucket_name=replica_naming.name("tfstate"),
                # The same alias in the replica's region: the backend's kms_key_id works there as is.
                key_alias=naming.state_key_alias,
                role_name=naming.name("tfstate-replication"),
                deletion_window_in_days=settings.security.kms_deletion_window_days,
                force_destroy=not settings.is_production,
                # Who read or wrote the state survives the region too.
                log_source=self.store.access_logs,
                log_bucket_name=replica_naming.name("tfstate-logs"),
                log_expiration_days=STATE_ACCESS_LOG_DAYS,
                # The backend's lock files come and go with every locked run (use_lockfile).
                replicate_delete_markers=True,
            )
        # Renamed buckets (account and region in the name): the old addresses are forgotten.
        addresses.forget(self, [*self.store.bucket.legacy_addresses, *self.store.access_logs.legacy_addresses])
        bound_every_role(self, ci_access.boundary_arn(aws, settings))
        TerraformOutput(self, "state_bucket", value=self.store.bucket.name)
        TerraformOutput(self, "lock_table", value=self.store.table.name)
        TerraformOutput(self, "state_key_arn", value=self.store.key.arn)
        if self.replica is not None:
            TerraformOutput(self, "state_replica_bucket", value=self.replica.bucket.name)
            TerraformOutput(self, "replica_region", value=settings.recovery.replica_region)

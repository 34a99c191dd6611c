"""Bootstrap stack: the remote-state bucket and lock table, itself on local state."""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from constructs import Construct

from constructs_lib.settings import Settings
from constructs_lib.stacks.target import add_provider
from constructs_lib.state_store import StateStore


def state_backend_stack_name(settings: Settings) -> str:
    return f"state-backend-{settings.environment}"


class StateBackendStack(TerraformStack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, state_dir: str) -> None:
        super().__init__(scope, id)
        add_provider(self, settings)
        # Chicken and egg: this stack creates the bucket the others keep state in,
        # so its own state is local (keep terraform.<stack>.tfstate safe, or import
        # the two resources again if it is lost; see docs/troubleshooting.md).
        LocalBackend(self, path=f"{state_dir}/terraform.{id}.tfstate")
        identity = DataAwsCallerIdentity(self, "caller")
        naming = settings.naming
        self.store = StateStore(
            self,
            "state",
            bucket_name=naming.name("tfstate"),
            table_name=naming.name("tflock"),
            key_alias=f"alias/{settings.project}-state-{settings.environment_suffix}",
            account_id=identity.account_id,
            region=settings.region,
            deletion_window_in_days=settings.security.kms_deletion_window_days,
            deletion_protection=settings.is_production,
            access_log_bucket_name=naming.name("tfstate-logs"),
        )
        TerraformOutput(self, "state_bucket", value=self.store.bucket.name)
        TerraformOutput(self, "lock_table", value=self.store.table.name)
        TerraformOutput(self, "state_key_arn", value=self.store.key.arn)

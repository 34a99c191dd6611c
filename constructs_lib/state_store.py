"""Remote-state storage: an encrypted S3 bucket and a DynamoDB lock table."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from constructs import Construct

from constructs_lib import policies
from constructs_lib.context import Aws
from constructs_lib.encryption import EnvironmentKey
from constructs_lib.storage import SecureBucket

#: Days the state bucket's server access logs are kept (here and in the replica region).
STATE_ACCESS_LOG_DAYS = 365


class StateStore(Construct):
    """Where Terraform keeps the platform's state and its lock.

    Attributes:
        key: the CMK encrypting both.
        bucket: versioned state bucket; old versions are kept 90 days so a
            corrupted state can be rolled back.
        table: lock table (``LockID`` hash key, the S3 backend's contract).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str,
        table_name: str,
        key_alias: str,
        aws: Aws,
        deletion_window_in_days: int,
        deletion_protection: bool,
        access_log_bucket_name: str,
    ) -> None:
        super().__init__(scope, id)
        self.key = EnvironmentKey(
            self,
            "key",
            alias_name=key_alias,
            description=f"Terraform state for {bucket_name}",
            # Its own minimal policy: the state store is used only through S3 and DynamoDB.
            policy_statements=policies.state_key_policy(aws),
            deletion_window_in_days=deletion_window_in_days,
        )
        # S3 server access logs for the state bucket (who read or wrote state).
        self.access_logs = SecureBucket(
            self,
            "access-logs",
            bucket_name=access_log_bucket_name,
            key=None,  # S3 log delivery writes SSE-S3 only
            expiration_days=STATE_ACCESS_LOG_DAYS,
            force_destroy=not deletion_protection,
            extra_statements=[SecureBucket.allow_s3_access_logs(aws, access_log_bucket_name)],
        )
        # Outside prod a torn-down environment takes its state history with it;
        # in prod the bucket must be emptied by hand first (on purpose).
        self.bucket = SecureBucket(
            self,
            "bucket",
            bucket_name=bucket_name,
            key=self.key,
            force_destroy=not deletion_protection,
            access_log_bucket=self.access_logs,
        )
        self.table = DynamodbTable(
            self,
            "lock-table",
            name=table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attribute=[{"name": "LockID", "type": "S"}],
            server_side_encryption={"enabled": True, "kms_key_arn": self.key.arn},
            point_in_time_recovery={"enabled": True},
            deletion_protection_enabled=deletion_protection,
        )

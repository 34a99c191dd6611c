"""CloudWatch log groups created explicitly, encrypted with the environment key.

A log group a service auto-creates is unencrypted and keeps data forever
until someone notices; every group the platform writes to is made here first.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

from constructs_lib.encryption import EnvironmentKey


class EncryptedLogGroup(Construct):
    """Attributes: ``group`` (the ``aws_cloudwatch_log_group``)."""

    def __init__(self, scope: Construct, id: str, *, name: str, key: EnvironmentKey, retention_in_days: int) -> None:
        super().__init__(scope, id)
        self.group = CloudwatchLogGroup(
            self, "this", name=name, kms_key_id=key.arn, retention_in_days=retention_in_days
        )
        # Tokens read once (every read is a round trip to jsii).
        self.name: str = self.group.name
        self.arn: str = self.group.arn

"""CloudWatch log groups created explicitly, encrypted with the environment key.

A log group a service auto-creates is unencrypted and keeps data forever
until someone notices; every group the platform writes to is made here first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

from constructs_lib import policies
from constructs_lib.context import PlatformContext

#: Writing log events: the one spelling of this set.
WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


class EncryptedLogGroup(Construct):
    """Attributes: ``group`` (the ``aws_cloudwatch_log_group``), ``name``, ``arn``."""

    def __init__(self, scope: Construct, id: str, *, ctx: PlatformContext, name: str) -> None:
        super().__init__(scope, id)
        self.group = CloudwatchLogGroup(
            self, "this", name=name, kms_key_id=ctx.key.arn, retention_in_days=ctx.log_retention_in_days
        )
        # Tokens read once (every read is a round trip to jsii).
        self.name: str = self.group.name
        self.arn: str = self.group.arn

    def write_statement(
        self,
        *,
        sid: str = "WriteLogs",
        principals: Mapping[str, Sequence[str]] | None = None,
        describe_streams: bool = False,
    ) -> policies.Statement:
        """Write log events to this group (streams are ``<group arn>:*``).

        ``principals``: for a resource policy. ``describe_streams``: the writer
        also lists the group's streams (VPC flow logs do), which is an action
        on the group itself.
        """
        return policies.Statement(
            sid=sid,
            principals=principals,
            actions=(*WRITE_ACTIONS, "logs:DescribeLogStreams") if describe_streams else WRITE_ACTIONS,
            resources=[self.arn, f"{self.arn}:*"] if describe_streams else [f"{self.arn}:*"],
        )

    def grant_write(self, grantee: policies.Grantee, *, sid: str = "WriteLogs", describe_streams: bool = False) -> None:
        grantee.add_statements(self.write_statement(sid=sid, describe_streams=describe_streams))

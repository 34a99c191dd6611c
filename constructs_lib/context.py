"""What every construct of a stack needs, worked out once.

:class:`Aws` is where the stack deploys (partition, account, region) and the
one place ARNs are built. :class:`PlatformContext` adds the environment's
naming, key, log retention and whether the environment is disposable, so a
construct takes one ``ctx`` instead of the same six arguments.

The partition and account come from data sources (``aws_partition``,
``aws_caller_identity``) read at plan time, so the same code serves the
``aws``, ``aws-us-gov`` and ``aws-cn`` partitions; the region comes from the
settings, so a plan shows it literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs_lib.naming import Naming

if TYPE_CHECKING:  # pragma: no cover - import for annotations only (encryption imports this module)
    from constructs import Construct

    from constructs_lib.encryption import EnvironmentKey


@dataclass(frozen=True)
class Aws:
    """Partition, account and region of a stack; the ARN builder."""

    partition: str
    account_id: str
    region: str

    @classmethod
    def discover(cls, scope: Construct, region: str) -> Aws:
        """Add the two data sources to ``scope`` (IDs ``caller``, ``partition``: addresses)."""
        # Imported here: building ARNs (the workflows' helper, the deploy tool) starts no jsii.
        from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
        from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition

        account_id = DataAwsCallerIdentity(scope, "caller").account_id
        partition = DataAwsPartition(scope, "partition").partition
        return cls(partition=partition, account_id=account_id, region=region)

    def arn(self, service: str, resource: str, *, region: str | None = None, account: str | None = None) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``.

        Region and account default to the stack's; pass ``""`` for ARNs that
        have none (S3 buckets, IAM).
        """
        region = self.region if region is None else region
        account = self.account_id if account is None else account
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def account_root(self, account: str | None = None) -> str:
        """The principal that stands for a whole account (its IAM)."""
        return self.arn("iam", "root", region="", account=account)

    def bucket_arn(self, bucket_name: str, objects: str | None = None) -> str:
        """A bucket's ARN, or of the objects matching ``objects`` (``"*"``, ``"logs/*"``)."""
        return self.arn("s3", bucket_name if objects is None else f"{bucket_name}/{objects}", region="", account="")


@dataclass(frozen=True)
class PlatformContext:
    """Shared by every construct of the platform stack."""

    aws: Aws
    naming: Naming
    key: EnvironmentKey
    log_retention_in_days: int
    #: Outside prod a torn-down environment must leave nothing behind
    #: (force-destroy buckets and registries, no secret recovery window).
    disposable: bool

"""A private, versioned, encrypted, TLS-only S3 bucket."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_notification import S3BucketNotification
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA
from constructs import Construct

from constructs_lib import addresses, policies
from constructs_lib.context import Aws
from constructs_lib.encryption import EnvironmentKey

#: Where S3 server access logs land in a log bucket.
ACCESS_LOG_PREFIX = "s3/"
#: The construct every bucket's resources live under (part of their addresses).
SCOPED = "account-scoped"
#: (type, construct id) of each resource a bucket had directly under it before the rename.
LEGACY_CHILDREN = (
    ("aws_s3_bucket", "this"),
    ("aws_s3_bucket_versioning", "versioning"),
    ("aws_s3_bucket_server_side_encryption_configuration", "encryption"),
    ("aws_s3_bucket_public_access_block", "public-access"),
    ("aws_s3_bucket_ownership_controls", "ownership"),
    ("aws_s3_bucket_policy", "policy"),
    ("aws_s3_bucket_lifecycle_configuration", "lifecycle"),
    ("aws_s3_bucket_notification", "events"),
    ("aws_s3_bucket_logging", "access-logging"),
)
#: Reading and writing objects: the one spelling of each set.
READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
WRITE_ACTIONS = ("s3:PutObject",)
#: What CodeBuild reads of a bucket itself (not its objects).
IDENTITY_ACTIONS = ("s3:GetBucketAcl", "s3:GetBucketLocation")


class SecureBucket(Construct):
    """Versioning, public access block, owner-enforced objects, TLS-only policy.

    Args:
        key: encrypt with this CMK (SSE-KMS + bucket key). ``None`` means
            SSE-S3, which only ALB access logs need (ELB cannot write SSE-KMS).
        expiration_days: expire current objects after this many days (default: never).
        noncurrent_expiration_days: expire old versions (default 90).
        extra_statements: more bucket-policy statements (e.g. log delivery).
        access_log_bucket: write S3 server access logs there, under
            ``s3/<bucket name>/`` (the target must be SSE-S3 and grant
            :meth:`allow_s3_access_logs`). Default: no access logging.

    Every bucket sends its events to EventBridge (free until a rule uses
    them; the pipeline's source trigger does).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str,
        key: EnvironmentKey | None,
        force_destroy: bool = False,
        expiration_days: int | None = None,
        noncurrent_expiration_days: int = 90,
        extra_statements: Sequence[policies.Statement] = (),
        access_log_bucket: SecureBucket | None = None,
        tags: dict[str, str] | None = None,
        provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id)
        # Another region's provider (a replica); None: the stack's default provider.
        self._provider = provider
        # Every resource lives under one more construct since bucket names carry the account and
        # region: a bucket's name cannot change in place, so the renamed buckets get new addresses
        # and the old ones are forgotten (never destroyed; see legacy_addresses and README:
        # "Upgrading to account-scoped bucket names").
        here = Construct(self, SCOPED)
        self.bucket = S3Bucket(
            here, "this", bucket=bucket_name, force_destroy=force_destroy, tags=tags, provider=self._provider
        )
        # Tokens read once (every read is a round trip to jsii).
        self.id: str = self.bucket.id
        self.arn: str = self.bucket.arn
        self.name: str = self.bucket.bucket
        self.versioning = S3BucketVersioningA(
            here, "versioning", bucket=self.id, versioning_configuration={"status": "Enabled"}, provider=self._provider
        )
        self._encryption(here, key)
        self._private(here)
        self.policy = S3BucketPolicy(
            here,
            "policy",
            bucket=self.id,
            policy=policies.document(policies.deny_insecure_transport(self.arn), *extra_statements),
            depends_on=[self.public_access_block],
            provider=self._provider,
        )
        self._lifecycle(here, expiration_days, noncurrent_expiration_days)
        S3BucketNotification(here, "events", bucket=self.id, eventbridge=True, provider=self._provider)
        if access_log_bucket is not None:
            self._access_logging(here, bucket_name, access_log_bucket)
        self.legacy_addresses = self._legacy_addresses(logged=access_log_bucket is not None)

    def _private(self, here: Construct) -> None:
        """No public access of any kind, and no object owned by anyone but the bucket's account."""
        self.public_access_block = S3BucketPublicAccessBlock(
            here,
            "public-access",
            bucket=self.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            provider=self._provider,
        )
        S3BucketOwnershipControls(
            here,
            "ownership",
            bucket=self.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            provider=self._provider,
        )

    def _access_logging(self, here: Construct, bucket_name: str, target: SecureBucket) -> None:
        S3BucketLoggingA(
            here,
            "access-logging",
            bucket=self.id,
            target_bucket=target.id,
            # One prefix per source bucket: "you should choose a different TargetPrefix for each
            # source bucket so that the delivered log files can be distinguished by key."
            # https://docs.aws.amazon.com/AmazonS3/latest/API/API_LoggingEnabled.html
            target_prefix=f"{ACCESS_LOG_PREFIX}{bucket_name}/",
            # S3 checks the target's policy grants log delivery when logging is enabled.
            depends_on=[target.policy],
            provider=self._provider,
        )

    def _legacy_addresses(self, *, logged: bool) -> list[str]:
        """Where this bucket's resources were before the rename (releases up to 2026-11-30):
        the stack forgets them (``addresses.forget``), leaving the old buckets and their
        objects in place for the operator."""
        below_stack = self.node.path.split("/")[1:]
        children = LEGACY_CHILDREN if logged else LEGACY_CHILDREN[:-1]
        return [f"{rtype}.{addresses.logical_id([*below_stack, child])}" for rtype, child in children]

    def _encryption(self, here: Construct, key: EnvironmentKey | None) -> None:
        sse = (
            {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn}
            if key is not None
            else {"sse_algorithm": "AES256"}
        )
        #: Default encryption: objects written before it exists would not get the key.
        self.encryption = S3BucketServerSideEncryptionConfigurationA(
            here,
            "encryption",
            bucket=self.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=sse, bucket_key_enabled=key is not None
                )
            ],
            provider=self._provider,
        )

    def _lifecycle(self, here: Construct, expiration_days: int | None, noncurrent_expiration_days: int) -> None:
        S3BucketLifecycleConfiguration(
            here,
            "lifecycle",
            bucket=self.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-old-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=noncurrent_expiration_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                    expiration=(
                        [S3BucketLifecycleConfigurationRuleExpiration(days=expiration_days)]
                        if expiration_days is not None
                        else None
                    ),
                )
            ],
            provider=self._provider,
        )

    def grant_read(self, grantee: policies.Grantee, *, sid: str, for_codepipeline: bool = False) -> None:
        """Read objects (any version). ``for_codepipeline``: CodePipeline also checks
        the bucket's versioning before it reads a source or an artifact."""
        grantee.add_statements(self._objects_statement(sid, READ_ACTIONS, for_codepipeline))

    def grant_read_write(self, grantee: policies.Grantee, *, sid: str, for_codepipeline: bool = False) -> None:
        """Read and write objects (see :meth:`grant_read`)."""
        grantee.add_statements(self._objects_statement(sid, (*READ_ACTIONS, *WRITE_ACTIONS), for_codepipeline))

    def grant_identity(self, grantee: policies.Grantee, *, sid: str) -> None:
        """Read the bucket's ACL and location: CodeBuild's documented service-role policy grants
        ``s3:GetBucketAcl`` and ``s3:GetBucketLocation`` (statement "S3BucketIdentity") on the
        buckets a build reads and writes.
        https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html"""
        grantee.add_statements(policies.Statement(sid=sid, actions=IDENTITY_ACTIONS, resources=[self.arn]))

    def _objects_statement(self, sid: str, actions: tuple[str, ...], for_codepipeline: bool) -> policies.Statement:
        if for_codepipeline:
            return policies.Statement(
                sid=sid, actions=(*actions, "s3:GetBucketVersioning"), resources=[self.arn, f"{self.arn}/*"]
            )
        return policies.Statement(sid=sid, actions=actions, resources=[f"{self.arn}/*"])

    @staticmethod
    def allow_s3_access_logs(aws: Aws, bucket_name: str) -> policies.Statement:
        """Bucket-policy statement letting S3 deliver server access logs.
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
        """
        return policies.Statement(
            sid="AllowS3AccessLogDelivery",
            principals={"Service": ["logging.s3.amazonaws.com"]},
            actions=["s3:PutObject"],
            resources=[aws.bucket_arn(bucket_name, f"{ACCESS_LOG_PREFIX}*")],
            conditions=policies.source_account(aws.account_id),
        )

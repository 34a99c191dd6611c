"""Cross-region replication of a bucket: a replica bucket and key in another region, a role S3
assumes, and the replication rule on the source.

Why: the state bucket is the only record of what terraform manages in an environment, and the
artifact bucket holds what the pipeline deployed; a region outage (or a lost bucket) must not
take either with it. The replica is a full bucket of its own (versioned, SSE-KMS with a key of
its region, TLS only, public access blocked, the same retention), so terraform can use it as
its backend during an outage (README: Recovering from a region outage).

Choices, each a documented S3 option:

- **Delete markers are not replicated.** Deleting the state object (by mistake or by an
  attacker) leaves the replica's current version readable; S3 never replicates deletes of a
  version ID either, so old versions survive on both sides until their lifecycle expires them.
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html
- **Replica modifications are not synced back.** Nothing writes to the replica except S3's
  replication while the primary region lives (the recovery procedure writes to it only when
  the primary is gone), so there is nothing to sync.
- **SSE-KMS objects are replicated** (``sse_kms_encrypted_objects``), re-encrypted with the
  replica key: "you must ... specify the KMS key ... for the destination". The role decrypts
  with the source key and encrypts with the replica key, each only through S3 in its region and
  only for its bucket's objects (the encryption context is the object ARN, or the bucket ARN
  where an S3 Bucket Key is used).
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
- **Versioning on both sides** (S3 refuses a rule otherwise); the rule waits for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from constructs import Construct

from constructs_lib import policies
from constructs_lib.context import Aws
from constructs_lib.encryption import EnvironmentKey
from constructs_lib.iam import ServiceRole
from constructs_lib.storage import SecureBucket

#: What the replication role reads of the source (the bucket's rule, each object version).
SOURCE_BUCKET_ACTIONS = ("s3:GetReplicationConfiguration", "s3:ListBucket")
SOURCE_OBJECT_ACTIONS = ("s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging")
#: What it writes to the replica.
REPLICA_OBJECT_ACTIONS = ("s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags")
#: The S3 encryption context of an SSE-KMS object (its ARN, or its bucket's with a Bucket Key).
S3_CONTEXT = "kms:EncryptionContext:aws:s3:arn"


@dataclass(frozen=True)
class Replicated:
    """One source bucket and its replica: ``encrypted`` sources are SSE-KMS under the source key
    (re-encrypted with the replica key); the others are log buckets, SSE-S3 on both sides."""

    source: SecureBucket
    replica: SecureBucket
    encrypted: bool
    #: Replicate delete markers too (the state bucket: terraform's ``.tflock`` objects).
    delete_markers: bool = False


@dataclass(frozen=True)
class ExtraSource:
    """Another SSE-KMS bucket (under the same source key) replicated by the same role to a
    replica bucket of its own, named ``bucket_name`` in the replica region."""

    id: str
    source: SecureBucket
    bucket_name: str
    noncurrent_expiration_days: int = 90


class CrossRegionReplica(Construct):
    """Attributes: ``key``, ``bucket`` and ``access_logs`` (in the replica region), ``role``,
    ``configuration`` (the main bucket's rule), ``replicated`` (every source/replica pair).

    Besides the main bucket, the source's access-log bucket (``log_source``) replicates to
    ``access_logs``, which also receives the replicas' own server access logs, and each
    ``extra`` bucket replicates to a replica of its own: logs and sources survive the region too.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        aws: Aws,
        provider: TerraformProvider,
        region: str,
        source: SecureBucket,
        source_key: EnvironmentKey,
        bucket_name: str,
        key_alias: str,
        role_name: str,
        deletion_window_in_days: int,
        force_destroy: bool,
        log_source: SecureBucket,
        log_bucket_name: str,
        log_expiration_days: int,
        expiration_days: int | None = None,
        noncurrent_expiration_days: int = 90,
        extra: Sequence[ExtraSource] = (),
        replicate_delete_markers: bool = False,
    ) -> None:
        super().__init__(scope, id)
        there = replace(aws, region=region)
        self._provider = provider
        # Used only through S3 in its own region (replication writes, a recovery reads).
        self.key = EnvironmentKey(
            self,
            "key",
            alias_name=key_alias,
            description=f"Replica of {source.node.path.split('/')[-1]} in {region}",
            policy_statements=policies.key_policy_for_account(there, via_services=("s3",)),
            deletion_window_in_days=deletion_window_in_days,
            provider=provider,
        )
        self.access_logs = self._log_bucket(there, log_bucket_name, force_destroy, log_expiration_days)
        self.bucket = self._replica("bucket", bucket_name, force_destroy, noncurrent_expiration_days, expiration_days)
        self.replicated = [
            Replicated(source, self.bucket, True, delete_markers=replicate_delete_markers),
            Replicated(log_source, self.access_logs, False),
        ]
        for more in extra:
            replica = self._replica(more.id, more.bucket_name, force_destroy, more.noncurrent_expiration_days)
            self.replicated.append(Replicated(more.source, replica, True))
        self.role = ServiceRole(
            self,
            "role",
            role_name=role_name,
            service="s3.amazonaws.com",
            account_id=aws.account_id,
            source_arn=[r.source.arn for r in self.replicated],
        )
        self._grant(aws, there, source_key)
        self.configuration = self._rule("configuration", self.replicated[0])
        self._rule("access-logs-configuration", self.replicated[1])
        for more, pair in zip(extra, self.replicated[2:], strict=True):
            self._rule(f"{more.id}-configuration", pair)

    def _log_bucket(self, there: Aws, name: str, force_destroy: bool, expiration_days: int) -> SecureBucket:
        """SSE-S3 like its source: S3 delivers server access logs only to such a bucket."""
        return SecureBucket(
            self,
            "access-logs",
            bucket_name=name,
            key=None,
            force_destroy=force_destroy,
            expiration_days=expiration_days,
            extra_statements=[SecureBucket.allow_s3_access_logs(there, name)],
            provider=self._provider,
        )

    def _replica(
        self,
        id: str,
        name: str,
        force_destroy: bool,
        noncurrent_expiration_days: int,
        expiration_days: int | None = None,
    ) -> SecureBucket:
        """A replica of an SSE-KMS bucket: the replica key, access-logged to the replica region's log bucket."""
        return SecureBucket(
            self,
            id,
            bucket_name=name,
            key=self.key,
            force_destroy=force_destroy,
            expiration_days=expiration_days,
            noncurrent_expiration_days=noncurrent_expiration_days,
            access_log_bucket=self.access_logs,
            provider=self._provider,
        )

    def _rule(self, id: str, pair: Replicated) -> S3BucketReplicationConfigurationA:
        """Every object to the replica (SSE-KMS ones under the replica key); delete markers only
        where the pair asks for them: terraform's S3 lock file (``<key>.tflock``) is written and
        then deleted on every locked run, and without its delete marker the replica would keep a
        lock that ``recover`` (which locks with lock files) finds held. S3 replicates delete
        markers of a V2 rule (one with a ``Filter``) when ``DeleteMarkerReplication`` is enabled;
        deletes of a version id are never replicated, so older state versions stay recoverable.
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html"""
        kms = pair.encrypted
        return S3BucketReplicationConfigurationA(
            self,
            id,
            bucket=pair.source.id,
            role=self.role.arn,
            rule=[
                S3BucketReplicationConfigurationRule(
                    id="to-replica-region",
                    status="Enabled",
                    # Every object (an empty filter), in the V2 schema that delete-marker replication needs.
                    filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),
                    delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                        status="Enabled" if pair.delete_markers else "Disabled"
                    ),
                    source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                            status="Enabled"
                        )
                    )
                    if kms
                    else None,
                    destination=S3BucketReplicationConfigurationRuleDestination(
                        bucket=pair.replica.arn,
                        storage_class="STANDARD",
                        encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                            replica_kms_key_id=self.key.arn
                        )
                        if kms
                        else None,
                    ),
                )
            ],
            # S3 refuses a replication rule unless both buckets are versioned.
            depends_on=[pair.source.versioning, pair.replica.versioning, self.role.policy],
        )

    def _grant(self, aws: Aws, there: Aws, source_key: EnvironmentKey) -> None:
        """Exactly these buckets and the two keys, each key only through S3 in its region."""

        def through_s3(at: Aws, bucket_arns: list[str]) -> dict[str, dict[str, object]]:
            return {
                "StringEquals": {"kms:ViaService": f"s3.{at.region}.amazonaws.com"},
                "StringLike": {S3_CONTEXT: [a for arn in bucket_arns for a in (arn, f"{arn}/*")]},
            }

        sources = [r.source.arn for r in self.replicated]
        replicas = [r.replica.arn for r in self.replicated]
        encrypted = [r for r in self.replicated if r.encrypted]
        self.role.add_statements(
            policies.Statement(sid="SourceBucket", actions=SOURCE_BUCKET_ACTIONS, resources=sources),
            policies.Statement(
                sid="SourceObjects", actions=SOURCE_OBJECT_ACTIONS, resources=[f"{a}/*" for a in sources]
            ),
            policies.Statement(
                sid="ReplicaObjects", actions=REPLICA_OBJECT_ACTIONS, resources=[f"{a}/*" for a in replicas]
            ),
            policies.Statement(
                sid="DecryptSource",
                actions=policies.KEY_DECRYPT_ACTIONS,
                resources=[source_key.arn],
                conditions=through_s3(aws, [r.source.arn for r in encrypted]),
            ),
            policies.Statement(
                sid="EncryptReplica",
                actions=("kms:Encrypt", "kms:GenerateDataKey"),
                resources=[self.key.arn],
                conditions=through_s3(there, [r.replica.arn for r in encrypted]),
            ),
        )

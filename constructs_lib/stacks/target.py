"""Provider and backend blocks: the only things that differ between targets.

``deploy_target = "aws"``: a normal provider and S3 backend.
``deploy_target = "local"``: the same, pointed at the embedded emulator with
dummy credentials and the skip flags moto needs. Resources are identical for
both targets (tests/unit/test_stacks.py proves it).
"""

from __future__ import annotations

from cdktf import S3Backend, S3BackendAssumeRoleConfig, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags

from constructs_lib.settings import Settings
from local_aws import ACCESS_KEY_ID, ADMIN_ACCESS_KEY_ID, SECRET_ACCESS_KEY


def default_tags(settings: Settings) -> dict[str, str]:
    """Shared tags first, then the ones the platform owns (they win)."""
    return {
        **settings.tags,
        "project": settings.project,
        "environment": settings.environment,
        "managed-by": "cdktf",
    }


def _allowed_accounts(settings: Settings) -> list[str] | None:
    """The account guard: terraform refuses any other account's credentials."""
    return [settings.account_id] if settings.account_id else None


def _session_name(settings: Settings) -> str:
    # Shows in CloudTrail as the assumed role's session: who deployed what.
    return f"{settings.project}-{settings.environment}-terraform"


def add_provider(
    stack: TerraformStack, settings: Settings, *, replica: bool = False, administrator: bool = False
) -> AwsProvider:
    """AWS provider; on the local target it signs with the emulator's dummy keys.

    The local provider has no ``endpoints`` block: the emulator's URL reaches it as
    ``AWS_ENDPOINT_URL``, which the deploy tool sets for every terraform run it starts (the
    provider, like every AWS SDK, sends all services there:
    https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html). The block
    alone, even with one entry, cost the provider about 8 CPU-s per terraform run here (the
    plugin framework half of the provider handles the block's ~300-attribute object slowly:
    pulumi/pulumi-terraform-bridge#1448): a no-change plan of the access stack 15.2 -> 6.1
    CPU-s, of the platform 36 -> 27, side by side on one deployment. Without the variable
    nothing can reach an account either: the keys are the emulator's and
    ``allowed_account_ids`` names its account.

    Options left ``None`` are omitted from the JSON, so the aws target's
    provider block carries only region, default tags and, when the settings
    name them, the allowed account and the role to assume. The emulator has
    no roles to assume: the local target never assumes ``deploy_role_arn``.

    ``replica``: a second provider, alias ``replica``, in ``recovery.replica_region`` (the same
    account, role and tags): what lives there says ``provider = aws.replica``.

    ``administrator``: on the emulator, sign with the administrator's key (the access stack).
    """
    url = settings.endpoint_url if settings.deploy_target == "local" else None
    local = True if url else None
    role = settings.deploy_role_arn if not url else None
    region = settings.recovery.replica_region if replica else settings.region
    return AwsProvider(
        stack,
        "replica" if replica else "aws",
        alias="replica" if replica else None,
        region=region,
        allowed_account_ids=_allowed_accounts(settings),
        assume_role=[AwsProviderAssumeRole(role_arn=role, session_name=_session_name(settings))] if role else None,
        default_tags=[AwsProviderDefaultTags(tags=default_tags(settings))],
        access_key=_access_key(url, administrator),
        secret_key=SECRET_ACCESS_KEY if url else None,
        skip_credentials_validation=local,
        skip_metadata_api_check="true" if url else None,
        # Not skip_requesting_account_id: the emulator answers STS, and the provider
        # needs the account id to read security-group references back correctly.
        skip_region_validation=local,
        s3_use_path_style=local,
    )


def _access_key(url: str | None, administrator: bool) -> str | None:
    if url is None:
        return None
    return ADMIN_ACCESS_KEY_ID if administrator else ACCESS_KEY_ID


def add_s3_backend(
    stack: TerraformStack,
    settings: Settings,
    *,
    bucket: str,
    table: str,
    key: str,
    administrator: bool = False,
) -> S3Backend:
    url = settings.endpoint_url if settings.deploy_target == "local" else None
    local = True if url else None
    role = settings.deploy_role_arn if not url else None
    backend = S3Backend(
        stack,
        bucket=bucket,
        key=key,
        region=settings.region,
        # With encrypt alone the backend asks S3 for SSE-S3 (AES256) on every
        # write, overriding the bucket's SSE-KMS default: name the state key so
        # state (which holds generated secrets) is encrypted with it. S3 takes
        # the alias; the key exists before any state is written to the bucket.
        encrypt=True,
        kms_key_id=settings.naming.state_key_alias,
        dynamodb_table=table,
        allowed_account_ids=_allowed_accounts(settings),
        assume_role=S3BackendAssumeRoleConfig(role_arn=role, session_name=_session_name(settings)) if role else None,
        access_key=_access_key(url, administrator),
        secret_key=SECRET_ACCESS_KEY if url else None,
        endpoints={"s3": url, "dynamodb": url, "sts": url, "iam": url} if url else None,
        use_path_style=local,
        skip_credentials_validation=local,
        skip_metadata_api_check=local,
        skip_region_validation=local,
        # Not skip_requesting_account_id: the emulator answers STS, and the
        # backend's account guard (allowed_account_ids) compares that answer.
    )
    # Both locks, the migration terraform documents: "DynamoDB-based locking is deprecated and
    # will be removed in a future minor version" (terraform >= 1.11, S3 backend docs); with
    # use_lockfile the backend also writes <key>.tflock with a conditional PUT (If-None-Match)
    # and takes the lock only when both succeed. cdktf 0.20's S3Backend has no field for it.
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    return backend

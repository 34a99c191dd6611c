"""Provider and backend blocks: the only things that differ between targets.

``deploy_target = "aws"``: a normal provider and S3 backend.
``deploy_target = "local"``: the same, pointed at the embedded emulator's
endpoint with dummy credentials and the skip flags moto needs. Resources are
identical for both targets (tests/unit/test_stacks.py proves it).
"""

from __future__ import annotations

from cdktf import S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints

from constructs_lib.settings import Settings

# Every service the platform calls, so no request escapes to real AWS.
EMULATED_SERVICES = (
    "cloudwatch", "cloudwatchlogs", "codebuild", "codepipeline", "codestarconnections", "dynamodb",
    "ec2", "ecr", "ecs", "elbv2", "eventbridge", "iam", "kms", "lambda_", "s3", "secretsmanager",
    "sns", "sqs", "sts", "wafv2", "xray",
)  # fmt: skip

# moto accepts any credentials; these are never valid on AWS.
_EMULATOR_KEY = "test"


def default_tags(settings: Settings) -> dict[str, str]:
    """Shared tags first, then the ones the platform owns (they win)."""
    return {
        **settings.tags,
        "project": settings.project,
        "environment": settings.environment,
        "managed-by": "cdktf",
    }


def add_provider(stack: TerraformStack, settings: Settings) -> AwsProvider:
    """AWS provider; on the local target every endpoint is the emulator.

    Options left ``None`` are omitted from the JSON, so the aws target's
    provider block carries only region and default tags.
    """
    url = settings.endpoint_url if settings.deploy_target == "local" else None
    local = True if url else None
    return AwsProvider(
        stack,
        "aws",
        region=settings.region,
        default_tags=[AwsProviderDefaultTags(tags=default_tags(settings))],
        access_key=_EMULATOR_KEY if url else None,
        secret_key=_EMULATOR_KEY if url else None,
        skip_credentials_validation=local,
        skip_metadata_api_check="true" if url else None,
        # Not skip_requesting_account_id: the emulator answers STS, and the provider
        # needs the account id to read security-group references back correctly.
        skip_region_validation=local,
        s3_use_path_style=local,
        endpoints=[AwsProviderEndpoints(**dict.fromkeys(EMULATED_SERVICES, url))] if url else None,
    )


def add_s3_backend(stack: TerraformStack, settings: Settings, *, bucket: str, table: str) -> S3Backend:
    url = settings.endpoint_url if settings.deploy_target == "local" else None
    local = True if url else None
    return S3Backend(
        stack,
        bucket=bucket,
        key=settings.state_key,
        region=settings.region,
        encrypt=True,
        dynamodb_table=table,
        access_key=_EMULATOR_KEY if url else None,
        secret_key=_EMULATOR_KEY if url else None,
        endpoints={"s3": url, "dynamodb": url, "sts": url, "iam": url} if url else None,
        use_path_style=local,
        skip_credentials_validation=local,
        skip_metadata_api_check=local,
        skip_region_validation=local,
        skip_requesting_account_id=local,
    )

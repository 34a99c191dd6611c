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
_EMULATOR_CREDENTIALS = {"access_key": "test", "secret_key": "test"}


def default_tags(settings: Settings) -> dict[str, str]:
    """Shared tags first, then the ones the platform owns (they win)."""
    return {
        **settings.tags,
        "project": settings.project,
        "environment": settings.environment,
        "managed-by": "cdktf",
    }


def add_provider(stack: TerraformStack, settings: Settings) -> AwsProvider:
    common = {
        "region": settings.region,
        "default_tags": [AwsProviderDefaultTags(tags=default_tags(settings))],
    }
    if settings.deploy_target == "aws":
        return AwsProvider(stack, "aws", **common)
    url = settings.endpoint_url
    return AwsProvider(
        stack,
        "aws",
        **common,
        **_EMULATOR_CREDENTIALS,
        skip_credentials_validation=True,
        skip_metadata_api_check="true",
        skip_requesting_account_id=True,
        skip_region_validation=True,
        s3_use_path_style=True,
        endpoints=[AwsProviderEndpoints(**{svc: url for svc in EMULATED_SERVICES})],
    )


def add_s3_backend(stack: TerraformStack, settings: Settings, *, bucket: str, table: str) -> S3Backend:
    common = {
        "bucket": bucket,
        "key": settings.state_key,
        "region": settings.region,
        "encrypt": True,
        "dynamodb_table": table,
    }
    if settings.deploy_target == "aws":
        return S3Backend(stack, **common)
    url = settings.endpoint_url
    return S3Backend(
        stack,
        **common,
        **_EMULATOR_CREDENTIALS,
        endpoints={"s3": url, "dynamodb": url, "sts": url, "iam": url},
        use_path_style=True,
        skip_credentials_validation=True,
        skip_metadata_api_check=True,
        skip_region_validation=True,
        skip_requesting_account_id=True,
    )

"""boto3 clients for the deploy target, exactly as terraform will act.

The local target is the emulator: its endpoint and dummy credentials come from
the environment the deploy tool gives terraform. The AWS target uses the usual
credential chain and, when the settings name ``deploy_role_arn``, the role
terraform's provider assumes, so a check made here sees what terraform sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from constructs_lib.settings import Settings


class TargetError(RuntimeError):
    """The target cannot be reached or named: one line for the user."""


@dataclass
class AwsTarget:
    target: str
    settings: Settings
    env: Mapping[str, str]
    _credentials: dict[str, str] | None = field(default=None, init=False)

    @property
    def local(self) -> bool:
        return self.target == "local"

    def _base(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"region_name": self.settings.region}
        if self.local:
            kwargs.update(
                endpoint_url=self.env.get("AWS_ENDPOINT_URL"),
                aws_access_key_id=self.env.get("AWS_ACCESS_KEY_ID"),
                aws_secret_access_key=self.env.get("AWS_SECRET_ACCESS_KEY"),
            )
        return kwargs

    def client(self, service: str) -> Any:
        import boto3

        kwargs = self._base()
        if self.settings.deploy_role_arn and not self.local:
            if self._credentials is None:
                sts = boto3.client("sts", **kwargs)
                creds = sts.assume_role(
                    RoleArn=self.settings.deploy_role_arn,
                    RoleSessionName=f"{self.settings.project}-{self.settings.environment}-deploy-tool",
                )["Credentials"]
                self._credentials = {
                    "aws_access_key_id": creds["AccessKeyId"],
                    "aws_secret_access_key": creds["SecretAccessKey"],
                    "aws_session_token": creds["SessionToken"],
                }
            kwargs.update(self._credentials)
        return boto3.client(service, **kwargs)

    def account(self) -> str:
        """The account the credentials act in (after assuming deploy_role_arn)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return str(self.client("sts").get_caller_identity()["Account"])
        except (BotoCoreError, ClientError) as exc:
            raise TargetError(f"cannot tell which AWS account the credentials belong to: {exc}") from None

    def object_exists(self, bucket: str, key: str, *, owner: str | None = None) -> bool:
        """Whether ``s3://bucket/key`` exists; with ``owner``, only in a bucket that account owns
        (a bucket of that name in another account answers 403, which counts as absent)."""
        from botocore.exceptions import ClientError

        extra = {"ExpectedBucketOwner": owner} if owner else {}
        try:
            self.client("s3").head_object(Bucket=bucket, Key=key, **extra)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound") or (owner and code in ("403", "AccessDenied")):
                return False
            raise
        return True

    def copy_object(self, source_bucket: str, bucket: str, key: str) -> None:
        """Server-side copy of ``s3://source_bucket/key`` to ``s3://bucket/key``, byte for byte,
        both buckets checked to be this account's (the destination's default encryption applies)."""
        owner = self.account()
        self.client("s3").copy_object(
            CopySource={"Bucket": source_bucket, "Key": key},
            Bucket=bucket,
            Key=key,
            ExpectedBucketOwner=owner,
            ExpectedSourceBucketOwner=owner,
        )

    def bucket_exists(self, bucket: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client("s3").head_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise
        return True

    def release_own_lock(self, table: str, lock_path: str, lock_id: str) -> None:
        """Delete the DynamoDB state lock ``lock_path`` only while it still holds ``lock_id``: a
        lock another run took meanwhile (another ID) stays where it is."""
        from botocore.exceptions import ClientError

        try:
            self.client("dynamodb").delete_item(
                TableName=table,
                Key={"LockID": {"S": lock_path}},
                ConditionExpression="contains(Info, :id)",
                ExpressionAttributeValues={":id": {"S": lock_id}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

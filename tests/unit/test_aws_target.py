"""tools/aws_target.py: the deploy tool's boto3 clients act where terraform acts.

moto in process answers real boto3 calls; the account the credentials act in is what
the account guard, the state copy and the lock release rely on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.helpers import make_settings
from tools.aws_target import AwsTarget, TargetError

#: moto's default account (the caller's own credentials)
OWN_ACCOUNT = "123456789012"
ROLE_ACCOUNT = "210987654321"
ROLE = f"arn:aws:iam::{ROLE_ACCOUNT}:role/cicd-deploy"
LOCAL_ENV = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
    "AWS_ACCESS_KEY_ID": "AKIDLOCAL",
    "AWS_SECRET_ACCESS_KEY": "s",
}


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


def test_the_local_target_talks_to_the_emulator_with_its_credentials() -> None:
    target = AwsTarget("local", make_settings("dev", region="eu-west-1"), LOCAL_ENV)
    assert target.local
    assert target._base() == {
        "region_name": "eu-west-1",
        "endpoint_url": "http://127.0.0.1:4566",
        "aws_access_key_id": "AKIDLOCAL",
        "aws_secret_access_key": "s",
    }
    client = target.client("s3")
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.region_name == "eu-west-1"


def test_the_aws_target_ignores_emulator_variables_and_uses_the_credential_chain() -> None:
    target = AwsTarget("aws", make_settings("dev", region="eu-west-1"), LOCAL_ENV)
    assert not target.local
    assert target._base() == {"region_name": "eu-west-1"}
    assert target.client("s3").meta.endpoint_url != "http://127.0.0.1:4566"


@pytest.mark.usefixtures("moto")
def test_with_a_deploy_role_the_aws_target_acts_as_that_role_like_terraform() -> None:
    settings = make_settings("dev", account_id=ROLE_ACCOUNT, deploy_role_arn=ROLE)
    target = AwsTarget("aws", settings, {})
    assert target.account() == ROLE_ACCOUNT
    identity = target.client("sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ROLE_ACCOUNT}:assumed-role/cicd-deploy/cicd-dev-deploy-tool"
    # One session for every client: the role is assumed once.
    first = target._credentials
    target.client("s3")
    assert target._credentials is first


@pytest.mark.usefixtures("moto")
def test_without_a_deploy_role_the_caller_acts_as_itself() -> None:
    target = AwsTarget("aws", make_settings("dev"), {})
    assert target.account() == OWN_ACCOUNT
    assert target._credentials is None


@pytest.mark.usefixtures("moto")
def test_the_local_target_never_assumes_the_deploy_role() -> None:
    target = AwsTarget("local", make_settings("dev", account_id=ROLE_ACCOUNT, deploy_role_arn=ROLE), {})
    assert target.account() == OWN_ACCOUNT
    assert target._credentials is None


def test_an_unreachable_target_is_one_line_for_the_user() -> None:
    env = {**LOCAL_ENV, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # nothing listens on the discard port
    target = AwsTarget("local", make_settings("dev"), env)
    with pytest.raises(TargetError, match="cannot tell which AWS account the credentials belong to"):
        target.account()


@pytest.mark.usefixtures("moto")
def test_object_and_bucket_existence() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="cicd-state")
    s3.put_object(Bucket="cicd-state", Key="a/terraform.tfstate", Body=b"{}")
    target = AwsTarget("local", make_settings("dev"), {})
    assert target.bucket_exists("cicd-state")
    assert not target.bucket_exists("cicd-missing")
    assert target.object_exists("cicd-state", "a/terraform.tfstate")
    assert target.object_exists("cicd-state", "a/terraform.tfstate", owner=OWN_ACCOUNT)
    assert not target.object_exists("cicd-state", "b/terraform.tfstate")
    assert not target.object_exists("cicd-missing", "a/terraform.tfstate")


class _Refusing:
    """An S3 client that answers every head request with one error code."""

    def __init__(self, code: str) -> None:
        self.code = code

    def _refuse(self, **_: Any) -> None:
        raise ClientError({"Error": {"Code": self.code, "Message": "x"}}, "HeadObject")

    head_object = head_bucket = _refuse


@pytest.mark.parametrize(
    ("code", "owner", "exists"),
    [
        ("404", None, False),
        ("NoSuchKey", None, False),
        ("NoSuchBucket", None, False),
        ("NotFound", None, False),
        # A bucket of that name owned by another account answers 403: absent, for an owner check.
        ("403", OWN_ACCOUNT, False),
        ("AccessDenied", OWN_ACCOUNT, False),
    ],
)
def test_what_counts_as_absent(monkeypatch: pytest.MonkeyPatch, code: str, owner: str | None, exists: bool) -> None:
    target = AwsTarget("local", make_settings("dev"), {})
    monkeypatch.setattr(target, "client", lambda service: _Refusing(code))
    assert target.object_exists("b", "k", owner=owner) is exists


@pytest.mark.parametrize("code", ["403", "AccessDenied", "SlowDown", "500"])
def test_anything_else_is_the_callers_to_handle(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Without an owner to check, 403 means the credentials cannot read: not "absent"."""
    target = AwsTarget("local", make_settings("dev"), {})
    monkeypatch.setattr(target, "client", lambda service: _Refusing(code))
    with pytest.raises(ClientError, match=code):
        target.object_exists("b", "k")
    if code != "500":
        with pytest.raises(ClientError, match=code):
            target.bucket_exists("b")


@pytest.mark.parametrize("code", ["404", "NoSuchBucket", "NotFound"])
def test_a_missing_bucket(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    target = AwsTarget("local", make_settings("dev"), {})
    monkeypatch.setattr(target, "client", lambda service: _Refusing(code))
    assert target.bucket_exists("b") is False


@pytest.mark.usefixtures("moto")
def test_copy_is_server_side_byte_for_byte_between_this_accounts_buckets() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in ("old-state", "new-state"):
        s3.create_bucket(Bucket=bucket)
    body = b'{"version": 4, "serial": 7}'
    s3.put_object(Bucket="old-state", Key="cicd/dev/platform.tfstate", Body=body)
    target = AwsTarget("local", make_settings("dev"), {})
    target.copy_object("old-state", "new-state", "cicd/dev/platform.tfstate")
    assert s3.get_object(Bucket="new-state", Key="cicd/dev/platform.tfstate")["Body"].read() == body


def recording_s3(monkeypatch: pytest.MonkeyPatch, target: AwsTarget, method: str) -> list[dict[str, Any]]:
    """``target``'s S3 client replaced by one that records the arguments of each ``method`` call."""
    calls: list[dict[str, Any]] = []

    class S3:
        pass

    setattr(S3, method, lambda self, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(target, "client", lambda service: S3())
    return calls


def test_copy_names_this_account_as_owner_of_both_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    target = AwsTarget("local", make_settings("dev"), {})
    monkeypatch.setattr(target, "account", lambda: "111122223333")
    calls = recording_s3(monkeypatch, target, "copy_object")
    target.copy_object("src", "dst", "k")
    assert calls == [
        {
            "CopySource": {"Bucket": "src", "Key": "k"},
            "Bucket": "dst",
            "Key": "k",
            "ExpectedBucketOwner": "111122223333",
            "ExpectedSourceBucketOwner": "111122223333",
        }
    ]


def test_an_owner_check_is_sent_to_s3_and_only_with_an_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    target = AwsTarget("local", make_settings("dev"), {})
    calls = recording_s3(monkeypatch, target, "head_object")
    assert target.object_exists("b", "k", owner=OWN_ACCOUNT)
    assert target.object_exists("b", "k")
    assert calls == [{"Bucket": "b", "Key": "k", "ExpectedBucketOwner": OWN_ACCOUNT}, {"Bucket": "b", "Key": "k"}]

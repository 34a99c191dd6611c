"""Account-side rules checked before an apply on AWS (tools/account_checks.py).

The AWS responses are shaped by botocore's Stubber, which validates every request and
response against the service's own API model (moto implements neither Lambda's
GetAccountSettings nor S3's bucket-owner condition).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.helpers import make_settings
from tools import account_checks

FUNCTION = "cicd-orchestrator-dev"


def account_settings(unreserved: int) -> dict[str, Any]:
    return {
        "AccountLimit": {
            "TotalCodeSize": 80530636800,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": 1000,
            "UnreservedConcurrentExecutions": unreserved,
        },
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
    }


@pytest.fixture
def lambda_client() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("requested", "unreserved", "ours", "ok"),
    [
        (5, 105, 0, True),  # exactly 100 left
        (5, 104, 0, False),  # 99 left: AWS refuses
        (5, 10, 0, False),  # a new account's low quota
        (5, 100, 5, True),  # redeploying the same reservation counts it once
        (6, 100, 5, False),
    ],
)
def test_reservation_must_leave_100_unreserved(requested: int, unreserved: int, ours: int, ok: bool) -> None:
    problem = account_checks.reserved_concurrency_problem(
        {"pipeline.orchestrator_reserved_concurrency": requested}, unreserved, ours
    )
    assert (problem is None) == ok, problem


def test_the_refusal_names_the_setting_the_numbers_and_the_quota_to_request() -> None:
    problem = account_checks.reserved_concurrency_problem({"pipeline.orchestrator_reserved_concurrency": 5}, 10, 0)
    assert problem == (
        "pipeline.orchestrator_reserved_concurrency = 5: the account has 10 unreserved concurrent executions and "
        "AWS keeps 100 unreserved, so at most 0 can be reserved. Unset the setting, or request a higher Lambda "
        "'Concurrent executions' quota in Service Quotas (at least 105)"
    )


def test_both_reservations_count_together() -> None:
    """Prod reserves for the orchestrator and the mirror: AWS keeps 100 unreserved after both."""
    both = {"pipeline.orchestrator_reserved_concurrency": 5, "pipeline.mirror_reserved_concurrency": 2}
    assert account_checks.reserved_concurrency_problem(both, 107, 0) is None
    assert account_checks.reserved_concurrency_problem(both, 100, 7) is None  # redeploy: ours counted once
    assert account_checks.reserved_concurrency_problem(both, 106, 0) == (
        "pipeline.orchestrator_reserved_concurrency = 5 and pipeline.mirror_reserved_concurrency = 2: the account "
        "has 106 unreserved concurrent executions and AWS keeps 100 unreserved, so at most 6 can be reserved. "
        "Unset the settings, or request a higher Lambda 'Concurrent executions' quota in Service Quotas (at least 107)"
    )


def test_no_reservation_asks_nothing(lambda_client: tuple[Any, Stubber]) -> None:
    client, _ = lambda_client
    assert account_checks.check_reserved_concurrency(make_settings("dev"), client) is None  # no call queued


def test_a_reservation_reads_the_account_and_the_functions_current_one(lambda_client: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_client
    settings = make_settings("dev", pipeline={"orchestrator_reserved_concurrency": 5})
    stubber.add_response("get_account_settings", account_settings(100), {})
    stubber.add_response("get_function_concurrency", {"ReservedConcurrentExecutions": 5}, {"FunctionName": FUNCTION})
    assert account_checks.check_reserved_concurrency(settings, client) is None

    stubber.add_response("get_account_settings", account_settings(100), {})
    stubber.add_client_error(
        "get_function_concurrency", "ResourceNotFoundException", expected_params={"FunctionName": FUNCTION}
    )
    problem = account_checks.check_reserved_concurrency(settings, client)
    assert problem is not None
    assert "at most 0 can be reserved" in problem


def test_prod_reads_both_functions_current_reservations(lambda_client: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_client
    settings = make_settings("prod")
    stubber.add_response("get_account_settings", account_settings(100), {})
    stubber.add_response(
        "get_function_concurrency", {"ReservedConcurrentExecutions": 5}, {"FunctionName": "cicd-orchestrator-prod"}
    )
    stubber.add_response(
        "get_function_concurrency", {"ReservedConcurrentExecutions": 2}, {"FunctionName": "cicd-mirror-prod"}
    )
    assert account_checks.check_reserved_concurrency(settings, client) is None  # 100 + 7 ours - 7 = 100 left

    stubber.add_response("get_account_settings", account_settings(100), {})
    stubber.add_response(
        "get_function_concurrency", {"ReservedConcurrentExecutions": 5}, {"FunctionName": "cicd-orchestrator-prod"}
    )
    stubber.add_response("get_function_concurrency", {}, {"FunctionName": "cicd-mirror-prod"})  # none reserved yet
    problem = account_checks.check_reserved_concurrency(settings, client)
    assert problem is not None
    assert "at most 5 can be reserved" in problem


def test_a_bucket_name_owned_by_another_account_is_found() -> None:
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    names = ["mine", "theirs", "free"]
    owner = {"ExpectedBucketOwner": "123456789012"}
    with Stubber(s3) as stubber:
        stubber.add_response("head_bucket", {}, {"Bucket": "mine", **owner})
        stubber.add_client_error(
            "head_bucket", "403", http_status_code=403, expected_params={"Bucket": "theirs", **owner}
        )
        stubber.add_client_error(
            "head_bucket", "404", http_status_code=404, expected_params={"Bucket": "free", **owner}
        )
        assert account_checks.foreign_buckets(s3, "123456789012", names) == ["theirs"]


def test_every_platform_bucket_is_checked() -> None:
    names = account_checks.bucket_names(make_settings("dev"))
    assert sorted(names) == [
        f"cicd-{c}-dev-123456789012-us-east-1" for c in ("alb-logs", "artifacts", "source", "tfstate", "tfstate-logs")
    ]


def route53_answer(name: str, private: bool) -> dict[str, Any]:
    zone = {"Id": "/hostedzone/Z0123456789ABCDEFGHIJ", "Name": name, "CallerReference": "r",
            "Config": {"PrivateZone": private}}  # fmt: skip
    return {"HostedZones": [zone], "IsTruncated": False, "MaxItems": "1"}


@pytest.mark.parametrize(
    ("answer", "missing"),
    [
        (route53_answer("example.com.", private=False), False),
        (route53_answer("example.com.", private=True), True),  # a private zone: ACM cannot validate through it
        (route53_answer("example.net.", private=False), True),  # the next name in order, not ours
        ({"HostedZones": [], "IsTruncated": False, "MaxItems": "1"}, True),
    ],
)
def test_the_hosted_zone_must_exist_and_be_public(answer: dict[str, Any], missing: bool) -> None:
    settings = make_settings("dev", edge={"domain_name": "app.example.com", "hosted_zone": "example.com"})
    route53 = boto3.client("route53", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(route53) as stubber:
        stubber.add_response("list_hosted_zones_by_name", answer, {"DNSName": "example.com."})
        problem = account_checks.missing_hosted_zone(settings, route53)
    if missing:
        assert problem is not None
        assert problem.startswith("edge.hosted_zone = 'example.com': this account has no public Route 53 hosted zone")
    else:
        assert problem is None


def test_no_hosted_zone_setting_asks_nothing() -> None:
    route53 = boto3.client("route53", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(route53):  # any call would raise: nothing is queued
        assert account_checks.missing_hosted_zone(make_settings("dev"), route53) is None


def test_replica_buckets_are_checked_too() -> None:
    names = account_checks.bucket_names(make_settings("prod"))
    assert "cicd-tfstate-prod-123456789012-us-west-2" in names
    assert "cicd-artifacts-prod-123456789012-us-west-2" in names

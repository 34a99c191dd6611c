"""What the deploy summary tells a person to do after a deploy to AWS (tools/next_steps.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.helpers import make_settings
from tools.next_steps import next_steps, plain_http_notice

TOPIC = "arn:aws:sns:us-east-1:123456789012:cicd-notifications-prod"
OUTPUTS = {"sns_topic_arn": TOPIC, "source_bucket": "cicd-source-prod-123456789012-us-east-1"}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0e8a5d3c-2f55-4b6f-9a56-8f3c7f1f7c11"


@pytest.fixture
def sns() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def subscription(endpoint: str, arn: str) -> dict[str, str]:
    return {"SubscriptionArn": arn, "Owner": "123456789012", "Protocol": "email", "Endpoint": endpoint,
            "TopicArn": TOPIC}  # fmt: skip


def test_nobody_subscribed_and_prod_on_plain_http(sns: tuple[Any, Stubber]) -> None:
    client, _ = sns
    opted_out = make_settings("prod", edge={"domain_name": None, "hosted_zone": None, "allow_plain_http": True})
    steps = next_steps(opted_out, OUTPUTS, client)
    assert steps == [
        "no e-mail is subscribed to the notifications topic, so nobody hears about failures: "
        "set observability.alarm_emails",
        "prod serves plain HTTP (edge.allow_plain_http = true): traffic and any credentials in it cross the "
        "internet unencrypted: set edge.domain_name and edge.hosted_zone, or edge.certificate_arn (a certificate "
        "in us-east-1), and remove edge.allow_plain_http",
        "the pipeline's first run builds the sample application; replace it with your service by uploading your "
        "source.zip to s3://cicd-source-prod-123456789012-us-east-1/source.zip (README: Your own application)",
    ]


def test_plain_http_notice_only_for_a_production_opt_out() -> None:
    assert plain_http_notice(make_settings("prod")) is None  # the shipped prod serves HTTPS on its domain
    assert plain_http_notice(make_settings("dev")) is None  # plain HTTP outside prod is the default, not news
    opted_out = make_settings("prod", edge={"domain_name": None, "hosted_zone": None, "allow_plain_http": True})
    notice = plain_http_notice(opted_out)
    assert notice is not None
    assert notice.startswith("prod serves plain HTTP (edge.allow_plain_http = true)")


def test_subscriptions_awaiting_confirmation_are_named(sns: tuple[Any, Stubber]) -> None:
    client, stubber = sns
    stubber.add_response(
        "list_subscriptions_by_topic",
        {
            "Subscriptions": [
                subscription("b@example.com", "PendingConfirmation"),
                subscription("a@example.com", f"{TOPIC}:1b2c"),
                subscription("c@example.com", "PendingConfirmation"),
            ]
        },
        {"TopicArn": TOPIC},
    )
    settings = make_settings(
        "prod",
        observability={"alarm_emails": ["a@example.com", "b@example.com", "c@example.com"]},
        edge={"certificate_arn": CERT},
    )
    steps = next_steps(settings, {"sns_topic_arn": TOPIC}, client)
    assert steps == [
        "2 e-mail subscription(s) await confirmation (b@example.com, c@example.com): each address must follow "
        "the link in AWS's 'Subscription Confirmation' mail"
    ]


def test_everything_done_says_nothing(sns: tuple[Any, Stubber]) -> None:
    client, stubber = sns
    confirmed = {"Subscriptions": [subscription("a@example.com", f"{TOPIC}:1")]}
    stubber.add_response("list_subscriptions_by_topic", confirmed, {"TopicArn": TOPIC})
    settings = make_settings("dev", observability={"alarm_emails": ["a@example.com"]})
    assert next_steps(settings, {"sns_topic_arn": TOPIC, "source_bucket": ""}, client) == []

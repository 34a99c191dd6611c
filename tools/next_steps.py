"""What a person must still do after a deploy to AWS, one line each (the deploy summary).

Terraform cannot finish these itself: an e-mail subscription waits until its owner clicks
the link AWS sends, nobody hears about failures when no address is subscribed, and a
production environment that opted out of HTTPS serves plain HTTP.
"""

from __future__ import annotations

from typing import Any

from constructs_lib.settings import Settings

#: SNS's SubscriptionArn of a subscription that is not confirmed yet.
PENDING = "PendingConfirmation"


def pending_subscriptions(sns: Any, topic_arn: str) -> list[str]:
    """Endpoints of the topic's subscriptions that wait for confirmation."""
    pending = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        pending += [s["Endpoint"] for s in page["Subscriptions"] if s["SubscriptionArn"] == PENDING]
    return pending


def plain_http_notice(settings: Settings) -> str | None:
    """The line every deploy and plan summary of a production environment repeats while it
    serves plain HTTP (only possible with the edge.allow_plain_http opt-out)."""
    if settings.is_production and not settings.edge.https:
        return (
            f"{settings.environment} serves plain HTTP (edge.allow_plain_http = true): traffic and any "
            "credentials in it cross the internet unencrypted"
        )
    return None


def next_steps(settings: Settings, outputs: dict[str, Any], sns: Any) -> list[str]:
    steps = []
    if not settings.observability.alarm_emails:
        steps.append(
            "no e-mail is subscribed to the notifications topic, so nobody hears about failures: "
            "set observability.alarm_emails"
        )
    else:
        pending = pending_subscriptions(sns, str(outputs["sns_topic_arn"]))
        if pending:
            steps.append(
                f"{len(pending)} e-mail subscription(s) await confirmation ({', '.join(sorted(pending))}): "
                "each address must follow the link in AWS's 'Subscription Confirmation' mail"
            )
    notice = plain_http_notice(settings)
    if notice is not None:
        steps.append(
            f"{notice}: set edge.domain_name and edge.hosted_zone, or edge.certificate_arn (a certificate in "
            f"{settings.region}), and remove edge.allow_plain_http"
        )
    if outputs.get("source_bucket"):
        steps.append(
            f"the pipeline's first run builds the sample application; replace it with your service by uploading "
            f"your source.zip to s3://{outputs['source_bucket']}/source.zip (README: Your own application)"
        )
    return steps

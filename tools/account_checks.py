"""What the target account must allow before an apply: rules AWS enforces per account.

terraform cannot see these until AWS refuses a create halfway through an apply;
the deploy tool asks the account first (aws target only: the emulator has no
quotas) and stops with one line saying what to change or request.

- Reserved concurrency: "You can reserve up to the Unreserved account concurrency
  value minus 100. The remaining 100 units of concurrency are for functions that
  aren't using reserved concurrency." New accounts start with reduced quotas.
  https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
- Bucket names: a bucket of the platform's name that exists in another account
  (S3 names are global within a partition) would fail the first deploy, or worse,
  receive this environment's state. ``HeadBucket`` with ``ExpectedBucketOwner``
  tells the two apart.
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html
- The hosted zone: the platform adds records to the team's public zone (``edge.hosted_zone``)
  and never creates one; without it the plan fails on a data source with no hint of why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from constructs_lib.settings import Settings

#: Lambda keeps this many executions unreserved in every account.
UNRESERVED_MINIMUM = 100


#: Each reservation setting and the function (its name component) it reserves for.
RESERVATIONS = {
    "pipeline.orchestrator_reserved_concurrency": "orchestrator",
    "pipeline.mirror_reserved_concurrency": "mirror",
}


def reserved_concurrency_problem(requested: dict[str, int], unreserved: int, ours: int) -> str | None:
    """None when reserving the sum of ``requested`` (setting -> executions) leaves at least 100 unreserved.

    ``unreserved`` is the account's ``AccountLimit.UnreservedConcurrentExecutions``, which
    already excludes what our functions reserve today (``ours``); redeploying the same
    reservations must not count them twice.
    """
    total = sum(requested.values())
    available = unreserved + ours
    if available - total >= UNRESERVED_MINIMUM:
        return None
    most = max(available - UNRESERVED_MINIMUM, 0)
    asked = " and ".join(f"{field} = {value}" for field, value in requested.items())
    return (
        f"{asked}: the account has {available} unreserved "
        f"concurrent executions and AWS keeps {UNRESERVED_MINIMUM} unreserved, so at most {most} can be reserved. "
        f"Unset the setting{'s' if len(requested) > 1 else ''}, or request a higher Lambda 'Concurrent executions' "
        f"quota in Service Quotas (at least {total + UNRESERVED_MINIMUM})"
    )


def check_reserved_concurrency(settings: Settings, lambda_client: Any) -> str | None:
    values = {
        "pipeline.orchestrator_reserved_concurrency": settings.pipeline.orchestrator_reserved_concurrency,
        "pipeline.mirror_reserved_concurrency": settings.pipeline.mirror_reserved_concurrency,
    }
    requested = {field: value for field, value in values.items() if value is not None}
    if not requested:
        return None
    unreserved = int(lambda_client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"])
    ours = 0
    for field in requested:
        function = settings.naming.name(RESERVATIONS[field])
        try:
            current = lambda_client.get_function_concurrency(FunctionName=function)
            ours += int(current.get("ReservedConcurrentExecutions", 0))
        except lambda_client.exceptions.ResourceNotFoundException:
            pass  # not deployed yet
    return reserved_concurrency_problem(requested, unreserved, ours)


def foreign_buckets(s3_client: Any, account: str, buckets: Iterable[str]) -> list[str]:
    """The platform's bucket names that exist but belong to another account."""
    from botocore.exceptions import ClientError

    foreign = []
    for bucket in buckets:
        try:
            s3_client.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("403", "AccessDenied", "Forbidden"):
                foreign.append(bucket)
            elif exc.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
                raise
    return foreign


def bucket_names(settings: Settings) -> list[str]:
    """Every bucket both stacks create, by the names they will have."""
    from tools.destroy_guard import BUCKET_COMPONENTS

    names = [settings.naming.name(c) for c in BUCKET_COMPONENTS]
    replica = settings.replica_naming
    if replica is not None:  # the replicas of the state and artifact buckets, in their region
        names += [replica.name("tfstate"), replica.name("artifacts")]
    return names


def missing_hosted_zone(settings: Settings, route53: Any) -> str | None:
    """A problem when ``edge.hosted_zone`` is set but the account has no public zone of that name."""
    name = settings.edge.hosted_zone
    if name is None:
        return None
    wanted = f"{name}."
    # Sorted by name: zones of this name come first (a private one may share it).
    zones = route53.list_hosted_zones_by_name(DNSName=wanted)["HostedZones"]
    if any(z["Name"] == wanted and not z.get("Config", {}).get("PrivateZone", False) for z in zones):
        return None
    return (
        f"edge.hosted_zone = {name!r}: this account has no public Route 53 hosted zone of that name. The platform "
        "adds records to your zone and never creates one: create it (and delegate it at the registrar) first, "
        "or correct the name"
    )


def problems(settings: Settings, clients: Any) -> list[str]:
    """Every account-side problem, one line each (``clients(service)`` -> a boto3 client)."""
    found = []
    concurrency = check_reserved_concurrency(settings, clients("lambda"))
    if concurrency:
        found.append(concurrency)
    zone = missing_hosted_zone(settings, clients("route53"))
    if zone:
        found.append(zone)
    taken = foreign_buckets(clients("s3"), settings.account, bucket_names(settings))
    if taken:
        found.append(
            f"bucket name(s) {', '.join(taken)} belong to another account (S3 names are global): change "
            "environment_suffix or project, or find out who owns them before deploying"
        )
    return found

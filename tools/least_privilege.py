"""Does a role allow every call it makes? Evidence from recorded requests, not from reading.

The emulator records each request it serves (``LOCAL_AWS_CALL_LOG``, local_aws/call_log.py):
the access key that signed it, the IAM action(s) AWS authorizes it as and its identifying
parameters. The integration tests sign each verb with the access key of the role CI runs it
with (plan and drift: the plan role; deploy, apply-plan and destroy: the deploy role), then
ask :func:`verdict` whether that role's policy documents allow every recorded call, on the
resource the call names where IAM has a resource type for the action.

Why not IAM's policy simulator: the emulator has none (moto does not implement
``SimulateCustomPolicy``), and AWS's would need an account. Why not moto's own enforcement
(``INITIAL_NO_AUTH_ACTION_COUNT``): it ignores resources, so a scoped statement never matches.
This evaluates what the platform's documents use: Allow and Deny, ``Action``/``NotAction``
and ``Resource`` with IAM's wildcards (case-insensitive actions, case-sensitive ARNs).
Conditions are not evaluated (the unit tests pin each conditioned statement), so a
conditioned Allow counts as allowing and a conditioned Deny as not denying.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs_lib import ci_access
from constructs_lib.settings import Settings


@dataclass(frozen=True)
class Need:
    """One action on one resource a recorded call needed, and how many calls needed it."""

    action: str
    resource: str
    calls: int = 1

    def __str__(self) -> str:
        return f"{self.action} on {self.resource} ({self.calls} call{'s' if self.calls != 1 else ''})"


@dataclass
class Verdict:
    """``missing``: needed and not allowed (a failure); ``unused``: granted, never called
    (a report: some are needed only on AWS, see ``ONLY_ON_AWS``)."""

    needed: list[Need] = field(default_factory=list)
    missing: list[Need] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str, case: bool) -> re.Pattern[str]:
    # IAM: "*" any run of characters, "?" one character; nothing else is special.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, 0 if case else re.IGNORECASE)


def _glob(pattern: str, value: str, *, case: bool) -> bool:
    return _compiled(pattern, case).fullmatch(value) is not None


def _matches(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    if "Action" in statement:
        if not any(_glob(a, action, case=False) for a in _as_list(statement["Action"])):
            return False
    elif any(_glob(a, action, case=False) for a in _as_list(statement.get("NotAction", []))):
        return False
    if "Resource" in statement:
        return any(_glob(r, resource, case=True) for r in _as_list(statement["Resource"]))
    return not any(_glob(r, resource, case=True) for r in _as_list(statement.get("NotResource", [])))


def allowed(documents: Sequence[Mapping[str, Any]], action: str, resource: str) -> bool:
    """An explicit Deny wins; otherwise any Allow that matches (conditions not evaluated)."""
    statements = [s for doc in documents for s in _as_list(doc["Statement"])]
    if any(s["Effect"] == "Deny" and "Condition" not in s and _matches(s, action, resource) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _matches(s, action, resource) for s in statements)


def _arn_in_params(params: Mapping[str, Any]) -> str | None:
    for value in params.values():
        for item in _as_list(value):
            if isinstance(item, str) and item.startswith("arn:aws:"):
                return item
    return None


def resource_of(call: Mapping[str, Any], action: str, settings: Settings) -> str:
    """The resource IAM authorizes ``action`` of ``call`` on: ``*`` for an action without a
    resource type, else the ARN the request names (built from its name where the request has no
    ARN). Unknown names give a placeholder inside the account and region, so only a statement
    scoped no tighter than the account and region can match it."""
    if ci_access.star_only(action):
        return "*"
    prefix = action.split(":", 1)[0]
    params: Mapping[str, Any] = call.get("params") or {}
    region = call.get("region") or settings.region
    account = settings.account
    if prefix == "s3":
        bucket = params.get("Bucket")
        key = params.get("Key")
        if bucket is None:
            return "arn:aws:s3:::*"
        return f"arn:aws:s3:::{bucket}/{key}" if key and _object_action(action) else f"arn:aws:s3:::{bucket}"
    if prefix == "dynamodb" and isinstance(params.get("TableName"), str):
        return f"arn:aws:dynamodb:{region}:{account}:table/{params['TableName']}"
    if action == "iam:GetUser":  # without a name: the caller, a user
        return f"arn:aws:iam::{account}:user/{params.get('UserName') or 'caller'}"
    if prefix == "cloudwatch" and "Dashboard" in action:  # global: no region
        # DeleteDashboards names them as DashboardNames.member.N (query protocol).
        names = [v for k, v in params.items() if k.startswith("DashboardName")] or ["unknown"]
        return f"arn:aws:cloudwatch::{account}:dashboard/{_as_list(names[0])[0]}"
    if prefix == "iam":
        if isinstance(params.get("RoleName"), str):
            return f"arn:aws:iam::{account}:role/{params['RoleName']}"
        found = _arn_in_params(params)
        return found or f"arn:aws:iam::{account}:unknown"
    if prefix == "route53":
        zone = params.get("Id") or params.get("HostedZoneId")
        if isinstance(zone, str):
            kind = "change" if action.endswith("GetChange") else "hostedzone"
            return f"arn:aws:route53:::{kind}/{zone.rsplit('/', 1)[-1]}"
        return "arn:aws:route53:::hostedzone/unknown"
    found = _arn_in_params(params)
    if found is not None and found.split(":")[2] == prefix:
        return found
    return f"arn:aws:{prefix}:{region}:{account}:unknown"


def _object_action(action: str) -> bool:
    """Does this S3 action act on an object (``bucket/key``) rather than the bucket?"""
    types = ci_access.privilege(action)["resource_types"]
    assert isinstance(types, list)
    return any(str(t["resource_type"]).rstrip("*") == "object" for t in types)


def calls_of(records: Iterable[Mapping[str, Any]], access_key: str) -> list[Mapping[str, Any]]:
    """The recorded calls signed with ``access_key`` that the emulator identified."""
    return [r for r in records if r.get("akid") == access_key and r.get("operation")]


def needs(calls: Iterable[Mapping[str, Any]], settings: Settings) -> list[Need]:
    """Every (action, resource) the calls needed, with how many calls needed it."""
    counted: Counter[tuple[str, str]] = Counter()
    for call in calls:
        for action in call.get("action") or []:
            if action == "iam:PassRole":
                # Authorized on each role the request passes (the recorder lists them).
                for role in call.get("passed_roles") or []:
                    counted[(action, role)] += 1
                continue
            counted[(action, resource_of(call, action, settings))] += 1
    return [Need(a, r, n) for (a, r), n in sorted(counted.items())]


def judge(needed: Sequence[Need], documents: Sequence[Mapping[str, Any]]) -> Verdict:
    """Which of ``needed`` the documents do not allow, and what they grant that nothing needed."""
    result = Verdict(needed=list(needed))
    result.missing = [need for need in needed if not allowed(documents, need.action, need.resource)]
    called = {need.action.lower() for need in needed}
    granted = sorted(
        {a for doc in documents for s in _as_list(doc["Statement"]) if s["Effect"] == "Allow"
         for a in _as_list(s.get("Action", []))}
    )  # fmt: skip
    result.unused = [a for a in granted if not any(fnmatch.fnmatch(c, a.lower()) for c in called)]
    return result


def verdict(calls: Iterable[Mapping[str, Any]], documents: Sequence[Mapping[str, Any]], settings: Settings) -> Verdict:
    return judge(needs(calls, settings), documents)


def documents_of(policies: Iterable[str]) -> list[dict[str, Any]]:
    return [json.loads(p) for p in policies]

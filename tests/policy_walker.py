"""Walks every policy document in a synthesized stack and reports wildcards."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from constructs_lib import ci_access
from constructs_lib.policies import STAR_ONLY_ACTIONS
from tests.helpers import all_resources

KEY_POLICY_TYPES = {"aws_kms_key"}
#: VPC endpoint policies allow "what this account does" (any action, any resource) scoped by a
#: condition on the account: the one shape where a wildcard is the point. Only with that condition.
ENDPOINT_POLICY_TYPES = {"aws_vpc_endpoint"}
ACCOUNT_KEYS = {"aws:PrincipalAccount", "aws:ResourceAccount"}


def _scoped_to_an_account(stmt: Mapping[str, Any]) -> bool:
    equals = stmt.get("Condition", {}).get("StringEquals", {})
    return bool(ACCOUNT_KEYS & set(equals)) and all(isinstance(equals[k], str) for k in ACCOUNT_KEYS & set(equals))


def policy_documents(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(resource address, attribute, parsed document) for every JSON policy."""
    for rtype, name, body in all_resources(doc):
        for attr, value in body.items():
            if isinstance(value, str) and value.lstrip().startswith("{") and '"Statement"' in value:
                yield f"{rtype}.{name}", attr, json.loads(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_violations(doc: Mapping[str, Any]) -> list[str]:
    problems = []
    for address, attr, policy in policy_documents(doc):
        is_key_policy = address.split(".")[0] in KEY_POLICY_TYPES
        is_endpoint_policy = address.split(".")[0] in ENDPOINT_POLICY_TYPES
        for stmt in as_list(policy["Statement"]):
            if stmt.get("Effect") != "Allow":
                continue  # a wildcard in a Deny only narrows access
            if is_endpoint_policy and _scoped_to_an_account(stmt):
                continue
            actions = as_list(stmt.get("Action", []))
            for action in actions:
                if action == "*" or action.endswith(":*"):
                    problems.append(f"{address}.{attr} {stmt.get('Sid')}: Action {action!r}")
            resources = as_list(stmt.get("Resource", []))
            # In a key policy "Resource": "*" means "this key": the one structural exception.
            if "*" in resources and not is_key_policy:
                # The curated list (with AWS's quotes), or actions AWS's own catalogue lists with
                # no resource type (CI's read and deploy roles hold many such Describe/List calls).
                unscoped = [a for a in actions if a not in STAR_ONLY_ACTIONS and not ci_access.star_only(a)]
                if unscoped:
                    problems.append(f"{address}.{attr} {stmt.get('Sid')}: Resource '*' for {unscoped}")
    return problems

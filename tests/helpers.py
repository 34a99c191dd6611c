"""Shared test helpers: settings factories and synthesized-JSON accessors."""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from constructs_lib.settings import Settings, _deep_merge, parse_settings

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"

#: What synthesized ARNs hold for the account and partition (data sources read at plan time).
ACCOUNT_TOKEN = "${data.aws_caller_identity.caller.account_id}"
PARTITION_TOKEN = "${data.aws_partition.partition.partition}"

#: Overrides of dev that turn every optional feature on.
ALL_ON: dict[str, Any] = {
    "account_id": "123456789012",
    "deploy_role_arn": "arn:aws:iam::123456789012:role/cicd-deploy",
    "network": {"enable_nat_gateway": True, "single_nat_gateway": False, "az_count": 3},
    "security": {
        "secret_rotation_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:rotate",
        "secret_readers": ["arn:aws:iam::123456789012:role/rotate", "arn:aws:iam::123456789012:role/break-glass"],
    },
    "edge": {
        "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0e8a5d3c-2f55-4b6f-9a56-8f3c7f1f7c11",
        "domain_name": "web.example.org",
        "hosted_zone": "example.org",
        "geo_blocking_enabled": True,
        "blocked_countries": ["KP"],
    },
    "pipeline": {
        "require_manual_approval": True,
        "codestar_connection_arn": (
            "arn:aws:codestar-connections:us-east-1:123456789012:connection/0e8a5d3c-2f55-4b6f-9a56-8f3c7f1f7c11"
        ),
        "github_repository": "acme/web",
    },
    "observability": {"alarm_emails": ["oncall@example.com"]},
    "ci": {"github_repository": "acme/web", "oidc_provider": "create"},
}

#: Overrides of dev that turn every optional feature off (NAT off needs the endpoints).
ALL_OFF: dict[str, Any] = {
    "network": {"enable_nat_gateway": False, "enable_vpc_endpoints": True, "az_count": 2},
    "edge": {"geo_blocking_enabled": False, "blocked_countries": []},
    "pipeline": {"require_manual_approval": False},
    "observability": {"alarm_emails": []},
    "service": {"readonly_root_filesystem": False},
    "ci": {"github_repository": None},
}


#: The shipped configs and the all-on / all-off variants: name -> (environment, overrides).
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "dev": ("dev", {}),
    "staging": ("staging", {}),
    "prod": ("prod", {}),
    "all-on": ("dev", ALL_ON),
    "all-off": ("dev", ALL_OFF),
}


def raw_config(environment: str = "dev") -> dict[str, Any]:
    return tomllib.loads((CONFIG_DIR / f"{environment}.toml").read_text())


def make_settings(environment: str = "dev", **overrides: Any) -> Settings:
    """Settings from a shipped config with nested overrides (dicts merge)."""
    return parse_settings(_deep_merge(copy.deepcopy(raw_config(environment)), overrides), f"{environment}+test")


def resources(doc: Mapping[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return dict(doc.get("resource", {}).get(rtype, {}))


def one(doc: Mapping[str, Any], rtype: str) -> dict[str, Any]:
    found = resources(doc, rtype)
    assert len(found) == 1, f"expected one {rtype}, found {sorted(found)}"
    return next(iter(found.values()))


def all_resources(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for rtype, items in doc.get("resource", {}).items():
        for name, body in items.items():
            yield rtype, name, body


def statements(policy_json: str) -> dict[str, dict[str, Any]]:
    """Policy document statements by Sid (parsed JSON, not substrings)."""
    doc = json.loads(policy_json)
    return {s["Sid"]: s for s in doc["Statement"]}

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

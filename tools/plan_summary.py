"""Markdown summary of a terraform plan, for a pull-request comment.

    terraform show -json plan.tfplan > plan.json
    python -m tools.plan_summary plan.json --title "platform-prod" > comment.md

Counts per resource type and action, a loud section for replacements or
deletions of stateful or security-critical resources, and IAM / KMS / resource
policy changes as readable unified diffs of the pretty-printed JSON.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: Losing one of these loses data, keys or audit trail.
CRITICAL_TYPES = frozenset(
    {
        "aws_kms_key",
        "aws_kms_alias",
        "aws_s3_bucket",
        "aws_dynamodb_table",
        "aws_secretsmanager_secret",
        "aws_cloudwatch_log_group",
        "aws_ecr_repository",
    }
)
#: resource type -> attributes holding a JSON policy document.
POLICY_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    "aws_iam_role": ("assume_role_policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_policy": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_sqs_queue_policy": ("policy",),
    "aws_cloudwatch_log_resource_policy": ("policy_document",),
}
ACTION_ORDER = ("create", "update", "replace", "delete")


def classify(actions: Sequence[str]) -> str | None:
    """terraform's action list -> one of ACTION_ORDER, or None for no-op/read."""
    kinds = set(actions)
    if kinds == {"create", "delete"}:
        return "replace"
    if len(kinds) == 1 and (kind := next(iter(kinds))) in ("create", "update", "delete"):
        return kind
    return None


def _pretty(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return list(value.splitlines())
    return json.dumps(value, indent=2, sort_keys=True).splitlines() if value is not None else []


def policy_diffs(change: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    out = []
    before = change["change"].get("before") or {}
    after = change["change"].get("after") or {}
    unknown = change["change"].get("after_unknown") or {}
    for attr in POLICY_ATTRIBUTES.get(change["type"], ()):
        new = ["(known after apply)"] if unknown.get(attr) is True else _pretty(after.get(attr))
        old = _pretty(before.get(attr))
        if old != new:
            diff = list(difflib.unified_diff(old, new, "before", "after", lineterm="", n=2))
            out.append((attr, diff))
    return out


def summarize(plan: Mapping[str, Any], title: str) -> str:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    critical: list[str] = []
    policies: list[str] = []
    for change in plan.get("resource_changes", []):
        if change.get("mode") == "data":
            continue
        kind = classify(change["change"]["actions"])
        if kind is None:
            continue
        counts[change["type"]][kind] += 1
        if kind in ("replace", "delete") and change["type"] in CRITICAL_TYPES:
            reason = ""
            replace_paths = change["change"].get("replace_paths")
            if kind == "replace" and replace_paths:
                paths = [".".join(str(p) for p in path) for path in replace_paths]
                reason = f" (forced by {', '.join(paths)})"
            critical.append(f"- **{kind.upper()}** `{change['address']}`{reason}")
        if kind in ("create", "update", "replace"):
            for attr, diff in policy_diffs(change):
                if kind == "create":
                    continue  # new policies are in the counts; diffs are for changes
                policies.append(f"<details><summary><code>{change['address']}</code> {attr}</summary>\n")
                policies.append("```diff\n" + "\n".join(diff) + "\n```\n</details>\n")

    total = Counter[str]()
    for per_type in counts.values():
        total.update(per_type)
    lines = [f"### Terraform plan: {title}", ""]
    if not counts:
        lines.append("**No changes.** Infrastructure matches the configuration.")
        return "\n".join(lines) + "\n"
    lines.append(" · ".join(f"**{total[a]}** to {a}" for a in ACTION_ORDER))
    lines.append("")
    if critical:
        lines += [
            "#### :warning: Stateful or security-critical resources replaced or deleted",
            "",
            "Data, keys or audit logs can be lost. Confirm each one is intended:",
            "",
            *critical,
            "",
        ]
    lines += ["| resource type | create | update | replace | delete |", "|---|---:|---:|---:|---:|"]
    for rtype in sorted(counts):
        cells = " | ".join(str(counts[rtype][a] or "") for a in ACTION_ORDER)
        lines.append(f"| `{rtype}` | {cells} |")
    if policies:
        lines += ["", "#### IAM, KMS and resource policy changes", "", *policies]
    return "\n".join(lines) + "\n"


Path_ = tuple[str | int, ...]


def flatten(value: Any, prefix: Path_ = ()) -> dict[Path_, Any]:
    """Leaf values by attribute path (lists by index, maps by key); empty containers are leaves."""
    if isinstance(value, dict) and value:
        out: dict[Path_, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, (*prefix, key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, (*prefix, index)))
        return out
    return {prefix: value}


def dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _marked(mask: Any, path: Path_) -> bool:
    """Is ``path`` marked (unknown or sensitive) in terraform's mask structure?"""
    node = mask
    for part in path:
        if node is True:
            return True
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return False
    return node is True


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == [] or value == ""


def attribute_changes(change: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(attribute, before, after) for every leaf that differs; sensitive values never shown.

    ``null``, ``""``, ``[]`` and ``{}`` count as the same (providers and APIs
    use them interchangeably for "nothing"), so representation-only noise is not
    reported as a change.
    """
    before, after = flatten(change.get("before") or {}), flatten(change.get("after") or {})
    unknown = change.get("after_unknown") or {}
    sensitive = (change.get("before_sensitive") or {}, change.get("after_sensitive") or {})
    out = []
    for path in sorted(set(before) | set(after) | set(flatten(unknown)), key=dotted):
        old = before.get(path)
        if _marked(unknown, path):
            new: Any = "(known after apply)"
        elif path in after or path in before:
            new = after.get(path)
            if old == new or (_empty(old) and _empty(new)):
                continue
        else:
            continue
        hidden = _marked(sensitive[0], path) or _marked(sensitive[1], path)
        shown_old = "(sensitive)" if hidden and old is not None else _short(old)
        shown_new = new if new == "(known after apply)" else ("(sensitive)" if hidden else _short(new))
        out.append((dotted(path), shown_old, shown_new))
    return out


def _short(value: Any, limit: int = 120) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 20] + f"... ({len(text)} chars)"


def drift_summary(plan: Mapping[str, Any], title: str) -> tuple[str, bool]:
    """Markdown for a refresh-only plan: each drifted resource and attribute. (text, drifted)."""
    lines = [f"### Drift: {title}", ""]
    found: list[tuple[str, list[tuple[str, str, str]] | None]] = []
    for item in plan.get("resource_drift") or []:
        if item.get("mode") == "data":
            continue
        if item["change"]["actions"] == ["delete"]:
            found.append((item["address"], None))
        elif changes := attribute_changes(item["change"]):
            found.append((item["address"], changes))
    if not found:
        lines.append("**No drift.** Every resource matches the last applied state.")
        return "\n".join(lines) + "\n", False
    lines += [f"**{len(found)}** resource(s) changed outside Terraform:", ""]
    for address, attributes in found:
        if attributes is None:
            lines.append(f"- `{address}`: deleted outside Terraform")
            continue
        lines.append(f"- `{address}`")
        lines += [f"  - `{attribute}`: {old} → {new}" for attribute, old, new in attributes]
    return "\n".join(lines) + "\n", True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan_summary", description=__doc__.splitlines()[0])
    parser.add_argument("plan_json", type=Path, help="output of `terraform show -json <plan>`")
    parser.add_argument("--title", default="plan")
    args = parser.parse_args(argv)
    sys.stdout.write(summarize(json.loads(args.plan_json.read_text()), args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

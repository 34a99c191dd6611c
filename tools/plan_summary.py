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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan_summary", description=__doc__.splitlines()[0])
    parser.add_argument("plan_json", type=Path, help="output of `terraform show -json <plan>`")
    parser.add_argument("--title", default="plan")
    args = parser.parse_args(argv)
    sys.stdout.write(summarize(json.loads(args.plan_json.read_text()), args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

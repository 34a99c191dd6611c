"""Markdown summary of terraform plans for a reviewer (pull-request comment, `make plan`).

    terraform show -json plan.tfplan > plan.json
    python -m tools.plan_summary plan.json [more.json ...] --title platform-prod [--full-url URL]

For each stack: counts; an **impact** section first (data loss risk, service
interruption, security change, each with the resources behind it, or one line
saying nothing risky is planned); every replacement with the attribute paths
that force it (``replace_paths``) and their before → after, grouped by the root
cause they share (a VPC's ``cidr_block`` forcing 28 dependents reads as one
line, not 28); every update with its changed attributes; creations and
deletions; IAM, KMS and resource policies as diffs; a table per resource type.
Values the plan marks sensitive are never printed, unknown ones read
"(known after apply)", long ones are shortened with a note. Long lists fold
into ``<details>``, and :func:`bounded` cuts the whole comment cleanly below
GitHub's 65,536-character limit with a pointer to the full summary.
"""

from __future__ import annotations

import argparse
import difflib
import html
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import plan_risk
from tools.plan_risk import Finding

#: GitHub refuses issue and pull-request comments longer than this.
GITHUB_COMMENT_LIMIT = 65_536
ACTION_ORDER = ("create", "update", "replace", "delete")
#: Lists longer than this fold into <details>.
FOLD_AFTER = 8

#: Replacing or deleting one of these loses data, keys or the audit trail.
DATA_TYPES = frozenset(
    {
        "aws_kms_key", "aws_kms_alias", "aws_s3_bucket", "aws_dynamodb_table", "aws_secretsmanager_secret",
        "aws_secretsmanager_secret_version", "aws_cloudwatch_log_group", "aws_ecr_repository",
    }
)  # fmt: skip
#: Replacing one of these takes the service off the network or out of service while it is rebuilt.
INTERRUPTION_TYPES = frozenset(
    {
        "aws_vpc", "aws_subnet", "aws_route_table", "aws_route_table_association", "aws_route", "aws_nat_gateway",
        "aws_internet_gateway", "aws_vpc_endpoint", "aws_security_group", "aws_lb", "aws_lb_target_group",
        "aws_lb_listener", "aws_ecs_cluster", "aws_ecs_service",
    }
)  # fmt: skip
#: Roles the running tasks use: replacing them interrupts the service too.
TASK_ROLE_PRINCIPAL = "ecs-tasks.amazonaws.com"
#: Who may do what, and what reaches the service: any change here is a security change.
SECURITY_TYPES = frozenset(
    {
        "aws_iam_role", "aws_iam_role_policy", "aws_iam_policy", "aws_iam_role_policy_attachment", "aws_kms_key",
        "aws_s3_bucket_policy", "aws_sns_topic_policy", "aws_sqs_queue_policy", "aws_cloudwatch_log_resource_policy",
        "aws_security_group", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule",
        "aws_default_security_group", "aws_wafv2_web_acl", "aws_wafv2_web_acl_association",
        "aws_s3_bucket_public_access_block", "aws_lambda_permission", "aws_ecr_repository_policy",
    }
)  # fmt: skip
#: resource type -> attributes holding a JSON policy document (the risk engine's list).
POLICY_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    rtype: tuple(attr for attr, _ in attrs) for rtype, attrs in plan_risk.POLICIES.items() if attrs
}
#: Attributes that only mirror others or carry no behaviour.
NOISE_ATTRIBUTES = frozenset({"tags", "tags_all"})
UNKNOWN = "(known after apply)"

Path_ = tuple[str | int, ...]
Change = Mapping[str, Any]


def classify(actions: Sequence[str]) -> str | None:
    """terraform's action list -> one of ACTION_ORDER, or None for no-op/read."""
    kinds = set(actions)
    if kinds == {"create", "delete"}:
        return "replace"
    if len(kinds) == 1 and (kind := next(iter(kinds))) in ("create", "update", "delete"):
        return kind
    return None


# --- attribute-level differences ------------------------------------------------


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


def dotted(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _marked(mask: Any, path: Sequence[str | int]) -> bool:
    """Is ``path`` (or a parent of it) marked true in terraform's unknown/sensitive mask?"""
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


def _normal(value: Any) -> Any:
    """``value`` without empty leaves, keeping list lengths: a nested block that is
    present but empty (``[{}]``) still differs from an absent one (``[]``)."""
    if isinstance(value, dict):
        kept = {k: _normal(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if not _empty(v)}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def changed_attributes(change: Change) -> list[str]:
    """Top-level attributes whose value changes (structurally, not just in representation)."""
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    return sorted(
        a for a in set(before) | set(after)
        if unknown.get(a) is True or _normal(before.get(a)) != _normal(after.get(a))
    )  # fmt: skip


def _short(value: Any, limit: int = 120) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value)
    return text if len(text) <= limit else f"{text[: limit - 20]}… (shortened, {len(text)} characters)"


def attribute_changes(change: Change, under: Path_ | None = None) -> list[tuple[str, str, str]]:
    """(attribute, before, after) for every leaf that differs (only below ``under`` if given).

    Sensitive values are never shown; ``null``, ``""``, ``[]`` and ``{}`` count
    as the same (providers and APIs use them interchangeably for "nothing").
    """
    before, after = flatten(change.get("before") or {}), flatten(change.get("after") or {})
    unknown = change.get("after_unknown") or {}
    sensitive = (change.get("before_sensitive") or {}, change.get("after_sensitive") or {})
    out = []
    for path in sorted(set(before) | set(after) | set(flatten(unknown)), key=dotted):
        if under is not None and tuple(path[: len(under)]) != tuple(under):
            continue
        old = before.get(path)
        if _marked(unknown, path):
            new: Any = UNKNOWN
        elif path in after or path in before:
            new = after.get(path)
            if old == new or (_empty(old) and _empty(new)):
                continue
        else:
            continue
        hidden = _marked(sensitive[0], path) or _marked(sensitive[1], path)
        shown_old = "(sensitive)" if hidden and old is not None else _short(old)
        shown_new = new if new == UNKNOWN else ("(sensitive)" if hidden else _short(new))
        out.append((dotted(path), shown_old, shown_new))
    return out


def _pretty(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return list(value.splitlines())
    return json.dumps(value, indent=2, sort_keys=True).splitlines() if value is not None else []


def policy_diffs(change: Change, templates: Mapping[str, str] | None = None) -> list[tuple[str, list[str]]]:
    """Unified diffs of the JSON policy attributes of one resource change.

    A policy "known after apply" is shown as its configured template with every value known
    at plan time substituted (``templates``: attribute -> text, from ``policy_templates``), so a
    statement widened behind an unknown ARN is still visible.
    """
    out = []
    body = change["change"]
    before, after = body.get("before") or {}, body.get("after") or {}
    unknown = body.get("after_unknown") or {}
    sensitive = (body.get("before_sensitive") or {}, body.get("after_sensitive") or {})
    for attr in POLICY_ATTRIBUTES.get(change["type"], ()):
        if _marked(sensitive[0], [attr]) or _marked(sensitive[1], [attr]):
            out.append((attr, ["(sensitive: not shown)"]))
            continue
        template = (templates or {}).get(attr)
        if unknown.get(attr) is True and template is not None:
            new = ["(known after apply; the configured template with what is known substituted:)", *_pretty(template)]
        else:
            new = [UNKNOWN] if unknown.get(attr) is True else _pretty(after.get(attr))
        old = _pretty(before.get(attr))
        if old != new:
            out.append((attr, list(difflib.unified_diff(old, new, "before", "after", lineterm="", n=2))))
    return out


# --- replacements and their root causes -----------------------------------------


def _address_of(reference: str) -> str:
    parts = reference.split(".")
    return ".".join(parts[:3] if parts[0] == "data" else parts[:2])


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        refs = {_address_of(r) for r in node.get("references", [])}
        for key, value in node.items():
            if key != "references":
                refs |= _references(value)
        return refs
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node)) if node else set()
    return set()


def _expressions(plan: Mapping[str, Any]) -> dict[str, Any]:
    module = (plan.get("configuration") or {}).get("root_module") or {}
    return {r["address"]: r.get("expressions") or {} for r in module.get("resources") or []}


def _expression_at(expressions: Any, path: Sequence[str | int]) -> Any:
    node = expressions
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
            continue
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            continue
        break
    return node


def _block(address: str) -> str:
    """``aws_x.name["key"]`` -> ``aws_x.name``: the configuration block of a resource instance."""
    return address.split("[", 1)[0]


def _instance(block: str, addresses: Iterable[str]) -> str:
    """The address of a resource block's instance in this plan (the block itself when unkeyed)."""
    return next((a for a in sorted(addresses) if a == block or a.startswith(block + "[")), block)


@dataclass
class Replacement:
    address: str
    change: Change
    #: replace paths whose new value comes from this plan's own changes
    forced_by: str | None = None
    direct: list[Path_] = field(default_factory=list)

    def reason(self, with_cause: bool = False) -> str:
        if with_cause and self.forced_by:
            own = f"; its own {', '.join(f'`{dotted(p)}`' for p in self.direct)} too" if self.direct else ""
            return f"`{self.forced_by}` is replaced{own}"
        if self.direct:
            parts = []
            for path in self.direct:
                diffs = attribute_changes(self.change, under=tuple(path))
                shown = "; ".join(f"`{a}`: {o} → {n}" for a, o, n in diffs[:3]) or f"`{dotted(path)}`"
                parts.append(shown + (f" (+{len(diffs) - 3} more)" if len(diffs) > 3 else ""))
            return "forced by " + "; ".join(parts)
        why = str(self.change.get("action_reason", "")).removeprefix("replace_")
        return {"because_tainted": "tainted", "by_request": "requested (-replace)"}.get(why, why or "replaced")


def replacements(plan: Mapping[str, Any]) -> dict[str, Replacement]:
    """Every replaced resource, with what forces it: its own attributes, or another change."""
    expressions = _expressions(plan)
    rcs = {rc["address"]: rc for rc in plan.get("resource_changes", []) if rc.get("mode") != "data"}
    # Configuration is per resource block; an instance's address adds a count or for_each key.
    renewed_blocks = {_block(a) for a, rc in rcs.items() if classify(rc["change"]["actions"]) in ("create", "replace")}
    renewed = {a for a, rc in rcs.items() if classify(rc["change"]["actions"]) in ("create", "replace")}
    out = {}
    for address, rc in rcs.items():
        if classify(rc["change"]["actions"]) != "replace":
            continue
        item = Replacement(address, rc["change"] | {"action_reason": rc.get("action_reason", "")})
        unknown = rc["change"].get("after_unknown") or {}
        block = _block(address)
        for path in rc["change"].get("replace_paths") or []:
            refs = _references(_expression_at(expressions.get(block, {}), path)) & (renewed_blocks - {block})
            if refs and _marked(unknown, path):
                item.forced_by = item.forced_by or _instance(sorted(refs)[0], renewed)
            else:
                item.direct.append(tuple(path))
        out[address] = item
    return out


def root_causes(items: Mapping[str, Replacement]) -> dict[str, list[str]]:
    """Root address -> the replaced resources it forces (itself first when it is replaced)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for address in items:
        root, seen = address, {address}
        while items.get(root) is not None and items[root].forced_by:
            nxt = str(items[root].forced_by)
            if nxt in seen:
                break
            seen.add(nxt)
            root = nxt
        groups[root].append(address)
    for root, members in groups.items():
        members.sort(key=lambda a: (a != root, a))
    return dict(groups)


# --- impact ------------------------------------------------------------------------


def _is_task_role(change: Change) -> bool:
    for side in ("before", "after"):
        value = (change.get(side) or {}).get("assume_role_policy")
        if isinstance(value, str) and TASK_ROLE_PRINCIPAL in value:
            return True
    return False


def _waf_rule_changes(change: Change) -> list[str]:
    def by_name(side: str) -> dict[str, Any]:
        return {r.get("name"): r for r in (change.get(side) or {}).get("rule") or []}

    old, new = by_name("before"), by_name("after")
    out = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            out.append(f"rule `{name}` added")
        elif name not in new:
            out.append(f"rule `{name}` removed")
        elif _normal(old[name]) != _normal(new[name]):

            def action(rule: Mapping[str, Any]) -> str:
                for key in ("action", "override_action"):
                    for block in rule.get(key) or []:
                        for verb, value in block.items():
                            if value:
                                return str(verb)
                return "?"

            a, b = action(old[name]), action(new[name])
            out.append(f"rule `{name}`: action {a} → {b}" if a != b else f"rule `{name}` changed")
    return out


def _security_detail(rc: Change, kind: str) -> str | None:
    """Why a change is a security change, or None when it is not one."""
    rtype, change = rc["type"], rc["change"]
    if rtype not in SECURITY_TYPES:
        return None
    if kind == "update" and not [a for a in changed_attributes(change) if a not in NOISE_ATTRIBUTES]:
        return None
    if rtype == "aws_wafv2_web_acl" and kind == "update":
        return "; ".join(_waf_rule_changes(change)) or "web ACL changed"
    if rtype in POLICY_ATTRIBUTES:
        return f"{kind}: policy (diff below)" if kind != "delete" else "deleted: its grants go"
    if rtype in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        values = change.get("after") or change.get("before") or {}
        rule = plan_risk._standalone_rule(values, "ingress" if "ingress" in rtype else "egress")
        return f"{kind}: {rule.line()}"
    changed = ", ".join(f"`{a}`: {o} → {n}" for a, o, n in attribute_changes(change)[:4]) if kind == "update" else ""
    return f"{kind}" + (f": {changed}" if changed else "")


@dataclass
class Impact:
    data_loss: list[str] = field(default_factory=list)
    interruption: list[str] = field(default_factory=list)
    security: list[str] = field(default_factory=list)

    @property
    def risky(self) -> bool:
        return bool(self.data_loss or self.interruption or self.security)


def impact(plan: Mapping[str, Any]) -> Impact:
    found = Impact()
    for rc in plan.get("resource_changes", []):
        if rc.get("mode") == "data":
            continue
        kind = classify(rc["change"]["actions"])
        if kind is None:
            continue
        address, rtype = rc["address"], rc["type"]
        if kind in ("replace", "delete") and rtype in DATA_TYPES:
            found.data_loss.append(f"**{kind.upper()}** `{address}`")
        if kind in ("replace", "delete") and (
            rtype in INTERRUPTION_TYPES or (rtype == "aws_iam_role" and _is_task_role(rc["change"]))
        ):
            found.interruption.append(f"**{kind.upper()}** `{address}`")
        detail = _security_detail(rc, kind)
        if detail is not None:
            found.security.append(f"`{address}`: {detail}")
    return found


# --- rendering -----------------------------------------------------------------------


_CODE_SPAN = re.compile(r"`([^`]+)`")


def _folded(items: Sequence[str], label: str) -> list[str]:
    """``items``, folded into ``<details>`` when long. The blank line after ``</details>`` ends
    the HTML block: without it GitHub (cmark-gfm) prints the Markdown that follows literally.
    The label is HTML, where Markdown is not rendered: a code span becomes ``<code>``."""
    if len(items) <= FOLD_AFTER:
        return list(items)
    parts = _CODE_SPAN.split(label)  # text, code, text, code, ...
    shown = "".join(html.escape(p) if i % 2 == 0 else f"<code>{html.escape(p)}</code>" for i, p in enumerate(parts))
    return ["<details><summary>" + shown + "</summary>", "", *items, "", "</details>", ""]


SEVERITY_ICON = {"deny": ":no_entry:", "warn": ":warning:"}
#: GitHub drops a job's whole step summary above 1 MiB.
STEP_SUMMARY_LIMIT = 1024 * 1024 - 4096
DELETE_REASONS = {
    "delete_because_no_resource_config": "removed from the configuration",
    "delete_because_no_module": "its module was removed",
    "delete_because_wrong_repetition": "count/for_each changed shape",
    "delete_because_count_index": "its count index is gone",
    "delete_because_each_key": "its for_each key is gone",
    "delete_because_no_move_target": "a moved block points at nothing",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _attention_lines(findings: Sequence[Finding]) -> list[str]:
    """The risk engine's findings, ranked, in one table at the top: never folded, never cut."""
    if not findings:
        groups = len(plan_risk.RULES)
        return [
            f":white_check_mark: **Nothing risky**: the `{plan_risk.RULESET}` rules ({groups} rule groups: "
            "protections, retention, keys, public access, network exposure, policies, attachments, destroys) ran "
            "on every change and found nothing.",
            "",
        ]
    denied = sum(1 for f in findings if f.severity == "deny")
    lines = [
        f"#### :rotating_light: Needs attention ({len(findings)}: {denied} blocking)",
        "",
        "| | risk | resource | what | before → after |",
        "|---|---|---|---|---|",
    ]
    for f in findings:
        lines.append(
            f"| {SEVERITY_ICON[f.severity]} {f.severity} | {f.category} | `{_cell(f.address)}` | {_cell(f.what)} | "
            f"{_cell(f.before)} → {_cell(f.after)} |"
        )
    return [*lines, ""]


def _security_lines(found: Impact) -> list[str]:
    """Every security-relevant change, risky or not (the table above ranks the risky ones)."""
    if not found.security:
        return []
    items = [f"- {item}" for item in found.security]
    return [f"#### Security-relevant changes ({len(items)})", "", *_folded(items, f"{len(items)} resources"), ""]


def _unknown_causes(plan: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(address, attribute) -> the change in this plan that makes the attribute unknown."""
    expressions = _expressions(plan)
    # Only called for a plan with updates; a data source is read, never created or replaced.
    rcs = {rc["address"]: rc for rc in plan["resource_changes"]}
    renewed = {a: classify(rc["change"]["actions"]) for a, rc in rcs.items()}
    renewed = {a: k for a, k in renewed.items() if k in ("create", "replace")}
    blocks = {_block(a): a for a in renewed}
    out = {}
    for address, rc in rcs.items():
        for attr, flag in (rc["change"].get("after_unknown") or {}).items():
            if flag is not True:
                continue
            refs = sorted(
                _references(expressions.get(_block(address), {}).get(attr, {})) & (set(blocks) - {_block(address)})
            )
            if refs:
                cause = blocks[refs[0]]
                out[(address, attr)] = f"`{cause}` is {'created' if renewed[cause] == 'create' else 'replaced'}"
    return out


def _replace_order(rc: Change) -> str:
    actions = list(rc["change"]["actions"])
    return "create before destroy" if actions[0] == "create" else "destroy, then create: down in between"


def _replacement_lines(plan: Mapping[str, Any]) -> list[str]:
    items = replacements(plan)
    if not items:
        return []
    rcs = {rc["address"]: rc for rc in plan.get("resource_changes", [])}
    lines = [f"#### Replacements ({len(items)})", ""]
    for root, members in sorted(root_causes(items).items(), key=lambda kv: (-len(kv[1]), kv[0])):
        head = items.get(root)
        dependents = [m for m in members if m != root]
        if head is not None:
            lines.append(f"- `{root}`: {head.reason()} ({_replace_order(rcs[root])})")
        else:
            lines.append(f"- `{root}` (new in this plan) forces replacements")
        if dependents:
            lines.append(f"  - **{len(dependents)} dependent(s)** replaced because of it:")
            details = [f"  - `{d}`: {items[d].reason(with_cause=True)} ({_replace_order(rcs[d])})" for d in dependents]
            lines += _folded(details, f"{len(dependents)} resources replaced because of `{root}`")
    return [*lines, ""]


def _update_lines(plan: Mapping[str, Any]) -> list[str]:
    updates = [rc for rc in plan.get("resource_changes", []) if classify(rc["change"]["actions"]) == "update"]
    if not updates:
        return []
    causes = _unknown_causes(plan)
    lines = []
    for rc in updates:
        policy_attrs = POLICY_ATTRIBUTES.get(rc["type"], ())
        diffs = attribute_changes(rc["change"])
        shown = []
        for a, o, n in diffs:
            if a in policy_attrs:
                shown.append(f"  - `{a}`: changed (diff below)")
                continue
            why = causes.get((rc["address"], a.split(".")[0].split("[")[0])) if n == UNKNOWN else None
            shown.append(f"  - `{a}`: {o} → {n}" + (f" ({why})" if why else ""))
        covered = {a.split(".")[0].split("[")[0] for a, _, _ in diffs}
        if rc["type"] == "aws_wafv2_web_acl":
            shown = [f"  - {c}" for c in _waf_rule_changes(rc["change"])] + [
                line for line in shown if not line.startswith("  - `rule")
            ]
            covered.add("rule")
        shown += [f"  - `{a}`: nested blocks changed" for a in changed_attributes(rc["change"]) if a not in covered]
        lines.append(f"- `{rc['address']}`")
        lines += shown[:12] + ([f"  - … and {len(shown) - 12} more attributes"] if len(shown) > 12 else [])
    return [f"#### Updates ({len(updates)})", "", *_folded(lines, f"{len(updates)} resources updated"), ""]


def _simple_lines(plan: Mapping[str, Any], kind: str, title: str) -> list[str]:
    found = []
    for rc in plan.get("resource_changes", []):
        if rc.get("mode") == "data" or classify(rc["change"]["actions"]) != kind:
            continue
        line = f"- `{rc['address']}`"
        if kind == "delete":
            line += f": {DELETE_REASONS.get(str(rc.get('action_reason', '')), 'deleted')}"
        if kind == "create" and rc["type"].endswith("_policy_attachment"):
            line += f": `policy_arn` {(rc['change'].get('after') or {}).get('policy_arn', UNKNOWN)}"
        found.append(line)
    if not found:
        return []
    return [f"#### {title} ({len(found)})", "", *_folded(found, f"{len(found)} resources"), ""]


def _lifecycle_lines(plan: Mapping[str, Any]) -> list[str]:
    """Moved, imported and forgotten resources: what terraform does to state, not to AWS."""
    moved, imported, forgotten = [], [], []
    for rc in plan.get("resource_changes", []):
        if rc.get("previous_address") and rc["previous_address"] != rc["address"]:
            moved.append(f"- `{rc['previous_address']}` → `{rc['address']}`")
        importing = rc["change"].get("importing")
        if importing:
            imported.append(f"- `{rc['address']}`: id `{importing.get('id', '?')}`")
        if list(rc["change"].get("actions") or []) == ["forget"]:
            forgotten.append(f"- `{rc['address']}`: no longer managed by Terraform; the resource itself stays")
    lines = []
    for title, items in (("Moved", moved), ("Imported", imported), ("Forgotten (not destroyed)", forgotten)):
        if items:
            lines += [f"#### {title} ({len(items)})", "", *_folded(items, f"{len(items)} resources"), ""]
    return lines


def _output_lines(plan: Mapping[str, Any]) -> list[str]:
    changed = []
    for name, change in sorted((plan.get("output_changes") or {}).items()):
        kind = classify(change.get("actions") or [])
        if kind is None:
            continue
        if change.get("before_sensitive") or change.get("after_sensitive"):
            shown = "(sensitive)"
        elif change.get("after_unknown"):
            shown = f"{_short(change.get('before'))} → {UNKNOWN}"
        else:
            shown = f"{_short(change.get('before'))} → {_short(change.get('after'))}"
        changed.append(f"- `{name}` ({kind}): {shown}")
    return [f"#### Outputs ({len(changed)})", "", *_folded(changed, f"{len(changed)} outputs"), ""] if changed else []


def _drift_lines(plan: Mapping[str, Any]) -> list[str]:
    """Changed outside Terraform (a PR plan's refresh): what the plan will undo or re-create."""
    items = []
    for address, changes in real_drift(plan):
        if changes is None:
            items.append(f"- `{address}`: deleted outside Terraform (this plan creates it again)")
            continue
        attrs = "; ".join(f"`{a}`: {o} → {n}" for a, o, n in changes[:3]) + (" …" if len(changes) > 3 else "")
        items.append(f"- `{address}`: {attrs}")
    if not items:
        return []
    return [f"#### Changed outside Terraform ({len(items)})", "", *_folded(items, f"{len(items)} resources"), ""]


def _policy_lines(plan: Mapping[str, Any], templates: Mapping[str, Mapping[str, str]]) -> list[str]:
    blocks = []
    for rc in plan.get("resource_changes", []):
        kind = classify(rc["change"]["actions"])
        if kind not in ("create", "update", "replace"):
            continue
        for attr, diff in policy_diffs(rc, templates.get(rc["address"], {})):
            if kind == "create" and not any(line.startswith("+") for line in diff):
                continue
            blocks += [f"<details><summary><code>{rc['address']}</code> {attr}</summary>", "",
                       "```diff", *diff, "```", "</details>", ""]  # fmt: skip
    return ["#### IAM, KMS and resource policy changes", "", *blocks] if blocks else []


@dataclass(frozen=True)
class Context:
    """Where a plan comes from, printed at the top of the review."""

    commit: str | None = None
    run_url: str | None = None
    planned_at: str | None = None
    #: One line every plan of this environment repeats (a production opt-out, say).
    notice: str | None = None

    def lines(self) -> list[str]:
        parts = []
        if self.commit:
            parts.append(f"commit `{self.commit[:12]}`")
        if self.run_url:
            parts.append(f"[run]({self.run_url})")
        if self.planned_at:
            parts.append(f"planned {self.planned_at}")
        out = [f"<sub>{' · '.join(parts)}</sub>", ""] if parts else []
        return out + ([f"> :warning: {self.notice}", ""] if self.notice else [])


def _counts(plan: Mapping[str, Any]) -> tuple[dict[str, Counter[str]], Counter[str]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    extra = Counter[str]()
    for rc in plan.get("resource_changes", []):
        kind = classify(rc["change"]["actions"])
        if rc.get("mode") != "data" and kind is not None:
            counts[rc["type"]][kind] += 1
        if rc.get("previous_address") and rc["previous_address"] != rc["address"]:
            extra["move"] += 1
        if rc["change"].get("importing"):
            extra["import"] += 1
        if list(rc["change"].get("actions") or []) == ["forget"]:
            extra["forget"] += 1
    extra["change output"] = sum(
        1 for c in (plan.get("output_changes") or {}).values() if classify(c.get("actions") or []) is not None
    )
    return counts, extra


def summarize(
    plan: Mapping[str, Any],
    title: str,
    *,
    templates: Mapping[str, Mapping[str, str]] | None = None,
    context: Context | None = None,
) -> str:
    """The review of one stack's plan. ``templates``: ``policy_templates`` of the synthesized stack."""
    templates = templates or {}
    counts, extra = _counts(plan)
    lines = [f"### Terraform plan: {title}", "", *(context or Context()).lines()]
    drift = _drift_lines(plan)
    if not counts and not any(extra.values()):
        lines.append("**No changes.** Infrastructure matches the configuration.")
        return "\n".join([*lines, *(["", *drift] if drift else [])]) + "\n"
    total = Counter[str]()
    for per_type in counts.values():
        total.update(per_type)
    summary = [f"**{total[a]}** to {a}" for a in ACTION_ORDER]
    summary += [f"**{n}** to {what}" for what, n in extra.items() if n]
    lines += [" · ".join(summary), ""]
    lines += _attention_lines(plan_risk.evaluate(plan, templates))
    lines += _security_lines(impact(plan))
    lines += drift
    lines += _replacement_lines(plan)
    lines += _update_lines(plan)
    lines += _simple_lines(plan, "delete", "Deletions")
    lines += _simple_lines(plan, "create", "Creations")
    lines += _lifecycle_lines(plan)
    lines += _output_lines(plan)
    lines += _policy_lines(plan, templates)
    if counts:
        table = ["| resource type | create | update | replace | delete |", "|---|---:|---:|---:|---:|"]
        table += [
            f"| `{t}` | " + " | ".join(str(counts[t][a] or "") for a in ACTION_ORDER) + " |" for t in sorted(counts)
        ]
        lines += _folded(table, f"Changes by resource type ({len(counts)} types)")
    return "\n".join(lines).rstrip("\n") + "\n"


def bounded(
    text: str, limit: int = GITHUB_COMMENT_LIMIT, full_url: str | None = None, artifact: str | None = None
) -> str:
    """``text`` if it fits ``limit`` (a GitHub comment by default); otherwise cut cleanly before it
    with a pointer to the full summary: ``summary.md`` of the run's ``artifact``."""
    if len(text) <= limit:
        return text
    where = f"[the run's page]({full_url})" if full_url else "the run's page"
    kept = f"`summary.md` of the run's `{artifact}` artifact" if artifact else "`summary.md` beside the plan files"
    pointer = (
        f"\n\n---\n:scissors: **Cut here**: the summary is {len(text):,} characters and {limit:,} fit here. "
        f"The full summary is {kept}, on {where}.\n"
    )
    budget = limit - len(pointer) - 40
    cut = text[:budget]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
    # A cut inside a fold or a code block would swallow the pointer: close them.
    closing = ""
    if cut.count("```") % 2:
        closing += "\n```"
    closing += "\n</details>" * max(0, cut.count("<details>") - cut.count("</details>"))
    return cut + closing + pointer


#: Reported whatever the configuration sets: the provider's default_tags land in
#: ``tags_all``, and a tag added by hand is drift on any resource.
ALWAYS_WATCHED = frozenset({"tags", "tags_all"})


def _configured(plan: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Resource (type.name) -> the attributes its configuration sets."""
    resources = (plan.get("configuration") or {}).get("root_module", {}).get("resources", [])
    return {r["address"]: frozenset(r.get("expressions") or {}) | ALWAYS_WATCHED for r in resources}


#: Security-relevant attributes that sibling resources normally own (standalone security-group
#: rules, role policies and attachments): reported whenever the refreshed value holds an entry
#: no managed sibling explains, configured or not (a console-added 0.0.0.0/0 rule on port 22).
SIBLING_OWNED = {
    "aws_security_group": ("ingress", "egress"),
    "aws_default_security_group": ("ingress", "egress"),
    "aws_iam_role": ("inline_policy", "managed_policy_arns"),
}


def _prior_resources(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    root = ((plan.get("prior_state") or {}).get("values") or {}).get("root_module") or {}
    return list(root.get("resources") or [])


def _sg_rule_keys(block: Mapping[str, Any]) -> set[tuple[str, Any, Any, str]]:
    """An inline rule block as (protocol, from, to, peer) entries, one per peer."""
    peers = [*(block.get("cidr_blocks") or []), *(block.get("ipv6_cidr_blocks") or []),
             *(block.get("prefix_list_ids") or []), *(block.get("security_groups") or [])]  # fmt: skip
    if block.get("self"):
        peers.append("self")
    return {(str(block.get("protocol")), block.get("from_port"), block.get("to_port"), str(p)) for p in peers}


def _managed_siblings(plan: Mapping[str, Any]) -> dict[tuple[str, str], set[Any]]:
    """(owner id or name, attribute) -> the entries managed sibling resources account for."""
    out: dict[tuple[str, str], set[Any]] = defaultdict(set)
    for resource in _prior_resources(plan):
        values, rtype = resource.get("values") or {}, resource["type"]
        if rtype in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
            attr = "ingress" if "ingress" in rtype else "egress"
            peer = next((values[k] for k in ("cidr_ipv4", "cidr_ipv6", "prefix_list_id", "referenced_security_group_id")
                         if values.get(k)), "?")  # fmt: skip
            protocol = str(values.get("ip_protocol"))
            ports = (0, 0) if protocol == "-1" else (values.get("from_port"), values.get("to_port"))
            out[(str(values.get("security_group_id")), attr)].add((protocol, *ports, str(peer)))
        elif rtype == "aws_iam_role_policy":
            out[(str(values.get("role")), "inline_policy")].add(values.get("name"))
        elif rtype == "aws_iam_role_policy_attachment":
            out[(str(values.get("role")), "managed_policy_arns")].add(values.get("policy_arn"))
    return out


def _unexplained(item: Mapping[str, Any], managed: Mapping[tuple[str, str], set[Any]]) -> list[tuple[str, str, str]]:
    """Entries of sibling-owned attributes that no managed sibling explains, as (attribute, before, after)."""
    after = item["change"].get("after") or {}
    before = item["change"].get("before") or {}
    out = []
    for attr in SIBLING_OWNED.get(item["type"], ()):
        owner = str(after.get("id") if item["type"] != "aws_iam_role" else after.get("name"))
        known = managed.get((owner, attr), set())
        if attr in ("ingress", "egress"):
            now = set().union(*(_sg_rule_keys(b) for b in after.get(attr) or [])) if after.get(attr) else set()
            was = set().union(*(_sg_rule_keys(b) for b in before.get(attr) or [])) if before.get(attr) else set()
            extra = sorted(now - known - was, key=str)
            for protocol, low, high, peer in extra:
                ports = "all traffic" if protocol == "-1" else f"{protocol} {low}" + (f"-{high}" if high != low else "")
                out.append(
                    (f"{attr}", "(none)", f"{ports} {'from' if attr == 'ingress' else 'to'} {peer} (not managed)")
                )
        else:
            names = [p.get("name") if isinstance(p, dict) else p for p in after.get(attr) or []]
            for name in sorted({n for n in names if n} - known, key=str):
                out.append((attr, "(none)", f"{name} (not managed)"))
    return out


def real_drift(
    plan: Mapping[str, Any], ignored: Mapping[str, Iterable[str]] | None = None
) -> list[tuple[str, list[tuple[str, str, str]] | None]]:
    """What changed outside Terraform: (address, attribute changes), or None when deleted.

    Only attributes the configuration sets count, plus security-relevant entries that
    sibling resources normally own but none explains (``SIBLING_OWNED``). The other attributes
    are read back from AWS and change without anyone touching the resource: a bucket's
    ``policy`` or ``lifecycle_rule`` and a security group's rules are set by their own
    resources (whose drift is reported there), so a refresh after the first apply fills them
    in. ``ignored`` is each resource's ``lifecycle.ignore_changes`` (type.name -> attributes, or
    ``["all"]``): those belong to someone else, like the task definition the deploy
    orchestrator rolls out, or the source object a user uploads after the first.
    """
    configured, ignored = _configured(plan), ignored or {}
    managed = _managed_siblings(plan)
    found: list[tuple[str, list[tuple[str, str, str]] | None]] = []
    for item in plan.get("resource_drift") or []:
        if item.get("mode") == "data":
            continue
        if item["change"]["actions"] == ["delete"]:
            found.append((item["address"], None))
            continue
        resource = f"{item['type']}.{item['name']}"
        watched, skipped = configured.get(resource), set(ignored.get(resource, ()))
        sibling_owned = set(SIBLING_OWNED.get(item["type"], ()))
        changes = [
            change
            for change in attribute_changes(item["change"])
            if (top := re.split(r"[.\[]", change[0], maxsplit=1)[0]) not in skipped
            and "all" not in skipped  # ignore_changes = all: every attribute is someone else's
            and top not in sibling_owned
            and (watched is None or top in watched)
        ]
        if "all" not in skipped:
            changes += _unexplained(item, managed)
        if changes:
            found.append((item["address"], changes))
    return found


def drift_summary(
    plan: Mapping[str, Any], title: str, ignored: Mapping[str, Iterable[str]] | None = None
) -> tuple[str, bool]:
    """Markdown for a refresh-only plan: each drifted resource and attribute. (text, drifted)."""
    lines = [f"### Drift: {title}", ""]
    found = real_drift(plan, ignored)
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


_TOKEN = re.compile(r"\$\{([\w-]+(?:\.[\w-]+)+)\}")


def _known_values(plan: Mapping[str, Any]) -> dict[str, Any]:
    """``type.name.attribute`` -> its value where the plan knows it (planned, else prior)."""
    values: dict[str, Any] = {}
    for source in ("prior_state", "planned_values"):
        root = (plan.get(source) or {}).get("values", plan.get(source) or {}).get("root_module") or {}
        for resource in root.get("resources") or []:
            for attr, value in (resource.get("values") or {}).items():
                if isinstance(value, str | int | float):
                    values[f"{resource['address']}.{attr}"] = value
    return values


def policy_templates(plan: Mapping[str, Any], stack: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """address -> policy attribute -> the synthesized template with known values substituted
    (unknown ones as ``<address.attribute: known after apply>``), for policies the plan
    cannot show yet. ``stack`` is the synthesized ``cdk.tf.json``."""
    known = _known_values(plan)
    out: dict[str, dict[str, str]] = {}
    for rc in plan.get("resource_changes") or []:
        unknown = rc["change"].get("after_unknown") or {}
        for attr in POLICY_ATTRIBUTES.get(rc["type"], ()):
            if unknown.get(attr) is not True:
                continue
            configured = stack.get("resource", {}).get(rc["type"], {}).get(_block(rc["address"]).split(".", 1)[1])
            template = (configured or {}).get(attr)
            if not isinstance(template, str):
                continue

            def value(match: re.Match[str]) -> str:
                ref = match.group(1)
                found = known.get(ref)
                return str(found) if found is not None else f"<{ref}: known after apply>"

            out.setdefault(rc["address"], {})[attr] = _TOKEN.sub(value, template)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan_summary", description=__doc__.splitlines()[0])
    parser.add_argument("plan_json", type=Path, nargs="+", help="output of `terraform show -json <plan>`")
    parser.add_argument("--title", action="append", help="one per plan (default: the file name)")
    parser.add_argument(
        "--limit", type=int, default=None, help=f"cut to this many characters (GitHub: {GITHUB_COMMENT_LIMIT})"
    )
    parser.add_argument("--full-url", help="where the full summary is, for the pointer when cut")
    parser.add_argument(
        "--stack", type=Path, action="append", help="one per plan: its synthesized cdk.tf.json (policy templates)"
    )
    args = parser.parse_args(argv)
    titles = args.title or [p.stem for p in args.plan_json]
    if len(titles) != len(args.plan_json) or (args.stack and len(args.stack) != len(args.plan_json)):
        parser.error("give one --title (and one --stack, if any) per plan file")
    sections = []
    for index, (title, path) in enumerate(zip(titles, args.plan_json, strict=True)):
        plan = json.loads(path.read_text())
        stack = json.loads(args.stack[index].read_text()) if args.stack else {}
        sections.append(summarize(plan, title, templates=policy_templates(plan, stack)))
    text = "\n".join(sections)
    sys.stdout.write(bounded(text, args.limit, args.full_url) if args.limit else text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

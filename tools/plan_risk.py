"""The plan review's risk engine: rules on what changes (before -> after), not on resource types.

Each rule reads one resource change of ``terraform show -json`` and returns findings: a
severity (``deny`` fails the pull request's check unless overridden, ``warn`` asks for a
look), a category (data loss, interruption, security, exposure), the address, the attribute or
policy statement, and before -> after. Rules cover:

- protections a destroy relies on (``tools/destroy_guard.py``): deletion protection, force
  destroy/delete, point-in-time recovery, secret recovery windows;
- retention and versioning: log retention, bucket versioning, queue retention, lifecycle
  expiry;
- KMS keys: disabled, rotation off, a shorter deletion window, a key policy losing the
  account's administration;
- public access blocks;
- network exposure: security-group rules (standalone and inline, IPv4, IPv6, prefix lists,
  port ranges, ``-1`` as all traffic), network ACL rules;
- policies, statement by statement, for identity, trust, key, bucket, topic, queue and log
  resource policies, created or updated: ``*`` actions, ``*`` resources with sensitive
  actions, public principals without conditions, trust open to any account;
- managed-policy attachments (``policy_arn``), administrator policies first;
- destroys and replacements of stateful resources, and of the network and service.

"Nothing risky" is said only when every rule ran on every change and none found anything
(``RULESET`` names the set).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["deny", "warn"]
Category = Literal["data loss", "interruption", "security", "exposure"]
Change = Mapping[str, Any]

#: The rule set this module implements (printed with the all-clear).
RULESET = "plan-risk/2"
UNKNOWN = "(known after apply)"

#: Replacing or deleting one of these loses data, keys or the audit trail.
STATEFUL_TYPES = frozenset(
    {
        "aws_kms_key", "aws_s3_bucket", "aws_dynamodb_table", "aws_secretsmanager_secret",
        "aws_secretsmanager_secret_version", "aws_cloudwatch_log_group", "aws_ecr_repository", "aws_s3_object",
        "aws_sqs_queue",
    }
)  # fmt: skip
#: Replacing or deleting one of these takes the service off the network or out of service.
SERVICE_TYPES = frozenset(
    {
        "aws_vpc", "aws_subnet", "aws_route_table", "aws_route_table_association", "aws_route", "aws_nat_gateway",
        "aws_internet_gateway", "aws_vpc_endpoint", "aws_security_group", "aws_lb", "aws_lb_target_group",
        "aws_lb_listener", "aws_ecs_cluster", "aws_ecs_service", "aws_kms_alias", "aws_route53_record",
        "aws_acm_certificate",
    }
)  # fmt: skip
#: resource type -> (attribute, the kind of policy it holds)
POLICIES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "aws_iam_role": (("assume_role_policy", "trust"),),
    "aws_iam_role_policy": (("policy", "identity"),),
    "aws_iam_policy": (("policy", "identity"),),
    "aws_iam_user_policy": (("policy", "identity"),),
    "aws_iam_group_policy": (("policy", "identity"),),
    "aws_kms_key": (("policy", "key"),),
    "aws_s3_bucket_policy": (("policy", "bucket"),),
    "aws_sns_topic_policy": (("policy", "topic"),),
    "aws_sqs_queue_policy": (("policy", "queue"),),
    "aws_cloudwatch_log_resource_policy": (("policy_document", "log"),),
    "aws_ecr_repository_policy": (("policy", "repository"),),
    "aws_secretsmanager_secret_policy": (("policy", "secret"),),
    "aws_lambda_permission": (),
}
#: Actions that hand out power: on "*" they are an escalation path.
SENSITIVE_ACTIONS = (
    "iam:passrole", "iam:create", "iam:put", "iam:attach", "iam:update", "iam:delete", "iam:add", "sts:assumerole",
    "kms:decrypt", "kms:createGrant".lower(), "kms:putkeypolicy", "kms:schedulekeydeletion", "kms:disablekey",
    "secretsmanager:getsecretvalue", "s3:putbucketpolicy", "s3:deletebucket", "lambda:updatefunctioncode",
    "lambda:addpermission", "ecr:setrepositorypolicy", "organizations:",
)  # fmt: skip
#: AWS managed policies that make their holder an administrator (or able to become one).
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AWSOrganizationsFullAccess")
#: Ports whose exposure to the internet is a finding of its own (CIS AWS Foundations 5.1-5.3).
ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
WORLD = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class Finding:
    severity: Severity
    category: Category
    rule: str
    address: str
    what: str
    before: str
    after: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


def classify(actions: Sequence[str]) -> str | None:
    kinds = set(actions)
    if kinds == {"create", "delete"}:
        return "replace"
    if len(kinds) == 1 and (kind := next(iter(kinds))) in ("create", "update", "delete"):
        return kind
    return None


def shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if value == UNKNOWN:
        return UNKNOWN
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:70] + "…"


def _sides(rc: Change) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    change = rc["change"]
    return dict(change.get("before") or {}), dict(change.get("after") or {}), dict(change.get("after_unknown") or {})


def _value(after: Mapping[str, Any], unknown: Mapping[str, Any], attr: str) -> Any:
    return UNKNOWN if unknown.get(attr) is True else after.get(attr)


def _first(block: Any) -> dict[str, Any]:
    """A nested block as the plan renders it: a list of one object (or nothing)."""
    if isinstance(block, list) and block and isinstance(block[0], dict):
        return dict(block[0])
    return dict(block) if isinstance(block, dict) else {}


# -- attribute rules ------------------------------------------------------------------------

Rule = Callable[[Change, str], list[Finding]]


def _flag(rc: Change, kind: str, attr: str, turned_off: Any, severity: Severity, category: Category,
          rule: str, what: str | None = None) -> list[Finding]:  # fmt: skip
    """A boolean protection turned off (or a risky flag turned on) by this change."""
    before, after, unknown = _sides(rc)
    new = _value(after, unknown, attr)
    old = before.get(attr) if kind != "create" else None
    if new == turned_off and old != turned_off:
        return [Finding(severity, category, rule, rc["address"], what or f"`{attr}`", shown(old), shown(new))]
    return []


def protections(rc: Change, kind: str) -> list[Finding]:
    rtype = rc["type"]
    if kind != "update":
        return []
    flags = {
        "aws_lb": ("enable_deletion_protection", False, "protection-off"),
        "aws_s3_bucket": ("force_destroy", True, "force-destroy-on"),
        "aws_ecr_repository": ("force_delete", True, "force-destroy-on"),
        "aws_dynamodb_table": ("deletion_protection_enabled", False, "protection-off"),
    }
    found = []
    if rtype in flags:
        attr, risky, rule = flags[rtype]
        found += _flag(rc, kind, attr, risky, "deny", "data loss", rule)
    before, after, _ = _sides(rc)
    if rtype == "aws_dynamodb_table":
        old, new = _first(before.get("point_in_time_recovery")), _first(after.get("point_in_time_recovery"))
        if old.get("enabled") is True and new.get("enabled") is not True:
            found.append(Finding("deny", "data loss", "backup-off", rc["address"], "`point_in_time_recovery.enabled`",
                                 "true", shown(new.get("enabled"))))  # fmt: skip
    if rtype == "aws_secretsmanager_secret":
        old_days, new_days = before.get("recovery_window_in_days"), after.get("recovery_window_in_days")
        if isinstance(old_days, int) and isinstance(new_days, int) and new_days < old_days:
            found.append(Finding("warn", "data loss", "shorter-recovery", rc["address"], "`recovery_window_in_days`",
                                 shown(old_days), shown(new_days)))  # fmt: skip
    return found


def _decrease(rc: Change, attr: str, rule: str, *, infinite_at_zero: bool = False) -> list[Finding]:
    before, after, _ = _sides(rc)
    old, new = before.get(attr), after.get(attr)
    if not isinstance(old, int) or not isinstance(new, int):
        return []

    def key(value: int) -> float:
        return float("inf") if infinite_at_zero and value == 0 else float(value)

    if key(new) < key(old):
        return [Finding("warn", "data loss", rule, rc["address"], f"`{attr}`", shown(old), shown(new))]
    return []


def retention(rc: Change, kind: str) -> list[Finding]:
    rtype = rc["type"]
    if kind != "update":
        return []
    if rtype == "aws_cloudwatch_log_group":
        return _decrease(rc, "retention_in_days", "shorter-retention", infinite_at_zero=True)
    if rtype == "aws_sqs_queue":
        return _decrease(rc, "message_retention_seconds", "shorter-retention")
    if rtype == "aws_s3_bucket_versioning":
        before, after, _ = _sides(rc)
        old = _first(before.get("versioning_configuration")).get("status")
        new = _first(after.get("versioning_configuration")).get("status")
        if old == "Enabled" and new != "Enabled":
            return [Finding("deny", "data loss", "versioning-off", rc["address"], "`versioning_configuration.status`",
                            shown(old), shown(new))]  # fmt: skip
    if rtype == "aws_s3_bucket_lifecycle_configuration":
        before, after, _ = _sides(rc)
        out = []
        old_rules = {r.get("id"): r for r in before.get("rule") or []}
        for rule in after.get("rule") or []:
            previous = old_rules.get(rule.get("id"))
            for block, attr in (("expiration", "days"), ("noncurrent_version_expiration", "noncurrent_days")):
                new = _first(rule.get(block)).get(attr)
                old = _first((previous or {}).get(block)).get(attr)
                if isinstance(new, int) and new > 0 and (not isinstance(old, int) or old == 0 or new < old):
                    what = f"rule `{rule.get('id')}`: `{block}.{attr}`"
                    out.append(
                        Finding("warn", "data loss", "shorter-retention", rc["address"], what, shown(old), shown(new))
                    )
        return out
    return []


def keys(rc: Change, kind: str) -> list[Finding]:
    if rc["type"] != "aws_kms_key" or kind != "update":
        return []
    found = _flag(rc, kind, "is_enabled", False, "deny", "data loss", "key-disabled")
    found += _flag(rc, kind, "enable_key_rotation", False, "warn", "security", "rotation-off")
    before, after, _ = _sides(rc)
    old, new = before.get("deletion_window_in_days"), after.get("deletion_window_in_days")
    if isinstance(old, int) and isinstance(new, int) and new < old:
        found.append(Finding("warn", "data loss", "shorter-deletion-window", rc["address"], "`deletion_window_in_days`",
                             shown(old), shown(new)))  # fmt: skip
    return found


PUBLIC_ACCESS_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def public_access(rc: Change, kind: str) -> list[Finding]:
    if rc["type"] != "aws_s3_bucket_public_access_block":
        return []
    if kind == "delete":
        return [Finding("deny", "exposure", "public-access-block-removed", rc["address"], "the whole block",
                        "blocked", "(removed)")]  # fmt: skip
    return [f for flag in PUBLIC_ACCESS_FLAGS for f in _flag(rc, kind, flag, False, "deny", "exposure",
                                                             "public-access-opened")]  # fmt: skip


# -- network exposure -------------------------------------------------------------------


@dataclass(frozen=True)
class NetRule:
    direction: str  # ingress / egress
    protocol: str
    from_port: int | None
    to_port: int | None
    peers: tuple[str, ...]

    def ports(self) -> str:
        if self.protocol in ("-1", "all"):
            return "all traffic"
        if self.from_port is None or (self.from_port, self.to_port) in ((0, 65535), (-1, -1)):
            return f"{self.protocol} all ports"
        if self.to_port in (None, self.from_port):
            return f"{self.protocol} {self.from_port}"
        return f"{self.protocol} {self.from_port}-{self.to_port}"

    def covers(self, port: int) -> bool:
        if self.protocol in ("-1", "all") or self.from_port is None:
            return True
        if self.protocol not in ("tcp", "6"):
            return False
        return self.from_port <= port <= (self.to_port if self.to_port is not None else self.from_port)

    def line(self) -> str:
        return (
            f"{self.direction} {self.ports()} {'from' if self.direction == 'ingress' else 'to'} {', '.join(self.peers)}"
        )


def _int(value: Any) -> int | None:
    return (
        int(value)
        if isinstance(value, int | float) or (isinstance(value, str) and value.lstrip("-").isdigit())
        else None
    )


def _standalone_rule(values: Mapping[str, Any], direction: str) -> NetRule:
    peers = [values.get(k) for k in ("cidr_ipv4", "cidr_ipv6", "prefix_list_id", "referenced_security_group_id")]
    return NetRule(direction, str(values.get("ip_protocol", "?")), _int(values.get("from_port")),
                 _int(values.get("to_port")), tuple(str(p) for p in peers if p) or ("?",))  # fmt: skip


def _inline_rules(values: Mapping[str, Any], direction: str) -> set[NetRule]:
    out = set()
    for block in values.get(direction) or []:
        peers = [*(block.get("cidr_blocks") or []), *(block.get("ipv6_cidr_blocks") or []),
                 *(block.get("prefix_list_ids") or []), *(block.get("security_groups") or [])]  # fmt: skip
        if block.get("self"):
            peers.append("self")
        out.add(NetRule(direction, str(block.get("protocol", "?")), _int(block.get("from_port")),
                      _int(block.get("to_port")), tuple(sorted(map(str, peers))) or ("?",)))  # fmt: skip
    return out


def _exposure(rule: NetRule, address: str, before: str, kind: str) -> list[Finding]:
    world = [p for p in rule.peers if p in WORLD]
    if not world or rule.direction != "ingress":
        if world and rule.direction == "egress" and rule.protocol in ("-1", "all"):
            return [Finding("warn", "exposure", "egress-anywhere", address, rule.line(), before, kind)]
        return []
    admin = [name for port, name in ADMIN_PORTS.items() if rule.covers(port)]
    if rule.protocol in ("-1", "all") or admin:
        why = "all traffic" if rule.protocol in ("-1", "all") else "/".join(admin)
        return [Finding("deny", "exposure", "world-open-admin", address, f"{rule.line()} ({why} from the internet)",
                        before, kind)]  # fmt: skip
    if rule.ports() not in ("tcp 80", "tcp 443"):
        return [Finding("warn", "exposure", "world-open", address, rule.line(), before, kind)]
    return []


def network(rc: Change, kind: str) -> list[Finding]:
    rtype, address = rc["type"], rc["address"]
    before, after, _ = _sides(rc)
    if rtype in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule") and kind in (
        "create", "update", "replace"
    ):  # fmt: skip
        direction = "ingress" if "ingress" in rtype else "egress"
        rule = _standalone_rule(after, direction)
        old = _standalone_rule(before, direction).line() if before else "(none)"
        return _exposure(rule, address, old, "added" if kind == "create" else "changed")
    if rtype in ("aws_security_group", "aws_default_security_group") and kind in ("create", "update", "replace"):
        out = []
        for direction in ("ingress", "egress"):
            new_rules = _inline_rules(after, direction) - _inline_rules(before, direction)
            for rule in sorted(new_rules, key=lambda r: r.line()):
                out += _exposure(rule, address, "(none)", "added")
        return out
    if rtype in ("aws_network_acl_rule",) and kind in ("create", "update", "replace"):
        if after.get("egress") or after.get("rule_action") != "allow":
            return []
        peers = tuple(str(p) for p in (after.get("cidr_block"), after.get("ipv6_cidr_block")) if p)
        rule = NetRule(
            "ingress", str(after.get("protocol", "?")), _int(after.get("from_port")), _int(after.get("to_port")), peers
        )
        return _exposure(rule, address, "(none)", "added")
    return []


# -- policies ---------------------------------------------------------------------------


def parse_policy(value: Any) -> list[dict[str, Any]] | None:
    """Statements of a policy document (a JSON string), or None when it cannot be read."""
    if not isinstance(value, str):
        return None
    try:
        doc = json.loads(value)
    except json.JSONDecodeError:
        return None
    found = doc.get("Statement", []) if isinstance(doc, dict) else []
    return [s for s in (found if isinstance(found, list) else [found]) if isinstance(s, dict)]


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [] if value is None else [str(value)]


def _principals(stmt: Mapping[str, Any]) -> list[str]:
    principal = stmt.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [f"{kind}:{v}" for kind, values in principal.items() for v in _listed(values)]
    return []


def _key(stmt: Mapping[str, Any]) -> str:
    return str(stmt.get("Sid") or json.dumps(stmt, sort_keys=True))


def describe(stmt: Mapping[str, Any]) -> str:
    """One statement in one line: effect, principals, actions, resources, condition keys."""
    parts = [str(stmt.get("Effect", "?"))]
    if stmt.get("Principal") is not None:
        parts.append("principal " + ", ".join(_principals(stmt)))
    parts.append("actions " + ", ".join(_listed(stmt.get("Action") or stmt.get("NotAction"))))
    if stmt.get("Resource") is not None:
        parts.append("on " + ", ".join(_listed(stmt.get("Resource"))))
    if stmt.get("Condition"):
        keys = sorted({k for op in stmt["Condition"].values() if isinstance(op, dict) for k in op})
        parts.append("if " + ", ".join(keys))
    return f"`{stmt.get('Sid', '(no Sid)')}`: " + "; ".join(parts)


def _is_sensitive(action: str) -> bool:
    lower = action.lower()
    return lower in ("*", "*:*") or lower.endswith(":*") or any(lower.startswith(s) for s in SENSITIVE_ACTIONS)


def statement_findings(stmt: Mapping[str, Any], kind: str, address: str, before: str) -> list[Finding]:
    """What one new or changed Allow statement grants that a reviewer must see."""
    if stmt.get("Effect") != "Allow":
        return []
    out = []
    actions = _listed(stmt.get("Action"))
    resources = _listed(stmt.get("Resource"))
    line = describe(stmt)
    if stmt.get("NotAction") is not None:
        out.append(Finding("deny", "security", "not-action-allow", address, line, before, "added"))
    if any(a in ("*", "*:*") for a in actions):
        out.append(Finding("deny", "security", "any-action", address, line, before, "added"))
    elif "*" in resources and any(_is_sensitive(a) for a in actions) and kind == "identity":
        out.append(Finding("deny", "security", "sensitive-on-any-resource", address, line, before, "added"))
    principals = _principals(stmt)
    if any(p in ("*", "AWS:*") for p in principals) and not stmt.get("Condition"):
        out.append(Finding("deny", "exposure", "public-principal", address, line, before, "added"))
    if kind == "trust":
        foreign = [p for p in principals if p.startswith("AWS:") and p != "AWS:*"]
        federated = [p for p in principals if p.startswith("Federated:")]
        if foreign:
            out.append(Finding("warn", "security", "trust-account", address, line, before, "added"))
        if federated and not stmt.get("Condition"):
            out.append(Finding("deny", "security", "trust-federated-any", address, line, before, "added"))
    return out


def _administers(stmt: Mapping[str, Any]) -> bool:
    """A key-policy statement that lets the account (its IAM) manage the key."""
    if stmt.get("Effect") != "Allow" or not any(
        p.startswith("AWS:") and p.endswith(":root") for p in _principals(stmt)
    ):
        return False
    actions = {a.lower() for a in _listed(stmt.get("Action"))}
    return bool(actions & {"kms:*", "kms:put*", "kms:putkeypolicy", "*"})


def policy_changes(rc: Change, kind: str, template: Mapping[str, str] | None = None) -> list[Finding]:
    """Statement-level findings for every policy attribute of a created, updated or replaced resource.

    ``template``: attribute -> the policy as configured with the values known at plan time
    substituted (what a policy "known after apply" will say), from the synthesized stack.
    """
    if kind not in ("create", "update", "replace"):
        return []
    before, after, unknown = _sides(rc)
    out = []
    for attr, policy_kind in POLICIES.get(rc["type"], ()):
        new_value = after.get(attr) if unknown.get(attr) is not True else (template or {}).get(attr, UNKNOWN)
        new = parse_policy(new_value)
        old = parse_policy(before.get(attr)) if kind != "create" else []
        if new is None:
            out.append(Finding("warn", "security", "policy-unreadable", rc["address"], f"`{attr}`",
                               "" if old is None else f"{len(old)} statement(s)", UNKNOWN))  # fmt: skip
            continue
        old_by_key = {_key(s): s for s in old or []}
        for stmt in new:
            previous = old_by_key.get(_key(stmt))
            if previous == stmt:
                continue
            was = describe(previous) if previous else "(none)"
            out += statement_findings(stmt, policy_kind, rc["address"], was)
        if policy_kind == "key" and any(_administers(s) for s in old or []) and not any(_administers(s) for s in new):
            out.append(Finding("deny", "security", "key-admin-lost", rc["address"],
                               f"`{attr}`: no statement lets the account administer the key", "administered",
                               "(none)"))  # fmt: skip
    return out


def attachments(rc: Change, kind: str) -> list[Finding]:
    if not rc["type"].endswith("_policy_attachment") or kind not in ("create", "update", "replace"):
        return []
    _, after, _ = _sides(rc)
    arn = str(after.get("policy_arn") or UNKNOWN)
    name = arn.rsplit("/", 1)[-1]
    severity: Severity = "deny" if name in ADMIN_POLICIES else "warn"
    return [
        Finding(severity, "security", "policy-attached", rc["address"], f"`policy_arn`: {arn}", "(none)", "attached")
    ]


def destruction(rc: Change, kind: str) -> list[Finding]:
    rtype = rc["type"]
    if kind not in ("delete", "replace"):
        return []
    verb = "destroyed" if kind == "delete" else "replaced"
    if rtype in STATEFUL_TYPES:
        return [Finding("deny", "data loss", f"stateful-{kind}", rc["address"], f"the {rtype} and its data", "exists",
                        verb)]  # fmt: skip
    if rtype in SERVICE_TYPES or (rtype == "aws_iam_role" and "ecs-tasks.amazonaws.com" in json.dumps(_sides(rc)[0])):
        order = list(rc["change"]["actions"])
        how = " (destroy first: an outage)" if kind == "replace" and order[0] == "delete" else ""
        return [Finding("warn", "interruption", f"service-{kind}", rc["address"], f"the {rtype}{how}", "exists", verb)]
    return []


RULES: tuple[tuple[str, Rule], ...] = (
    ("protections: deletion protection, force destroy/delete, point-in-time recovery, recovery window", protections),
    ("retention: log groups, queues, versioning, lifecycle expiry", retention),
    ("KMS keys: enabled, rotation, deletion window", keys),
    ("S3 public access blocks", public_access),
    ("network exposure: security-group and network ACL rules, IPv4/IPv6, ports", network),
    ("policies statement by statement: actions, resources, principals, trust, key administration", policy_changes),
    ("managed-policy attachments", attachments),
    ("destroys and replacements of stateful, network and service resources", destruction),
)


SEVERITY_ORDER = {"deny": 0, "warn": 1}


def evaluate(plan: Mapping[str, Any], templates: Mapping[str, Mapping[str, str]] | None = None) -> list[Finding]:
    """Every rule over every resource change (data reads excluded), ranked by severity."""
    found: list[Finding] = []
    for rc in plan.get("resource_changes") or []:
        if rc.get("mode") == "data":
            continue
        kind = classify(rc["change"]["actions"])
        if kind is None:
            continue
        for _, rule in RULES:
            if rule is policy_changes:
                found += policy_changes(rc, kind, (templates or {}).get(rc["address"]))
            else:
                found += rule(rc, kind)
    return sorted(found, key=lambda f: (SEVERITY_ORDER[f.severity], f.category, f.address, f.what))


def labels(plan: Mapping[str, Any], findings: Iterable[Finding]) -> list[str]:
    """The pull request's labels for this plan."""
    out = set()
    kinds = [classify(rc["change"]["actions"]) for rc in plan.get("resource_changes") or [] if rc.get("mode") != "data"]
    if not [k for k in kinds if k]:
        out.add("plan:no-changes")
    if any(k in ("delete", "replace") for k in kinds):
        out.add("plan:destroy")
    for finding in findings:
        out.add({"data loss": "plan:data-loss", "interruption": "plan:interruption", "security": "plan:security",
                 "exposure": "plan:security"}[finding.category])  # fmt: skip
    return sorted(out)


def iter_rule_names() -> Iterator[str]:
    yield from (name for name, _ in RULES)

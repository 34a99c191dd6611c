"""The plan review's risk engine (tools/plan_risk.py) on real plans edited into risky variants.

Each risky change a review found passing as "Nothing risky" is made from the real emulator
plans (tests/fixtures/plans) or from the deployed values they carry, and must be flagged in
"Needs attention" with its address, attribute or statement, and before -> after; the
all-clear must never be printed for it.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tools import plan_risk
from tools.plan_summary import summarize

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "plans"
ALL_CLEAR = ":white_check_mark: **Nothing risky**"


def deployed() -> dict[str, dict[str, Any]]:
    """The deployed dev platform's resources (address -> values), from a real plan's prior state."""
    with gzip.open(FIXTURES / "no_change.json.gz", "rt", encoding="utf-8") as f:
        plan = json.load(f)
    resources = plan["prior_state"]["values"]["root_module"]["resources"]
    return {r["address"]: r for r in resources}


STATE = deployed()


def first(rtype: str, contains: str = "") -> dict[str, Any]:
    return copy.deepcopy(next(r for a, r in STATE.items() if r["type"] == rtype and contains in a))


def lock_table() -> dict[str, Any]:
    """The state stack's lock table as deployed in prod (not in the platform plan's state)."""
    values = {"name": "cicd-tflock-prod", "deletion_protection_enabled": True, "billing_mode": "PAY_PER_REQUEST",
              "point_in_time_recovery": [{"enabled": True, "recovery_period_in_days": 35}]}  # fmt: skip
    return {"address": "aws_dynamodb_table.state_lock-table_5A6B", "type": "aws_dynamodb_table",
            "name": "state_lock-table_5A6B", "values": values}  # fmt: skip


def updated(resource: dict[str, Any], **after: Any) -> dict[str, Any]:
    """An update of a deployed resource: ``after`` is its values with these changed."""
    values = resource["values"]
    return {
        "address": resource["address"], "type": resource["type"], "name": resource["name"], "mode": "managed",
        "change": {"actions": ["update"], "before": values, "after": {**values, **after}, "after_unknown": {}},
    }  # fmt: skip


def created(address: str, **after: Any) -> dict[str, Any]:
    rtype, name = address.split(".", 1)
    return {"address": address, "type": rtype, "name": name, "mode": "managed",
            "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": {}}}  # fmt: skip


def plan_of(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"resource_changes": list(changes)}


def policy(resource: dict[str, Any], edit: Callable[[list[dict[str, Any]]], None], attr: str = "policy") -> str:
    doc = json.loads(resource["values"][attr])
    edit(doc["Statement"])
    return json.dumps(doc)


def flagged(plan: dict[str, Any]) -> list[plan_risk.Finding]:
    findings = plan_risk.evaluate(plan)
    text = summarize(plan, "platform-dev")
    assert ALL_CLEAR not in text
    assert "#### :rotating_light: Needs attention" in text
    top = text.split("#### ", 2)[1]  # the table is the first section
    for f in findings:
        assert f"`{f.address}`" in top
        assert f"{f.before} → {f.after}" in top.replace("\\|", "|")
    return findings


def the(findings: list[plan_risk.Finding]) -> plan_risk.Finding:
    assert len(findings) == 1, findings
    return findings[0]


# --- protections a destroy relies on -----------------------------------------------------


def test_alb_deletion_protection_turned_off() -> None:
    lb = first("aws_lb")
    lb["values"]["enable_deletion_protection"] = True
    f = the(flagged(plan_of(updated(lb, enable_deletion_protection=False))))
    assert (f.severity, f.category, f.what, f.before, f.after) == (
        "deny", "data loss", "`enable_deletion_protection`", "true", "false"
    )  # fmt: skip


def test_a_bucket_that_starts_force_destroying() -> None:
    bucket = first("aws_s3_bucket", "artifacts")
    bucket["values"]["force_destroy"] = False
    f = the(flagged(plan_of(updated(bucket, force_destroy=True))))
    assert (f.severity, f.rule, f.before, f.after) == ("deny", "force-destroy-on", "false", "true")


def test_the_state_store_losing_both_protections() -> None:
    table = lock_table()
    bucket = first("aws_s3_bucket", "artifacts")
    bucket["values"]["force_destroy"] = False
    findings = flagged(plan_of(updated(table, deletion_protection_enabled=False), updated(bucket, force_destroy=True)))
    assert sorted(f.what for f in findings) == ["`deletion_protection_enabled`", "`force_destroy`"]
    assert {f.severity for f in findings} == {"deny"}


def test_point_in_time_recovery_turned_off() -> None:
    table = lock_table()
    (found,) = flagged(plan_of(updated(table, point_in_time_recovery=[{"enabled": False}])))
    assert (found.rule, found.before, found.after) == ("backup-off", "true", "false")


def test_log_retention_from_14_days_to_1() -> None:
    group = first("aws_cloudwatch_log_group")
    f = the(flagged(plan_of(updated(group, retention_in_days=1))))
    assert (f.severity, f.what, f.before, f.after) == ("warn", "`retention_in_days`", "14", "1")


def test_never_expiring_logs_made_to_expire_is_shorter() -> None:
    group = first("aws_cloudwatch_log_group")
    group["values"]["retention_in_days"] = 0
    assert the(flagged(plan_of(updated(group, retention_in_days=365)))).rule == "shorter-retention"


def test_bucket_versioning_suspended() -> None:
    versioning = first("aws_s3_bucket_versioning")
    f = the(flagged(plan_of(updated(versioning, versioning_configuration=[{"status": "Suspended", "mfa_delete": ""}]))))
    assert (f.severity, f.before, f.after) == ("deny", '"Enabled"', '"Suspended"')


def test_dead_letter_retention_cut_to_60_seconds() -> None:
    queue = first("aws_sqs_queue")
    f = the(flagged(plan_of(updated(queue, message_retention_seconds=60))))
    assert (f.what, f.before, f.after) == ("`message_retention_seconds`", "1209600", "60")


def test_lifecycle_expiring_noncurrent_versions_sooner() -> None:
    lifecycle = first("aws_s3_bucket_lifecycle_configuration")
    rules = copy.deepcopy(lifecycle["values"]["rule"])
    rules[0]["noncurrent_version_expiration"][0]["noncurrent_days"] = 1
    f = the(flagged(plan_of(updated(lifecycle, rule=rules))))
    assert "noncurrent_version_expiration.noncurrent_days" in f.what
    assert f.after == "1"


# --- keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attr", "value", "rule", "severity"),
    [
        ("is_enabled", False, "key-disabled", "deny"),
        ("enable_key_rotation", False, "rotation-off", "warn"),
        ("deletion_window_in_days", 7, "shorter-deletion-window", "warn"),
    ],
)
def test_key_state_changes_are_named(attr: str, value: Any, rule: str, severity: str) -> None:
    key = first("aws_kms_key", "key_this")
    key["values"]["deletion_window_in_days"] = 30
    f = the(flagged(plan_of(updated(key, **{attr: value}))))
    assert (f.rule, f.severity, f.what) == (rule, severity, f"`{attr}`")


def test_a_key_policy_losing_its_account_administration() -> None:
    key = first("aws_kms_key", "key_this")
    new = policy(key, lambda stmts: stmts.__delitem__(0))  # EnableIAMPolicies
    f = the(flagged(plan_of(updated(key, policy=new))))
    assert (f.rule, f.severity) == ("key-admin-lost", "deny")


# --- public access -------------------------------------------------------------------------


def test_a_public_access_block_opened() -> None:
    block = first("aws_s3_bucket_public_access_block")
    findings = flagged(plan_of(updated(block, block_public_policy=False, restrict_public_buckets=False)))
    assert sorted(f.what for f in findings) == ["`block_public_policy`", "`restrict_public_buckets`"]
    assert {(f.severity, f.category) for f in findings} == {("deny", "exposure")}


# --- policies ------------------------------------------------------------------------------


def test_any_action_in_an_identity_policy() -> None:
    role_policy = first("aws_iam_role_policy", "orchestrator")
    new = policy(
        role_policy, lambda stmts: stmts.append({"Sid": "Oops", "Effect": "Allow", "Action": "*", "Resource": "*"})
    )
    f = the(flagged(plan_of(updated(role_policy, policy=new))))
    assert (f.rule, f.severity, f.before, f.after) == ("any-action", "deny", "(none)", "added")
    assert f.what == "`Oops`: Allow; actions *; on *"


def test_passrole_on_any_resource() -> None:
    role_policy = first("aws_iam_role_policy", "orchestrator")

    def widen(stmts: list[dict[str, Any]]) -> None:
        (passing,) = [s for s in stmts if s["Sid"] == "PassTaskRoles"]
        passing["Resource"] = "*"

    f = the(flagged(plan_of(updated(role_policy, policy=policy(role_policy, widen)))))
    assert f.rule == "sensitive-on-any-resource"
    assert f.before.startswith("`PassTaskRoles`: Allow; actions iam:PassRole; on arn:aws:iam::123456789012:role/")


def test_a_trust_policy_open_to_any_aws_principal() -> None:
    role = first("aws_iam_role", "orchestrator")
    new = policy(role, lambda stmts: stmts[0].update(Principal={"AWS": "*"}, Condition={}), "assume_role_policy")
    f = the(flagged(plan_of(updated(role, assume_role_policy=new))))
    assert (f.rule, f.category) == ("public-principal", "exposure")


def test_a_bucket_policy_allowing_everyone() -> None:
    bucket_policy = first("aws_s3_bucket_policy")
    new = policy(bucket_policy, lambda stmts: stmts.append(
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    ))  # fmt: skip
    assert the(flagged(plan_of(updated(bucket_policy, policy=new)))).rule == "public-principal"


def test_a_new_policy_granting_everything_is_shown_with_its_content() -> None:
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]})
    plan = plan_of(created("aws_iam_policy.admin", name="admin", policy=doc))
    f = the(flagged(plan))
    assert (f.rule, f.what) == ("any-action", "`(no Sid)`: Allow; actions *:*; on *")
    text = summarize(plan, "platform-dev")
    assert '+      "Action": "*:*",' in text  # the new policy's content is in the diff section


def test_a_new_administrator_attachment_names_its_policy() -> None:
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    plan = plan_of(created("aws_iam_role_policy_attachment.x", role="cicd-task-role-dev", policy_arn=arn))
    f = the(flagged(plan))
    assert (f.severity, f.what) == ("deny", f"`policy_arn`: {arn}")
    assert f"- `aws_iam_role_policy_attachment.x`: `policy_arn` {arn}" in summarize(plan, "p")


def test_one_admin_grant_among_many_alike_is_at_the_top() -> None:
    quiet = [updated(first("aws_cloudwatch_log_group", str(i)) if False else first("aws_sns_topic"), tags={"n": str(i)})
             for i in range(40)]  # fmt: skip
    for i, rc in enumerate(quiet):
        rc["address"] = f"aws_sns_topic.t{i}"
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    plan = plan_of(*quiet, created("aws_iam_role_policy_attachment.x", role="r", policy_arn=arn))
    text = summarize(plan, "p")
    assert text.index("AdministratorAccess") < text.index("aws_sns_topic.t0")


# --- network exposure ------------------------------------------------------------------


def ingress(**values: Any) -> dict[str, Any]:
    return created("aws_vpc_security_group_ingress_rule.x", security_group_id="sg-1", **values)


@pytest.mark.parametrize(
    ("values", "line", "severity"),
    [
        ({"ip_protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_ipv4": "0.0.0.0/0"},
         "ingress tcp 22 from 0.0.0.0/0 (SSH from the internet)", "deny"),
        ({"ip_protocol": "tcp", "from_port": 1024, "to_port": 65535, "cidr_ipv6": "::/0"},
         "ingress tcp 1024-65535 from ::/0 (RDP from the internet)", "deny"),  # the range holds 3389
        ({"ip_protocol": "tcp", "from_port": 8080, "to_port": 8080, "cidr_ipv6": "::/0"},
         "ingress tcp 8080 from ::/0", "warn"),
        ({"ip_protocol": "udp", "from_port": 53, "to_port": 53, "prefix_list_id": "pl-123"}, None, None),
        ({"ip_protocol": "tcp", "from_port": 3000, "to_port": 3400, "cidr_ipv4": "0.0.0.0/0"},
         "ingress tcp 3000-3400 from 0.0.0.0/0 (RDP from the internet)", "deny"),
        ({"ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"}, "ingress all traffic from 0.0.0.0/0 (all traffic from the "
         "internet)", "deny"),
    ],
)  # fmt: skip
def test_world_open_rules_read_as_they_are(values: dict[str, Any], line: str | None, severity: str | None) -> None:
    if line is None:  # a prefix list is not the internet
        assert plan_risk.evaluate(plan_of(ingress(**values))) == []
        return
    f = the(flagged(plan_of(ingress(**values))))
    assert (f.what, f.severity, f.category) == (line, severity, "exposure")


def test_an_inline_rule_added_to_a_security_group() -> None:
    group = first("aws_default_security_group")
    rule = {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": [],
            "prefix_list_ids": [], "security_groups": [], "self": False, "description": ""}  # fmt: skip
    f = the(flagged(plan_of(updated(group, ingress=[rule]))))
    assert f.what == "ingress tcp 22 from 0.0.0.0/0 (SSH from the internet)"


def test_https_from_the_internet_to_the_load_balancer_is_not_a_finding() -> None:
    rc = ingress(ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0")
    assert plan_risk.evaluate(plan_of(rc)) == []


# --- destroys --------------------------------------------------------------------------------


def test_destroy_then_create_is_named_an_outage() -> None:
    lb = first("aws_lb")
    rc = updated(lb, name="x")
    rc["change"]["actions"] = ["delete", "create"]
    f = the(flagged(plan_of(rc)))
    assert f.what == "the aws_lb (destroy first: an outage)"


def test_labels_follow_the_findings() -> None:
    table = lock_table()
    plan = plan_of(updated(table, deletion_protection_enabled=False), ingress(ip_protocol="-1", cidr_ipv4="0.0.0.0/0"))
    assert plan_risk.labels(plan, plan_risk.evaluate(plan)) == ["plan:data-loss", "plan:security"]
    assert plan_risk.labels({"resource_changes": []}, []) == ["plan:no-changes"]

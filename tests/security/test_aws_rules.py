"""The gate of AWS's service-side rules (tools/checkov/aws_rules, docs/aws-rules.md).

Each rule passes on every shipped environment and variant, and fails on a fixture made
from a real synthesized stack with exactly the shape AWS refuses (the defect as it was,
where there was one). The fixtures run through checkov itself, in one run, and through
the rule functions directly.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.settings import Settings
from tests.helpers import ALL_ON, ROOT, VARIANTS, make_settings, resources
from tools.checkov.aws_rules import rules
from tools.checkov_gate import scan

Synth = dict[str, dict[str, Any]]
Mutation = Callable[[Synth], dict[str, Any]]


def first(doc: dict[str, Any], rtype: str, prefix: str = "") -> dict[str, Any]:
    return next(body for name, body in resources(doc, rtype).items() if name.startswith(prefix))


def edit_policy(body: dict[str, Any], sid: str, change: Callable[[dict[str, Any]], None]) -> None:
    doc = json.loads(body["policy"])
    change(next(s for s in doc["Statement"] if s["Sid"] == sid))
    body["policy"] = json.dumps(doc)


def metric_filter_with_default(d: Synth) -> dict[str, Any]:
    doc = d["platform"]
    first(doc, "aws_cloudwatch_log_metric_filter")["metric_transformation"]["default_value"] = "0"
    return doc


def eventbridge_key_grant_with_source_account(d: Synth) -> dict[str, Any]:
    """The defect as it was: EventBridge's only grant carried aws:SourceAccount."""
    doc = d["platform"]
    key = first(doc, "aws_kms_key", "key_")
    edit_policy(
        key, "AllowEventBridgeToTopic", lambda s: s.update(Condition={"StringEquals": {"aws:SourceAccount": "1"}})
    )
    return doc


def eventbridge_topic_statement_with_condition(d: Synth) -> dict[str, Any]:
    doc = d["platform"]
    policy = first(doc, "aws_sns_topic_policy")
    edit_policy(
        policy, "AllowEventBridgePublish", lambda s: s.update(Condition={"StringEquals": {"aws:SourceAccount": "1"}})
    )
    return doc


def global_bucket_name(d: Synth) -> dict[str, Any]:
    """The defect as it was: a bucket named without account or region."""
    doc = d["platform"]
    first(doc, "aws_s3_bucket", "artifacts_")["bucket"] = "cicd-artifacts-dev"
    return doc


def reserved_bucket_prefix(d: Synth) -> dict[str, Any]:
    doc = d["state"]
    first(doc, "aws_s3_bucket")["bucket"] = "sthree-tfstate-dev-123456789012-us-east-1"
    return doc


def internal_load_balancer_name(d: Synth) -> dict[str, Any]:
    doc = d["platform"]
    first(doc, "aws_lb")["name"] = "internal-alb-dev"
    return doc


def use_connection_under_the_wrong_prefix(d: Synth) -> dict[str, Any]:
    doc = d["all-on"]
    for body in resources(doc, "aws_iam_role_policy").values():
        if "UseConnection" in body["policy"]:
            body["policy"] = body["policy"].replace(":codestar-connections:us-east-1", ":codeconnections:us-east-1")
    return doc


def cluster_without_its_insights_log_group(d: Synth) -> dict[str, Any]:
    doc = d["platform"]
    del first(doc, "aws_ecs_cluster")["depends_on"]
    return doc


#: rule id -> fixtures that must fail it (and nothing else of the gate).
FIXTURES: dict[str, tuple[Mutation, ...]] = {
    "CKV_CICD_1": (metric_filter_with_default,),
    "CKV_CICD_2": (eventbridge_key_grant_with_source_account,),
    "CKV_CICD_3": (eventbridge_topic_statement_with_condition,),
    "CKV_CICD_4": (global_bucket_name, reserved_bucket_prefix),
    "CKV_CICD_5": (internal_load_balancer_name,),
    "CKV_CICD_6": (use_connection_under_the_wrong_prefix,),
    "CKV_CICD_7": (cluster_without_its_insights_log_group,),
}


@pytest.fixture(scope="module")
def variants(synth: Callable[[Settings], Synth]) -> dict[str, Synth]:
    return {name: synth(make_settings(env, **overrides)) for name, (env, overrides) in VARIANTS.items()}


def bad(variants: dict[str, Synth], mutation: Mutation) -> dict[str, Any]:
    return mutation({"platform": copy.deepcopy(variants["dev"]["platform"]),
                     "state": copy.deepcopy(variants["dev"]["state"]),
                     "all-on": copy.deepcopy(variants["all-on"]["platform"])})  # fmt: skip


def test_every_rule_has_a_failing_fixture_and_a_quoted_source() -> None:
    assert sorted(FIXTURES) == sorted(r.id for r in rules.RULES)
    for rule in rules.RULES:
        assert rule.source.startswith("https://docs.aws.amazon.com/"), rule.id
        assert len(rule.quote) > 40, rule.id


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_rule_passes_on_every_shipped_and_variant_stack(variants: dict[str, Synth], variant: str) -> None:
    for doc in variants[variant].values():
        assert rules.check_stack(doc) == []


@pytest.mark.parametrize(("rule_id", "mutation"), [(r, m) for r, ms in FIXTURES.items() for m in ms],
                         ids=lambda x: x if isinstance(x, str) else x.__name__)  # fmt: skip
def test_each_rule_fails_on_its_bad_fixture(variants: dict[str, Synth], rule_id: str, mutation: Mutation) -> None:
    found = rules.check_stack(bad(variants, mutation))
    assert [line.split(" ", 1)[0] for line in found] == [rule_id], found


@pytest.mark.checkov
def test_checkov_runs_the_rules_and_fails_each_bad_fixture(variants: dict[str, Synth], tmp_path: Path) -> None:
    """The same fixtures through checkov (--external-checks-dir), in one run."""
    expected: dict[str, str] = {}
    for rule_id, mutations in FIXTURES.items():
        for mutation in mutations:
            folder = tmp_path / mutation.__name__
            folder.mkdir()
            (folder / "cdk.tf.json").write_text(json.dumps(bad(variants, mutation)))
            expected[mutation.__name__] = rule_id
    failed: dict[str, set[str]] = {}
    for finding in scan(tmp_path, "terraform_json"):
        if finding.check_id.startswith("CKV_CICD_"):
            failed.setdefault(finding.stack, set()).add(finding.check_id)
    assert failed == {folder: {rule_id} for folder, rule_id in expected.items()}


def test_docs_list_every_rule_and_cite_only_tests_that_exist() -> None:
    text = (ROOT / "docs" / "aws-rules.md").read_text()
    listed = set(re.findall(r"\bCKV_CICD_\d+\b", text))
    assert listed == {r.id for r in rules.RULES}
    cited = set(re.findall(r"`(test_[a-z0-9_]+)`", text))
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    assert len(cited) >= 20
    assert sorted(t for t in cited if f"def {t}(" not in sources) == []


def test_the_all_on_variant_has_a_connection_to_check() -> None:
    assert "codestar_connection_arn" in ALL_ON["pipeline"]

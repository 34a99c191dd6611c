"""checkov security gate over every synthesized stack of every shipped config.

The plan-level scan (which also sees ECS container definitions) runs in
tests/integration/test_security_plan.py against the local deployment.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.settings import Settings
from tests.helpers import VARIANTS, make_settings
from tools.checkov_gate import Finding, load_suppressions, scan, unsuppressed

Synth = dict[str, dict[str, Any]]


def write(base: Path, name: str, doc: dict[str, Any]) -> Path:
    d = base / name
    d.mkdir(parents=True)
    (d / "cdk.tf.json").write_text(json.dumps(doc))
    return d


#: Stack folder -> the variant it is (tests/helpers.VARIANTS), for the AWS-rule gate.
SHIPPED = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def scanned(synth: Callable[[Settings], Synth], tmp_path_factory: pytest.TempPathFactory) -> list[Finding]:
    """One checkov run over every shipped environment and the all-on/all-off variants."""
    base = tmp_path_factory.mktemp("checkov")
    for name, (env, overrides) in VARIANTS.items():
        docs = synth(make_settings(env, **overrides))
        write(base, f"platform-{name}", docs["platform"])
        write(base, f"state-backend-{name}", docs["state"])
        if "access" in docs:  # CI's roles (every variant but all-off)
            write(base, f"access-{name}", docs["access"])
    return scan(base, "terraform_json")


@pytest.fixture(scope="module")
def findings(scanned: list[Finding]) -> list[Finding]:
    """The shipped environments' findings: what the suppression file is reviewed against."""
    return [f for f in scanned if f.stack.split("-")[-1] in SHIPPED]


def test_no_aws_rule_fails_on_any_shipped_or_variant_stack(scanned: list[Finding]) -> None:
    """The custom checks of AWS's service-side rules (docs/aws-rules.md) are never suppressed."""
    assert [str(f) for f in scanned if f.check_id.startswith("CKV_CICD_")] == []
    stacks = {f.stack for f in scanned}
    assert {f"platform-{v}" for v in VARIANTS} <= stacks  # every variant was scanned (checkov finds something)


def test_every_failed_check_is_a_reviewed_suppression(findings: list[Finding]) -> None:
    failing = unsuppressed(findings, load_suppressions())
    assert [str(f) for f in failing] == []


def test_no_stale_suppressions(findings: list[Finding]) -> None:
    """A suppression that matches nothing hides nothing and should go (plan-only ones excepted)."""
    unused = [s for s in load_suppressions() if not s.plan_only and not any(s.matches(f) for f in findings)]
    assert unused == []


def test_prod_is_suppressed_only_where_aws_or_the_design_forces_it(findings: list[Finding]) -> None:
    """Prod's distinct suppressed checks, exactly: log buckets must be SSE-S3 (AWS delivers
    access logs only there), docker build needs CodeBuild's privileged mode, the orchestrator's
    secret holds settings (nothing to rotate) and the app secret's rotation function is the
    service team's, and code signing needs an AWS Signer profile outside this repository."""
    prod = {f.check_id for f in findings if f.stack.endswith("-prod")}
    assert prod == {"CKV_AWS_145", "CKV_AWS_316", "CKV2_AWS_57", "CKV_AWS_272"}


def test_suppressions_are_few_and_justified() -> None:
    """A tripwire: each entry is a reviewed exception (14th: CKV_AWS_115, reserved concurrency
    unset by default because AWS refuses it in accounts with a low concurrency quota; 15th:
    CKV_AWS_394, the account's own zones when none are pinned, as AWS's zone mapping requires;
    16th: CKV_AWS_173 on the image mirror's plan, a function without environment variables that
    checkov's plan parser misreads)."""
    suppressions = load_suppressions()
    assert len(suppressions) <= 16
    assert all(len(s.justification) >= 80 for s in suppressions)


def test_gate_fails_on_an_unencrypted_bucket_and_on_key_rotation_off(
    dev: Synth, synth: Callable[[Settings], Synth], tmp_path: Path
) -> None:
    """Two broken stacks, one checkov run (each run costs seconds of CPU): each fails for its defect."""
    unencrypted = copy.deepcopy(dev["platform"])
    del unencrypted["resource"]["aws_s3_bucket_server_side_encryption_configuration"]
    unrotated = copy.deepcopy(synth(make_settings("staging"))["platform"])
    for key in unrotated["resource"]["aws_kms_key"].values():
        key["enable_key_rotation"] = False
    # Each in the folder its environment's suppressions are reviewed for.
    write(tmp_path, "platform-dev", unencrypted)
    write(tmp_path, "platform-staging", unrotated)
    failing = unsuppressed(scan(tmp_path, "terraform_json"), load_suppressions())
    by_stack: dict[str, list[Finding]] = {}
    for finding in failing:
        by_stack.setdefault(finding.stack, []).append(finding)
    assert any(f.check_id == "CKV_AWS_145" and "artifacts" in f.resource for f in by_stack["platform-dev"])
    assert [f.check_id for f in by_stack["platform-staging"]] == ["CKV_AWS_7"]


def test_short_justification_refused(tmp_path: Path) -> None:
    bad = tmp_path / "s.toml"
    bad.write_text('[[suppression]]\ncheck_id = "CKV_AWS_1"\nresource = "*"\njustification = "because"\n')
    with pytest.raises(ValueError, match="needs a real justification"):
        load_suppressions(bad)

"""parliament (AWS's action/resource catalogue) over every policy of every stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdktf
import pytest

from constructs_lib import policies as iam
from constructs_lib.iam import ServiceRole
from constructs_lib.settings import Settings
from tests.helpers import ALL_ON, VARIANTS, make_settings
from tools.iam_lint import Finding, lint, load_suppressions, policies, unsuppressed, with_placeholders

Synth = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def findings(synth: Callable[[Settings], Synth]) -> list[Finding]:
    out: list[Finding] = []
    for name, (env, overrides) in VARIANTS.items():
        docs = synth(make_settings(env, **overrides))
        out += lint(docs["platform"], f"platform-{name}") + lint(docs["state"], f"state-backend-{name}")
        if "access" in docs:  # CI's roles and the boundary
            out += lint(docs["access"], f"access-{name}")
    return out


def test_every_finding_is_a_reviewed_suppression(findings: list[Finding]) -> None:
    assert [str(f) for f in unsuppressed(findings, load_suppressions())] == []


def test_the_linter_reads_every_kind_of_policy(synth: Callable[[Settings], Synth]) -> None:
    docs = synth(make_settings("dev", **ALL_ON))
    kinds = {kind for doc in docs.values() for _, kind, _ in policies(doc)}
    assert kinds == {"identity", "trust", "key", "resource"}


def test_no_stale_suppressions(findings: list[Finding]) -> None:
    assert [s for s in load_suppressions() if not any(s.matches(f) for f in findings)] == []


def _role_stack(*statements: iam.Statement) -> dict[str, Any]:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "bad")
    ServiceRole(stack, "role", role_name="bad", service="lambda.amazonaws.com", account_id="123456789012",
                statements=statements)  # fmt: skip
    doc = dict(json.loads(cdktf.Testing.synth(stack)))
    doc["provider"] = {"aws": [{"region": "us-east-1"}]}
    return doc


def test_gate_fails_on_an_unknown_action() -> None:
    doc = _role_stack(iam.Statement(sid="Typo", actions=["s3:GetObjekt"], resources=["arn:aws:s3:::b/*"]))
    failing = unsuppressed(lint(doc, "bad"), load_suppressions())
    assert [(f.issue, f.kind) for f in failing] == [("UNKNOWN_ACTION", "identity")]
    assert "s3:GetObjekt" in failing[0].detail


def test_gate_fails_when_the_resource_type_does_not_match_the_action() -> None:
    # s3:GetObject acts on objects (bucket/key), not on the bucket ARN.
    doc = _role_stack(iam.Statement(sid="Wrong", actions=["s3:GetObject"], resources=["arn:aws:s3:::bucket"]))
    failing = unsuppressed(lint(doc, "bad"), load_suppressions())
    assert [f.issue for f in failing] == ["RESOURCE_MISMATCH"]


def test_interpolations_become_arns_of_the_right_type() -> None:
    policy = json.dumps(
        {
            "Resource": [
                "${aws_s3_bucket.b_this_1.arn}/*",
                "${aws_kms_key.k.arn}",
                "${data.aws_caller_identity.c.account_id}",
            ]
        }
    )
    out = json.loads(with_placeholders(policy, "eu-west-1"))["Resource"]
    assert out == [
        "arn:aws:s3:::placeholder-bucket/*",
        "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
        "123456789012",
    ]


def test_an_unknown_reference_is_an_error_not_a_skip() -> None:
    with pytest.raises(KeyError, match=r"no placeholder for \$\{aws_glue_job.x.arn\}"):
        with_placeholders('{"Resource": "${aws_glue_job.x.arn}"}', "us-east-1")


def test_short_justification_refused(tmp_path: Path) -> None:
    bad = tmp_path / "s.toml"
    bad.write_text('[[suppression]]\nissue = "X"\nkind = "*"\nresource = "*"\njustification = "because"\n')
    with pytest.raises(ValueError, match="needs a real justification"):
        load_suppressions(bad)

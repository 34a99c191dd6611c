"""No IAM or KMS policy anywhere grants "*" actions or "*" resources."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import cdktf

from constructs_lib import ci_access, policies
from constructs_lib.iam import ServiceRole
from constructs_lib.settings import Settings
from tests.helpers import ALL_ON, make_settings
from tests.policy_walker import as_list, policy_documents, wildcard_violations

Synth = dict[str, dict[str, Any]]


def test_shipped_stacks_have_no_wildcards(shipped: tuple[Settings, Synth]) -> None:
    _, docs = shipped
    for stack, doc in docs.items():
        assert list(policy_documents(doc)), f"{stack}: walker found no policies to check"
        assert wildcard_violations(doc) == [], stack


def test_all_features_on_has_no_wildcards(synth: Callable[[Settings], Synth]) -> None:
    docs = synth(make_settings("dev", **ALL_ON))
    for doc in docs.values():
        assert wildcard_violations(doc) == []


def _synth_role(*statements: policies.Statement) -> dict[str, Any]:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "bad")
    ServiceRole(
        stack,
        "role",
        role_name="bad",
        service="lambda.amazonaws.com",
        account_id="123456789012",
        statements=statements,
    )
    return dict(json.loads(cdktf.Testing.synth(stack)))


def test_walker_flags_star_action() -> None:
    doc = _synth_role(policies.Statement(sid="Bad", actions=["*"], resources=["arn:aws:s3:::b"]))
    violations = wildcard_violations(doc)
    assert len(violations) == 1
    assert violations[0].endswith(".policy Bad: Action '*'")


def test_walker_flags_service_wildcard_action() -> None:
    doc = _synth_role(policies.Statement(sid="Bad", actions=["s3:*"], resources=["arn:aws:s3:::b"]))
    assert any("Bad: Action 's3:*'" in v for v in wildcard_violations(doc))


def test_walker_flags_star_resource() -> None:
    doc = _synth_role(policies.Statement(sid="Bad", actions=["s3:GetObject"], resources=["*"]))
    assert any("Bad: Resource '*' for ['s3:GetObject']" in v for v in wildcard_violations(doc))


def test_walker_allows_documented_star_only_actions() -> None:
    doc = _synth_role(policies.Statement(sid="Xray", actions=["xray:PutTraceSegments"], resources=["*"]))
    assert wildcard_violations(doc) == []


def test_walker_ignores_wildcards_in_deny() -> None:
    doc = _synth_role(policies.Statement(sid="Deny", effect="Deny", actions=["s3:*"], resources=["*"]))
    assert wildcard_violations(doc) == []


#: Identity-based policies (attached to a role or managed), as opposed to resource policies.
IDENTITY_POLICY_TYPES = {"aws_iam_role_policy", "aws_iam_policy"}


def identity_statements(docs: Synth) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource address, statement) for every statement of every identity-based policy."""
    for doc in docs.values():
        for address, _, policy in policy_documents(doc):
            if address.split(".")[0] in IDENTITY_POLICY_TYPES:
                for stmt in as_list(policy["Statement"]):
                    yield address, stmt


def test_every_identity_policy_statement_names_its_resources(shipped: tuple[Settings, Synth]) -> None:
    # IAM JSON policy reference, Resource: "Statements must include either a Resource or a
    # NotResource element." (IAM refuses the policy otherwise: MalformedPolicyDocument.) And a
    # role's grant of key use names the environment's keys, never every key in the account (the
    # access stack's permissions boundary caps CI's roles at the region's keys: a ceiling, no grant).
    _, docs = shipped
    checked = 0
    for address, stmt in identity_statements(docs):
        checked += 1
        assert "Resource" in stmt or "NotResource" in stmt, (address, stmt.get("Sid"))
        actions = as_list(stmt["Action"])
        grant = address.startswith("aws_iam_role_policy.") and stmt.get("Effect") == "Allow"
        if grant and all(a.startswith("kms:") for a in actions):
            resources = as_list(stmt["Resource"])
            assert all(r.startswith("${aws_kms_key.") for r in resources), (address, stmt.get("Sid"))
    assert checked > 20


def test_every_policy_document_is_in_the_current_language_version(shipped: tuple[Settings, Synth]) -> None:
    # IAM JSON policy reference, Version: "Always include a Version element and set it to
    # 2012-10-17"; without it IAM reads the document as 2008-10-17, where policy variables such
    # as ${aws:username} are literal strings. Sid: "In IAM, the Sid value must be unique within
    # a JSON policy"; Effect: "Valid values for Effect are Allow and Deny".
    _, docs = shipped
    checked = 0
    for doc in docs.values():
        for address, attr, policy in policy_documents(doc):
            checked += 1
            assert policy["Version"] == "2012-10-17", (address, attr)
            sids = [stmt.get("Sid") for stmt in as_list(policy["Statement"]) if "Sid" in stmt]
            assert len(sids) == len(set(sids)), (address, attr, sids)
            assert {stmt["Effect"] for stmt in as_list(policy["Statement"])} <= {"Allow", "Deny"}, (address, attr)
    assert checked > 30


def test_an_action_without_a_resource_type_is_granted_on_every_resource(shipped: tuple[Settings, Synth]) -> None:
    # Service Authorization Reference: "If there is no value for this column [Resource types],
    # you must specify all resources ("*") to which the policy applies in the Resource element".
    # A statement naming such an action on any narrower ARN grants nothing, and the call fails at
    # run time (the orchestrator registering a revision, the daemon sending traces). The oracle
    # is AWS's catalogue (parliament's copy), not the policies' own code.
    _, docs = shipped
    checked = 0
    for address, stmt in identity_statements(docs):
        if stmt["Effect"] != "Allow":
            continue
        for action in as_list(stmt["Action"]):
            if ci_access.star_only(action):
                checked += 1
                assert "*" in as_list(stmt["Resource"]), (address, stmt.get("Sid"), action)
    assert checked > 10

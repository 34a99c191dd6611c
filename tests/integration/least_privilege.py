"""The evidence check behind CI's roles, shared by the integration groups that run the verbs.

Every verb a group runs through :func:`tests.integration.conftest.run_cli` is recorded with the
byte range of the emulator's call log it added (``call-windows.jsonl``). The calls signed with
the platform's key in a window belong to the role CI runs that verb with; the access stack (the
administrator's key) and the emulator's account prerequisites (their own key) are not CI's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import ci_access
from constructs_lib.settings import Settings
from local_aws import ACCESS_KEY_ID, EMULATOR_ACCOUNT_ID
from local_aws.call_log import read_calls
from tests.integration.conftest import CALL_LOG, CALL_WINDOWS
from tools import least_privilege
from tools.ci_setup import literal_aws

#: The role CI runs each verb with (README: Connect a GitHub repository).
ROLE_OF_VERB = {"plan": "plan", "drift": "plan", "deploy": "deploy", "apply": "deploy", "destroy": "deploy"}


def recorded(workspace: Path) -> dict[str, list[Mapping[str, Any]]]:
    """Each CI role's calls: those signed with the platform's key inside its verbs' windows."""
    log = (workspace / CALL_LOG).read_bytes()
    out: dict[str, list[Mapping[str, Any]]] = {"plan": [], "deploy": []}
    for line in (workspace / CALL_WINDOWS).read_text().splitlines():
        window = json.loads(line)
        role = ROLE_OF_VERB.get(window["verb"])
        if role is None:
            continue
        chunk = workspace / f".window-{window['start']}-{window['end']}.jsonl"
        chunk.write_bytes(log[window["start"] : window["end"]])
        out[role].extend(least_privilege.calls_of(read_calls(chunk), ACCESS_KEY_ID))
        chunk.unlink()
    return out


def synthesized_documents(workspace: Path, environment: str) -> dict[str, list[dict[str, Any]]]:
    """The policy documents the access stack attaches to each role, as synthesized."""
    text = (workspace / "cdktf.out" / "stacks" / f"access-{environment}" / "cdk.tf.json").read_text()
    # What terraform reads at plan time: the emulator's account and partition.
    text = text.replace("${data.aws_partition.partition.partition}", "aws")
    text = text.replace("${data.aws_caller_identity.caller.account_id}", EMULATOR_ACCOUNT_ID)
    policies = json.loads(text)["resource"]["aws_iam_policy"]
    return {
        role: [json.loads(p["policy"]) for key, p in sorted(policies.items()) if key.startswith(f"{role}-policy-")]
        for role in ("plan", "deploy")
    }


def deployed_documents(iam: Any, settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """The policy documents attached to each CI role in the emulator, read back with IAM's API."""
    out: dict[str, list[dict[str, Any]]] = {}
    for role, arn in ci_access.role_arns(literal_aws(settings), settings).items():
        name = arn.rsplit("/", 1)[-1]
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        docs = []
        for policy in sorted(attached, key=lambda p: p["PolicyName"]):
            version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)["PolicyVersion"]
            text = document["Document"]
            docs.append(json.loads(text) if isinstance(text, str) else text)
        out[role] = docs
    return out


def without(documents: Sequence[Mapping[str, Any]], action: str) -> list[dict[str, Any]]:
    """``documents`` with ``action`` removed from every Allow statement (a statement left with no
    action is dropped)."""
    out = []
    for doc in documents:
        kept = []
        for statement in doc["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Effect"] == "Allow":
                actions = [a for a in actions if a != action]
            if actions:
                kept.append({**statement, "Action": actions})
        out.append({**doc, "Statement": kept})
    return out


def check(
    calls: Mapping[str, list[Mapping[str, Any]]],
    documents: Mapping[str, list[dict[str, Any]]],
    settings: Settings,
    roles: Sequence[str] = ("plan", "deploy"),
    complete: Sequence[str] = ("plan",),
) -> dict[str, least_privilege.Verdict]:
    """Each role allows every call it made; a role whose every verb ran here (``complete``)
    grants nothing it never called unless the reason is listed (``ci_access.ONLY_ON_AWS``)."""
    verdicts = {}
    for role in roles:
        assert calls[role], f"no call of the {role} role was recorded"
        verdict = least_privilege.verdict(calls[role], documents[role], settings)
        missing = [str(n) for n in verdict.missing]
        assert missing == [], f"the {role} role does not allow what it calls"
        if role in complete:
            assert unexplained(verdict.unused) == [], f"the {role} role grants what it never called"
        verdicts[role] = verdict
    return verdicts


def unexplained(unused: Sequence[str]) -> list[str]:
    return [a for a in unused if a not in ci_access.ONLY_ON_AWS]


def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this session sees (the parent of their own temp folders)."""
    base: Path = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "least-privilege"
    folder.mkdir(exist_ok=True)
    return folder


#: The groups whose deploy-role calls together cover every verb the role runs in CI.
DEPLOY_GROUPS = ("day-two", "teardown")


def deploy_role_union(
    group: str, called: set[str], documents: Sequence[Mapping[str, Any]], folder: Path
) -> list[str] | None:
    """Record the deploy role's called actions of ``group``; once every group of
    :data:`DEPLOY_GROUPS` has, the actions granted and called by none of them (None before)."""
    aside = folder / f".{group}.{os.getpid()}"
    aside.write_text(json.dumps(sorted(called)))
    aside.replace(folder / f"{group}.json")
    files = [folder / f"{g}.json" for g in DEPLOY_GROUPS]
    if not all(f.exists() for f in files):
        return None
    union = {a.lower() for f in files for a in json.loads(f.read_text())}
    needed = [least_privilege.Need(a, "*") for a in union]
    return least_privilege.judge(needed, documents).unused


def each_permission_is_needed(
    calls: Mapping[str, list[Mapping[str, Any]]],
    documents: Mapping[str, list[dict[str, Any]]],
    settings: Settings,
    roles: Sequence[str] = ("plan", "deploy"),
) -> dict[str, int]:
    """Remove any one granted action that was called: the check must fail. Returns how many
    removals each role was tried with."""
    tried = {}
    for role in roles:
        needed = least_privilege.needs(calls[role], settings)
        called = {n.action for n in needed}
        granted = {
            a
            for doc in documents[role]
            for s in doc["Statement"]
            if s["Effect"] == "Allow"
            for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        }
        for action in sorted(granted & called):
            # Removing an action from the Allow statements can change only the needs of that action.
            affected = [n for n in needed if n.action == action]
            verdict = least_privilege.judge(affected, without(documents[role], action))
            assert verdict.missing, f"{role}: removing {action} went unnoticed"
        tried[role] = len(granted & called)
    return tried

"""CI's access stack: exact trust, a read-only plan role, a deploy role that cannot escalate,
and the boundary on every role of the platform (constructs_lib/ci_access.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import ci_access, policies
from constructs_lib.context import Aws
from constructs_lib.settings import ConfigError, Settings
from main import load_all
from tests.helpers import ACCOUNT_TOKEN, ALL_ON, PARTITION_TOKEN, ROOT, make_settings, resources
from tools.ci_setup import ci_setup_lines, github_env

Synth = dict[str, dict[str, Any]]

#: Every configuration with CI roles: the shipped ones and the all-on variant.
WITH_CI = {"dev": ("dev", {}), "staging": ("staging", {}), "prod": ("prod", {}), "all-on": ("dev", ALL_ON)}
REPO = {"dev": "example-org/cicd-platform", "staging": "example-org/cicd-platform",
        "prod": "example-org/cicd-platform", "all-on": "acme/web"}  # fmt: skip
AUD = "token.actions.githubusercontent.com:aud"
SUB = "token.actions.githubusercontent.com:sub"


@pytest.fixture(scope="module", params=sorted(WITH_CI))
def configured(request: pytest.FixtureRequest, synth: Callable[[Settings], Synth]) -> tuple[str, Settings, Synth]:
    environment, overrides = WITH_CI[request.param]
    settings = make_settings(environment, **overrides)
    return request.param, settings, synth(settings)


def tokens(settings: Settings) -> Aws:
    """What the access stack's ARNs carry: the partition and account read at plan time."""
    return Aws(partition=PARTITION_TOKEN, account_id=ACCOUNT_TOKEN, region=settings.region)


def role(doc: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [r for r in resources(doc, "aws_iam_role").values() if r["name"] == name]
    return found


def role_documents(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The managed policies attached to CI's ``kind`` role, parsed."""
    return [json.loads(p["policy"]) for key, p in sorted(resources(doc, "aws_iam_policy").items())
            if key.startswith(f"{kind}-policy-")]  # fmt: skip


def statements(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for d in documents for s in d["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_trust_is_github_only_for_this_repository_and_environment(configured: tuple[str, Settings, Synth]) -> None:
    name, settings, docs = configured
    access = docs["access"]
    repo, env = REPO[name], settings.environment
    provider = (
        "${aws_iam_openid_connect_provider.github.arn}"
        if settings.ci.oidc_provider == "create"
        else "${data.aws_iam_openid_connect_provider.github.arn}"
    )
    expected = {
        "ci-plan": [f"repo:{repo}:pull_request", f"repo:{repo}:environment:{env}-plan"],
        "ci-deploy": f"repo:{repo}:environment:{env}",
    }
    for component, subjects in expected.items():
        trust = json.loads(role(access, settings.naming.name(component))["assume_role_policy"])
        assert trust == {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "GitHubActions",
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {AUD: "sts.amazonaws.com", SUB: subjects}},
            }],
        }  # fmt: skip
        assert "*" not in json.dumps(trust)


def test_the_account_provider_is_created_once_and_looked_up_elsewhere(configured: tuple[str, Settings, Synth]) -> None:
    _, settings, docs = configured
    access = docs["access"]
    created = resources(access, "aws_iam_openid_connect_provider")
    looked_up = access.get("data", {}).get("aws_iam_openid_connect_provider", {})
    url = "https://token.actions.githubusercontent.com"
    if settings.ci.oidc_provider == "create":
        assert created == {"github": {**created["github"], "url": url, "client_id_list": ["sts.amazonaws.com"]}}
        assert "thumbprint_list" not in created["github"]  # IAM verifies GitHub through its trusted CAs
        assert not looked_up
    else:
        assert not created
        assert looked_up["github"]["url"] == url


def test_shipped_environments_of_one_account_create_the_provider_once() -> None:
    shipped = load_all({})
    creators = [s.environment for s in shipped if s.ci.oidc_provider == "create"]
    assert {s.account for s in shipped} == {"123456789012"}
    assert creators == ["dev"]


def test_two_environments_creating_the_provider_in_one_account_are_refused(tmp_path: Path) -> None:
    for env in ("dev", "staging"):
        text = (
            (ROOT / "config" / f"{env}.toml")
            .read_text()
            .replace('oidc_provider = "existing"', 'oidc_provider = "create"')
        )
        (tmp_path / f"{env}.toml").write_text(text)
    script = f"import main, pathlib, sys; main.CONFIG_DIR = pathlib.Path({str(tmp_path)!r}); sys.exit(main.main())"
    main = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert main.returncode == 2
    assert "ci.oidc_provider = 'create' in dev, staging, all in account 123456789012" in main.stderr
    assert "Traceback" not in main.stderr


@pytest.mark.parametrize(
    "value",
    ["example-org/*", "*/repo", "example-org", "example-org/repo/extra", "-org/repo", "org/..", "org/re po", ""],
)
def test_a_repository_that_is_not_exactly_one_is_refused(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings("dev", ci={"github_repository": value})
    (problem,) = err.value.problems
    assert problem.startswith(f"ci.github_repository = {value!r}: must be one GitHub repository as owner/name")


def test_an_unknown_provider_mode_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        make_settings("dev", ci={"oidc_provider": "maybe"})
    assert err.value.problems[0].startswith("ci.oidc_provider = 'maybe': Input should be 'create' or 'existing'")


def test_the_plan_role_holds_read_and_list_actions_only(configured: tuple[str, Settings, Synth]) -> None:
    _, settings, docs = configured
    granted = [a for s in statements(role_documents(docs["access"], "plan")) for a in as_list(s["Action"])]
    assert granted
    assert all("*" not in a for a in granted), "no wildcard action: each one is what plan or drift calls"
    levels = {a: ci_access.access_level(a) for a in granted}
    writes = {a: level for a, level in levels.items() if level not in ("List", "Read")}
    # The only exception: decrypting what it reads, through S3 and Secrets Manager only.
    assert writes == {"kms:Decrypt": "Write"}
    assert set(writes) == set(ci_access.PLAN_WRITE_EXCEPTIONS)
    (decrypt,) = [s for s in statements(role_documents(docs["access"], "plan")) if s["Action"] == "kms:Decrypt"]
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": [
        f"s3.{settings.region}.amazonaws.com", f"secretsmanager.{settings.region}.amazonaws.com"]}}  # fmt: skip
    assert {s["Effect"] for s in statements(role_documents(docs["access"], "plan"))} == {"Allow"}
    readme = (ROOT / "README.md").read_text()
    assert all(f"`{action}`" in readme for action in ci_access.PLAN_WRITE_EXCEPTIONS), "README lists each exception"


def test_the_deploy_role_cannot_escalate(configured: tuple[str, Settings, Synth]) -> None:
    _, settings, docs = configured
    found = {s["Sid"]: s for s in statements(role_documents(docs["access"], "deploy"))}
    roles = f"arn:{PARTITION_TOKEN}:iam::{ACCOUNT_TOKEN}:role/cicd-*-{settings.environment_suffix}"
    assert found["PassOnlyPlatformRoles"] == {
        "Sid": "PassOnlyPlatformRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": roles,
        "Condition": {"StringEquals": {"iam:PassedToService": list(ci_access.PASSED_TO_SERVICES)}},
    }  # fmt: skip
    bounded = found["PlatformRolesCarryTheBoundary"]
    assert bounded["Resource"] == roles
    assert bounded["Condition"] == {
        "ArnEquals": {"iam:PermissionsBoundary": ci_access.boundary_arn(tokens(settings), settings)}
    }
    assert set(as_list(bounded["Action"])) >= {"iam:CreateRole", "iam:PutRolePolicy"}
    never = found["NeverCiAccess"]
    assert (never["Effect"], never["Action"]) == ("Deny", "iam:*")
    assert set(never["Resource"]) >= {
        *ci_access.role_arns(tokens(settings), settings).values(),
        ci_access.boundary_arn(tokens(settings), settings),
        ci_access.provider_arn(tokens(settings)),
    }
    assert found["NeverDropTheBoundary"]["Effect"] == "Deny"
    # No other statement grants an IAM action: every IAM write is one of the above.
    iam_elsewhere = [
        (sid, a) for sid, s in found.items() if sid not in ("PlatformRoles", "PlatformRolesCarryTheBoundary",
        "PassOnlyPlatformRoles", "NeverCiAccess", "NeverDropTheBoundary") for a in as_list(s["Action"])
        if a.startswith("iam:")
    ]  # fmt: skip
    assert iam_elsewhere == [("DeployIam", "iam:GetUser")]  # who the caller is: a read, on users only
    assert found["DeployIam"]["Resource"] == f"arn:{PARTITION_TOKEN}:iam::{ACCOUNT_TOKEN}:user/*"
    assert found["PlatformRoles"]["Resource"] == roles
    # Unconditioned permissions management: only a platform role's trust (those roles carry the
    # boundary, and the deploy role may assume no role at all).
    unconditioned = [a for a in as_list(found["PlatformRoles"]["Action"])
                     if ci_access.access_level(a) == "Permissions management"]  # fmt: skip
    assert unconditioned == ["iam:UpdateAssumeRolePolicy"]
    assert not [
        a for s in found.values() if s["Effect"] == "Allow" for a in as_list(s["Action"]) if a.startswith("sts:")
    ]


def test_every_role_of_the_platform_carries_the_boundary(configured: tuple[str, Settings, Synth]) -> None:
    _, settings, docs = configured
    bounds = {
        r["name"]: r.get("permissions_boundary")
        for kind in ("state", "platform")  # the state stack has a role only with replication
        for r in resources(docs[kind], "aws_iam_role").values()
    }
    assert len(bounds) >= 7
    assert set(bounds.values()) == {ci_access.boundary_arn(tokens(settings), settings)}


def test_without_ci_no_access_stack_and_no_boundary(synth: Callable[[Settings], Synth]) -> None:
    settings = make_settings("dev", ci={"github_repository": None})
    docs = synth(settings)
    assert "access" not in docs
    assert not any("permissions_boundary" in r for r in resources(docs["platform"], "aws_iam_role").values())
    # The secrets name whoever applies (there is no CI role to name instead).
    assert "data" in docs["platform"]
    assert "aws_iam_session_context" in docs["platform"]["data"]


def test_the_boundary_allows_exactly_what_the_platforms_roles_are_granted(
    configured: tuple[str, Settings, Synth],
) -> None:
    _, settings, docs = configured
    granted = {
        a
        for kind in ("state", "platform")
        for p in resources(docs[kind], "aws_iam_role_policy").values()
        for s in json.loads(p["policy"])["Statement"]
        if s["Effect"] == "Allow"
        for a in as_list(s["Action"])
    }
    boundary = json.loads(resources(docs["access"], "aws_iam_policy")["boundary"]["policy"])
    allowed = {a for s in boundary["Statement"] for a in as_list(s["Action"])}
    assert allowed == granted
    (passing,) = [s for s in boundary["Statement"] if s["Sid"] == "PassPlatformRoles"]
    assert passing["Action"] == "iam:PassRole"
    assert (
        passing["Resource"] == f"arn:{PARTITION_TOKEN}:iam::{ACCOUNT_TOKEN}:role/cicd-*-{settings.environment_suffix}"
    )


def test_secrets_name_both_ci_roles_as_their_appliers(configured: tuple[str, Settings, Synth]) -> None:
    _, settings, docs = configured
    arns = list(ci_access.role_arns(tokens(settings), settings).values())
    for policy in resources(docs["platform"], "aws_secretsmanager_secret_policy").values():
        (statement,) = json.loads(policy["policy"])["Statement"]
        readers = statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
        assert set(arns) <= set(readers)
    assert "aws_iam_session_context" not in docs["platform"].get("data", {})


def test_state_backends_take_both_locks(configured: tuple[str, Settings, Synth]) -> None:
    _, settings, docs = configured
    for kind in ("state", "platform", "access"):
        backend = docs[kind]["terraform"]["backend"]["s3"]
        assert (backend["use_lockfile"], backend["dynamodb_table"]) == (True, settings.naming.name("tflock"))


def test_policies_fit_in_managed_policies() -> None:
    # Three statements, the first alone larger than a managed policy: split by its actions.
    big = [policies.Statement(sid=f"S{i}", actions=[f"ec2:DescribeSomething{n:04d}" for n in range(size)],
                              resources=["*"]) for i, size in enumerate((400, 100, 100))]  # fmt: skip
    documents = ci_access.chunks(big)
    assert len(documents) > 1
    assert all(len("".join(d.split())) <= ci_access.MANAGED_POLICY_CHARS for d in documents)
    actions = [a for d in documents for s in json.loads(d)["Statement"] for a in as_list(s["Action"])]
    assert sorted(actions) == sorted(a for s in big for a in s.actions)
    assert ci_access.chunks([]) == []
    sids = [s["Sid"] for d in documents for s in json.loads(d)["Statement"]]
    assert sids[:2] == ["S01", "S02"]  # the oversized one, halved


def test_subjects_need_a_repository() -> None:
    with pytest.raises(ValueError, match=r"ci\.github_repository is not set"):
        ci_access.subjects(make_settings("dev", ci={"github_repository": None}))


def test_the_workflows_values_come_from_the_settings() -> None:
    settings = make_settings("prod")
    assert github_env(settings) == {
        "CI_REGION": "us-east-1",
        "CI_PLAN_ROLE_ARN": "arn:aws:iam::123456789012:role/cicd-ci-plan-prod",
        "CI_DEPLOY_ROLE_ARN": "arn:aws:iam::123456789012:role/cicd-ci-deploy-prod",
    }
    proc = subprocess.run([sys.executable, "-m", "tools.ci_setup", "env", "--environment", "prod"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"{k}={v}" for k, v in github_env(settings).items()]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--environment", "nope"], "file not found"),
     (["--environment", "dev", "--config", "{without_ci}"], "[ci] github_repository is not set")],
)  # fmt: skip
def test_the_workflow_helper_refuses_cleanly(args: list[str], message: str, tmp_path: Path) -> None:
    without_ci = tmp_path / "dev.toml"
    without_ci.write_text((ROOT / "config" / "dev.toml").read_text().split("[ci]")[0])
    args = [a.format(without_ci=without_ci) for a in args]
    proc = subprocess.run([sys.executable, "-m", "tools.ci_setup", "env", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bootstrap_prints_the_github_steps_and_checks_the_roles() -> None:
    settings = make_settings("prod")
    arns = github_env(settings)
    arns = {"plan": arns["CI_PLAN_ROLE_ARN"], "deploy": arns["CI_DEPLOY_ROLE_ARN"]}
    lines = ci_setup_lines(settings, {"ci_plan_role_arn": arns["plan"], "ci_deploy_role_arn": arns["deploy"]})
    text = "\n".join(lines)
    assert "prod-plan" in text
    assert "required reviewers (prod: at least one)" in text
    assert f"CI_DEPLOY_ROLE_ARN={arns['deploy']}" in text
    with pytest.raises(RuntimeError, match="CI_PLAN_ROLE_ARN"):
        ci_setup_lines(settings, {"ci_plan_role_arn": "arn:aws:iam::1:role/x", "ci_deploy_role_arn": arns["deploy"]})


def test_the_catalogue_knows_actions_and_patterns() -> None:
    """AWS's catalogue decides where an action may be scoped: ``*`` only, or a resource."""
    assert ci_access.star_only("ec2:DescribeVpcs")
    assert not ci_access.star_only("s3:GetObject")
    assert not ci_access.star_only("kms:GenerateDataKey*")  # every match has a key resource
    with pytest.raises(KeyError):
        ci_access.star_only("s3:NoSuchAction*")
    assert ci_access.access_level("kms:Decrypt") == "Write"

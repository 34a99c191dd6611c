"""Secrets: encrypted with the key, no values in the JSON, rotation iff an ARN is given."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.settings import ConfigError, Settings
from lambda_src.deploy_orchestrator.contract import SETTINGS_DEFAULTS
from tests.helpers import ACCOUNT_TOKEN, PARTITION_TOKEN, make_settings, resources

Synth = dict[str, dict[str, Any]]
ROTATOR = "arn:aws:lambda:us-east-1:123456789012:function:rotate-app-secret"
#: The rotation function reads the value it rotates: its role must be a reader.
ROTATION = {
    "secret_rotation_lambda_arn": ROTATOR,
    "secret_readers": ["arn:aws:iam::123456789012:role/rotate-app-secret"],
}


def test_two_secrets_encrypted_with_the_environment_key(dev: Synth) -> None:
    secrets = resources(dev["platform"], "aws_secretsmanager_secret")
    assert sorted(s["name"] for s in secrets.values()) == ["cicd/dev/app", "cicd/dev/orchestrator"]
    for secret in secrets.values():
        assert secret["kms_key_id"].startswith("${aws_kms_key.key_")


def test_no_rotation_without_lambda_arn(dev: Synth) -> None:
    assert resources(dev["platform"], "aws_secretsmanager_secret_rotation") == {}


def test_rotation_with_lambda_arn(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", security=ROTATION))["platform"]
    (rotation,) = resources(doc, "aws_secretsmanager_secret_rotation").values()
    assert rotation["rotation_lambda_arn"] == ROTATOR
    assert rotation["rotation_rules"] == {"automatically_after_days": 30}
    assert rotation["secret_id"].startswith("${aws_secretsmanager_secret.secrets_app_")


def test_rotation_days_from_settings(synth: Callable[[Settings], Synth]) -> None:
    s = make_settings("dev", security={**ROTATION, "secret_rotation_days": 7})
    (rotation,) = resources(synth(s)["platform"], "aws_secretsmanager_secret_rotation").values()
    assert rotation["rotation_rules"] == {"automatically_after_days": 7}


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/rotate",
        "arn:aws:lambda:us-east-1:123456789012:layer:rotate",
        "rotate-app-secret",
        "arn:aws:lambda:us-east-1:12345:function:rotate",
    ],
)
def test_rotation_arn_that_is_not_a_lambda_function_refused(arn: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", security={"secret_rotation_lambda_arn": arn})
    assert info.value.problems[0].startswith("security.secret_rotation_lambda_arn = ")
    assert "must be a Lambda function ARN" in info.value.problems[0]


def test_app_secret_value_generated_at_apply_time_never_in_json(dev: Synth) -> None:
    versions = resources(dev["platform"], "aws_secretsmanager_secret_version")
    app = next(v for v in versions.values() if "secrets_app_" in v["secret_id"])
    value = app["secret_string"]
    assert value.startswith("${data.aws_secretsmanager_random_password.")
    assert value.endswith(".random_password}")
    assert app["lifecycle"] == {"ignore_changes": ["secret_string"]}


def test_orchestrator_secret_holds_only_non_sensitive_defaults(dev: Synth) -> None:
    versions = resources(dev["platform"], "aws_secretsmanager_secret_version")
    orch = next(v for v in versions.values() if "secrets_orchestrator_" in v["secret_id"])
    assert json.loads(orch["secret_string"]) == SETTINGS_DEFAULTS


def test_no_output_exposes_a_secret_value(shipped: tuple[Settings, Synth]) -> None:
    _, docs = shipped
    for doc in docs.values():
        for name, output in doc.get("output", {}).items():
            assert "random_password" not in json.dumps(output), name
            assert "secret_string" not in json.dumps(output), name


def test_recovery_window_zero_outside_prod(dev: Synth, prod: Synth) -> None:
    assert {s["recovery_window_in_days"] for s in resources(dev["platform"], "aws_secretsmanager_secret").values()} == {
        0
    }
    assert {
        s["recovery_window_in_days"] for s in resources(prod["platform"], "aws_secretsmanager_secret").values()
    } == {30}


BREAK_GLASS = "arn:aws:iam::123456789012:role/break-glass"
ROTATION_ROLE = "arn:aws:iam::123456789012:role/rotate-app-secret"


def readers_of(doc: dict[str, Any], secret_name: str) -> list[str]:
    """The principals a secret's policy lets read its value (everyone else is denied)."""
    (key,) = [k for k, s in resources(doc, "aws_secretsmanager_secret").items() if s["name"] == secret_name]
    (policy,) = [p for p in resources(doc, "aws_secretsmanager_secret_policy").values()
                 if p["secret_arn"] == f"${{aws_secretsmanager_secret.{key}.arn}}"]  # fmt: skip
    assert policy["block_public_policy"] is True
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"], statement["Resource"]) == (
        "Deny", "*", "secretsmanager:GetSecretValue", "*",
    )  # fmt: skip
    assert list(statement["Condition"]) == ["ArnNotEquals"]
    readers: list[str] = statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    return readers


DEPLOYER = "${data.aws_iam_session_context.secrets_deployer-role_"


def test_each_secret_readable_only_by_its_consumer_and_the_deployer(shipped: tuple[Settings, Synth]) -> None:
    """Shipped environments name CI's roles ([ci]): the plan role and the deploy role apply."""
    settings, docs = shipped
    doc = docs["platform"]
    roles = {r["name"]: f"${{aws_iam_role.{k}.arn}}" for k, r in resources(doc, "aws_iam_role").items()}
    naming = settings.naming
    app = readers_of(doc, naming.secret("app"))
    orchestrator = readers_of(doc, naming.secret("orchestrator"))
    assert app[0] == roles[naming.name("task-exec-role")]
    assert orchestrator[0] == roles[naming.name("orchestrator-role")]
    ci = [f"arn:{PARTITION_TOKEN}:iam::{ACCOUNT_TOKEN}:role/{naming.name(c)}" for c in ("ci-plan", "ci-deploy")]
    for readers in (app, orchestrator):
        # Terraform refreshes the versions it manages with GetSecretValue: whoever plans and
        # applies must stay able to, or every later plan fails.
        assert readers[1:] == ci
    assert "aws_iam_session_context" not in doc.get("data", {})


def test_without_ci_the_identity_that_applies_reads_the_secrets(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", ci={"github_repository": None}))["platform"]
    naming = make_settings("dev").naming
    for name in ("app", "orchestrator"):
        readers = readers_of(doc, naming.secret(name))
        assert len(readers) == 2
        # The role behind the session that runs terraform.
        assert readers[1].startswith(DEPLOYER)
        assert readers[1].endswith(".issuer_arn}")
    (context,) = doc["data"]["aws_iam_session_context"].values()
    assert context["arn"].startswith("${data.aws_caller_identity.secrets_deployer_")


def test_break_glass_and_rotation_roles_read_both_secrets(synth: Callable[[Settings], Synth]) -> None:
    settings = make_settings(
        "dev", security={"secret_rotation_lambda_arn": ROTATOR, "secret_readers": [BREAK_GLASS, ROTATION_ROLE]}
    )
    doc = synth(settings)["platform"]
    for name in ("app", "orchestrator"):
        assert readers_of(doc, settings.naming.secret(name))[3:] == [BREAK_GLASS, ROTATION_ROLE]


def test_rotation_without_a_reader_refused() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", security={"secret_rotation_lambda_arn": ROTATOR})
    (problem,) = info.value.problems
    assert problem.startswith("security = ")
    assert "add the rotation function's execution role to secret_readers" in problem


@pytest.mark.parametrize(
    ("readers", "expected"),
    [
        (
            ["arn:aws:iam::123456789012:user/alice"],
            "not IAM role ARNs: arn:aws:iam::123456789012:user/alice; "
            "each must look like arn:aws:iam::123456789012:role/break-glass",
        ),
        ([BREAK_GLASS, BREAK_GLASS], "lists a role twice"),
        (
            ["arn:aws:iam::210987654321:role/break-glass"],
            "names roles outside account_id 123456789012: the secrets and their key are this account's; "
            "list roles of this account (a role elsewhere would also need the key policy)",
        ),
    ],
)
def test_bad_secret_readers_refused(readers: list[str], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", security={"secret_readers": readers})
    (problem,) = info.value.problems
    assert problem.startswith("security.secret_readers = ")
    # The whole of what the user reads after the value: what is wrong and what to do.
    assert problem.endswith(f": {expected}")

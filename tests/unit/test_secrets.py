"""Secrets: encrypted with the key, no values in the JSON, rotation iff an ARN is given."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.settings import ConfigError, Settings
from lambda_src.deploy_orchestrator.contract import SETTINGS_DEFAULTS
from tests.helpers import make_settings, resources

Synth = dict[str, dict[str, Any]]
ROTATOR = "arn:aws:lambda:us-east-1:123456789012:function:rotate-app-secret"


def test_two_secrets_encrypted_with_the_environment_key(dev: Synth) -> None:
    secrets = resources(dev["platform"], "aws_secretsmanager_secret")
    assert sorted(s["name"] for s in secrets.values()) == ["cicd/dev/app", "cicd/dev/orchestrator"]
    for secret in secrets.values():
        assert secret["kms_key_id"].startswith("${aws_kms_key.key_")


def test_no_rotation_without_lambda_arn(dev: Synth) -> None:
    assert resources(dev["platform"], "aws_secretsmanager_secret_rotation") == {}


def test_rotation_with_lambda_arn(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", security={"secret_rotation_lambda_arn": ROTATOR}))["platform"]
    (rotation,) = resources(doc, "aws_secretsmanager_secret_rotation").values()
    assert rotation["rotation_lambda_arn"] == ROTATOR
    assert rotation["rotation_rules"] == {"automatically_after_days": 30}
    assert rotation["secret_id"].startswith("${aws_secretsmanager_secret.secrets_app_")


def test_rotation_days_from_settings(synth: Callable[[Settings], Synth]) -> None:
    s = make_settings("dev", security={"secret_rotation_lambda_arn": ROTATOR, "secret_rotation_days": 7})
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

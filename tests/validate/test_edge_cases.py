"""Edge cases named for what they show; each configuration also passes terraform validate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from constructs_lib.naming import max_suffix_length
from constructs_lib.settings import Settings, parse_settings
from tests.helpers import ALL_OFF, ALL_ON, make_settings, raw_config, resources
from tools.terraform import terraform_env, validate_together

Synth = dict[str, dict[str, Any]]


def rule_names(doc: dict[str, Any]) -> list[str]:
    return [r["name"] for acl in resources(doc, "aws_wafv2_web_acl").values() for r in acl["rule"]]


def validate_all(docs: Synth, tmp_path: Path) -> None:
    validate_together(docs, tmp_path, terraform_env())


def test_every_optional_feature_on_synthesizes_and_validates(
    synth: Callable[[Settings], Synth], tmp_path: Path
) -> None:
    docs = synth(make_settings("dev", **ALL_ON))
    platform = docs["platform"]
    assert len(resources(platform, "aws_nat_gateway")) == 3
    assert resources(platform, "aws_secretsmanager_secret_rotation")
    assert len(resources(platform, "aws_lb_listener")) == 2
    assert resources(platform, "aws_sns_topic_subscription")
    assert "geo-block" in rule_names(platform)
    assert [s["name"] for s in next(iter(resources(platform, "aws_codepipeline").values()))["stage"]] == [
        "Source",
        "Build",
        "Approval",
        "Deploy",
    ]
    validate_all(docs, tmp_path)


def test_every_optional_feature_off_synthesizes_and_validates(
    synth: Callable[[Settings], Synth], tmp_path: Path
) -> None:
    docs = synth(make_settings("dev", **ALL_OFF))
    platform = docs["platform"]
    for rtype in ("aws_nat_gateway", "aws_eip", "aws_secretsmanager_secret_rotation", "aws_sns_topic_subscription"):
        assert resources(platform, rtype) == {}, rtype
    assert len(resources(platform, "aws_lb_listener")) == 1
    assert "geo-block" not in rule_names(platform)
    validate_all(docs, tmp_path)


def test_empty_tags_keep_the_platform_tags(synth: Callable[[Settings], Synth]) -> None:
    raw = raw_config("dev")
    raw["tags"] = {}  # replace, not merge
    tags = synth(parse_settings(raw))["platform"]["provider"]["aws"][0]["default_tags"][0]["tags"]
    assert tags == {"project": "cicd", "environment": "dev", "managed-by": "cdktf"}


def test_longest_accepted_suffix_synthesizes_and_validates(synth: Callable[[Settings], Synth], tmp_path: Path) -> None:
    suffix = "a" * max_suffix_length("cicd", "us-east-1")
    docs = synth(make_settings("dev", environment_suffix=suffix))
    lb = next(iter(resources(docs["platform"], "aws_lb").values()))
    assert len(lb["name"]) <= 32
    # The tightest AWS name limit: a bucket with the account and region (63 characters).
    assert max(len(b["bucket"]) for b in resources(docs["state"], "aws_s3_bucket").values()) == 63
    validate_all(docs, tmp_path)

"""tools.plan_summary.drift_summary: what counts as drift.

A refresh-only plan after the first apply reads back what sibling resources set
(a bucket's policy and lifecycle, a security group's rules, a topic's policy):
none of that was touched by hand. The real sequence (drift right after a first
deploy is clean; a hand-made tag and scan setting are named) runs against the
emulator in tests/integration/test_day_two.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from constructs_lib.settings import Settings
from tests.helpers import make_settings
from tools.plan_summary import drift_summary

Synth = dict[str, dict[str, Any]]


def drifted(rtype: str, name: str, before: dict[str, Any], after: dict[str, Any], index: str = "") -> dict[str, Any]:
    return {
        "address": f"{rtype}.{name}{index}",
        "mode": "managed",
        "type": rtype,
        "name": name,
        "change": {"actions": ["update"], "before": before, "after": after},
    }


def plan(drift: list[dict[str, Any]], configured: dict[str, list[str]]) -> dict[str, Any]:
    resources = [
        {"address": a, "expressions": {k: {"constant_value": 1} for k in keys}} for a, keys in configured.items()
    ]
    return {"resource_drift": drift, "configuration": {"root_module": {"resources": resources}}}


def test_what_sibling_resources_set_is_not_drift() -> None:
    bucket = drifted(
        "aws_s3_bucket",
        "artifacts",
        {"bucket": "b", "policy": "", "lifecycle_rule": [], "versioning": [{"enabled": False}]},
        {
            "bucket": "b",
            "policy": '{"Statement": []}',
            "lifecycle_rule": [{"id": "x"}],
            "versioning": [{"enabled": True}],
        },
    )
    group = drifted("aws_security_group", "sg", {"egress": []}, {"egress": [{"from_port": 443}]})
    text, found = drift_summary(
        plan([bucket, group], {"aws_s3_bucket.artifacts": ["bucket"], "aws_security_group.sg": ["name"]}), "platform"
    )
    assert not found
    assert "**No drift.**" in text


def test_configured_attributes_and_tags_are_drift() -> None:
    repo = drifted(
        "aws_ecr_repository",
        "registry",
        {"image_scanning_configuration": [{"scan_on_push": True}], "tags": {}},
        {"image_scanning_configuration": [{"scan_on_push": False}], "tags": {"owner": "bob"}},
    )
    text, found = drift_summary(plan([repo], {"aws_ecr_repository.registry": ["image_scanning_configuration"]}), "p")
    assert found
    assert "`image_scanning_configuration[0].scan_on_push`: true → false" in text
    assert '`tags.owner`: (none) → "bob"' in text  # tags are watched even where default_tags set them


def test_ignore_changes_belong_to_someone_else() -> None:
    service = drifted(
        "aws_ecs_service",
        "svc",
        {"task_definition": "app:1", "desired_count": 2},
        {"task_definition": "app:7", "desired_count": 0},
    )
    configured = {"aws_ecs_service.svc": ["task_definition", "desired_count"]}
    text, _ = drift_summary(plan([service], configured), "p", {"aws_ecs_service.svc": ["task_definition"]})
    assert "desired_count" in text
    assert "task_definition" not in text


def test_ignore_changes_all_is_every_attribute_but_not_a_deletion() -> None:
    """The first source.zip: a user's own upload afterwards is not drift; the object gone is."""
    uploaded = drifted("aws_s3_object", "first", {"etag": "a", "version_id": "1"}, {"etag": "b", "version_id": "2"})
    configured = {"aws_s3_object.first": ["etag", "version_id"]}
    text, found = drift_summary(plan([uploaded], configured), "p", {"aws_s3_object.first": ["all"]})
    assert (found, "No drift." in text) == (False, True)
    gone = {"address": "aws_s3_object.first", "mode": "managed", "type": "aws_s3_object", "name": "first",
            "change": {"actions": ["delete"], "before": {}, "after": None}}  # fmt: skip
    text, found = drift_summary(plan([gone], configured), "p", {"aws_s3_object.first": ["all"]})
    assert found
    assert "deleted outside Terraform" in text


def test_deletions_and_unknown_resources_are_always_reported() -> None:
    gone = {"address": "aws_sqs_queue.dlq", "mode": "managed", "type": "aws_sqs_queue", "name": "dlq",
            "change": {"actions": ["delete"], "before": {}, "after": None}}  # fmt: skip
    rule = drifted(
        "aws_vpc_security_group_ingress_rule", "r", {"cidr_ipv4": "10.0.0.0/8"}, {"cidr_ipv4": "0.0.0.0/0"}, '["a"]'
    )
    text, found = drift_summary(plan([gone, rule], {}), "p")  # no configuration entry: nothing filtered
    assert found
    assert "- `aws_sqs_queue.dlq`: deleted outside Terraform" in text
    assert '- `aws_vpc_security_group_ingress_rule.r["a"]`' in text


def test_the_deploy_tool_reads_ignore_changes_from_the_synthesized_stack(
    synth: Callable[[Settings], Synth], tmp_path: Any
) -> None:
    from tools.deploy import _ignored_changes

    (tmp_path / "cdk.tf.json").write_text(json.dumps(synth(make_settings("dev"))["platform"]))

    class Stack:
        dir = tmp_path

    ignored = _ignored_changes(Stack())  # type: ignore[arg-type]
    assert [ignored[a] for a in ignored if a.startswith("aws_ecs_service.")] == [["task_definition"]]
    assert [ignored[a] for a in ignored if a.startswith("aws_s3_object.")] == [["all"]]  # the first source.zip
    assert all(
        a.split(".")[0] in ("aws_ecs_service", "aws_secretsmanager_secret_version", "aws_s3_object") for a in ignored
    ), ignored

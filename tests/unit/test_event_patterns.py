"""Every EventBridge rule, matched against the events AWS sends (the samples in AWS's user
guides), with moto's implementation of EventBridge's pattern matching as the matcher.

A rule must match its own environment's event and nothing wider: another environment's
pipeline, repository, bucket or service, another state, key, severity or event name. A
pattern that loses one of its conditions matches one of the "not" events below.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser

from constructs_lib.settings import Settings
from tests.helpers import make_settings, resources

Synth = dict[str, dict[str, Any]]
ACCOUNT = "123456789012"
_DATA = re.compile(r"\$\{data\.([\w-]+)\.[\w-]+\.[\w-]+\}")
_RESOURCE = re.compile(r"\$\{([\w-]+)\.([\w-]+)\.([\w-]+)\}")
DATA = {"aws_partition": "aws", "aws_caller_identity": ACCOUNT}


def resolve(doc: dict[str, Any], text: str) -> str:
    """The pattern as EventBridge receives it: each resource's configured name in place of its
    token, this account and the aws partition for the data sources."""
    text = _DATA.sub(lambda m: DATA[m.group(1)], text)
    return _RESOURCE.sub(lambda m: str(doc["resource"][m.group(1)][m.group(2)][m.group(3)]), text)


class Rule:
    """One rule's pattern, matched by moto's implementation of EventBridge's matching."""

    def __init__(self, doc: dict[str, Any], name: str) -> None:
        (found,) = [r for r in resources(doc, "aws_cloudwatch_event_rule").values() if r["name"] == name]
        self.pattern = EventPattern.load(resolve(doc, found["event_pattern"]))

    def matches_event(self, event: dict[str, Any]) -> bool:
        return bool(self.pattern.matches_event(event))  # type: ignore[arg-type]  # moto's TypedDict of an event


def rule(doc: dict[str, Any], name: str) -> Rule:
    return Rule(doc, name)


def event(source: str, detail_type: str, detail: dict[str, Any], resources_: list[str] | None = None) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": "2026-12-01T10:00:00Z",
        "region": "us-east-1",
        "resources": resources_ or [],
        "detail": detail,
    }


def changed(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``base`` with the value at ``a.b.c`` replaced (or removed, for ``...``)."""
    out = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return out


# AWS's samples: ECR "Amazon ECR events and EventBridge" (basic scan), ECS "deployment state
# change events", CodePipeline "pipeline execution state change", S3 "Object Created".
def scan(repository: str, counts: dict[str, int]) -> dict[str, Any]:
    return event("aws.ecr", "ECR Image Scan", {
        "scan-status": "COMPLETE", "repository-name": repository, "finding-severity-counts": counts,
        "image-digest": "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234", "image-tags": ["v1"],
    }, [f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{repository}"])  # fmt: skip


def deployment(service_arn: str, name: str) -> dict[str, Any]:
    return event("aws.ecs", "ECS Deployment State Change", {
        "eventType": "ERROR", "eventName": name, "deploymentId": "ecs-svc/1234567890123456789",
        "updatedAt": "2026-12-01T10:00:00.000Z", "reason": "ECS deployment circuit breaker: task failed to start.",
    }, [service_arn])  # fmt: skip


def execution(pipeline: str, state: str) -> dict[str, Any]:
    return event("aws.codepipeline", "CodePipeline Pipeline Execution State Change", {
        "pipeline": pipeline, "execution-id": "01234567-0123-0123-0123-012345678901", "state": state, "version": 1,
    }, [f"arn:aws:codepipeline:us-east-1:{ACCOUNT}:{pipeline}"])  # fmt: skip


def created(bucket: str, key: str) -> dict[str, Any]:
    return event("aws.s3", "Object Created", {
        "version": "0", "bucket": {"name": bucket}, "object": {"key": key, "size": 5, "etag": "b1946ac92492d2347c62"},
        "request-id": "57H08PA84AB1JZW0", "requester": ACCOUNT, "reason": "PutObject",
    }, [f"arn:aws:s3:::{bucket}"])  # fmt: skip


def names(doc: dict[str, Any]) -> dict[str, str]:
    def only(rtype: str, attribute: str, contains: str = "") -> str:
        (value,) = [r[attribute] for k, r in resources(doc, rtype).items() if contains in k]
        return str(value)

    return {
        "repository": only("aws_ecr_repository", "name", "registry"),
        "pipeline": only("aws_codepipeline", "name"),
        "source_bucket": only("aws_s3_bucket", "bucket", "pipeline_source"),
        "cluster": only("aws_ecs_cluster", "name"),
        "service": only("aws_ecs_service", "name"),
    }


def test_scan_findings_notify_on_critical_or_high_of_this_environments_repository(dev: Synth) -> None:
    doc = dev["platform"]
    pattern, repo = rule(doc, "cicd-dev-ecr-scan-findings"), names(doc)["repository"]
    assert pattern.matches_event(scan(repo, {"CRITICAL": 1, "MEDIUM": 9}))
    # One finding is enough: at exactly one CRITICAL or one HIGH the notice goes out.
    assert pattern.matches_event(scan(repo, {"HIGH": 1}))
    assert pattern.matches_event(scan(repo, {"HIGH": 2}))
    assert not pattern.matches_event(scan(repo, {"MEDIUM": 9, "LOW": 3, "INFORMATIONAL": 1}))
    assert not pattern.matches_event(scan(repo, {"CRITICAL": 0, "HIGH": 0}))
    assert not pattern.matches_event(scan(repo.replace("dev", "prod"), {"CRITICAL": 1}))
    assert not pattern.matches_event(changed(scan(repo, {"CRITICAL": 1}), "source", "aws.inspector2"))
    assert not pattern.matches_event(changed(scan(repo, {"CRITICAL": 1}), "detail-type", "ECR Image Action"))


def test_a_failed_deployment_notifies_only_for_this_environments_service(dev: Synth) -> None:
    doc = dev["platform"]
    pattern, n = rule(doc, "cicd-dev-ecs-deployment-failed"), names(doc)
    arn = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/{n['cluster']}/{n['service']}"
    assert pattern.matches_event(deployment(arn, "SERVICE_DEPLOYMENT_FAILED"))
    for name in ("SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED"):
        assert not pattern.matches_event(deployment(arn, name))
    assert not pattern.matches_event(deployment(arn.replace("-dev", "-prod"), "SERVICE_DEPLOYMENT_FAILED"))
    assert not pattern.matches_event(deployment(arn.replace(ACCOUNT, "210987654321"), "SERVICE_DEPLOYMENT_FAILED"))
    failed = deployment(arn, "SERVICE_DEPLOYMENT_FAILED")
    assert not pattern.matches_event(changed(failed, "detail-type", "ECS Service Action"))
    assert not pattern.matches_event(changed(failed, "source", "aws.codedeploy"))


@pytest.mark.parametrize(
    ("states", "notified"),
    [(None, {"FAILED", "SUCCEEDED"}), (["FAILED"], {"FAILED"})],
    ids=["shipped", "failed-only"],
)
def test_pipeline_states_notify_as_the_settings_say(
    synth: Callable[[Settings], Synth], states: list[str] | None, notified: set[str]
) -> None:
    overrides = {"observability": {"pipeline_notify_states": states}} if states else {}
    doc = synth(make_settings("dev", **overrides))["platform"]
    pattern, pipeline = rule(doc, "cicd-dev-pipeline-state"), names(doc)["pipeline"]
    for state in ("STARTED", "STOPPING", "STOPPED", "SUCCEEDED", "SUPERSEDED", "FAILED", "CANCELED", "RESUMED"):
        assert pattern.matches_event(execution(pipeline, state)) is (state in notified), state
    assert not pattern.matches_event(execution(pipeline.replace("dev", "staging"), "FAILED"))
    assert not pattern.matches_event(
        changed(execution(pipeline, "FAILED"), "detail-type", "CodePipeline Stage Execution State Change")
    )


def test_the_history_records_every_state_of_this_pipeline_only(dev: Synth) -> None:
    doc = dev["platform"]
    pattern, pipeline = rule(doc, "cicd-dev-pipeline-history"), names(doc)["pipeline"]
    for state in ("STARTED", "SUCCEEDED", "FAILED", "STOPPED", "SUPERSEDED"):
        assert pattern.matches_event(execution(pipeline, state))
    assert not pattern.matches_event(execution(pipeline.replace("dev", "staging"), "FAILED"))
    assert not pattern.matches_event(changed(execution(pipeline, "FAILED"), "source", "aws.codebuild"))
    stage = changed(execution(pipeline, "FAILED"), "detail-type", "CodePipeline Action Execution State Change")
    assert not pattern.matches_event(stage)


def test_only_a_new_source_zip_in_this_environments_bucket_starts_the_pipeline(dev: Synth) -> None:
    doc = dev["platform"]
    pattern, bucket = rule(doc, "cicd-source-changed-dev"), names(doc)["source_bucket"]
    assert pattern.matches_event(created(bucket, "source.zip"))
    assert not pattern.matches_event(created(bucket, "other/source.zip"))
    assert not pattern.matches_event(created(bucket, "source.zip.tmp"))
    assert not pattern.matches_event(created(bucket.replace("dev", "prod"), "source.zip"))
    assert not pattern.matches_event(changed(created(bucket, "source.zip"), "detail-type", "Object Deleted"))
    assert not pattern.matches_event(changed(created(bucket, "source.zip"), "source", "aws.s3control"))


def test_every_rule_of_the_platform_is_covered_above(dev: Synth) -> None:
    assert sorted(r["name"] for r in resources(dev["platform"], "aws_cloudwatch_event_rule").values()) == [
        "cicd-dev-ecr-scan-findings",
        "cicd-dev-ecs-deployment-failed",
        "cicd-dev-pipeline-history",
        "cicd-dev-pipeline-state",
        "cicd-source-changed-dev",
    ]


def test_every_rule_says_what_it_is_for(dev: Synth) -> None:
    # The description is what an on-call engineer reads in the EventBridge console before the
    # pattern; PutRule: "Description ... Length Constraints: Maximum length of 512."
    descriptions = [r.get("description") for r in resources(dev["platform"], "aws_cloudwatch_event_rule").values()]
    assert all(isinstance(d, str) and 0 < len(d) <= 512 for d in descriptions), descriptions
    assert len(set(descriptions)) == len(descriptions), descriptions


def notice(doc: dict[str, Any], rule_name: str, sample: dict[str, Any]) -> str:
    """What the topic receives for ``sample``: the rule's notification target's input
    transformer applied by moto's implementation of EventBridge's (its input paths are JSONPath
    into the event; each <name> in the template is replaced by what its path finds)."""
    (target,) = [
        t
        for t in resources(doc, "aws_cloudwatch_event_target").values()
        if resolve(doc, t["rule"]) == rule_name and t["arn"].startswith("${aws_sns_topic.")
    ]
    transformer = target["input_transformer"]
    return str(
        EventTemplateParser.parse(
            input_template=transformer["input_template"],
            input_paths_map=transformer["input_paths"],
            event={**sample, "ingestion-time": "2026-12-01T10:00:01Z"},  # type: ignore[typeddict-item]  # moto types an event as a TypedDict
        )
    )


def test_each_notice_is_one_sentence_read_out_of_the_event_aws_sends(dev: Synth) -> None:
    # A path the event does not have leaves its <name> in the sentence (EventBridge sends null):
    # every path must find its value in AWS's sample of the event the rule matches.
    doc, n = dev["platform"], names(dev["platform"])
    arn = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/{n['cluster']}/{n['service']}"
    assert notice(doc, "cicd-dev-pipeline-state", execution(n["pipeline"], "FAILED")) == (
        f"Pipeline {n['pipeline']} execution 01234567-0123-0123-0123-012345678901 entered state FAILED."
    )
    assert notice(doc, "cicd-dev-ecs-deployment-failed", deployment(arn, "SERVICE_DEPLOYMENT_FAILED")) == (
        f"ECS deployment ecs-svc/1234567890123456789 of {arn} failed: "
        "ECS deployment circuit breaker: task failed to start."
    )
    assert notice(doc, "cicd-dev-ecr-scan-findings", scan(n["repository"], {"CRITICAL": 2, "HIGH": 5})) == (
        f"Image {n['repository']}:v1 scan found 2 CRITICAL and 5 HIGH vulnerabilities."
    )

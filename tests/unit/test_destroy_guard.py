"""What stops `make destroy`, decided on state as `terraform show -json` prints it and on
the target's buckets and repositories (moto in process, real boto3 calls).

The integration scenarios prove the whole teardown on the emulator; these pin each
decision: which resource is a protection, which one blocks, what the override lifts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.helpers import make_settings
from tools.aws_target import AwsTarget
from tools.destroy_guard import Protection, blockers, delete_every_version, lift_override, protections

REGION = "us-east-1"


def resource(rtype: str, label: str, **values: Any) -> dict[str, Any]:
    """One resource of ``terraform show -json`` state output (mode, type, name, values, ...)."""
    return {
        "address": f"{rtype}.{label}",
        "mode": "managed",
        "type": rtype,
        "name": label,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "schema_version": 0,
        "values": values,
        "sensitive_values": {},
    }


def state(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "format_version": "1.0",
        "terraform_version": "1.11.4",
        "values": {"root_module": {"resources": list(resources)}},
    }


#: A prod-like platform state: every kind of protection, and each kind's unprotected twin.
PLATFORM = state(
    resource("aws_lb", "alb", name="cicd-prod", enable_deletion_protection=True, internal=False),
    resource("aws_lb", "internal", name="cicd-prod-int", enable_deletion_protection=False),
    resource("aws_dynamodb_table", "history", name="cicd-history-prod", deletion_protection_enabled=True),
    resource("aws_dynamodb_table", "scratch", name="cicd-scratch-prod", deletion_protection_enabled=False),
    resource("aws_s3_bucket", "artifacts", bucket="cicd-artifacts-prod", force_destroy=False),
    resource("aws_s3_bucket", "cicd-logs-dev", bucket="cicd-logs-prod", force_destroy=True),
    # A bucket imported without the attribute in state is not claimed to be protected.
    resource("aws_s3_bucket", "imported", bucket="cicd-imported-prod"),
    resource("aws_ecr_repository", "app", name="cicd-app-prod", force_delete=False),
    resource("aws_ecr_repository", "cache", name="cicd-cache-prod", force_delete=True),
    resource("aws_ecr_repository", "legacy", name="cicd-legacy-prod"),
    resource("aws_sqs_queue", "dlq", name="cicd-dlq-prod", deletion_protection=True),
)


def test_each_kind_of_protection_is_found_with_what_lifts_it() -> None:
    found = protections("platform-prod", PLATFORM)
    assert found == [
        Protection(
            "platform-prod",
            "aws_lb.alb",
            "load balancer",
            "cicd-prod",
            "deletion protection on",
            ("enable_deletion_protection", False),
        ),
        Protection(
            "platform-prod",
            "aws_dynamodb_table.history",
            "table",
            "cicd-history-prod",
            "deletion protection on",
            ("deletion_protection_enabled", False),
        ),
        Protection(
            "platform-prod",
            "aws_s3_bucket.artifacts",
            "bucket",
            "cicd-artifacts-prod",
            "kept unless empty (force_destroy off)",
            None,
        ),
        Protection(
            "platform-prod",
            "aws_ecr_repository.app",
            "repository",
            "cicd-app-prod",
            "kept unless empty (force_delete off)",
            None,
        ),
    ]
    assert str(found[0]) == "load balancer cicd-prod (platform-prod): deletion protection on"


@pytest.mark.parametrize(
    "empty",
    [{}, {"values": None}, {"values": {}}, {"values": {"root_module": None}}, {"values": {"root_module": {}}}],
    ids=["no-state", "values-null", "no-root-module", "root-module-null", "no-resources"],
)
def test_a_stack_with_nothing_in_state_has_no_protections(empty: dict[str, Any]) -> None:
    assert protections("platform-dev", empty) == []


def test_a_resource_without_values_is_not_a_protection() -> None:
    bare = resource("aws_lb", "alb")
    bare["values"] = None
    assert protections("platform-dev", state(bare)) == []


def test_the_override_turns_off_only_what_can_be_lifted() -> None:
    assert lift_override(protections("platform-prod", PLATFORM)) == {
        "resource": {
            "aws_lb": {"alb": {"enable_deletion_protection": False}},
            "aws_dynamodb_table": {"history": {"deletion_protection_enabled": False}},
        }
    }
    # Buckets and repositories are emptied, never forced: nothing to override.
    only_kept = [p for p in protections("platform-prod", PLATFORM) if p.lift is None]
    assert len(only_kept) == 2
    assert lift_override(only_kept) == {}


def test_two_protections_of_one_type_share_the_types_override() -> None:
    doc = state(
        resource("aws_lb", "a", name="a", enable_deletion_protection=True),
        resource("aws_lb", "b", name="b", enable_deletion_protection=True),
    )
    assert lift_override(protections("s", doc)) == {
        "resource": {"aws_lb": {"a": {"enable_deletion_protection": False}, "b": {"enable_deletion_protection": False}}}
    }


@pytest.fixture
def target() -> Iterator[AwsTarget]:
    with mock_aws():
        yield AwsTarget("local", make_settings("dev"), {})


def versioned_bucket(name: str) -> Any:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3


def test_a_protected_bucket_with_objects_blocks_and_names_a_sample(target: AwsTarget) -> None:
    s3 = versioned_bucket("cicd-artifacts-prod")
    for key in ("d", "c", "b", "a"):
        s3.put_object(Bucket="cicd-artifacts-prod", Key=key, Body=b"x")
    found = [p for p in protections("platform-prod", PLATFORM) if p.kind == "bucket"]
    assert blockers(found, target, {}) == [
        "bucket cicd-artifacts-prod holds 4 object(s) (e.g. a, b, c) and has force_destroy off"
    ]


def test_a_delete_marker_alone_still_blocks_a_versioned_bucket(target: AwsTarget) -> None:
    """S3 refuses to delete a bucket while any version or delete marker remains."""
    s3 = versioned_bucket("cicd-artifacts-prod")
    s3.put_object(Bucket="cicd-artifacts-prod", Key="gone", Body=b"x")
    s3.delete_object(Bucket="cicd-artifacts-prod", Key="gone")  # a delete marker on top of the version
    versions = s3.list_object_versions(Bucket="cicd-artifacts-prod")
    s3.delete_object(Bucket="cicd-artifacts-prod", Key="gone", VersionId=versions["Versions"][0]["VersionId"])
    found = [p for p in protections("platform-prod", PLATFORM) if p.kind == "bucket"]
    (blocked,) = blockers(found, target, {})
    assert "holds 1 object(s) (e.g. gone)" in blocked


def test_the_tools_own_state_objects_do_not_block(target: AwsTarget) -> None:
    s3 = versioned_bucket("cicd-artifacts-prod")
    s3.put_object(Bucket="cicd-artifacts-prod", Key="cicd/prod/platform.tfstate", Body=b"{}")
    found = [p for p in protections("platform-prod", PLATFORM) if p.kind == "bucket"]
    own = {"cicd-artifacts-prod": {"cicd/prod/platform.tfstate"}}
    assert blockers(found, target, own) == []
    # Another object beside them still blocks, and is the one named.
    s3.put_object(Bucket="cicd-artifacts-prod", Key="build/output.zip", Body=b"x")
    assert blockers(found, target, own) == [
        "bucket cicd-artifacts-prod holds 1 object(s) (e.g. build/output.zip) and has force_destroy off"
    ]


def test_empty_protected_resources_and_lifted_protections_do_not_block(target: AwsTarget) -> None:
    versioned_bucket("cicd-artifacts-prod")
    boto3.client("ecr", region_name=REGION).create_repository(repositoryName="cicd-app-prod")
    assert blockers(protections("platform-prod", PLATFORM), target, {}) == []


def test_a_protected_repository_with_images_blocks(target: AwsTarget) -> None:
    versioned_bucket("cicd-artifacts-prod")
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName="cicd-app-prod")
    for tag in ("v1", "v2"):
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": "sha256:" + tag * 32},
            }
        )
        ecr.put_image(repositoryName="cicd-app-prod", imageManifest=manifest, imageTag=tag)
    assert blockers(protections("platform-prod", PLATFORM), target, {}) == [
        "repository cicd-app-prod holds 2 image(s) and has force_delete off"
    ]


def test_deleting_the_tools_own_objects_leaves_everything_else(target: AwsTarget) -> None:
    s3 = versioned_bucket("state")
    for key in ("own.tfstate", "keep.tfstate"):
        s3.put_object(Bucket="state", Key=key, Body=b"1")
        s3.put_object(Bucket="state", Key=key, Body=b"2")
    s3.delete_object(Bucket="state", Key="own.tfstate")  # and a delete marker
    delete_every_version(target, "state", ["own.tfstate"])
    left = s3.list_object_versions(Bucket="state")
    assert {v["Key"] for v in left.get("Versions", [])} == {"keep.tfstate"}
    assert len(left["Versions"]) == 2
    assert left.get("DeleteMarkers", []) == []


def test_deleting_every_version_empties_the_bucket(target: AwsTarget) -> None:
    s3 = versioned_bucket("cicd-logs-dev")
    for key in ("a", "b"):
        s3.put_object(Bucket="cicd-logs-dev", Key=key, Body=b"1")
    s3.delete_object(Bucket="cicd-logs-dev", Key="a")
    delete_every_version(target, "cicd-logs-dev", None)
    left = s3.list_object_versions(Bucket="cicd-logs-dev")
    assert left.get("Versions", []) == []
    assert left.get("DeleteMarkers", []) == []
    s3.delete_bucket(Bucket="cicd-logs-dev")  # S3's own test that nothing is left


def test_every_image_is_counted_past_a_page(target: AwsTarget) -> None:
    versioned_bucket("cicd-artifacts-prod")
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName="cicd-app-prod")
    for i in range(101):  # ECR's list_images pages at 100 by default
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"digest": f"sha256:{i:064x}"}}  # fmt: skip
        ecr.put_image(repositoryName="cicd-app-prod", imageManifest=json.dumps(manifest), imageTag=f"v{i}")
    assert blockers(protections("platform-prod", PLATFORM), target, {}) == [
        "repository cicd-app-prod holds 101 image(s) and has force_delete off"
    ]


def test_a_bucket_holding_only_delete_markers_or_only_versions_is_emptied(target: AwsTarget) -> None:
    s3 = versioned_bucket("cicd-markers-dev")
    s3.put_object(Bucket="cicd-markers-dev", Key="k", Body=b"1")
    s3.delete_object(Bucket="cicd-markers-dev", Key="k")
    (version,) = s3.list_object_versions(Bucket="cicd-markers-dev")["Versions"]
    s3.delete_object(Bucket="cicd-markers-dev", Key="k", VersionId=version["VersionId"])
    assert "Versions" not in s3.list_object_versions(Bucket="cicd-markers-dev")  # a page of markers only
    delete_every_version(target, "cicd-markers-dev", None)
    s3.delete_bucket(Bucket="cicd-markers-dev")
    s3 = versioned_bucket("cicd-versions-dev")
    s3.put_object(Bucket="cicd-versions-dev", Key="k", Body=b"1")
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket="cicd-versions-dev")  # versions only
    delete_every_version(target, "cicd-versions-dev", ["k"])
    s3.delete_bucket(Bucket="cicd-versions-dev")


def test_an_object_s3_refuses_to_delete_stops_the_teardown_naming_it(target: AwsTarget) -> None:
    """An object under legal hold (or any per-object error) would leave the bucket undeletable."""
    versioned_bucket("cicd-held-dev")

    class Refusing:
        def get_paginator(self, name: str) -> Any:
            return boto3.client("s3", region_name=REGION).get_paginator(name)

        def delete_objects(self, **_: Any) -> dict[str, Any]:
            return {"Errors": [{"Key": "held.bin", "VersionId": "v1", "Code": "AccessDenied", "Message": "legal hold"}]}

    boto3.client("s3", region_name=REGION).put_object(Bucket="cicd-held-dev", Key="held.bin", Body=b"x")
    refusing = AwsTarget("local", make_settings("dev"), {})
    refusing.client = lambda service: Refusing()  # type: ignore[method-assign]
    with pytest.raises(RuntimeError) as error:
        delete_every_version(refusing, "cicd-held-dev", None)
    assert str(error.value) == (
        "could not delete 1 object version(s) from cicd-held-dev, e.g. held.bin (AccessDenied: legal hold)"
    )

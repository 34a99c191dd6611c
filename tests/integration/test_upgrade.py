"""Upgrading a deployment of the last release, whose buckets had no account or region in
their names, to this code on the emulator (README: Upgrading to account-scoped bucket names).

The last release is the commit that landed before the rename, taken from this repository's
own history (``git archive``) and deployed with its own deploy tool into an emulator run by
this code (so the emulator layer is this code's). Then, with this code: the plan creates the
new buckets and forgets the old ones without destroying anything; ``deploy`` moves both
states (lineage kept, serial continued) and leaves every old bucket and object in place;
``retire-legacy`` deletes the old buckets only when confirmed by name. The security plan
(same worker, ``tests/conftest.py`` GROUPS) reads this upgraded deployment too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import ENVIRONMENT
from tests.integration.upgrade import MARKERS, OLD, STATE_KEYS, Upgrade, new_name, state_version

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def upgraded_aws(upgraded: Upgrade) -> Callable[[str], Any]:
    return upgraded.deployment.client


def test_the_upgrade_plan_creates_and_forgets_but_destroys_nothing(upgraded: Upgrade) -> None:
    for kind, actions in upgraded.planned.items():
        deleted = [a for a, act in actions.items() if act == ["delete"]]
        # Only the pull-through cache rule goes (images are mirrored now; it holds no data).
        expected = ["aws_ecr_pull_through_cache_rule.registry_ecr-public-cache_0B1369B5"] if kind == "platform" else []
        assert deleted == expected, f"{kind}: the upgrade plan deletes {deleted}"
        replaced = [a for a, act in actions.items() if "create" in act and "delete" in act]
        # Subnets keep their zones; the task definition gets a new revision (the images now come
        # from the mirror), as on every image change: ECS task definitions are immutable.
        expected = ["aws_ecs_task_definition.service_task_93374F48"] if kind == "platform" else []
        assert replaced == expected, f"{kind}: the upgrade plan replaces {replaced}"
        forgotten = sorted(a for a, act in actions.items() if act == ["forget"])
        buckets = [a for a in forgotten if a.startswith("aws_s3_bucket.")]
        assert len(buckets) == (2 if kind == "state-backend" else 3), forgotten
        created = [a for a, act in actions.items() if act == ["create"] and a.startswith("aws_s3_bucket.")]
        # Each renamed bucket is created under its new name; the cross-region replicas are new.
        renamed = [a for a in created if "-replica_" not in a]
        assert len(renamed) == len(buckets), created
    assert "**Upgrade:**" in upgraded.plan_summary
    assert f"s3://{OLD['tfstate']}" in upgraded.plan_summary


def test_both_states_moved_with_lineage_and_serial_continued(
    upgraded: Upgrade, upgraded_aws: Callable[[str], Any]
) -> None:
    s3 = upgraded_aws("s3")
    for kind, key in STATE_KEYS.items():
        lineage, serial = state_version(s3, new_name("tfstate"), key)
        assert lineage == upgraded.before[kind][0], kind
        assert serial > upgraded.before[kind][1], kind  # the apply after the move wrote it again
        assert f"{kind}-{ENVIRONMENT}: moving its state from s3://{OLD['tfstate']}/{key}" in upgraded.deploy_log
    assert upgraded.deployment.outputs["state_bucket"] == new_name("tfstate")
    assert upgraded.deployment.outputs["artifact_bucket"] == new_name("artifacts")


def test_old_buckets_objects_and_state_history_are_still_there(
    upgraded: Upgrade, upgraded_aws: Callable[[str], Any]
) -> None:
    s3 = upgraded_aws("s3")
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert set(OLD.values()) <= names
    assert {new_name(c) for c in OLD} <= names
    for component, key in MARKERS.items():
        assert s3.get_object(Bucket=OLD[component], Key=key)["Body"].read() == b"kept across the upgrade"
    for key in STATE_KEYS.values():  # the old state object, with its versions: history
        versions = s3.list_object_versions(Bucket=OLD["tfstate"], Prefix=key)["Versions"]
        assert len(versions) >= 2, key


def test_retire_needs_confirmation_then_deletes_only_what_the_last_release_left(
    upgraded: Upgrade, upgraded_aws: Callable[[str], Any]
) -> None:
    s3, ecr = upgraded_aws("s3"), upgraded_aws("ecr")
    # What ECR creates on AWS at a first pull through the old cache rule (the emulator pulls nothing).
    ecr.create_repository(repositoryName=f"cicd-ecrpub-{ENVIRONMENT}/xray/aws-xray-daemon")
    mirrored = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]
                if r["repositoryName"].startswith("cicd-mirror-")}  # fmt: skip
    assert len(mirrored) == 2
    refused = upgraded.deployment.cli("retire-legacy", check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"--confirm {ENVIRONMENT}" in refused.stderr
    assert set(OLD.values()) <= {b["Name"] for b in s3.list_buckets()["Buckets"]}

    done = upgraded.deployment.cli("retire-legacy", "--confirm", ENVIRONMENT)
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert not set(OLD.values()) & names, done.stdout
    assert {new_name(c) for c in OLD} <= names
    repositories = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    assert not any(r.startswith("cicd-ecrpub-") for r in repositories)
    assert mirrored <= repositories
    again = upgraded.deployment.cli("retire-legacy", "--confirm", ENVIRONMENT)
    assert "nothing to do" in again.stdout

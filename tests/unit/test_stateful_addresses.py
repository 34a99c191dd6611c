"""The terraform addresses of everything that holds data stay what existing deployments hold.

Construct ids decide terraform addresses; a changed address destroys and re-creates the key,
bucket, table, secret, repository or log group in every existing deployment (and its data
with it) unless a ``moved`` block says where it went. This list is what deployed
environments hold today: change it only together with a ``moved`` block. Every other
address of dev and prod is pinned too (``tests/fixtures/addresses.json``), in the fast tests
where a refactor is checked first (the snapshots in ``tests/snapshot`` pin whole documents).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STATEFUL_TYPES = (
    "aws_kms_key", "aws_kms_alias", "aws_s3_bucket", "aws_dynamodb_table", "aws_secretsmanager_secret",
    "aws_ecr_repository", "aws_cloudwatch_log_group",
)  # fmt: skip

#: prod: every stateful resource dev has, plus the replicas in the recovery region.
PROD = {
    "state": [
        "aws_kms_key.state-replica_key_this_EC6D559A", "aws_kms_key.state_key_this_5ABC0104",
        "aws_kms_alias.state-replica_key_alias_2AE7919D", "aws_kms_alias.state_key_alias_D8D2FE24",
        "aws_s3_bucket.state-replica_access-logs_account-scoped_this_6145EE2F",
        "aws_s3_bucket.state-replica_bucket_account-scoped_this_3CD7D724",
        "aws_s3_bucket.state_access-logs_account-scoped_this_0C80DF7C",
        "aws_s3_bucket.state_bucket_account-scoped_this_83D2C1D1",
        "aws_dynamodb_table.state_lock-table_6543B35D",
    ],
    "platform": [
        "aws_kms_key.artifacts-replica_key_this_202A5FCE", "aws_kms_key.key_this_9679008C",
        "aws_kms_alias.artifacts-replica_key_alias_8BA56669", "aws_kms_alias.key_alias_9418169B",
        "aws_s3_bucket.artifacts-replica_access-logs_account-scoped_this_2D80F728",
        "aws_s3_bucket.artifacts-replica_bucket_account-scoped_this_B401E04E",
        "aws_s3_bucket.artifacts-replica_source_account-scoped_this_5FF86F9A",
        "aws_s3_bucket.artifacts_account-scoped_this_66DACC45",
        "aws_s3_bucket.load-balancer_access-logs_account-scoped_this_2AA20F1A",
        "aws_s3_bucket.pipeline_source_account-scoped_this_35C7ECB2",
        "aws_secretsmanager_secret.secrets_app_96A2CC20", "aws_secretsmanager_secret.secrets_orchestrator_21A8F591",
        "aws_ecr_repository.mirror_bootstrap_repository_013BBB2E",
        "aws_ecr_repository.mirror_xray-daemon_repository_756F22FB", "aws_ecr_repository.registry_this_702185B3",
        "aws_cloudwatch_log_group.edge_log-group_this_0FE89630",
        "aws_cloudwatch_log_group.mirror_log-group_this_96C4CAC3",
        "aws_cloudwatch_log_group.network_flow-log-group_this_20B64503",
        "aws_cloudwatch_log_group.orchestrator_log-group_this_3E744A91",
        "aws_cloudwatch_log_group.pipeline_build-log-group_this_2950A8EC",
        "aws_cloudwatch_log_group.pipeline_pipeline-log-group_this_ABDA8CEB",
        "aws_cloudwatch_log_group.service_insights-log-group_this_C2FF5DEF",
        "aws_cloudwatch_log_group.service_log-group_this_30F5624C",
    ],
    "access": [],
}  # fmt: skip


def stateful(doc: dict[str, Any]) -> list[str]:
    return [f"{t}.{name}" for t in STATEFUL_TYPES for name in sorted(doc.get("resource", {}).get(t, {}))]


def test_every_resource_that_holds_data_keeps_its_address(prod: dict[str, dict[str, Any]]) -> None:
    assert {stack: stateful(doc) for stack, doc in prod.items()} == PROD


def test_dev_holds_the_same_addresses_without_the_replicas(dev: dict[str, dict[str, Any]]) -> None:
    expected = {stack: [a for a in addresses if "-replica_" not in a] for stack, addresses in PROD.items()}
    assert {stack: stateful(doc) for stack, doc in dev.items()} == expected


#: Every resource address of dev and prod, as deployed environments hold them today.
ADDRESSES = Path(__file__).resolve().parent.parent / "fixtures" / "addresses.json"


def test_no_resource_moves_without_a_moved_block(
    dev: dict[str, dict[str, Any]], prod: dict[str, dict[str, Any]]
) -> None:
    # Beyond the ones holding data: a moved listener, rule or alarm is destroyed and created again
    # (a gap in service, an alarm's history gone). Add a `moved` block for a refactor, then the
    # new address here; a new resource is only added here.
    expected = json.loads(ADDRESSES.read_text())
    for env, docs in (("dev", dev), ("prod", prod)):
        found = {stack: sorted(f"{t}.{n}" for t, rs in doc.get("resource", {}).items() for n in rs)
                 for stack, doc in sorted(docs.items())}  # fmt: skip
        for stack, addresses in expected[env].items():
            gone = sorted(set(addresses) - set(found[stack]))
            new = sorted(set(found[stack]) - set(addresses))
            assert (gone, new) == ([], []), f"{env} {stack}: gone {gone}, new {new}"

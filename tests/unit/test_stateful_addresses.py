"""The terraform addresses of dev and prod stay what existing deployments hold.

Construct ids decide terraform addresses; a changed address destroys and re-creates the resource
in every existing deployment unless a ``moved`` block says where it went: for a key, bucket,
table, secret, repository or log group, its data goes with it. ``tests/fixtures/addresses.json``
is what deployed environments hold today: change it only together with a ``moved`` block (a new
resource is only added to it). The fast tests check it where a refactor is checked first (the
snapshots in ``tests/snapshot`` pin whole documents).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

#: Every resource address of dev and prod, as deployed environments hold them today.
ADDRESSES = Path(__file__).resolve().parent.parent / "fixtures" / "addresses.json"
EXPECTED: dict[str, dict[str, list[str]]] = json.loads(ADDRESSES.read_text())
STATEFUL_TYPES = (
    "aws_kms_key", "aws_kms_alias", "aws_s3_bucket", "aws_dynamodb_table", "aws_secretsmanager_secret",
    "aws_ecr_repository", "aws_cloudwatch_log_group",
)  # fmt: skip


def addresses(doc: dict[str, Any]) -> list[str]:
    return sorted(f"{t}.{name}" for t, resources in doc.get("resource", {}).items() for name in resources)


def stateful(found: Collection[str]) -> list[str]:
    """The addresses of resources that hold data, by type in STATEFUL_TYPES' order."""
    return [a for t in STATEFUL_TYPES for a in sorted(found) if a.split(".")[0] == t]


def test_every_resource_that_holds_data_keeps_its_address(prod: dict[str, dict[str, Any]]) -> None:
    expected = {stack: stateful(found) for stack, found in EXPECTED["prod"].items()}
    assert {stack: stateful(addresses(doc)) for stack, doc in prod.items()} == expected


def test_dev_holds_the_same_addresses_without_the_replicas(dev: dict[str, dict[str, Any]]) -> None:
    prod = {stack: stateful(found) for stack, found in EXPECTED["prod"].items()}
    expected = {stack: [a for a in found if "-replica_" not in a] for stack, found in prod.items()}
    assert {stack: stateful(addresses(doc)) for stack, doc in dev.items()} == expected


def test_no_resource_moves_without_a_moved_block(
    dev: dict[str, dict[str, Any]], prod: dict[str, dict[str, Any]]
) -> None:
    # Beyond the ones holding data: a moved listener, rule or alarm is destroyed and created again
    # (a gap in service, an alarm's history gone). Add a `moved` block for a refactor, then the
    # new address here; a new resource is only added here.
    for env, docs in (("dev", dev), ("prod", prod)):
        found = {stack: addresses(doc) for stack, doc in sorted(docs.items())}
        for stack, expected in EXPECTED[env].items():
            gone = sorted(set(expected) - set(found[stack]))
            new = sorted(set(found[stack]) - set(expected))
            assert (gone, new) == ([], []), f"{env} {stack}: gone {gone}, new {new}"

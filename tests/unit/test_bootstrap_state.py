"""The state-backend stack's first migration into its own bucket, when the lock request that
``terraform init -migrate-state`` sends is stored and then retried (the run then finds its own
lock): the migration releases exactly that lock and goes on; any other holder stops it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.helpers import make_settings
from tools.aws_target import AwsTarget
from tools.bootstrap_state import BootstrapState
from tools.state_lock import this_machine

BUCKET, KEY, TABLE = "cicd-tfstate-dev-123456789012-us-east-1", "cicd/dev/state-backend.tfstate", "cicd-tflock-dev"


def lock_output(who: str, created: datetime, lock_id: str = "e448de39-f684-ebd6-b3fa-183c67adda89") -> str:
    """What terraform 1.11 prints when the destination's lock is taken (as seen on the emulator)."""
    return (
        "terraform init -input=false -no-color -migrate-state -force-copy failed in state-backend-dev (exit 1):\n"
        "Error: Error acquiring the state lock\n\nError message: operation error DynamoDB: PutItem, "
        "ConditionalCheckFailedException: The conditional request failed\nLock Info:\n"
        f"  ID:        {lock_id}\n  Path:      {BUCKET}/{KEY}\n  Operation: migration destination state\n"
        f"  Who:       {who}\n  Version:   1.11.4\n"
        f"  Created:   {created:%Y-%m-%d %H:%M:%S}.194461393 +0000 UTC\n  Info:\n"
    )


@dataclass
class Stack:
    dir: Path

    def initialized(self) -> bool:
        return False

    def mark_initialized(self) -> None:
        pass


@dataclass
class Account:
    """The bucket side: the state object appears once a migration succeeded."""

    migrated: list[bool] = field(default_factory=list)
    released: list[tuple[str, str, str]] = field(default_factory=list)

    def object_exists(self, bucket: str, key: str) -> bool:
        return bool(self.migrated)

    def release_own_lock(self, table: str, lock_path: str, lock_id: str) -> None:
        self.released.append((table, lock_path, lock_id))


def bootstrap(tmp_path: Path, account: Account, failures: list[str]) -> tuple[BootstrapState, list[tuple[str, ...]]]:
    backend = {"bucket": BUCKET, "key": KEY, "region": "us-east-1", "dynamodb_table": TABLE}
    (tmp_path / "cdk.tf.json").write_text(json.dumps({"terraform": {"backend": {"s3": backend}}}))
    calls: list[tuple[str, ...]] = []

    def run(*args: str) -> tuple[int, str]:
        calls.append(args)
        if failures:
            raise RuntimeError(failures.pop(0))
        account.migrated.append(True)
        return 0, ""

    state = BootstrapState(Stack(tmp_path), tmp_path / "local.tfstate", account, run)  # type: ignore[arg-type]
    return state, calls


def test_the_migrations_own_retried_lock_is_released_and_the_migration_repeated(tmp_path: Path) -> None:
    account = Account()
    state, calls = bootstrap(tmp_path, account, [lock_output(this_machine(), datetime.now(UTC))])
    (tmp_path / "local.tfstate").write_text("{}")
    state.migrate_to_bucket()
    assert account.released == [(TABLE, f"{BUCKET}/{KEY}", "e448de39-f684-ebd6-b3fa-183c67adda89")]
    assert calls == [("init", "-input=false", "-no-color", "-migrate-state", "-force-copy")] * 2
    assert not (tmp_path / "local.tfstate").exists()  # migrated: the local copy goes


@pytest.mark.parametrize(
    "output",
    [
        lock_output("alice@laptop", datetime.now(UTC)),  # another machine: nothing here can tell
        lock_output(this_machine(), datetime.now(UTC) - timedelta(minutes=5)),  # before this migration
        "terraform init failed in state-backend-dev (exit 1):\nError: Failed to get existing workspaces",
    ],
    ids=["another-machine", "older-than-this-run", "not-a-lock"],
)
def test_any_other_failure_stops_the_migration_and_releases_nothing(tmp_path: Path, output: str) -> None:
    account = Account()
    state, calls = bootstrap(tmp_path, account, [output])
    with pytest.raises(RuntimeError, match="failed in state-backend-dev"):
        state.migrate_to_bucket()
    assert account.released == []
    assert len(calls) == 1


@mock_aws
def test_release_deletes_the_lock_only_while_it_holds_that_id() -> None:
    target = AwsTarget("local", make_settings("dev"), {})
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    key: dict[str, Any] = {"LockID": {"S": f"{BUCKET}/{KEY}"}}
    dynamodb.put_item(TableName=TABLE, Item={**key, "Info": {"S": json.dumps({"ID": "ours"})}})
    target.release_own_lock(TABLE, f"{BUCKET}/{KEY}", "theirs")  # another run's lock now: kept
    assert "Item" in dynamodb.get_item(TableName=TABLE, Key=key)
    target.release_own_lock(TABLE, f"{BUCKET}/{KEY}", "ours")
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):  # any other error is the caller's
        target.release_own_lock("no-such-table", f"{BUCKET}/{KEY}", "ours")

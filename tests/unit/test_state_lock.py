"""Which state locks the deploy tool releases by itself, and which it refuses.

The real run (terraform, the emulator, a lock from another machine refused and
then released by the printed command) is in tests/integration/test_day_two.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tools.deploy import Deployer, Refused, Workspace
from tools.state_lock import LockInfo, lock_error, taken_by_this_run, this_machine

LOCK_ID = "da27f9c6-c54e-37af-33b7-fa26e39bde1e"


def terraform_lock_error(who: str, created: datetime, operation: str = "OperationTypePlan") -> str:
    """terraform 1.11's own words (copied from a real run), with the holder filled in."""
    return f"""Acquiring state lock. This may take a few moments...

Error: Error acquiring the state lock

Error message: operation error DynamoDB: PutItem, https response error
StatusCode: 400, RequestID: ZErzav5OI44JgVRPPNR7719BtklidNo3H0r1HqH7rJfONFzXAtM0,
ConditionalCheckFailedException: The conditional request failed
Lock Info:
  ID:        {LOCK_ID}
  Path:      cicd-tfstate-it/cicd/it/terraform.tfstate
  Operation: {operation}
  Who:       {who}
  Version:   1.11.4
  Created:   {created:%Y-%m-%d %H:%M:%S}.194461393 +0000 UTC
  Info:


Terraform acquires a state lock to protect the state from being written
by multiple users at the same time.
"""


class ScriptedTerraform:
    """Stands in for tools.terraform.Terraform: answers each run from a script."""

    def __init__(self, directory: Path, answers: list[tuple[int, str]]) -> None:
        self.dir = directory
        self.answers = answers
        self.calls: list[tuple[str, ...]] = []
        self.running = False

    def run(self, *args: str, progress: bool = False, check: bool = True) -> tuple[int, str]:
        self.calls.append(args)
        return (0, "") if args[0] == "force-unlock" else self.answers.pop(0)


def deployer(tmp_path: Path) -> Deployer:
    return Deployer("dev", "local", Workspace.under(tmp_path / "ws"))


def test_terraforms_lock_report_is_read() -> None:
    created = datetime(2026, 11, 30, 21, 30, 1, tzinfo=UTC)
    assert lock_error(terraform_lock_error("root@vm", created)) == LockInfo(
        LOCK_ID, "root@vm", "OperationTypePlan", created
    )
    assert lock_error("Error: Invalid provider configuration") is None


def test_only_a_lock_taken_here_by_the_same_operation_since_the_start_is_the_runs_own() -> None:
    started = datetime.now(UTC)
    lock = lock_error(terraform_lock_error(this_machine(), started))
    assert lock is not None
    assert taken_by_this_run(lock, "plan", started)
    assert not taken_by_this_run(lock, "apply", started)  # a second terminal's apply
    assert not taken_by_this_run(lock, "plan", started + timedelta(seconds=5))  # taken before this run
    foreign = lock_error(terraform_lock_error("alice@laptop", started))
    assert foreign is not None
    assert not taken_by_this_run(foreign, "plan", started)


def test_the_runs_own_leftover_lock_is_released_and_the_run_repeated(tmp_path: Path) -> None:
    tf = ScriptedTerraform(tmp_path, [(1, terraform_lock_error(this_machine(), datetime.now(UTC))), (2, "changes")])
    assert deployer(tmp_path).locked(tf, "plan", "-lock-timeout=10s") == (2, "changes")  # type: ignore[arg-type]
    assert tf.calls == [
        ("plan", "-lock-timeout=10s"),
        ("force-unlock", "-force", LOCK_ID),
        ("plan", "-lock-timeout=10s"),
    ]


def test_a_lock_from_another_machine_is_refused_with_the_command_to_release_it(tmp_path: Path) -> None:
    tf = ScriptedTerraform(
        tmp_path, [(1, terraform_lock_error("alice@laptop", datetime.now(UTC), "OperationTypeApply"))]
    )
    with pytest.raises(Refused) as refused:
        deployer(tmp_path).locked(tf, "apply")  # type: ignore[arg-type]
    message = str(refused.value)
    assert "is locked by alice@laptop since " in message
    assert f"(OperationTypeApply, lock {LOCK_ID}): another terraform run holds it" in message
    assert message.endswith(f"terraform -chdir={tmp_path} force-unlock -force {LOCK_ID}")
    assert tf.calls == [("apply",)]  # nothing released


def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_a_lock_left_here_by_a_killed_deploy_of_this_workspace_is_released(tmp_path: Path) -> None:
    d = deployer(tmp_path)
    d.ws.deploy_pid.parent.mkdir(parents=True)
    d.ws.deploy_pid.write_text(str(dead_pid()))
    d = deployer(tmp_path)  # reads the pid file before a deploy would write its own
    d.ws.deploy_pid.write_text(str(os.getpid()))  # as deploy() does next
    old = datetime(2026, 1, 1, tzinfo=UTC)
    tf = ScriptedTerraform(tmp_path, [(1, terraform_lock_error(this_machine(), old, "OperationTypeApply")), (0, "")])
    assert d.locked(tf, "apply")[0] == 0  # type: ignore[arg-type]
    assert ("force-unlock", "-force", LOCK_ID) in tf.calls


def test_a_killed_deploy_does_not_excuse_another_machines_lock(tmp_path: Path) -> None:
    d = deployer(tmp_path)
    d.ws.deploy_pid.parent.mkdir(parents=True)
    d.ws.deploy_pid.write_text(str(dead_pid()))
    tf = ScriptedTerraform(tmp_path, [(1, terraform_lock_error("alice@laptop", datetime(2026, 1, 1, tzinfo=UTC)))])
    with pytest.raises(Refused):
        deployer(tmp_path).locked(tf, "apply")  # type: ignore[arg-type]


def test_a_live_deploy_of_this_workspace_keeps_its_lock(tmp_path: Path) -> None:
    """Another terminal's deploy is running: even a lock that looks like this run's is left alone."""
    d = deployer(tmp_path)
    d.ws.deploy_pid.parent.mkdir(parents=True)
    d.ws.deploy_pid.write_text(str(os.getppid()))  # alive, and not this process
    tf = ScriptedTerraform(tmp_path, [(1, terraform_lock_error(this_machine(), datetime.now(UTC)))])
    with pytest.raises(Refused):
        d.locked(tf, "plan")  # type: ignore[arg-type]
    assert [c[0] for c in tf.calls] == ["plan"]


def test_the_holder_is_described_for_the_person_who_must_release_it() -> None:
    created = datetime(2026, 11, 30, 21, 30, 1, tzinfo=UTC)
    lock = LockInfo(LOCK_ID, "alice@laptop", "OperationTypeApply", created)
    assert lock.describe() == f"alice@laptop since 2026-11-30 21:30:01 UTC (OperationTypeApply, lock {LOCK_ID})"
    # A lock report that names no holder, operation or time still says what it is.
    assert LockInfo(LOCK_ID, "", "", None).describe() == f"an unknown holder (unknown operation, lock {LOCK_ID})"


def test_a_report_with_only_an_id_reads_as_an_unknown_holder() -> None:
    """Lock files written by other tools (or older terraform) may carry only an ID."""
    output = f"Error: Error acquiring the state lock\n\nLock Info:\n  ID:        {LOCK_ID}\n  Info:\n"
    assert lock_error(output) == LockInfo(LOCK_ID, "", "", None)


def test_an_unreadable_creation_time_is_unknown_not_a_crash() -> None:
    output = terraform_lock_error("alice@laptop", datetime(2026, 1, 1, tzinfo=UTC))
    output = output.replace("Created:   2026-01-01 00:00:00.194461393 +0000 UTC", "Created:   yesterday")
    lock = lock_error(output)
    assert lock == LockInfo(LOCK_ID, "alice@laptop", "OperationTypePlan", None)


def test_a_lock_error_without_a_lock_report_names_no_holder() -> None:
    assert lock_error("Error: Error acquiring the state lock\n\nError message: context deadline exceeded\n") is None
    # ... nor one whose report has no ID.
    assert lock_error("Error: Error acquiring the state lock\nLock Info:\n  Who: alice@laptop\n") is None


def test_only_the_lock_report_is_read() -> None:
    """Field-like lines terraform printed before the report (a provider's log line) are not the holder's."""
    created = datetime(2026, 11, 30, 21, 30, 1, tzinfo=UTC)
    before = (
        "2026-11-30T21:29:59Z [DEBUG] provider: ID: i-0abc\n  Who: bob@ci\n  Created: 2020-01-01 00:00:00 +0000 UTC\n"
    )
    lock = lock_error(before + terraform_lock_error("alice@laptop", created))
    assert lock == LockInfo(LOCK_ID, "alice@laptop", "OperationTypePlan", created)
    # Without "Who" in the report, the earlier line still does not count.
    report = terraform_lock_error("alice@laptop", created).replace("  Who:       alice@laptop\n", "")
    lock = lock_error(before + report)
    assert lock is not None
    assert lock.who == ""


def test_the_one_second_of_slack_covers_truncation_and_nothing_more() -> None:
    started = datetime(2026, 11, 30, 21, 30, 1, 500000, tzinfo=UTC)

    def at(seconds: float) -> LockInfo:
        return LockInfo(LOCK_ID, this_machine(), "OperationTypePlan", started + timedelta(seconds=seconds))

    assert taken_by_this_run(at(-1), "plan", started)  # exactly the slack
    assert not taken_by_this_run(at(-1.5), "plan", started)
    # A lock whose time could not be read is never taken for this run's.
    assert not taken_by_this_run(LockInfo(LOCK_ID, this_machine(), "OperationTypePlan", None), "plan", started)
    # destroy locks as an apply; the migration as its destination state.
    destroy = LockInfo(LOCK_ID, this_machine(), "OperationTypeApply", started)
    assert taken_by_this_run(destroy, "destroy", started)
    migrate = LockInfo(LOCK_ID, this_machine(), "migration destination state", started)
    assert taken_by_this_run(migrate, "migrate", started)
    assert not taken_by_this_run(migrate, "drift", started)  # a command that takes no lock

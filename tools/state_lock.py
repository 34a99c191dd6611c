"""Who holds a state lock terraform could not take, and whether it may be released.

terraform only prints the holder ("Lock Info: ID, Path, Operation, Who, Created")
when it fails with "Error acquiring the state lock"; this reads that block. Two
holders are safe to release without asking anyone, everything else is refused
with the command to release it by hand once its owner is known to be gone:

- the run's own lock. A conditional PutItem can be stored and still fail at the
  client (its response lost to a reset connection or a 5xx after the write); the
  SDK retries it, the retry finds the item the first attempt wrote, and terraform
  reports the state as locked by itself and leaves that lock behind. It is the
  pattern every conditional-write lock has (S3 lockfiles and DynamoDB alike); we
  saw it on the emulator under load. Such a lock was taken by this user on this
  machine after the run started, and the run is over.
- a lock left by a deploy from this workspace whose process is dead (its pid
  file), decided by the caller.

A lock from another machine is never released here: nothing on this machine can
tell whether that deploy is still running.
"""

from __future__ import annotations

import os
import pwd
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Created):\s*(.*?)\s*$", re.MULTILINE)
# terraform prints Go's time.String(): "2026-11-30 21:30:01.194461393 +0000 UTC".
_CREATED = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)? ([+-]\d{4})")


@dataclass(frozen=True)
class LockInfo:
    id: str
    who: str
    operation: str
    created: datetime | None

    def describe(self) -> str:
        when = f" since {self.created:%Y-%m-%d %H:%M:%S} UTC" if self.created else ""
        return f"{self.who or 'an unknown holder'}{when} ({self.operation or 'unknown operation'}, lock {self.id})"


def lock_error(output: str) -> LockInfo | None:
    """The holder named in terraform's output, if the run failed on the state lock."""
    if "Error acquiring the state lock" not in output:
        return None
    fields = dict(_FIELD.findall(output.split("Lock Info:", 1)[-1]))
    if not fields.get("ID"):
        return None
    created = _CREATED.search(fields.get("Created", ""))
    when = datetime.strptime(" ".join(created.groups()), "%Y-%m-%d %H:%M:%S %z") if created else None
    return LockInfo(fields["ID"], fields.get("Who", ""), fields.get("Operation", ""), when)


def this_machine() -> str:
    """terraform's ``Who`` for locks taken here: the OS user name @ the host name."""
    return f"{pwd.getpwuid(os.getuid()).pw_name}@{socket.gethostname()}"


#: The lock operation terraform records for each command that locks.
OPERATIONS = {
    "plan": "OperationTypePlan",
    "apply": "OperationTypeApply",
    "destroy": "OperationTypeApply",
    # `init -migrate-state` locks the state it copies into.
    "migrate": "migration destination state",
}


def taken_by_this_run(lock: LockInfo, command: str, started: datetime) -> bool:
    """Taken here, by the same kind of operation, after the (finished) run started:
    the run's own retried request. (The caller also makes sure no other deploy of
    this workspace is alive, so a second terminal's run is never mistaken for it.)

    ``Created`` is printed to the second or finer; one second of slack covers the
    truncation, never a lock taken before this run started.
    """
    return (
        lock.who == this_machine()
        and lock.operation == OPERATIONS.get(command)
        and lock.created is not None
        and lock.created >= started.astimezone(UTC) - timedelta(seconds=1)
    )

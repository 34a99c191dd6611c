"""Where the state-backend stack keeps its own state: in the bucket it creates.

The stack's synthesized backend is S3 (its own bucket, key
``<project>/<env>/state-backend.tfstate``, its own lock table). Before the
first apply that bucket does not exist, so the stack is applied once with a
local-backend *override file* (terraform merges ``*_override.tf.json`` over the
configuration) and its state is then migrated into the bucket with
``terraform init -migrate-state -force-copy``. Destroy does the reverse: state
back to a local file, then destroy. The synthesized JSON never changes, and no
machine needs ``build/state/`` after the first deploy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tools.aws_target import AwsTarget
from tools.state_lock import lock_error, taken_by_this_run
from tools.terraform import Terraform

#: Runs ``terraform <args>`` in the stack (the deploy tool's interruptible runner).
Runner = Callable[..., tuple[int, str]]

#: Sorted after cdk.tf.json; terraform merges every *_override.tf.json last.
OVERRIDE = "zz_local_backend_override.tf.json"


class BootstrapError(RuntimeError):
    """The stack's state is neither in its bucket nor on this machine."""


@dataclass(frozen=True)
class BootstrapState:
    tf: Terraform
    local_file: Path
    aws: AwsTarget
    run: Runner

    def _init(self, *flags: str) -> None:
        if flags or not self.tf.initialized():
            self.run("init", "-input=false", "-no-color", *(flags or ("-reconfigure",)))
        self.tf.mark_initialized()

    @property
    def _backend(self) -> dict[str, str]:
        doc = json.loads((self.tf.dir / "cdk.tf.json").read_text())
        return dict(doc["terraform"]["backend"]["s3"])

    @property
    def bucket(self) -> str:
        return self._backend["bucket"]

    @property
    def key(self) -> str:
        return self._backend["key"]

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def _use_local(self) -> None:
        self.local_file.parent.mkdir(parents=True, exist_ok=True)
        backend = {"terraform": {"backend": {"local": {"path": str(self.local_file)}}}}
        (self.tf.dir / OVERRIDE).write_text(json.dumps(backend, indent=2) + "\n")

    def _use_remote(self) -> None:
        (self.tf.dir / OVERRIDE).unlink(missing_ok=True)

    def remote(self) -> bool:
        return self.aws.object_exists(self.bucket, self.key)

    def init(self) -> bool:
        """Initialise the stack where its state is; True when it is in its bucket.

        False means it must be applied locally and then :meth:`migrate_to_bucket`:
        a first deploy, or a local state left by an interrupted first deploy (or
        by a version of this tool that kept it in ``build/state/``).
        """
        if self.remote():
            self._use_remote()
            self._init()
            return True
        if not self.local_file.exists() and self.aws.bucket_exists(self.bucket):
            raise BootstrapError(
                f"{self.bucket} exists but holds no {self.key} and this machine has no {self.local_file}: "
                "the state-backend stack's state is lost; import the bucket, table and key again "
                "(docs/troubleshooting.md: state-backend state lost)"
            )
        self._use_local()
        self._init()
        return False

    def migrate_to_bucket(self) -> None:
        self._use_remote()
        started = datetime.now(UTC)
        try:
            self._init("-migrate-state", "-force-copy")
        except RuntimeError as exc:
            # The lock on the bucket's copy can be its own request, stored and then retried by
            # the SDK (tools/state_lock.py): nothing else can hold a state nobody has migrated
            # yet, but only a lock this machine took after the migration started is released.
            lock = lock_error(str(exc))
            if lock is None or not taken_by_this_run(lock, "migrate", started):
                raise
            self.aws.release_own_lock(self._backend["dynamodb_table"], f"{self.bucket}/{self.key}", lock.id)
            self._init("-migrate-state", "-force-copy")
        if not self.remote():
            raise BootstrapError(f"state migration did not write {self.location}; {self.local_file} is kept")
        for leftover in (self.local_file, self.local_file.with_name(self.local_file.name + ".backup")):
            leftover.unlink(missing_ok=True)

    def migrate_to_local(self) -> None:
        """Before destroying the bucket that holds it, bring the state home."""
        self._use_local()
        self._init("-migrate-state", "-force-copy")

    def release(self) -> None:
        """Drop the local-backend override (the local state file, if any, stays)."""
        self._use_remote()

    def forget_local(self) -> None:
        """After a destroy: nothing is left to keep."""
        self._use_remote()
        for leftover in (self.local_file, self.local_file.with_name(self.local_file.name + ".backup")):
            leftover.unlink(missing_ok=True)

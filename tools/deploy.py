"""Deploy, plan, apply a saved plan, check drift or destroy one environment (both stacks).

    python -m tools.deploy deploy  --environment dev --target local
    python -m tools.deploy plan    --environment dev --target local [--out DIR]  # exit 0 = no changes, 2 = changes
    python -m tools.deploy apply   --environment dev --target local --plan-dir DIR
    python -m tools.deploy drift   --environment dev --target local [--summary FILE]  # exit 2 = drift
    python -m tools.deploy destroy --environment dev --target local [--confirm ENV]
    python -m tools.deploy retire-legacy --environment dev --target local --confirm ENV
    python -m tools.deploy recover --environment prod --target local  # plan against the state's replica

Options: ``--config FILE`` uses any settings file; ``--work-dir DIR`` keeps the
emulator, cdktf.out, local state, plans and outputs in DIR instead of the
project's defaults (the integration tests use a private one);
``--keep-emulator`` leaves the emulator running after ``destroy``.

``--target local`` starts (or reuses) the embedded emulator; ``aws`` uses the
credentials in your environment and needs ``account_id`` in the settings (the
account guard). Terraform runs directly on the synthesized JSON (what ``cdktf
deploy`` does, without its registry calls), in its own process group.

Day two (README: Day two):
- the state-backend stack keeps its state in the bucket it creates, so any
  machine can deploy again (``tools/bootstrap_state.py``);
- ``plan --out`` saves both stacks' plans and a Markdown summary; ``apply``
  applies exactly those files, or refuses all of them when any is stale;
- an interrupt (Ctrl-C, SIGTERM) reaches terraform exactly once, so it stops
  after the current operations and saves state; an interrupt before or between
  terraform runs stops at once with exit status 130;
- ``destroy`` lists what protects or would block it before any change, and a
  protected environment needs ``--confirm <environment>``;
- ``drift`` is a refresh-only plan of both stacks (exit 2 when anything drifted).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from constructs_lib.settings import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_URL, ConfigError, Settings, load_settings
from local_aws import CREDENTIALS_ENV
from local_aws.prerequisites import ensure_hosted_zone, ensure_oidc_provider
from local_aws.server import alive, running, start, stop
from tools import account_checks, destroy_guard, plan_risk, plan_verdict
from tools.aws_target import AwsTarget, TargetError
from tools.bootstrap_state import BootstrapError, BootstrapState
from tools.next_steps import next_steps, plain_http_notice
from tools.plan_summary import STEP_SUMMARY_LIMIT, Context, bounded, drift_summary, policy_templates, summarize
from tools.state_lock import lock_error, taken_by_this_run, this_machine
from tools.synth import synth
from tools.terraform import ROOT, ProviderUnavailable, Terraform, terraform_env

STACK_KINDS = ("state-backend", "platform")
#: CI's roles: deployed by `deploy` and `bootstrap-ci` (an administrator), never planned or applied by CI.
ACCESS = "access"
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
_APPLIED = re.compile(r"Apply complete! Resources: (.*)\.")
OVERRIDE_UNPROTECT = "zz_destroy_override.tf.json"

#: Plans (pull requests, the deploy workflow's plan job, `make plan`) and drift checks read the
#: state and write nothing, so they take no state lock: the read-only plan role needs no write to
#: the lock table or the state bucket, and a colleague's apply never blocks a review. It is safe
#: because nothing is applied from a plan unchecked: terraform refuses a saved plan whose state
#: changed since it was made ("Saved plan is stale"), and `apply` compares lineage and serial
#: before it starts. A drift check applies nothing at all.
READ_ONLY_LOCK_FLAG = "-lock=false"


class Refused(Exception):
    """A run the tool will not start or continue: one line for the user, and an exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: stop now (after terraform, if one was running, has stopped)."""

    def __init__(self, terraform_output: str = "") -> None:
        super().__init__(terraform_output)
        self.terraform_output = terraform_output


@dataclass(frozen=True)
class Workspace:
    """Where one deployment keeps its local files."""

    emulator: Path
    outdir: Path
    bootstrap_state: Path
    outputs_file: Path
    deploy_pid: Path
    plans: Path

    @classmethod
    def default(cls) -> Workspace:
        return cls(
            emulator=ROOT / "build" / "emulator",
            outdir=ROOT / "cdktf.out",
            bootstrap_state=ROOT / "build" / "state",
            outputs_file=ROOT / "cfn-outputs" / "flat-outputs.json",
            deploy_pid=ROOT / "build" / "deploy.pid",
            plans=ROOT / "build" / "plans",
        )

    @classmethod
    def under(cls, root: Path) -> Workspace:
        root = root.resolve()
        return cls(
            emulator=root / "emulator",
            outdir=root / "cdktf.out",
            bootstrap_state=root / "state",
            outputs_file=root / "cfn-outputs" / "flat-outputs.json",
            deploy_pid=root / "deploy.pid",
            plans=root / "plans",
        )


def log(message: str) -> None:
    print(message, flush=True)


class Deployer:
    def __init__(
        self,
        environment: str,
        target: str,
        workspace: Workspace | None = None,
        config: Path | None = None,
        keep_emulator: bool = False,
        verb: str = "deploy",
    ) -> None:
        self.environment = environment
        self.target = target
        self.ws = workspace or Workspace.default()
        self.config = config
        self.config_path = config or ROOT / "config" / f"{environment}.toml"
        self.keep_emulator = keep_emulator
        self.verb = verb
        self.env: dict[str, str] = {}
        self.endpoint: str | None = None
        self.interrupted = False
        self._running: set[Terraform] = set()
        self._running_lock = threading.Lock()
        self._settings: Settings | None = None
        self._aws: AwsTarget | None = None
        #: Stack -> the old-named bucket its state is still in (set by init_deployed).
        self.legacy: dict[str, str | None] = {}
        # Read before a deploy writes its own pid there: a pid naming no live
        # process is a deploy of this workspace that was killed (SIGKILL, a crash).
        recorded = self._recorded_deploy()
        self.dead_deploy = recorded if recorded is not None and not alive(recorded) else None

    def _recorded_deploy(self) -> int | None:
        try:
            return int(self.ws.deploy_pid.read_text())
        except (FileNotFoundError, ValueError):
            return None

    # -- guards: before any change -------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The environment's settings for this target (other env overrides are main.py's business).

        On the local target the endpoint is the emulator's, known once it runs; nothing here
        reads it (synthesis gets the real one), so a placeholder validates the rest."""
        if self._settings is None:
            target: dict[str, str] = {"deploy_target": self.target}
            if self.target == "local":
                target["endpoint_url"] = self.endpoint or "http://127.0.0.1"
            self._settings = load_settings(self.config_path, target)
        return self._settings

    @property
    def aws(self) -> AwsTarget:
        if self._aws is None:
            self._aws = AwsTarget(self.target, self.settings, self.env)
        return self._aws

    def verify_account(self) -> None:
        """Stop before any change when the credentials belong to another account."""
        expected = self.settings.account_id
        if expected is None:
            return  # only the local target gets here without one
        actual = self.aws.account()
        if actual != expected:
            raise Refused(
                f"refusing to {self.verb} {self.environment}: the credentials in use belong to account {actual}, "
                f"but {_shown(self.config_path)} says account_id = {expected}"
            )

    def check_account(self) -> None:
        """On AWS, what the account must allow before anything is applied (tools/account_checks.py)."""
        if self.target != "aws":
            return  # the emulator has no quotas and no other accounts
        found = account_checks.problems(self.settings, self.aws.client)
        if found:
            raise Refused("\n".join([f"refusing to {self.verb} {self.environment}: nothing was changed", *found]))

    def preflight(self) -> None:
        """Settings, the provider source, the emulator (local), then whose credentials these are."""
        # Settings first: a mistake (account_id missing for aws, say) stops before any call.
        _ = self.settings
        self.env = terraform_env()
        if self.target == "local":
            self.start_emulator()
        self.verify_account()
        if self.target == "local" and self.settings.edge.hosted_zone is not None:
            # The team's zone exists before the platform on AWS; the emulator's account starts empty.
            assert self.endpoint is not None
            ensure_hosted_zone(self.endpoint, self.settings.region, self.settings.edge.hosted_zone)
        if self.target == "local" and self.settings.ci_on and self.settings.ci.oidc_provider == "existing":
            # Another environment of the account made it (settings); a fresh emulator has none.
            assert self.endpoint is not None
            ensure_oidc_provider(self.endpoint, self.settings.region, GITHUB_OIDC_URL, GITHUB_OIDC_AUDIENCE)

    def start_emulator(self) -> None:
        t0 = time.monotonic()
        emulator = start(self.ws.emulator)
        self.endpoint = emulator.endpoint
        log(f"emulator: {self.endpoint} (pid {emulator.pid}, ready in {time.monotonic() - t0:.1f}s)")
        self.env.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint,
                **CREDENTIALS_ENV,
                "AWS_REGION": self.env.get("AWS_REGION", "us-east-1"),
            }
        )

    def synth(self) -> None:
        env = dict(self.env, ENVIRONMENT=self.environment, DEPLOY_TARGET=self.target, CDKTF_OUTDIR=str(self.ws.outdir))
        env.pop("CONFIG_FILE", None)
        if self.config is not None:
            env["CONFIG_FILE"] = str(self.config.resolve())
        synth(ROOT, env)  # reuses the previous output when nothing relevant changed
        # A destroy stopped halfway must not leave its protection-lifting override behind.
        for kind in STACK_KINDS:
            (self.stack_dir(kind) / OVERRIDE_UNPROTECT).unlink(missing_ok=True)
        self.checkpoint()

    # -- terraform -----------------------------------------------------------------

    def stack_dir(self, kind: str) -> Path:
        return self.ws.outdir / "stacks" / f"{kind}-{self.environment}"

    def stack(self, kind: str) -> Terraform:
        return Terraform(self.stack_dir(kind), self.env, log=log)

    def tf(self, tf: Terraform, *args: str, progress: bool = False, check: bool = True) -> tuple[int, str]:
        """One terraform run, interruptible; an interrupt stops the verb once it has returned."""
        self.checkpoint()
        with self._running_lock:
            self._running.add(tf)
        try:
            code, output = tf.run(*args, progress=progress, check=False)
        finally:
            with self._running_lock:
                self._running.discard(tf)
        if self.interrupted:
            raise Interrupted(output)
        if check and code != 0:
            raise RuntimeError(f"terraform {' '.join(args)} failed in {tf.dir.name} (exit {code}):\n{output[-4000:]}")
        return code, output

    def checkpoint(self) -> None:
        if self.interrupted:
            raise Interrupted()

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Ctrl-C or SIGTERM: terraform gets exactly one SIGINT; otherwise stop now."""
        self.interrupted = True
        with self._running_lock:
            busy = [tf for tf in self._running if tf.running]
        if busy:
            if any([tf.interrupt() for tf in busy]):
                log("interrupted: letting terraform finish its current operations and save its state ...")
            else:
                log("interrupted again: still waiting for terraform to save its state")
            return
        if threading.current_thread() is threading.main_thread():
            raise Interrupted()

    def init(self, tf: Terraform) -> None:
        if tf.initialized():
            return
        # -reconfigure: the emulator's port (part of the backend config) changes per start.
        self.tf(tf, "init", "-input=false", "-no-color", "-reconfigure")
        tf.mark_initialized()

    def bootstrap(self, tf: Terraform) -> BootstrapState:
        local_file = self.ws.bootstrap_state / f"terraform.{tf.dir.name}.tfstate"
        return BootstrapState(tf, local_file, self.aws, lambda *args: self.tf(tf, *args))

    def parallel(self, *calls: Callable[[], Any]) -> list[Any]:
        """Run independent steps (the two stacks' reads) at once; an interrupt stops all of them."""
        results: list[Any] = [None] * len(calls)
        errors: list[BaseException | None] = [None] * len(calls)

        def run(index: int, call: Callable[[], Any]) -> None:
            try:
                results[index] = call()
            except BaseException as exc:  # handed to the caller below
                errors[index] = exc

        threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.2)  # short joins keep the main thread responsive to signals
        for error in sorted((e for e in errors if e is not None), key=lambda e: not isinstance(e, Interrupted)):
            raise error
        self.checkpoint()
        return results

    def init_state_backend(self, tf: Terraform) -> tuple[BootstrapState, bool]:
        state = self.bootstrap(tf)
        self.checkpoint()
        try:
            remote = state.init()
        except BootstrapError as exc:
            raise Refused(str(exc)) from None
        self.checkpoint()
        return state, remote

    # -- upgrade: buckets renamed to carry the account and region -----------------------

    def legacy_bucket_of(self, tf: Terraform) -> str | None:
        """The old-named state bucket (releases up to 2026-11-30) when it, and not the
        account-scoped one, holds this stack's state; None otherwise.

        Only a bucket this account owns counts: the old names were global, so a bucket
        of that name elsewhere is someone else's (README: Upgrading to account-scoped
        bucket names).
        """
        bucket, key = _backend(tf)
        legacy = self.settings.naming.legacy_bucket("tfstate")
        if self.aws.object_exists(bucket, key):
            return None
        return legacy if self.aws.object_exists(legacy, key, owner=self.aws.account()) else None

    def init_at(self, tf: Terraform, bucket: str) -> None:
        """Initialise against ``bucket`` instead of the configured one (the state is still there)."""
        self.tf(tf, "init", "-input=false", "-no-color", "-reconfigure", f"-backend-config=bucket={bucket}")
        tf.forget_init()  # the next verb initialises for the configured bucket again

    def move_state(self, tf: Terraform, legacy: str) -> None:
        """Copy the stack's state from the old bucket into the configured one (lineage and serial
        continue; the old object and its versions stay where they are, as history)."""
        bucket, key = _backend(tf)
        log(f"{tf.dir.name}: moving its state from s3://{legacy}/{key} to s3://{bucket}/{key} ...")
        # A server-side copy of the state object, byte for byte. terraform 1.11 between two S3
        # backends (`init -migrate-state`, or `state pull` then `state push`) writes the state
        # under a new lineage with the serial restarted (measured: tests/integration/test_upgrade.py),
        # and the lineage is what tells terraform a saved plan or a pushed file belongs to this
        # state. The S3 backend's DynamoDB digest entry is per path: the new path has none
        # yet, and terraform writes it with the next state it saves.
        self.aws.copy_object(legacy, bucket, key)
        self.tf(tf, "init", "-input=false", "-no-color", "-reconfigure")
        tf.mark_initialized()
        if not self.aws.object_exists(bucket, key):
            raise RuntimeError(f"{tf.dir.name}: the state move did not write s3://{bucket}/{key}")
        log(f"{tf.dir.name}: state moved; s3://{legacy} is no longer used and keeps what it held")

    def upgrade_state_backend(self, backend: Terraform, legacy: str) -> None:
        """Create the account-scoped state bucket (and its lock table and encryption) with the
        state still in the old bucket, then move the state into it. The rest of the stack (the
        old buckets forgotten, never destroyed) is applied beside the platform, as on a first deploy."""
        log(
            f"{backend.dir.name}: upgrading: bucket names now carry the account and region; its state is "
            f"still in {legacy} (README: Upgrading to account-scoped bucket names)"
        )
        self.init_at(backend, legacy)
        self.apply(backend, f"{backend.dir.name} (the account-scoped state bucket)", *self.state_core(backend))
        self.move_state(backend, legacy)

    def init_platform(self, platform: Terraform) -> None:
        """``init``; on a deploy, first move a state still in the old-named bucket."""
        legacy = self.legacy_bucket_of(platform)
        if legacy is None:
            self.init(platform)
            return
        self.init_at(platform, legacy)
        self.move_state(platform, legacy)

    def require_deployed(self, tf: Terraform) -> BootstrapState:
        """For plan, apply and drift: the state stack's state must be in its bucket."""
        state, remote = self.init_state_backend(tf)
        if remote:
            return state
        state.release()
        if state.local_file.exists():
            raise Refused(
                f"the state of {tf.dir.name} is still only on this machine ({state.local_file}): run `make deploy` "
                f"once to move it into {state.location}"
            )
        raise Refused(
            f"{self.environment} is not deployed yet ({state.location} does not exist): the first deploy of an "
            "environment is `make deploy`, which creates the state bucket, lock table and key"
        )

    def locked(self, tf: Terraform, *args: str, progress: bool = False) -> tuple[int, str]:
        """A terraform run that takes the state lock: a lock this tool may release
        (tools/state_lock.py) is released and the run tried once more; any other
        holder is refused in one line."""
        started = datetime.now(UTC)
        code, output = self.tf(tf, *args, progress=progress, check=False)
        if code != 0 and self.release_stale_lock(tf, output, args[0], started):
            code, output = self.tf(tf, *args, progress=progress, check=False)
        return code, output

    def release_stale_lock(self, tf: Terraform, output: str, command: str, started: datetime) -> bool:
        lock = lock_error(output)
        if lock is None:
            return False
        recorded = self._recorded_deploy()
        other_deploy_alive = recorded is not None and recorded != os.getpid() and alive(recorded)
        if not other_deploy_alive and taken_by_this_run(lock, command, started):
            why = "its own lock request left behind (stored, then retried by the SDK)"
        elif not other_deploy_alive and self.dead_deploy is not None and lock.who == this_machine():
            why = f"left by an interrupted deploy of this workspace (pid {self.dead_deploy} is gone)"
        else:
            raise Refused(
                f"the state of {tf.dir.name} is locked by {lock.describe()}: another terraform run holds it. "
                f"Wait for it; if it is really gone, release it with: "
                f"terraform -chdir={_shown(tf.dir)} force-unlock -force {lock.id}"
            )
        log(f"releasing the state lock {lock.id} of {tf.dir.name}: {why}")
        self.force_unlock(tf, lock.id)
        return True

    def force_unlock(self, tf: Terraform, lock_id: str) -> None:
        """``terraform force-unlock``; with both lock mechanisms it fails when the S3 lock file is
        already gone and only the DynamoDB item holds the lock (terraform takes the lock file
        first, then the item; an SDK retry of the item's write leaves the item behind after
        terraform released its lock file). Then the item alone is released, and only while it
        still holds ``lock_id``."""
        code, output = self.tf(tf, "force-unlock", "-force", lock_id, check=False)
        if code == 0:
            return
        if "NoSuchKey" not in output:
            raise RuntimeError(
                f"terraform force-unlock -force {lock_id} failed in {tf.dir.name} (exit {code}):\n{output}"
            )
        bucket, key = _backend(tf)
        self.aws.release_own_lock(self.settings.naming.name("tflock"), f"{bucket}/{key}", lock_id)

    def apply(self, tf: Terraform, label: str, *extra: str) -> str:
        t0 = time.monotonic()
        log(f"{label}: applying ...")
        args = ("apply", "-input=false", "-no-color", "-auto-approve", "-lock-timeout=10s", *extra)
        code, output = self.locked(tf, *args, progress=True)
        if code != 0 and "Error acquiring the state lock" not in output and "Saved plan is stale" not in output:
            # Eventual consistency (AWS) or a transient emulator error: state keeps
            # what was done, so one more apply finishes the rest or fails for real.
            log(f"{label}: apply failed ({_first_error(output)}); retrying once ...")
            code, output = self.tf(tf, *args, progress=True, check=False)
        if code != 0:
            raise RuntimeError(f"{label}: terraform apply failed (exit {code}):\n{output[-4000:]}")
        summary = _APPLIED.search(output)
        log(f"{label}: {summary.group(1) if summary else 'done'} in {time.monotonic() - t0:.0f}s")
        return output

    def pulled_state(self, tf: Terraform) -> dict[str, Any]:
        """The stack's state as terraform stores it (``state pull``: no provider started), {} if none."""
        _, text = self.tf(tf, "state", "pull")
        return dict(json.loads(text)) if text.strip() else {}

    def outputs(self, tf: Terraform) -> dict[str, Any]:
        return state_outputs(self.pulled_state(tf))

    # -- verbs -----------------------------------------------------------------------

    def deploy(self) -> int:
        started = time.monotonic()
        self.preflight()
        self.ws.deploy_pid.parent.mkdir(parents=True, exist_ok=True)
        self.ws.deploy_pid.write_text(str(os.getpid()))
        self.synth()
        self.check_account()
        backend, platform = self.stack("state-backend"), self.stack("platform")
        legacy = self.legacy_bucket_of(backend)
        if legacy is not None:
            self.upgrade_state_backend(backend, legacy)
        state, remote = self.init_state_backend(backend)
        if legacy is not None:
            self.rest_beside_platform(backend)
        elif remote:
            # CI's access first (every role of the other two carries its boundary), then the state
            # stack (the platform's state lives in it), then the platform.
            self.parallel(self.apply_access, lambda: self.init_platform(platform))
            self.apply(backend, backend.dir.name)
            self.apply(platform, platform.dir.name)
        else:
            self.first_deploy(backend, state)
        # The summary from each stack's state, one light terraform run per stack (its outputs and
        # resource instances are the same as `terraform output -json` and `state list` give, two
        # runs per stack).
        stacks = [platform, backend, *([access] if (access := self.access_stack()) is not None else [])]
        states = self.parallel(*(lambda tf=tf: self.pulled_state(tf) for tf in stacks))
        outputs = {name: value for state in states for name, value in state_outputs(state).items()}
        resources = sum(managed_instances(state) for state in states)
        self.ws.outputs_file.parent.mkdir(parents=True, exist_ok=True)
        self.ws.outputs_file.write_text(json.dumps(outputs, indent=2, sort_keys=True) + "\n")
        self.ws.deploy_pid.unlink(missing_ok=True)
        self.summary(outputs, resources, time.monotonic() - started, state.location)
        return 0

    def state_core(self, backend: Terraform) -> list[str]:
        """``-target`` flags for what the S3 backend needs before a state is written there: the
        bucket (versioned, encrypted with the state key) and the lock table."""
        return [
            f"-target={rtype}.{_resource_name(backend, name)}"
            for rtype, name in (
                ("aws_s3_bucket_server_side_encryption_configuration", "state_bucket_account-scoped_encryption"),
                ("aws_s3_bucket_versioning", "state_bucket_account-scoped_versioning"),
                ("aws_dynamodb_table", "state_lock-table"),
            )
        ]

    def first_deploy(self, backend: Terraform, state: BootstrapState) -> None:
        label = backend.dir.name
        self.apply(backend, f"{label} (bucket, lock table, key)", *self.state_core(backend))
        state.migrate_to_bucket()
        log(f"{label}: state moved into {state.location}")
        self.rest_beside_platform(backend)

    def rest_beside_platform(self, backend: Terraform) -> None:
        """Once the state bucket, lock table and key exist, the platform needs nothing else of the
        state stack: it starts at once, while the state stack applies the rest (lifecycle rules
        wait about a minute in the provider; on an upgrade, the old buckets are forgotten)."""
        label = backend.dir.name
        self.apply_access()
        rest: dict[str, str] = {}
        worker = threading.Thread(target=self._apply_in_background, args=(backend, label, rest), daemon=True)
        worker.start()
        try:
            platform = self.stack("platform")
            self.init_platform(platform)
            self.apply(platform, platform.dir.name)
        finally:
            while worker.is_alive():
                worker.join(timeout=0.2)  # short joins keep signal handling responsive
        if "interrupted" in rest:
            raise Interrupted(rest["interrupted"])
        if "error" in rest:
            raise RuntimeError(rest["error"])
        self.checkpoint()

    def access_stack(self) -> Terraform | None:
        """CI's roles (constructs_lib/stacks/access.py), when the settings name a repository."""
        return self.stack(ACCESS) if self.settings.ci_on else None

    def apply_access(self) -> None:
        """Apply the access stack (its state is in the state bucket, which exists by now)."""
        access = self.access_stack()
        if access is None:
            return
        self.init(access)
        self.apply(access, access.dir.name)

    def bootstrap_ci(self) -> int:
        """An administrator's one-time step: the state stack and CI's access, then what to set in
        GitHub. Afterwards CI plans and applies the other two stacks with its own roles."""
        if not self.settings.ci_on:
            raise Refused(
                f'{_shown(self.config_path)} names no repository: set [ci] github_repository = "owner/name" '
                "(README: Connect a GitHub repository)",
                code=2,
            )
        self.preflight()
        self.synth()
        self.check_account()
        backend = self.stack("state-backend")
        state, remote = self.init_state_backend(backend)
        if remote:
            self.apply(backend, backend.dir.name)
        else:
            self.apply(backend, f"{backend.dir.name} (bucket, lock table, key)", *self.state_core(backend))
            state.migrate_to_bucket()
            log(f"{backend.dir.name}: state moved into {state.location}")
        access = self.access_stack()
        assert access is not None
        self.apply_access()
        if not remote:
            self.apply(backend, backend.dir.name)  # the rest: its roles carry the boundary just made
        outputs = self.outputs(access)
        from tools.ci_setup import ci_setup_lines

        for line in ci_setup_lines(self.settings, outputs):
            log(line)
        return 0

    def _apply_in_background(self, tf: Terraform, label: str, result: dict[str, str]) -> None:
        try:
            self.apply(tf, label)
        except Interrupted as exc:
            result["interrupted"] = exc.terraform_output
        except RuntimeError as exc:
            result["error"] = str(exc)

    def init_deployed(self) -> tuple[Terraform, Terraform]:
        """Both stacks initialised at once; the state stack's state must be in its bucket.

        A stack whose state is still in the old-named bucket is read there (``self.legacy``):
        plan and drift work on it as it is, apply moves its state after applying, destroy
        refuses (deploy first)."""
        backend, platform = self.stack("state-backend"), self.stack("platform")
        self.legacy = {tf.dir.name: self.legacy_bucket_of(tf) for tf in (backend, platform)}

        def init_backend() -> None:
            legacy = self.legacy[backend.dir.name]
            if legacy is None:
                self.require_deployed(backend)
            else:
                self.init_at(backend, legacy)

        def init_platform() -> None:
            legacy = self.legacy[platform.dir.name]
            if legacy is None:
                self.init(platform)
            else:
                self.init_at(platform, legacy)

        self.parallel(init_backend, init_platform)
        return backend, platform

    def legacy_note(self) -> str:
        moving = {name: bucket for name, bucket in self.legacy.items() if bucket}
        if not moving:
            return ""
        listed = ", ".join(f"{name} (s3://{bucket})" for name, bucket in moving.items())
        return (
            f"\n> **Upgrade:** the state of {listed} is still in its old-named bucket; the next `make deploy` "
            "(or `make apply-plan`) moves it into the account-scoped state bucket. Old buckets are forgotten, "
            "never destroyed (README: Upgrading to account-scoped bucket names).\n"
        )

    def plan(self, out: Path | None = None) -> int:
        """Plan both stacks; with ``out``, save the plans and a Markdown summary there."""
        self.preflight()
        self.synth()
        folder = out or self.ws.plans / "scratch"
        folder.mkdir(parents=True, exist_ok=True)

        context = Context(
            commit=os.environ.get("GITHUB_SHA") or _git_commit(),
            run_url=_run_url(),
            planned_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            notice=self.plan_notice(),
        )

        def plan_one(tf: Terraform) -> tuple[bool, str, dict[str, Any], list[plan_risk.Finding]]:
            plan_file = folder / f"{tf.dir.name}.tfplan"
            # Read-only: no state lock (READ_ONLY_LOCK_FLAG).
            args = ("plan", "-input=false", "-no-color", "-detailed-exitcode", READ_ONLY_LOCK_FLAG)
            code, output = self.tf(tf, *args, f"-out={plan_file}", check=False)
            if code not in (0, 2):
                raise RuntimeError(f"terraform plan failed in {tf.dir.name} (exit {code}):\n{output[-4000:]}")
            _, shown = self.tf(tf, "show", "-json", str(plan_file))
            plan = json.loads(shown)
            (folder / f"{tf.dir.name}.json").write_text(shown)  # for the artifact and the scanners
            # Policies "known after apply" are reviewed from their synthesized templates.
            templates = policy_templates(plan, json.loads((tf.dir / "cdk.tf.json").read_text()))
            text = summarize(plan, tf.dir.name, templates=templates, context=context)
            return code == 2, text, plan, plan_risk.evaluate(plan, templates)

        results = self.parallel(*(lambda tf=tf: plan_one(tf) for tf in self.init_deployed()))
        text = "\n".join(section for _, section, _, _ in results) + self.legacy_note()
        verdict = plan_verdict.build(
            self.environment,
            [(section.splitlines()[0].removeprefix("### Terraform plan: "), plan, found)
             for _, section, plan, found in results],
            commit=context.commit,
            run_url=context.run_url,
        )  # fmt: skip
        if out is not None:
            artifact = f"plan-{self.environment}"
            (out / "summary.md").write_text(text)
            (out / "verdict.json").write_text(verdict.model_dump_json(indent=2) + "\n")
            # The pull-request comment and the run's summary page: the same text, each cut below
            # its own limit with a pointer to the full summary in the uploaded artifact.
            (out / "comment.md").write_text(bounded(text, full_url=_run_url(), artifact=artifact))
            (out / "step-summary.md").write_text(bounded(text, STEP_SUMMARY_LIMIT, artifact=artifact))
        print(text)
        if out is not None:
            log(f"saved: {_shown(out)} (apply exactly these with the apply verb: make apply-plan)")
        return 2 if any(changed for changed, _, _, _ in results) else 0

    def plan_notice(self) -> str | None:
        """One line every plan of this environment repeats: a production opt-out of HTTPS."""
        return plain_http_notice(self.settings)

    def apply_saved(self, plan_dir: Path) -> int:
        """Apply exactly the saved plans; refuse all of them if any is stale."""
        self.preflight()
        plans = [(kind, plan_dir / f"{kind}-{self.environment}.tfplan") for kind in STACK_KINDS]
        missing = [str(p) for _, p in plans if not p.exists()]
        if missing:
            raise Refused(f"no saved plan {', '.join(missing)}: make one with make plan (or the plan verb --out)")
        for kind in STACK_KINDS:
            if not self.stack_dir(kind).is_dir():
                raise Refused(
                    f"{self.stack_dir(kind)} is missing: apply the plans in the checkout (or artifact) that made them"
                )
        stacks = dict(zip(STACK_KINDS, self.init_deployed(), strict=True))
        versions = self.parallel(*(lambda tf=tf: self._state_version(tf) for tf in stacks.values()))
        for (kind, plan_file), current in zip(plans, versions, strict=True):
            planned = _plan_prior_state(plan_file)
            if planned != current:
                raise Refused(
                    f"the saved plan {_shown(plan_file)} is stale: the state of {stacks[kind].dir.name} changed since "
                    f"it was made (serial {planned[1]} then, {current[1]} now); nothing was applied, make a new plan"
                )
        for kind, plan_file in plans:
            self.apply_plan_file(stacks[kind], plan_file)
            legacy = self.legacy[stacks[kind].dir.name]
            if legacy is not None:
                self.move_state(stacks[kind], legacy)
        return 0

    def apply_plan_file(self, tf: Terraform, plan_file: Path) -> None:
        t0 = time.monotonic()
        log(f"{tf.dir.name}: applying {_shown(plan_file)} ...")
        code, output = self.locked(tf, "apply", "-input=false", "-no-color", "-lock-timeout=10s", str(plan_file),
                                   progress=True)  # fmt: skip
        if code != 0:
            if "Saved plan is stale" in output:
                raise Refused(f"the saved plan {_shown(plan_file)} is stale: make a new plan")
            raise RuntimeError(f"{tf.dir.name}: terraform apply failed (exit {code}):\n{output[-4000:]}")
        summary = _APPLIED.search(output)
        log(f"{tf.dir.name}: {summary.group(1) if summary else 'done'} in {time.monotonic() - t0:.0f}s")

    def _state_version(self, tf: Terraform) -> tuple[str | None, int | None]:
        doc = self.pulled_state(tf)
        return doc.get("lineage"), doc.get("serial")

    def replica_backend_args(self) -> list[str]:
        """``-backend-config`` flags that point a stack's backend at the state's replica.

        The replica bucket in ``recovery.replica_region``, with the same key alias (the replica
        key carries it there), and S3 lock files instead of the lock table, which lives in the
        region that is down (terraform >= 1.10: ``use_lockfile``; an empty ``dynamodb_table``
        turns the table off)."""
        replica = self.settings.replica_naming
        if replica is None:
            raise Refused(
                f"refusing to recover {self.environment}: its state has no replica (recovery.replicate is off "
                f"in {_shown(self.config_path)})"
            )
        return [
            f"-backend-config=bucket={replica.name('tfstate')}",
            f"-backend-config=region={replica.region}",
            "-backend-config=dynamodb_table=",
            "-backend-config=use_lockfile=true",
        ]

    def recover(self) -> int:
        """Plan both stacks against the state's replica (the primary region is down, or its
        bucket lost): each stack is initialised on the replica, then planned, read-only.

        Applying from here is the operator's decision (README: Recovering from a region outage);
        the stack folders stay initialised on the replica until the next verb re-initialises them.
        """
        self.preflight()
        flags = self.replica_backend_args()
        self.synth()
        stacks = [self.stack(kind) for kind in STACK_KINDS]

        def plan_one(tf: Terraform) -> tuple[int, str]:
            self.tf(tf, "init", "-input=false", "-no-color", "-reconfigure", *flags)
            tf.forget_init()  # every other verb initialises on the primary bucket again
            code, output = self.tf(tf, "plan", "-input=false", "-no-color", "-detailed-exitcode", check=False)
            if code not in (0, 2):
                raise RuntimeError(f"terraform plan on the replica failed in {tf.dir.name}:\n{output[-4000:]}")
            return code, output

        results = self.parallel(*(lambda tf=tf: plan_one(tf) for tf in stacks))
        bucket = flags[0].split("=", 2)[2]
        for tf, (code, output) in zip(stacks, results, strict=True):
            if code == 2:  # what terraform would change: the operator reads it before anything else
                print(output)
            verdict = "no changes" if code == 0 else "CHANGES: " + _plan_line(output)
            log(f"{tf.dir.name}: planned against s3://{bucket} ({self.settings.recovery.replica_region}): {verdict}")
        return 2 if any(code == 2 for code, _ in results) else 0

    def drift(self, summary_file: Path | None = None) -> int:
        """A refresh-only plan of both stacks: exit 2 and name every drifted attribute."""
        self.preflight()
        self.synth()
        folder = self.ws.plans / "drift"
        folder.mkdir(parents=True, exist_ok=True)

        def drift_one(tf: Terraform) -> tuple[str, bool]:
            plan_file = folder / f"{tf.dir.name}.tfplan"
            args = ("plan", "-refresh-only", "-input=false", "-no-color", "-detailed-exitcode", READ_ONLY_LOCK_FLAG)
            code, output = self.tf(tf, *args, f"-out={plan_file}", check=False)
            if code not in (0, 2):
                raise RuntimeError(f"terraform plan -refresh-only failed in {tf.dir.name}:\n{output[-4000:]}")
            _, shown = self.tf(tf, "show", "-json", str(plan_file))
            return drift_summary(json.loads(shown), tf.dir.name, _ignored_changes(tf))

        results = self.parallel(*(lambda tf=tf: drift_one(tf) for tf in self.init_deployed()))
        text = "\n".join(section for section, _ in results)
        if summary_file is not None:
            summary_file.parent.mkdir(parents=True, exist_ok=True)
            summary_file.write_text(text)
        print(text)
        return 2 if any(found for _, found in results) else 0

    def destroy(self, confirm: str | None = None) -> int:
        if self.target == "local" and running(self.ws.emulator) is None:
            log("emulator not running: nothing to destroy (moto keeps resources in memory only)")
            stop(self.ws.emulator)
            return 0
        self.preflight()
        self.synth()
        backend = self.stack("state-backend")
        platform = self.stack("platform")
        if any(self.legacy_bucket_of(tf) for tf in (backend, platform)):
            raise Refused(
                f"the state of {self.environment} is still in its old-named bucket "
                f"({self.settings.naming.legacy_bucket('tfstate')}): run `make deploy` once to move it "
                "(README: Upgrading to account-scoped bucket names), then destroy"
            )
        state, remote = self.init_state_backend(backend)
        if not remote and not state.local_file.exists():
            state.release()
            raise Refused(f"{self.environment} is not deployed ({state.location} does not exist): nothing to destroy")
        self.init(platform)
        access = self.access_stack()
        if access is not None:
            self.init(access)
        states = self.parallel(lambda: self._state_json(platform), lambda: self._state_json(backend))
        found = [
            *destroy_guard.protections(platform.dir.name, states[0]),
            *destroy_guard.protections(backend.dir.name, states[1]),
        ]
        own = {state.bucket: {state.key, self._backend_key(platform), *([self._backend_key(access)] if access else [])}}
        blocking = destroy_guard.blockers(found, self.aws, own)
        self.refuse_unsafe_destroy(found, blocking, confirm)

        lift = destroy_guard.lift_override(found)
        for tf in (platform, backend):
            self._lift_protections(tf, lift, found)
        t0 = time.monotonic()
        log(f"{platform.dir.name}: destroying ...")
        self.tf(platform, "destroy", "-input=false", "-no-color", "-auto-approve", "-lock-timeout=10s", progress=True)
        log(f"{platform.dir.name}: destroyed in {time.monotonic() - t0:.0f}s")
        if access is not None:
            t0 = time.monotonic()
            log(f"{access.dir.name}: destroying ...")
            self.tf(access, "destroy", "-input=false", "-no-color", "-auto-approve", "-lock-timeout=10s", progress=True)
            log(f"{access.dir.name}: destroyed in {time.monotonic() - t0:.0f}s")
        # The state stack's state lives in the bucket about to go: bring it home first.
        if remote:
            state.migrate_to_local()
        if any(p.name == state.bucket for p in found):
            destroy_guard.delete_every_version(self.aws, state.bucket, own[state.bucket])
        t0 = time.monotonic()
        log(f"{backend.dir.name}: destroying ...")
        self.tf(backend, "destroy", "-input=false", "-no-color", "-auto-approve", progress=True)
        log(f"{backend.dir.name}: destroyed in {time.monotonic() - t0:.0f}s")
        state.forget_local()
        for tf in (platform, backend):
            (tf.dir / OVERRIDE_UNPROTECT).unlink(missing_ok=True)
        self.ws.outputs_file.unlink(missing_ok=True)
        if self.target == "local" and not self.keep_emulator:
            stop(self.ws.emulator)
            log("emulator stopped")
        return 0

    def retire_legacy(self, confirm: str | None) -> int:
        """Delete what an upgrade left behind: the old-named buckets, with every object version in
        them, and the repositories ECR created under the old pull-through cache prefix.

        The operator's explicit step after ``deploy`` moved both states (README: Upgrading to
        account-scoped bucket names): refused unless confirmed by name, and while either
        stack's state still lives in an old bucket.
        """
        self.preflight()
        self.synth()
        backend, platform = self.stack("state-backend"), self.stack("platform")
        waiting = [tf.dir.name for tf in (backend, platform) if self.legacy_bucket_of(tf)]
        if waiting:
            raise Refused(f"the state of {', '.join(waiting)} is still in an old-named bucket: run `make deploy` first")
        naming, account = self.settings.naming, self.aws.account()
        s3, ecr = self.aws.client("s3"), self.aws.client("ecr")
        found = [b for b in map(naming.legacy_bucket, destroy_guard.BUCKET_COMPONENTS) if self._owned(s3, b, account)]
        # Repositories ECR created for the old pull-through cache rule: Terraform never owned them.
        cached = [
            r["repositoryName"]
            for page in ecr.get_paginator("describe_repositories").paginate()
            for r in page["repositories"]
            if r["repositoryName"].startswith(f"{naming.legacy_cache_prefix}/")
        ]
        if not found and not cached:
            log(f"no old-named bucket or cached repository of {self.environment} is left: nothing to do")
            return 0
        if confirm != self.environment:
            raise Refused(
                f"refusing to delete {', '.join([*found, *cached])} (with every object version and image in them) "
                f"without confirmation: nothing was changed. Confirm with the environment's name: "
                f"--confirm {self.environment}",
                code=2,
            )
        for bucket in found:
            destroy_guard.delete_every_version(self.aws, bucket, None)
            s3.delete_bucket(Bucket=bucket, ExpectedBucketOwner=account)
            log(f"deleted the old-named bucket {bucket}")
        for repository in cached:
            ecr.delete_repository(repositoryName=repository, force=True)
            log(f"deleted the repository {repository} the old pull-through cache rule created")
        return 0

    @staticmethod
    def _owned(s3: Any, bucket: str, account: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        except ClientError:
            return False  # absent, or someone else's
        return True

    def refuse_unsafe_destroy(
        self, found: list[destroy_guard.Protection], blocking: list[str], confirm: str | None
    ) -> None:
        lines = []
        if found and confirm != self.environment:
            lines.append(
                f"refusing to destroy {self.environment}: it is protected; nothing was changed. To destroy it anyway, "
                f"confirm with its name: {self.teardown_command(confirm=True)}"
            )
            lines += [f"  protection: {p}" for p in found]
        elif blocking:
            lines.append(f"refusing to destroy {self.environment}: these would stop it halfway; nothing was changed")
        if not lines:
            return
        lines += [f"  blocker: {b}" for b in blocking]
        if self.target == "local":
            lines.append(
                "  (a local deployment lives only in the emulator: `make emulator-stop` discards it in one step)"
            )
        raise Refused("\n".join(lines))

    def _lift_protections(self, tf: Terraform, lift: dict[str, Any], found: list[destroy_guard.Protection]) -> None:
        targets = [p.address for p in found if p.lift is not None and p.stack == tf.dir.name]
        if not targets:
            return
        (tf.dir / OVERRIDE_UNPROTECT).write_text(json.dumps(lift, indent=2) + "\n")
        log(f"{tf.dir.name}: lifting deletion protection of {', '.join(targets)} (confirmed)")
        self.tf(tf, "apply", "-input=false", "-no-color", "-auto-approve", *(f"-target={a}" for a in targets))

    def _state_json(self, tf: Terraform) -> dict[str, Any]:
        """The stack's resources as ``terraform show -json`` gives them, from ``state pull``
        (``show`` starts the provider for its schema: about 4 CPU-seconds, against 1)."""
        return state_as_shown(self.pulled_state(tf))

    def _backend_key(self, tf: Terraform) -> str:
        return str(json.loads((tf.dir / "cdk.tf.json").read_text())["terraform"]["backend"]["s3"]["key"])

    # -- results -------------------------------------------------------------------

    def teardown_command(self, confirm: bool = False) -> str:
        """The exact command that tears down what this run deployed."""
        flag = f" --confirm {self.environment}" if confirm else ""
        if self.config is None and self.ws == Workspace.default():
            target = "" if self.target == "local" else f"DEPLOY_TARGET={self.target} "
            confirm_var = f" CONFIRM={self.environment}" if confirm else ""
            return f"{target}ENVIRONMENT={self.environment} make destroy{confirm_var}"
        opts = f"--environment {self.environment} --target {self.target}"
        if self.config is not None:
            opts += f" --config {self.config}"
        if self.ws != Workspace.default():
            opts += f" --work-dir {self.ws.outdir.parent}"
        return f"python -m tools.deploy destroy {opts}{flag}"

    def summary(self, outputs: dict[str, Any], resources: int, seconds: float, state_location: str) -> None:
        where = f"the emulator at {self.endpoint}" if self.target == "local" else f"AWS account {self.aws.account()}"
        log("")
        log(f"Deployed {self.environment} to {where}: {resources} resources in {seconds:.0f}s.")
        for key in ("service_url", "alb_dns_name", "pipeline_name", "ecr_repository_url", "cluster_name"):
            log(f"  {key:20s} {outputs.get(key, '')}")
        platform_key = self._backend_key(self.stack("platform"))
        log(f"  state                s3://{outputs['state_bucket']}/{platform_key} (lock: {outputs['lock_table']})")
        log(f"  bootstrap state      {state_location}")
        log(f"  all outputs          {self.ws.outputs_file}")
        notice = plain_http_notice(self.settings)
        if notice is not None:
            log(f"Warning: {notice}")
        if self.target == "aws":
            for step in next_steps(self.settings, outputs, self.aws.client("sns")):
                log(f"To do: {step}")
        log(f"Tear down with: {self.teardown_command()}")


def _plan_line(output: str) -> str:
    """terraform's one-line count ("Plan: 1 to add, 0 to change, 0 to destroy."), or a pointer."""
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith("Plan: ")]
    return lines[-1] if lines else "see terraform's output above"


def state_outputs(state: Mapping[str, Any]) -> dict[str, Any]:
    """Name -> value of a pulled state's outputs: what ``terraform output -json`` reads from it
    (only the root module's outputs are stored), sensitive ones included."""
    return {name: item["value"] for name, item in state.get("outputs", {}).items()}


def managed_instances(state: Mapping[str, Any]) -> int:
    """How many resource instances a pulled state manages: the lines of ``terraform state list``
    without its data sources (each instance of a count or for_each resource is its own line; an
    object a failed create_before_destroy left deposed is not)."""
    return sum(
        1
        for r in state.get("resources", [])
        if r.get("mode") == "managed"
        for instance in r.get("instances", [])
        if "deposed" not in instance
    )


def state_as_shown(state: Mapping[str, Any]) -> dict[str, Any]:
    """A pulled state's root-module resources in the shape ``terraform show -json`` gives them
    (``values.root_module.resources``: address, mode, type, name, values), {} when it has none.
    Only managed resources: a data source is not something a destroy removes."""
    resources = [
        {
            "address": f"{r['type']}.{r['name']}" + ("" if key is None else f"[{json.dumps(key)}]"),
            "mode": "managed",
            "type": r["type"],
            "name": r["name"],
            "values": instance.get("attributes") or {},
        }
        for r in state.get("resources", [])
        if r.get("mode") == "managed" and "module" not in r
        for instance in r.get("instances", [])
        for key in [instance.get("index_key")]
    ]
    return {"values": {"root_module": {"resources": resources}}} if resources else {}


def _backend(tf: Terraform) -> tuple[str, str]:
    """(bucket, key) of the stack's S3 backend as synthesized."""
    s3 = json.loads((tf.dir / "cdk.tf.json").read_text())["terraform"]["backend"]["s3"]
    return str(s3["bucket"]), str(s3["key"])


def _resource_name(tf: Terraform, prefix: str) -> str:
    """The synthesized name of the one resource whose construct path starts with ``prefix``."""
    doc = json.loads((tf.dir / "cdk.tf.json").read_text())
    (name,) = [str(n) for items in doc["resource"].values() for n in items if n.startswith(prefix + "_")]
    return name


def _ignored_changes(tf: Terraform) -> dict[str, list[str]]:
    """Each resource's ``lifecycle.ignore_changes`` in the synthesized stack (type.name -> attributes)."""
    doc = json.loads((tf.dir / "cdk.tf.json").read_text())
    ignored = {
        f"{rtype}.{name}": body.get("lifecycle", {}).get("ignore_changes")
        for rtype, items in doc.get("resource", {}).items()
        for name, body in items.items()
    }
    # A list of attributes, or the string "all".
    return {k: [v] if isinstance(v, str) else list(v) for k, v in ignored.items() if isinstance(v, list | str)}


def _plan_prior_state(plan_file: Path) -> tuple[str | None, int | None]:
    """(lineage, serial) of the state a saved plan was made against (terraform's own staleness test)."""
    with zipfile.ZipFile(plan_file) as archive:
        if "tfstate" not in archive.namelist():
            return None, None
        doc = json.loads(archive.read("tfstate"))
    return doc.get("lineage"), doc.get("serial")


def _git_commit() -> str | None:
    import subprocess

    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None


def _run_url() -> str | None:
    """This GitHub Actions run's page (where the full summary is), when run there."""
    parts = [os.environ.get(v) for v in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    return f"{parts[0]}/{parts[1]}/actions/runs/{parts[2]}" if all(parts) else None


def _shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _interrupt_report(output: str) -> str:
    """What terraform said about the interrupt, and its last lines."""
    lines = output.strip().splitlines()
    said = [ln for ln in lines[:-6] if any(w in ln for w in ("Interrupt", "Gracefully", "interrupts", "Error"))]
    return "\n".join(f"  | {line}" for line in [*said, *lines[-6:]])


def _first_error(output: str) -> str:
    line = next((ln for ln in output.splitlines() if ln.startswith("Error: ")), "unknown error")
    return line[:160]


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.deploy", description=__doc__.splitlines()[0])
    parser.add_argument(
        "verb", choices=["deploy", "plan", "apply", "drift", "destroy", "retire-legacy", "recover", "bootstrap-ci"]
    )
    parser.add_argument("--environment", default="dev")
    parser.add_argument("--target", choices=["local", "aws"], default="local")
    parser.add_argument("--config", type=Path, help="settings file (default: config/<environment>.toml)")
    parser.add_argument("--work-dir", type=Path, help="keep emulator, cdktf.out, state, plans and outputs here")
    parser.add_argument("--keep-emulator", action="store_true", help="destroy: leave the emulator running")
    parser.add_argument("--out", type=Path, help="plan: save the plans and summary.md in this folder")
    parser.add_argument("--plan-dir", type=Path, help="apply: the folder a plan --out wrote")
    parser.add_argument("--summary", type=Path, help="drift: also write the Markdown summary here")
    parser.add_argument(
        "--confirm", metavar="ENVIRONMENT", help="destroy, retire-legacy: confirm a protected environment by name"
    )
    args = parser.parse_args(argv)
    # terraform runs in each stack's folder: hand it paths that do not depend on the caller's.
    for name in ("out", "plan_dir", "summary"):
        if getattr(args, name) is not None:
            setattr(args, name, getattr(args, name).resolve())
    workspace = Workspace.under(args.work_dir) if args.work_dir else Workspace.default()
    deployer = Deployer(args.environment, args.target, workspace, args.config, args.keep_emulator, args.verb)
    signal.signal(signal.SIGTERM, deployer.on_signal)
    signal.signal(signal.SIGINT, deployer.on_signal)
    try:
        if args.verb == "plan":
            return deployer.plan(args.out)
        if args.verb == "apply":
            return deployer.apply_saved(args.plan_dir or workspace.plans / args.environment)
        if args.verb == "drift":
            return deployer.drift(args.summary)
        if args.verb == "destroy":
            return deployer.destroy(args.confirm)
        if args.verb == "retire-legacy":
            return deployer.retire_legacy(args.confirm)
        if args.verb == "recover":
            return deployer.recover()
        if args.verb == "bootstrap-ci":
            return deployer.bootstrap_ci()
        return deployer.deploy()
    except Interrupted as exc:
        if exc.terraform_output:
            print("interrupted: terraform stopped after its current operations and saved its state:", file=sys.stderr)
            print(_interrupt_report(exc.terraform_output), file=sys.stderr)
        print("interrupted: stopped; nothing more was applied (exit 130)", file=sys.stderr)
        return INTERRUPTED
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except (ProviderUnavailable, TargetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

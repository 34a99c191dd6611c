"""Deploy, plan or destroy one environment: the state backend stack, then the platform.

    python -m tools.deploy deploy  --environment dev --target local
    python -m tools.deploy plan    --environment dev --target local   # exit 0 = no changes, 2 = changes
    python -m tools.deploy destroy --environment dev --target local

Options: ``--config FILE`` deploys any settings file; ``--work-dir DIR`` keeps
the emulator, cdktf.out, bootstrap state and outputs in DIR instead of the
project's defaults (the integration tests use a private one);
``--keep-emulator`` leaves the emulator running after ``destroy``.

``--target local`` starts (or reuses) the embedded emulator; ``aws`` uses the
credentials in your environment. Terraform runs directly on the synthesized
JSON (the same thing ``cdktf deploy`` does, without its registry calls), so it
works offline with ``TF_PROVIDER_MIRROR``.

Interrupting a deploy (Ctrl-C or SIGTERM) is forwarded to terraform as SIGINT,
so it stops after the current operations and saves state; the next deploy
continues from there. If a previous deploy died without releasing the state
lock (its pid file names a dead process), the lock is released first.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from constructs_lib.settings import ConfigError, Settings, load_settings
from tools.synth import synth
from tools.terraform import ROOT, terraform_env


class Refused(Exception):
    """A deploy the tool will not start: one line for the user, and an exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Workspace:
    """Where one deployment keeps its local files."""

    emulator: Path
    outdir: Path
    bootstrap_state: Path
    outputs_file: Path
    deploy_pid: Path

    @classmethod
    def default(cls) -> Workspace:
        return cls(
            emulator=ROOT / "build" / "emulator",
            outdir=ROOT / "cdktf.out",
            bootstrap_state=ROOT / "build" / "state",
            outputs_file=ROOT / "cfn-outputs" / "flat-outputs.json",
            deploy_pid=ROOT / "build" / "deploy.pid",
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
        )


_PROGRESS = re.compile(r"^(\S+): (Creation|Modifications|Destruction) complete after (\S+)")
_LOCK_ID = re.compile(r"ID:\s+([0-9a-f-]{36})")


def log(message: str) -> None:
    print(message, flush=True)


class Terraform:
    """terraform in one stack directory, with progress lines and signal forwarding."""

    def __init__(self, stack_dir: Path, env: dict[str, str]) -> None:
        self.dir = stack_dir
        self.env = env
        self.proc: subprocess.Popen[str] | None = None

    def run(self, *args: str, progress: bool = False, check: bool = True) -> tuple[int, str]:
        cmd = ["terraform", *args]
        self.proc = subprocess.Popen(
            cmd, cwd=self.dir, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        lines = []
        done = 0
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            lines.append(line)
            match = _PROGRESS.match(line.strip())
            if progress and match:
                done += 1
                log(f"  [{done:3d}] {match.group(2).lower()} {match.group(1)} ({match.group(3)})")
        code = self.proc.wait()
        self.proc = None
        output = "".join(lines)
        if check and code not in (0,):
            raise RuntimeError(f"terraform {' '.join(args)} failed in {self.dir.name} (exit {code}):\n{output[-4000:]}")
        return code, output

    def interrupt(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)


class Deployer:
    def __init__(
        self,
        environment: str,
        target: str,
        workspace: Workspace | None = None,
        config: Path | None = None,
        keep_emulator: bool = False,
    ) -> None:
        self.environment = environment
        self.target = target
        self.ws = workspace or Workspace.default()
        self.config = config
        self.keep_emulator = keep_emulator
        self.env = terraform_env()
        self.current: Terraform | None = None
        self.endpoint: str | None = None
        self.interrupted = False
        self.config_path = config or ROOT / "config" / f"{environment}.toml"
        self.verb = "deploy"
        self._settings: Settings | None = None

    # -- guards ---------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The environment's settings as written (overrides are main.py's business)."""
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    def require_account(self) -> None:
        """A deploy to AWS must name its account: before any AWS call."""
        if self.target == "aws" and self.settings.account_id is None:
            raise Refused(
                f'{_shown(self.config_path)} has no account_id: add account_id = "<12-digit AWS account id>" '
                "at its top, the account this environment deploys to (README: Deploying to a real AWS account)",
                code=2,
            )

    def verify_account(self) -> None:
        """Stop before any change when the credentials belong to another account."""
        expected = self.settings.account_id
        if expected is None:
            return  # only the local target gets here without one
        actual = caller_account(self.target, self.settings, self.env)
        if actual != expected:
            raise Refused(
                f"refusing to {self.verb} {self.environment}: the credentials in use belong to account {actual}, "
                f"but {_shown(self.config_path)} says account_id = {expected}"
            )

    # -- setup -------------------------------------------------------------

    def start_emulator(self) -> None:
        from local_aws.server import start

        t0 = time.monotonic()
        emulator = start(self.ws.emulator)
        self.endpoint = emulator.endpoint
        log(f"emulator: {self.endpoint} (pid {emulator.pid}, ready in {time.monotonic() - t0:.1f}s)")
        self.env.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_REGION": self.env.get("AWS_REGION", "us-east-1"),
            }
        )

    def synth(self) -> None:
        env = dict(
            self.env,
            ENVIRONMENT=self.environment,
            DEPLOY_TARGET=self.target,
            CDKTF_OUTDIR=str(self.ws.outdir),
            BOOTSTRAP_STATE_DIR=str(self.ws.bootstrap_state),
        )
        env.pop("CONFIG_FILE", None)
        if self.config is not None:
            env["CONFIG_FILE"] = str(self.config.resolve())
        synth(ROOT, env)  # reuses the previous output when nothing relevant changed

    def stack(self, kind: str) -> Terraform:
        self.current = Terraform(self.ws.outdir / "stacks" / f"{kind}-{self.environment}", self.env)
        return self.current

    def init(self, tf: Terraform) -> None:
        # -reconfigure: the emulator's port (part of the backend config) changes per start.
        tf.run("init", "-input=false", "-no-color", "-reconfigure")

    def release_stale_lock(self, tf: Terraform, output: str) -> bool:
        match = _LOCK_ID.search(output)
        if "Error acquiring the state lock" not in output or not match:
            return False
        pid = int(self.ws.deploy_pid.read_text()) if self.ws.deploy_pid.exists() else None
        if pid is not None and pid != os.getpid() and _alive(pid):
            return False  # another deploy is really running: do not steal its lock
        log(f"releasing the state lock {match.group(1)} left by an interrupted deploy")
        tf.run("force-unlock", "-force", match.group(1))
        return True

    def apply(self, tf: Terraform, label: str) -> None:
        t0 = time.monotonic()
        log(f"{label}: applying ...")
        args = ("apply", "-input=false", "-no-color", "-auto-approve", "-lock-timeout=10s")
        code, output = tf.run(*args, progress=True, check=False)
        if code != 0 and self.release_stale_lock(tf, output):
            code, output = tf.run(*args, progress=True, check=False)
        if code != 0 and not self.interrupted and "Error acquiring the state lock" not in output:
            # Eventual consistency (AWS) or a transient emulator error: state keeps
            # what was done, so one more apply finishes the rest or fails for real.
            log(f"{label}: apply failed ({_first_error(output)}); retrying once ...")
            code, output = tf.run(*args, progress=True, check=False)
        if code != 0:
            raise RuntimeError(f"{label}: terraform apply failed (exit {code}):\n{output[-4000:]}")
        summary = re.search(r"Apply complete! Resources: (.*)\.", output)
        log(f"{label}: {summary.group(1) if summary else 'done'} in {time.monotonic() - t0:.0f}s")

    # -- verbs --------------------------------------------------------------

    def preflight(self) -> None:
        """Settings, then the emulator (local), then whose credentials these are: before any change."""
        self.require_account()
        if self.target == "local":
            self.start_emulator()
        self.verify_account()

    def deploy(self) -> int:
        started = time.monotonic()
        self.preflight()
        self.ws.deploy_pid.parent.mkdir(parents=True, exist_ok=True)
        self.ws.deploy_pid.write_text(str(os.getpid()))
        self.synth()
        backend = self.stack("state-backend")
        self.init(backend)
        self.apply(backend, f"state-backend-{self.environment}")
        backend_outputs = self.outputs(backend)
        platform = self.stack("platform")
        self.init(platform)
        self.apply(platform, f"platform-{self.environment}")
        outputs = {**self.outputs(platform), **backend_outputs}
        self.ws.outputs_file.parent.mkdir(parents=True, exist_ok=True)
        self.ws.outputs_file.write_text(json.dumps(outputs, indent=2, sort_keys=True) + "\n")
        self.ws.deploy_pid.unlink(missing_ok=True)
        self.summary(outputs, time.monotonic() - started)
        return 0

    def plan(self) -> int:
        self.preflight()
        self.synth()
        platform = self.stack("platform")
        self.init(platform)
        code, output = platform.run(
            "plan", "-input=false", "-no-color", "-detailed-exitcode", "-lock-timeout=10s", check=False
        )
        print(output)
        return code

    def destroy(self) -> int:
        from local_aws.server import running, stop

        if self.target == "local" and running(self.ws.emulator) is None:
            log("emulator not running: nothing to destroy (moto keeps resources in memory only)")
            stop(self.ws.emulator)
            return 0
        self.preflight()
        self.synth()
        for kind in ("platform", "state-backend"):
            tf = self.stack(kind)
            self.init(tf)
            t0 = time.monotonic()
            log(f"{kind}-{self.environment}: destroying ...")
            tf.run("destroy", "-input=false", "-no-color", "-auto-approve", "-lock-timeout=10s", progress=True)
            log(f"{kind}-{self.environment}: destroyed in {time.monotonic() - t0:.0f}s")
        self.ws.outputs_file.unlink(missing_ok=True)
        if self.target == "local" and not self.keep_emulator:
            stop(self.ws.emulator)
            log("emulator stopped")
        return 0

    # -- results -------------------------------------------------------------

    def outputs(self, tf: Terraform) -> dict[str, Any]:
        _, text = tf.run("output", "-json", "-no-color")
        return {name: item["value"] for name, item in json.loads(text).items()}

    def summary(self, outputs: dict[str, Any], seconds: float) -> None:
        resources = 0
        for kind in ("state-backend", "platform"):
            _, listing = self.stack(kind).run("state", "list", "-no-color")
            resources += sum(1 for line in listing.splitlines() if line and not line.startswith("data."))
        where = f"the emulator at {self.endpoint}" if self.target == "local" else "your AWS account"
        log("")
        log(f"Deployed {self.environment} to {where}: {resources} resources in {seconds:.0f}s.")
        for key in ("alb_dns_name", "pipeline_name", "ecr_repository_url", "cluster_name", "service_name"):
            log(f"  {key:20s} {outputs.get(key, '')}")
        log(f"  state                s3://{outputs['state_bucket']}/{self.state_key()} (lock: {outputs['lock_table']})")
        log(f"  all outputs          {self.ws.outputs_file}")
        log("Tear down with: make destroy")

    def state_key(self) -> str:
        doc = json.loads((self.ws.outdir / "stacks" / f"platform-{self.environment}" / "cdk.tf.json").read_text())
        return str(doc["terraform"]["backend"]["s3"]["key"])


def caller_account(target: str, settings: Settings, env: Mapping[str, str]) -> str:
    """The account terraform's credentials act in (after assuming deploy_role_arn on AWS).

    On the local target the client uses the emulator's endpoint and credentials
    from ``env``, exactly as terraform will; on AWS the usual credential chain.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    local = target == "local"
    try:
        sts = boto3.client(
            "sts",
            region_name=settings.region,
            endpoint_url=env.get("AWS_ENDPOINT_URL") if local else None,
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") if local else None,
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") if local else None,
        )
        if settings.deploy_role_arn and not local:
            creds = sts.assume_role(
                RoleArn=settings.deploy_role_arn, RoleSessionName=f"{settings.project}-{settings.environment}-check"
            )["Credentials"]
            sts = boto3.client(
                "sts",
                region_name=settings.region,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )
        return str(sts.get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as exc:
        raise Refused(f"cannot tell which AWS account the credentials belong to: {exc}") from None


def _shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _first_error(output: str) -> str:
    line = next((ln for ln in output.splitlines() if ln.startswith("Error: ")), "unknown error")
    return line[:160]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("verb", choices=["deploy", "plan", "destroy"])
    parser.add_argument("--environment", default="dev")
    parser.add_argument("--target", choices=["local", "aws"], default="local")
    parser.add_argument("--config", type=Path, help="settings file (default: config/<environment>.toml)")
    parser.add_argument("--work-dir", type=Path, help="keep emulator, cdktf.out, state and outputs here")
    parser.add_argument("--keep-emulator", action="store_true", help="destroy: leave the emulator running")
    args = parser.parse_args(argv)
    workspace = Workspace.under(args.work_dir) if args.work_dir else Workspace.default()
    deployer = Deployer(args.environment, args.target, workspace, args.config, args.keep_emulator)
    deployer.verb = args.verb

    def forward(signum: int, frame: FrameType | None) -> None:
        log("interrupted: letting terraform save its state ...")
        deployer.interrupted = True
        if deployer.current is not None:
            deployer.current.interrupt()

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        result: int = getattr(deployer, args.verb)()
        return result
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

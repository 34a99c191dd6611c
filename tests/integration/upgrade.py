"""The last release deployed on the emulator, then upgraded to this code (bucket names with the
account and region): shared by tests/integration/test_upgrade.py and the security plan that
reads it on the same worker (the ``upgraded`` fixture in conftest.py)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local_aws.server import start, stop
from tests.helpers import ROOT
from tests.integration.conftest import (
    ENVIRONMENT,
    Deployment,
    cli_env,
    deploy_command,
    replicated_config,
)

#: main as it landed on 2026-11-30 (stop 18): the last release with global bucket names.
LAST_RELEASE = "1941fd78ccbe5f5eac41b4163975ef5b66f09ea6"
ACCOUNT, REGION = "123456789012", "us-east-1"
STATE_KEYS = {
    "state-backend": f"cicd/{ENVIRONMENT}/state-backend.tfstate",
    "platform": f"cicd/{ENVIRONMENT}/terraform.tfstate",
}
#: component -> (old name, a marker object put there by "users" of the last release)
OLD = {
    "tfstate": f"cicd-tfstate-{ENVIRONMENT}",
    "artifacts": f"cicd-artifacts-{ENVIRONMENT}",
    "source": f"cicd-source-{ENVIRONMENT}",
    "alb-logs": f"cicd-alb-logs-{ENVIRONMENT}",
    "tfstate-logs": f"cicd-tfstate-logs-{ENVIRONMENT}",
}
MARKERS = {"artifacts": "cicd-pipeline/build/abc123", "source": "source.zip", "alb-logs": "alb/AWSLogs/x/log.gz"}


def new_name(component: str) -> str:
    return f"cicd-{component}-{ENVIRONMENT}-{ACCOUNT}-{REGION}"


@dataclass
class Upgrade:
    deployment: Deployment
    #: stack -> (lineage, serial) in the old state bucket before the upgrade
    before: dict[str, tuple[str, int]]
    #: The folder the upgrade's plan verb wrote: per stack the saved plan and its show -json,
    #: and the summary.
    plans: Path

    @property
    def planned(self) -> dict[str, dict[str, list[str]]]:
        """stack -> address -> planned actions (the upgrade plan, made before any change)."""
        return {kind: planned_actions(self.plans / f"{kind}-{ENVIRONMENT}.json") for kind in STATE_KEYS}

    @property
    def plan_summary(self) -> str:
        return (self.plans / "summary.md").read_text()

    @property
    def deploy_log(self) -> str:
        """What the upgrade's deploy printed."""
        return self.deployment.log


def last_release(into: Path) -> Path:
    """The last release's tree, from this repository's history."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", LAST_RELEASE], cwd=ROOT, capture_output=True, check=False, timeout=120
    )
    assert archive.returncode == 0, (
        f"git archive {LAST_RELEASE} failed: the upgrade test needs the repository's history "
        f"(a full clone, not a shallow one): {archive.stderr.decode()[-500:]}"
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def state_version(s3: Any, bucket: str, key: str) -> tuple[str, int]:
    doc = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return str(doc["lineage"]), int(doc["serial"])


def planned_actions(shown: Path) -> dict[str, list[str]]:
    """address -> actions, from the ``terraform show -json`` of a saved plan that the plan verb
    writes beside it (``<stack>.json``; reading it costs no terraform run)."""
    return {rc["address"]: list(rc["change"]["actions"]) for rc in json.loads(shown.read_text())["resource_changes"]}


def upgrade_last_release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upgrade]:
    """Deploy the last release on a new emulator, put marker objects in its buckets, plan and deploy
    this code over it; yields the result (the emulator stops afterwards)."""
    release = last_release(tmp_path_factory.mktemp("last-release"))
    workspace = tmp_path_factory.mktemp("upgrade")
    # The emulator is this code's (its shims), started without coverage's subprocess hook.
    hooks = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("COVERAGE_")}
    try:
        emulator = start(workspace / "emulator")
    finally:
        os.environ.update(hooks)
    try:
        old = subprocess.run(
            [sys.executable, "-m", "tools.deploy", "deploy", "--environment", ENVIRONMENT, "--target", "local",
             "--config", str(release / "tests" / "integration" / "it.toml"), "--work-dir", str(workspace)],
            cwd=release, env=dict(cli_env(), PYTHONPATH=str(release)), capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert old.returncode == 0, f"the last release's deploy failed:\n{old.stdout[-3000:]}\n{old.stderr[-3000:]}"
        deployment = Deployment(workspace, {}, emulator.endpoint, "")
        s3 = deployment.client("s3")
        for component, key in MARKERS.items():
            s3.put_object(Bucket=OLD[component], Key=key, Body=b"kept across the upgrade")
        before = {kind: state_version(s3, OLD["tfstate"], key) for kind, key in STATE_KEYS.items()}

        env = dict(cli_env(), PYTHONPATH=str(ROOT))
        plans = workspace / "plans" / "upgrade"
        # This code with replication on, as prod ships it: the upgrade adds the replicas too.
        config = replicated_config(tmp_path_factory.mktemp("config"))
        plan = subprocess.run(deploy_command(workspace, "plan", "--out", str(plans), config=config), cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=900)  # fmt: skip
        assert plan.returncode == 2, f"plan: {plan.returncode}\n{plan.stdout[-3000:]}\n{plan.stderr[-3000:]}"
        new = subprocess.run(deploy_command(workspace, "deploy", config=config), cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=900)  # fmt: skip
        assert new.returncode == 0, f"upgrade deploy: {new.returncode}\n{new.stdout[-4000:]}\n{new.stderr[-3000:]}"
        outputs = json.loads((workspace / "cfn-outputs" / "flat-outputs.json").read_text())
        yield Upgrade(Deployment(workspace, outputs, emulator.endpoint, new.stdout, config), before, plans)
    finally:
        stop(workspace / "emulator")

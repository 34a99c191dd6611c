"""Interrupted deploys on the emulator: terraform gets exactly one SIGINT (the
deploy tool runs it in its own process group), saves state, releases the lock;
the next deploy finishes with nothing created twice. An interrupt before any
terraform run stops with 130 at once. (tests/unit/test_interrupts.py counts the
signals exactly with a stand-in terraform.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.integration.conftest import (
    CONFIG,
    ENVIRONMENT,
    Deployment,
    cli_env,
    deploy_command,
    emulator_terraform_env,
    unprotected_config,
)

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]
PLATFORM_STATE = "cicd/it/terraform.tfstate"


def lock_held(deployment: Deployment, aws: Aws) -> bool:
    key = {"LockID": {"S": f"{deployment.outputs['state_bucket']}/{PLATFORM_STATE}"}}
    item = aws("dynamodb").get_item(TableName=deployment.outputs["lock_table"], Key=key).get("Item")
    return bool(item and "Info" in item)


def s3_endpoints(deployment: Deployment, aws: Aws) -> list[dict[str, Any]]:
    """The VPC's S3 gateway endpoints that are not deleted."""
    endpoints = aws("ec2").describe_vpc_endpoints(
        Filters=[
            {"Name": "vpc-id", "Values": [deployment.outputs["vpc_id"]]},
            {"Name": "service-name", "Values": ["com.amazonaws.us-east-1.s3"]},
        ]
    )["VpcEndpoints"]
    return [e for e in endpoints if e["State"].lower() != "deleted"]


def wait_for_new_endpoint(deployment: Deployment, aws: Aws, before: set[str]) -> None:
    deadline = time.monotonic() + 120
    while not [e for e in s3_endpoints(deployment, aws) if e["VpcEndpointId"] not in before]:
        assert time.monotonic() < deadline, "the replacing endpoint was never created"
        time.sleep(0.1)


def test_sigint_to_the_whole_process_group_mid_apply_is_safe(deployment: Deployment, aws: Aws, tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches every process in the foreground group. terraform
    runs in its own group, so it gets exactly one SIGINT (from the tool)."""
    env = emulator_terraform_env(deployment.endpoint)
    doc = json.loads((deployment.stack_dir() / "cdk.tf.json").read_text())
    (endpoint,) = [f"aws_vpc_endpoint.{n}" for n in doc["resource"]["aws_vpc_endpoint"] if n.startswith("network_s3-")]
    subprocess.run(["terraform", "taint", "-no-color", endpoint], cwd=deployment.stack_dir(), env=env, check=True,
                   capture_output=True, timeout=120)  # fmt: skip

    before = {e["VpcEndpointId"] for e in s3_endpoints(deployment, aws)}
    proc = subprocess.Popen(
        deploy_command(deployment.workspace, "deploy"),
        cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if f"destruction {endpoint}" in line:  # the endpoint is being created again: mid-apply
            # The provider creates it, then waits 5 s for it to be available. Interrupt in
            # that wait: terraform's first SIGINT makes the provider cancel its in-flight
            # requests, and a create request cancelled after AWS acted on it leaves a resource
            # no state knows (terraform's behaviour, README "Interrupts"); a cancelled wait
            # leaves it in state. So the signal goes once the new endpoint exists (a fixed
            # delay hit the create request itself on a loaded machine), plus a moment for its
            # response to reach the provider.
            wait_for_new_endpoint(deployment, aws, before)
            time.sleep(1)
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
            break
    out = "".join(seen) + proc.stdout.read()
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.wait(timeout=300) == 130, out + err
    assert "interrupted: letting terraform finish its current operations and save its state" in out
    assert "Interrupt received" in err  # terraform got the SIGINT ...
    assert "Two interrupts" not in err  # ... exactly once
    assert not lock_held(deployment, aws), "terraform released the state lock"

    # The next deploy finishes what the interrupted one left, creating nothing twice. It is the
    # operator's step before the group's teardown as well (protection off in the settings,
    # test_teardown.py; the refusals of the protected environment ran first): one deploy fewer.
    deployment.config = unprotected_config(tmp_path)
    deployment.cli("deploy")
    endpoints = s3_endpoints(deployment, aws)
    assert len(endpoints) == 1, endpoints


def test_sigint_during_synthesis_stops_with_130_before_terraform(tmp_path: Path) -> None:
    from local_aws.server import stop

    workspace = tmp_path / "ws"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.deploy", "deploy", "--environment", ENVIRONMENT, "--target", "local",
         "--config", str(CONFIG), "--work-dir", str(workspace)],
        cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("emulator: "), first
        os.killpg(proc.pid, signal.SIGINT)  # synthesis (about 5 s) has just started
        code = proc.wait(timeout=120)
        out = first + proc.stdout.read()
        err = proc.stderr.read() if proc.stderr else ""
        assert code == 130, out + err
        assert "applying" not in out
        assert "interrupted: stopped" in err
        assert "Traceback" not in err
        assert not list(workspace.glob("cdktf.out/stacks/*/.terraform")), "no terraform was started"
    finally:
        stop(workspace / "emulator")

"""Runs first in its group, on the protected deployment: a protected environment is never
half-destroyed. Destroy refuses without confirmation, and with confirmation while a protected
bucket still holds objects; nothing is changed either way. (The integration environment is
protected like prod: ALB deletion protection, its log bucket keeps objects. The operator's way
out, protection off in the settings and deployed, then destroy, is test_teardown.py's, last in
the group, after test_interrupted_deploys.py deployed protection off.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import Deployment, inventory

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]
ALB_LOGS = "cicd-alb-logs-it-123456789012-us-east-1"


def test_protected_environment_is_not_destroyed_without_confirmation(deployment: Deployment, aws: Aws) -> None:
    before = inventory(aws)
    proc = deployment.cli("destroy", "--keep-emulator", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    err = proc.stderr
    assert "error: refusing to destroy it: it is protected; nothing was changed" in err
    assert "--confirm it" in err  # how to confirm, by name
    assert "protection: load balancer cicd-alb-it (platform-it): deletion protection on" in err
    assert f"protection: bucket {ALB_LOGS} (platform-it): kept unless empty (force_destroy off)" in err
    assert "make emulator-stop" in err  # the quick way to discard a local deployment
    assert "destroying" not in proc.stdout
    assert inventory(aws) == before


def test_confirmed_destroy_still_refuses_a_protected_bucket_with_objects(deployment: Deployment, aws: Aws) -> None:
    aws("s3").put_object(Bucket=ALB_LOGS, Key="alb/AWSLogs/123456789012/elasticloadbalancing/log.gz", Body=b"x")
    before = inventory(aws)
    proc = deployment.cli("destroy", "--keep-emulator", "--confirm", "it", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "refusing to destroy it: these would stop it halfway; nothing was changed" in proc.stderr
    assert f"blocker: bucket {ALB_LOGS} holds" in proc.stderr
    assert "destroying" not in proc.stdout
    assert "lifting" not in proc.stdout
    assert inventory(aws) == before

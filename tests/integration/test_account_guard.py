"""The account guard on the emulator: credentials of another account stop a
deploy or plan before any change, with one line naming both accounts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.integration.conftest import CONFIG, Deployment, cli_env, inventory

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]


@pytest.mark.parametrize("verb", ["deploy", "plan"])
def test_credentials_of_another_account_change_nothing(
    verb: str, deployment: Deployment, aws: Aws, tmp_path: Path
) -> None:
    import subprocess

    config = tmp_path / "wrong.toml"
    config.write_text(
        CONFIG.read_text()
        .replace('environment = "it"', 'environment = "wrong"')
        .replace('environment_suffix = "it"', 'environment_suffix = "wrong"')
        .replace('account_id = "123456789012"', 'account_id = "111111111111"')
    )
    before = inventory(aws)
    # The same workspace, so the same emulator (moto serves account 123456789012).
    proc = subprocess.run(
        [sys.executable, "-m", "tools.deploy", verb, "--environment", "wrong", "--target", "local",
         "--config", str(config), "--work-dir", str(deployment.workspace)],
        cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: refusing to {verb} wrong: the credentials in use belong to account 123456789012, "
        f"but {config} says account_id = 111111111111"
    ]
    assert "applying" not in proc.stdout
    assert "synth" not in proc.stdout
    assert inventory(aws) == before
    assert not (deployment.workspace / "cdktf.out" / "stacks" / "platform-wrong").exists()

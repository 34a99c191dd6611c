"""The local target's provider has no endpoints block (constructs_lib/stacks/target.py): every
terraform the deploy tool runs must get the emulator's URL as AWS_ENDPOINT_URL, or its calls
would go to AWS's public endpoints (with the emulator's keys, refused there). Checked against
a real emulator process; the integration deploys prove the provider then reaches it."""

from __future__ import annotations

from pathlib import Path

from local_aws.server import stop
from tools.deploy import Deployer, Workspace


def test_every_terraform_of_the_local_target_is_pointed_at_the_emulator(tmp_path: Path) -> None:
    workspace = Workspace.under(tmp_path / "ws")
    deployer = Deployer("dev", "local", workspace)
    try:
        deployer.preflight()  # starts the emulator, as every verb of the local target does first
        port = (workspace.emulator / "port").read_text().strip()
        assert deployer.endpoint == f"http://127.0.0.1:{port}"
        for kind in ("state-backend", "access", "platform"):
            assert deployer.stack(kind).env["AWS_ENDPOINT_URL"] == deployer.endpoint, kind
    finally:
        stop(workspace.emulator)

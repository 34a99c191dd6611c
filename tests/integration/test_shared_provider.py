"""Two environments of one account share GitHub's OIDC provider: the second looks it up.

Runs on the upgrade group's deployment (its access stack created the provider), beside the
recovery tests, where the group has time to spare.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.integration.conftest import CONFIG, Deployment, cli_env, emulator_terraform_env
from tests.integration.upgrade import Upgrade

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def deployment(upgraded: Upgrade) -> Deployment:
    return upgraded.deployment


def test_two_environments_of_one_account_share_the_provider(deployment: Deployment, tmp_path: Path) -> None:
    """A second environment of the account (``oidc_provider = "existing"``) looks the provider up:
    it applies beside the first, a second apply changes nothing, and its destroy removes its
    roles and policies and leaves the provider the first environment created."""
    config = tmp_path / "it2.toml"
    text = CONFIG.read_text().replace('environment = "it"', 'environment = "it2"')
    text = text.replace('environment_suffix = "it"', 'environment_suffix = "it2"')
    config.write_text(text.replace('oidc_provider = "create"', 'oidc_provider = "existing"'))
    out = tmp_path / "cdktf.out"
    env = dict(cli_env(), CONFIG_FILE=str(config), DEPLOY_TARGET="local", AWS_ENDPOINT_URL=deployment.endpoint)
    subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=dict(env, CDKTF_OUTDIR=str(out)), check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    stack = out / "stacks" / "access-it2"

    tf_env = emulator_terraform_env(deployment.endpoint)

    def terraform(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["terraform", *args, "-input=false", "-no-color"], cwd=stack,
                              env=tf_env, capture_output=True, text=True, timeout=300)  # fmt: skip

    # it2 has no state stack here: its access state goes to the first environment's bucket.
    backend = {"bucket": deployment.outputs["state_bucket"], "dynamodb_table": deployment.outputs["lock_table"],
               "kms_key_id": "alias/cicd-state-it", "key": "cicd/it2/access.tfstate"}  # fmt: skip
    init = terraform("init", *(f"-backend-config={k}={v}" for k, v in backend.items()))
    assert init.returncode == 0, init.stderr
    iam = deployment.client("iam")
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    first = terraform("apply", "-auto-approve")
    assert first.returncode == 0, first.stderr
    made = sum(len(v) for v in json.loads((stack / "cdk.tf.json").read_text())["resource"].values())
    assert f"Apply complete! Resources: {made} added, 0 changed, 0 destroyed." in first.stdout
    again = terraform("plan", "-detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr  # nothing to change
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == providers  # still the one
    trust = iam.get_role(RoleName="cicd-ci-deploy-it2")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"]["Federated"] == providers[0]["Arn"]
    gone = terraform("destroy", "-auto-approve")
    assert gone.returncode == 0, gone.stderr
    names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert {"cicd-ci-plan-it2", "cicd-ci-deploy-it2"}.isdisjoint(names)
    assert {"cicd-ci-plan-it", "cicd-ci-deploy-it"} <= names
    assert not [p for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"].endswith("-it2")
                or "-it2-" in p["PolicyName"]]  # fmt: skip
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == providers

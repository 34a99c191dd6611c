"""CI's roles allow exactly what CI runs: evidence from every call terraform and the deploy tool
made on the emulator during this group's deploy, plan, drift and apply-plan (test_day_two.py
runs them before this module). The teardown group checks its deploys and destroys the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib import ci_access
from constructs_lib.settings import load_settings
from tests.helpers import ROOT
from tests.integration.conftest import CONFIG, Deployment, cli_env, emulator_terraform_env
from tests.integration.least_privilege import (
    check,
    deploy_role_union,
    deployed_documents,
    each_permission_is_needed,
    recorded,
    shared_folder,
    unexplained,
)

pytestmark = pytest.mark.integration


def test_each_role_allows_every_call_ci_makes_with_it(
    deployment: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = load_settings(CONFIG)
    calls = recorded(deployment.workspace)
    documents = deployed_documents(deployment.client("iam"), settings)
    verdicts = check(calls, documents, settings)  # the plan role's verbs all ran here: complete
    called = {n.action for n in verdicts["deploy"].needed}
    unused = deploy_role_union("day-two", called, documents["deploy"], shared_folder(tmp_path_factory))
    if unused is not None:  # the teardown group finished first: the deploy role's union is complete
        assert unexplained(unused) == []
    plan_actions = {n.action for n in verdicts["plan"].needed}
    # The calls that matter most are among them: the state read (no lock), and the apply's lock files.
    assert "s3:GetObject" in plan_actions
    assert "dynamodb:PutItem" not in plan_actions
    assert "s3:PutObject" not in plan_actions
    lock_files = [n for n in verdicts["deploy"].needed if n.resource.endswith(".tflock")]
    assert {n.action for n in lock_files} >= {"s3:PutObject", "s3:DeleteObject"}
    # What the plan role holds and never called is needed only on AWS, and says why.
    assert set(verdicts["plan"].unused) == {"kms:Decrypt"}
    assert "kms:Decrypt" in ci_access.ONLY_ON_AWS


def test_removing_any_needed_permission_fails_the_check(deployment: Deployment) -> None:
    settings = load_settings(CONFIG)
    calls = recorded(deployment.workspace)
    documents = deployed_documents(deployment.client("iam"), settings)
    tried = each_permission_is_needed(calls, documents, settings)
    assert tried["plan"] > 20, tried
    assert tried["deploy"] > 100, tried


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

    def terraform(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["terraform", *args, "-input=false", "-no-color"], cwd=stack,
                              env=emulator_terraform_env(), capture_output=True, text=True, timeout=300)  # fmt: skip

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

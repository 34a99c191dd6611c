"""tools.plan_summary on real plans of the deployed stack: create from empty,
no change, and a change that replaces a bucket. Each plan runs in a scratch
copy of the stack with a local backend, so the deployment is untouched."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Deployment
from tools.plan_summary import summarize
from tools.terraform import terraform_env

pytestmark = pytest.mark.integration


def tf(cwd: Path, *args: str) -> str:
    env = dict(terraform_env(), AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    proc = subprocess.run(["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def plan_of(deployment: Deployment, tmp: Path, doc: dict[str, Any], state: str | None) -> dict[str, Any]:
    source = deployment.stack_dir()
    work = tmp / "stack"
    work.mkdir()
    doc = copy.deepcopy(doc)
    doc["terraform"]["backend"] = {"local": {"path": "terraform.tfstate"}}
    (work / "cdk.tf.json").write_text(json.dumps(doc))
    if (source / "assets").exists():
        shutil.copytree(source / "assets", work / "assets")
    if state is not None:
        (work / "terraform.tfstate").write_text(state)
    tf(work, "init", "-input=false", "-no-color")
    tf(work, "plan", "-input=false", "-no-color", "-lock=false", "-out=plan.tfplan")
    return dict(json.loads(tf(work, "show", "-json", "plan.tfplan")))


@pytest.fixture(scope="module")
def deployed_doc(deployment: Deployment) -> dict[str, Any]:
    return dict(json.loads((deployment.stack_dir() / "cdk.tf.json").read_text()))


@pytest.fixture(scope="module")
def deployed_state(deployment: Deployment) -> str:
    return tf(deployment.stack_dir(), "state", "pull")


def test_summary_of_create_from_empty(deployment: Deployment, deployed_doc: dict[str, Any], tmp_path: Path) -> None:
    text = summarize(plan_of(deployment, tmp_path, deployed_doc, None), "platform-it")
    assert text.startswith("### Terraform plan: platform-it")
    created = int(text.split("**")[1])
    assert created == sum(len(v) for v in deployed_doc["resource"].values())  # one instance each
    assert "0** to delete" in text
    assert ":warning:" not in text
    assert "| `aws_kms_key` | 1 |" in text


def test_summary_of_no_change(
    deployment: Deployment, deployed_doc: dict[str, Any], deployed_state: str, tmp_path: Path
) -> None:
    text = summarize(plan_of(deployment, tmp_path, deployed_doc, deployed_state), "platform-it")
    assert "**No changes.**" in text


def test_summary_of_a_bucket_replacement(
    deployment: Deployment, deployed_doc: dict[str, Any], deployed_state: str, tmp_path: Path
) -> None:
    doc = copy.deepcopy(deployed_doc)
    (key,) = [k for k, b in doc["resource"]["aws_s3_bucket"].items() if b["bucket"] == "cicd-artifacts-it"]
    doc["resource"]["aws_s3_bucket"][key]["bucket"] = "cicd-artifacts2-it"
    text = summarize(plan_of(deployment, tmp_path, doc, deployed_state), "platform-it")
    assert "Stateful or security-critical resources replaced or deleted" in text
    assert f"- **REPLACE** `aws_s3_bucket.{key}` (forced by bucket)" in text
    assert "| `aws_s3_bucket` |  |  | 1 |  |" in text
    # The policies naming the bucket change, and the reviewer sees how.
    assert "IAM, KMS and resource policy changes" in text
    assert "(known after apply)" in text or "cicd-artifacts2-it" in text

"""The deploy tool refuses an AWS deploy that does not name its account, before any AWS call."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

#: Any AWS call would go here and fail with a different message.
NO_AWS = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}


def shell_env(*, inside_pipenv: bool) -> dict[str, str]:
    """The environment of a person's shell: a plain one, or inside ``pipenv shell``
    (the project's virtualenv first on PATH, as ``make test`` runs this test)."""
    venv_bin = str(ROOT / ".venv" / "bin")
    path = [p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin]
    env = {k: v for k, v in os.environ.items() if k not in ("PIPENV_ACTIVE", "VIRTUAL_ENV")}
    if inside_pipenv:
        env.update(PIPENV_ACTIVE="1", VIRTUAL_ENV=str(ROOT / ".venv"))
        path.insert(0, venv_bin)
    return dict(env, PATH=os.pathsep.join(path))


@pytest.mark.parametrize("inside_pipenv", [False, True], ids=["plain-shell", "pipenv-shell"])
def test_make_plan_for_aws_without_account_id_exits_with_one_line(inside_pipenv: bool) -> None:
    env = dict(shell_env(inside_pipenv=inside_pipenv), DEPLOY_TARGET="aws", ENVIRONMENT="dev", **NO_AWS)
    # -o: the locked dependencies are installed already; do not re-sync them here.
    proc = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "-o", "node_modules/.installed", "plan"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        'error: config/dev.toml has no account_id: add account_id = "<12-digit AWS account id>" at its top, '
        "the account this environment deploys to (README: Deploying to a real AWS account)"
    ], proc.stderr
    assert "Traceback" not in proc.stderr


def test_every_verb_refuses_before_any_aws_call(tmp_path: Path) -> None:
    for verb in ("deploy", "plan", "destroy"):
        proc = subprocess.run(
            [sys.executable, "-m", "tools.deploy", verb, "--environment", "prod", "--target", "aws",
             "--work-dir", str(tmp_path)],
            cwd=ROOT, env=dict(os.environ, **NO_AWS), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 2, verb
        assert proc.stderr.startswith("error: config/prod.toml has no account_id"), proc.stderr
        assert not (tmp_path / "cdktf.out").exists()


def test_a_settings_mistake_is_reported_like_main_py(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "config" / "dev.toml").read_text().replace('"10.10.0.0/16"', '"8.8.0.0/16"'))
    proc = subprocess.run(
        [sys.executable, "-m", "tools.deploy", "plan", "--target", "aws", "--config", str(bad)],
        cwd=ROOT, env=dict(os.environ, **NO_AWS), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "network.vpc_cidr = '8.8.0.0/16'" in proc.stderr
    assert "Traceback" not in proc.stderr

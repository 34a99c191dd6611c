"""The deploy tool refuses an AWS deploy that does not name its account, before any AWS call.

Settings refuse ``deploy_target = "aws"`` without ``account_id`` (bucket names carry it), so
the refusal is the settings error every verb prints, exit status 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from moto import mock_aws

from tests.helpers import ROOT
from tools.deploy import Deployer, Refused, Workspace

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


def without_account(tmp_path: Path, environment: str = "dev") -> Path:
    config = tmp_path / f"{environment}.toml"
    text = (ROOT / "config" / f"{environment}.toml").read_text()
    config.write_text("\n".join(line for line in text.splitlines() if not line.startswith("account_id")))
    return config


@pytest.mark.parametrize("inside_pipenv", [False, True], ids=["plain-shell", "pipenv-shell"])
def test_make_plan_for_aws_without_account_id_exits_with_one_line(inside_pipenv: bool, tmp_path: Path) -> None:
    config = without_account(tmp_path)
    env = dict(shell_env(inside_pipenv=inside_pipenv), DEPLOY_TARGET="aws", CONFIG=str(config), **NO_AWS)
    # -o: the locked dependencies are installed already; do not re-sync them here.
    proc = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "-o", "node_modules/.installed", "plan"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: invalid settings in {config} (1 problem):"], proc.stderr
    assert (
        '  - account_id = None: required when deploy_target = "aws": bucket names carry the account id and the '
        'provider refuses any other account; add account_id = "<12-digit AWS account id>"'
    ) in proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr


def test_every_verb_refuses_before_any_aws_call(tmp_path: Path) -> None:
    config = without_account(tmp_path, "prod")
    for verb in ("deploy", "plan", "destroy"):
        proc = subprocess.run(
            [sys.executable, "-m", "tools.deploy", verb, "--environment", "prod", "--target", "aws",
             "--config", str(config), "--work-dir", str(tmp_path)],
            cwd=ROOT, env=dict(os.environ, **NO_AWS), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 2, verb
        assert proc.stderr.startswith(f"error: invalid settings in {config}"), proc.stderr
        assert "account_id = None: required" in proc.stderr
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


# --- whose credentials: the account guard, decided in process (the real refusal on the emulator
# is tests/integration/test_account_guard.py) -------------------------------------------------


def _deployer_for(tmp_path: Path, account_id: str | None, target: str = "aws") -> Deployer:
    text = (ROOT / "config" / "dev.toml").read_text()
    text = text.replace('account_id = "123456789012"\n', f'account_id = "{account_id}"\n' if account_id else "")
    config = tmp_path / "dev.toml"
    config.write_text(text)
    return Deployer("dev", target, Workspace.under(tmp_path / "ws"), config=config)


def test_credentials_of_the_settings_account_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111122223333")
    with mock_aws():
        _deployer_for(tmp_path, "111122223333").verify_account()


def test_credentials_of_another_account_are_refused_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "444455556666")
    with mock_aws(), pytest.raises(Refused) as refused:
        _deployer_for(tmp_path, "111122223333").verify_account()
    assert str(refused.value) == (
        "refusing to deploy dev: the credentials in use belong to account 444455556666, "
        f"but {tmp_path / 'dev.toml'} says account_id = 111122223333"
    )


def test_the_emulator_without_an_account_id_is_not_checked(tmp_path: Path) -> None:
    deployer = _deployer_for(tmp_path, None, target="local")

    class NoCalls:
        def account(self) -> str:
            raise AssertionError("no AWS call for a local target without account_id")

    deployer._aws = NoCalls()  # type: ignore[assignment]
    deployer.verify_account()

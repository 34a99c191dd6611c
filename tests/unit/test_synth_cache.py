"""make synth reuses cdktf.out when nothing that affects synthesis changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tools.synth import fingerprint, synth


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    for rel, text in {
        "main.py": "print('app')",
        "Pipfile.lock": "{}",
        "cdktf.json": "{}",
        "constructs_lib/a.py": "x = 1",
        "lambda_src/deploy_orchestrator/handler.py": "y = 1",
        "config/dev.toml": "project = 'cicd'",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    "rel",
    [
        "main.py",
        "Pipfile.lock",
        "cdktf.json",
        "constructs_lib/a.py",
        "lambda_src/deploy_orchestrator/handler.py",
        "config/dev.toml",
    ],
)
def test_any_input_change_invalidates(fake_root: Path, rel: str) -> None:
    before = fingerprint(fake_root, {})
    (fake_root / rel).write_text((fake_root / rel).read_text() + "\n# changed")
    assert fingerprint(fake_root, {}) != before


def test_new_settings_file_invalidates(fake_root: Path) -> None:
    before = fingerprint(fake_root, {})
    (fake_root / "config" / "qa.toml").write_text("project = 'cicd'")
    assert fingerprint(fake_root, {}) != before


@pytest.mark.parametrize(
    "var", ["ENVIRONMENT", "ENVIRONMENT_SUFFIX", "AWS_REGION", "DEPLOY_TARGET", "AWS_ENDPOINT_URL"]
)
def test_environment_override_invalidates(fake_root: Path, var: str) -> None:
    assert fingerprint(fake_root, {var: "x"}) != fingerprint(fake_root, {})


def test_unrelated_changes_do_not_invalidate(fake_root: Path) -> None:
    before = fingerprint(fake_root, {})
    (fake_root / "constructs_lib" / "__pycache__").mkdir()
    (fake_root / "constructs_lib" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (fake_root / "README.md").write_text("docs")
    assert fingerprint(fake_root, {"HOME": "/elsewhere", "TERM": "dumb"}) == before


def test_second_synth_reuses_and_a_change_resynthesizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = dict(os.environ, CDKTF_OUTDIR=str(tmp_path / "out"))
    env.pop("ENVIRONMENT", None)
    assert synth(ROOT, env) is True
    manifest = tmp_path / "out" / "manifest.json"
    written = manifest.stat().st_mtime_ns
    assert synth(ROOT, env) is False
    assert "synth: up to date, reusing" in capsys.readouterr().out
    assert manifest.stat().st_mtime_ns == written
    assert synth(ROOT, dict(env, ENVIRONMENT="dev")) is True  # an override changed
    assert synth(ROOT, dict(env, ENVIRONMENT="dev"), force=True) is True

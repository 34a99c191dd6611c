"""make synth reuses cdktf.out when nothing that affects synthesis changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.synth import fingerprint, synth

#: A stand-in app: writes what synth's reuse test looks at, counts its runs.
FAKE_MAIN = """\
import os, pathlib
out = pathlib.Path(os.environ["CDKTF_OUTDIR"])
out.mkdir(parents=True, exist_ok=True)
(out / "manifest.json").write_text("{}")
runs = out / "runs"
runs.write_text(str(int(runs.read_text()) + 1 if runs.exists() else 1))
"""


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    for rel, text in {
        "main.py": FAKE_MAIN,
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


def test_second_synth_reuses_and_a_change_resynthesizes(
    fake_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    env = {"CDKTF_OUTDIR": str(out), "PATH": os.environ["PATH"]}
    runs = out / "runs"
    assert synth(fake_root, env) is True
    assert runs.read_text() == "1"
    assert synth(fake_root, env) is False
    assert "synth: up to date, reusing" in capsys.readouterr().out
    assert runs.read_text() == "1"  # the app did not run again
    assert synth(fake_root, dict(env, ENVIRONMENT="dev")) is True  # an override changed
    (fake_root / "constructs_lib" / "a.py").write_text("x = 2")  # the code changed
    assert synth(fake_root, dict(env, ENVIRONMENT="dev")) is True
    assert synth(fake_root, dict(env, ENVIRONMENT="dev"), force=True) is True
    assert runs.read_text() == "4"


def test_a_failing_app_stops_with_its_exit_status(fake_root: Path, tmp_path: Path) -> None:
    (fake_root / "main.py").write_text("import sys; sys.exit(2)")
    with pytest.raises(SystemExit) as info:
        synth(fake_root, {"CDKTF_OUTDIR": str(tmp_path / "out"), "PATH": os.environ["PATH"]})
    assert info.value.code == 2
    assert not (tmp_path / "out" / ".synth-fingerprint").exists()

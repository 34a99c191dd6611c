"""main.py: bad input exits 2 with a short message naming the field, no traceback.

Each rule runs main.main() in this process (it fails before jsii starts); a
few run main.py in a real process, as a user runs it, to show the whole path:
exit status, stderr only, no traceback, nothing synthesized.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import main as app_main
from tests.helpers import ROOT

BASE = (ROOT / "config" / "dev.toml").read_text()
#: Everything main.py reads from the environment (cleared, so the test's own shell cannot leak in).
MAIN_ENV = ("ENVIRONMENT", "CONFIG_FILE", "ENVIRONMENT_SUFFIX", "AWS_REGION", "DEPLOY_TARGET", "AWS_ENDPOINT_URL",
            "FAST_PROVIDER_LOADING", "CDKTF_OUTDIR")  # fmt: skip


def run_main(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    toml: str | None = None,
    **env: str,
) -> tuple[int, str]:
    """main.main() in this process; returns (exit status, stderr). Fails the test on a traceback."""
    for var in MAIN_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CDKTF_OUTDIR", str(tmp_path / "out"))
    if toml is not None:
        cfg = tmp_path / "bad.toml"
        cfg.write_text(toml)
        monkeypatch.setenv("CONFIG_FILE", str(cfg))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = app_main.main()  # any exception other than a clean exit status fails the test
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err


def run_main_process(tmp_path: Path, toml: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {"PATH": "/usr/bin:/bin", "CDKTF_OUTDIR": str(tmp_path / "out")}
    if toml is not None:
        cfg = tmp_path / "bad.toml"
        cfg.write_text(toml)
        full_env["CONFIG_FILE"] = str(cfg)
    full_env.update(env)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py")], env=full_env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        (BASE.replace('environment_suffix = "dev"', 'environment_suffix = "Dev_1"'), "environment_suffix = 'Dev_1'"),
        (BASE.replace('environment_suffix = "dev"', f'environment_suffix = "{"a" * 24}"'), "environment_suffix"),
        (BASE.replace('"10.10.0.0/16"', '"8.8.0.0/16"'), "network.vpc_cidr = '8.8.0.0/16'"),
        (BASE.replace('"10.10.0.0/16"', '"10.0.0.0/8"'), "network.vpc_cidr = '10.0.0.0/8'"),
        (BASE.replace('region = "us-east-1"', 'region = "us-middle-1"'), "region = 'us-middle-1'"),
        (BASE.replace("az_count = 2", "az_count = 2\nenable_nat_gatway = true"), "network.enable_nat_gatway"),
        (BASE.replace("az_count = 2", 'az_count = "two"'), "network.az_count = 'two'"),
        (BASE + "\nthis is not toml", "not valid TOML"),
        (BASE + '\n[service]\nbootstrap_image = "nginx:1.27"\n', "service.bootstrap_image = 'nginx:1.27'"),
    ],
    ids=[
        "suffix-charset",
        "suffix-length",
        "cidr-public",
        "cidr-size",
        "region",
        "unknown-key",
        "wrong-type",
        "toml",
        "image-unreachable-without-nat",
    ],
)
def test_bad_config_exits_2_with_short_message(
    tmp_path: Path, toml: str, field: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_main(tmp_path, monkeypatch, capsys, toml)
    assert code == 2, err
    assert field in err
    assert len(err.splitlines()) <= 10
    assert not (tmp_path / "out").exists(), "nothing may be synthesized from bad input"


def test_a_user_sees_the_same_in_a_real_process(tmp_path: Path) -> None:
    proc = run_main_process(tmp_path, BASE.replace('"10.10.0.0/16"', '"8.8.0.0/16"'))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: invalid settings in ")
    assert "network.vpc_cidr = '8.8.0.0/16'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "out").exists()


def test_env_override_is_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_main(tmp_path, monkeypatch, capsys, ENVIRONMENT="dev", ENVIRONMENT_SUFFIX="UPPER")
    assert code == 2
    assert "environment_suffix = 'UPPER'" in err


def test_suffix_override_needs_single_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_main(tmp_path, monkeypatch, capsys, ENVIRONMENT_SUFFIX="pr-1")
    assert code == 2
    assert "ENVIRONMENT_SUFFIX needs a single environment" in err


def test_missing_config_file_exits_2_in_a_real_process(tmp_path: Path) -> None:
    proc = run_main_process(tmp_path, ENVIRONMENT="nope")
    assert proc.returncode == 2
    assert "nope.toml" in proc.stderr
    assert "file not found" in proc.stderr
    assert "Traceback" not in proc.stderr

"""main.py: bad input exits 2 with a short message naming the field, no traceback.

These run main.py as a user would. They fail before jsii starts, so each costs
well under a second.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

BASE = (ROOT / "config" / "dev.toml").read_text()


def run_main(tmp_path: Path, toml: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
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
def test_bad_config_exits_2_with_short_message(tmp_path: Path, toml: str, field: str) -> None:
    proc = run_main(tmp_path, toml)
    assert proc.returncode == 2, proc.stderr
    assert field in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.splitlines()) <= 10
    assert not (tmp_path / "out").exists(), "nothing may be synthesized from bad input"


def test_env_override_is_validated(tmp_path: Path) -> None:
    proc = run_main(tmp_path, ENVIRONMENT="dev", ENVIRONMENT_SUFFIX="UPPER")
    assert proc.returncode == 2
    assert "environment_suffix = 'UPPER'" in proc.stderr


def test_suffix_override_needs_single_environment(tmp_path: Path) -> None:
    proc = run_main(tmp_path, ENVIRONMENT_SUFFIX="pr-1")
    assert proc.returncode == 2
    assert "ENVIRONMENT_SUFFIX needs a single environment" in proc.stderr


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    proc = run_main(tmp_path, ENVIRONMENT="nope")
    assert proc.returncode == 2
    assert "nope.toml" in proc.stderr
    assert "file not found" in proc.stderr

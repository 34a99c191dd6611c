"""The fast provider path produces byte-identical output to the normal import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from constructs_lib import fast_provider
from tests.helpers import ROOT


def synth_to(outdir: Path, fast: bool) -> str:
    env = dict(os.environ, CDKTF_OUTDIR=str(outdir), FAST_PROVIDER_LOADING="1" if fast else "0")
    env.pop("ENVIRONMENT", None)
    env.pop("CONFIG_FILE", None)
    proc = subprocess.run([sys.executable, str(ROOT / "main.py")], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_fast_and_normal_import_synthesize_identical_json(tmp_path: Path) -> None:
    fast_out = synth_to(tmp_path / "fast", fast=True)
    slow_out = synth_to(tmp_path / "slow", fast=False)
    stacks = sorted(p.name for p in (tmp_path / "fast" / "stacks").iterdir())
    assert stacks == sorted(p.name for p in (tmp_path / "slow" / "stacks").iterdir())
    assert len(stacks) == 6
    for stack in stacks:
        a = (tmp_path / "fast" / "stacks" / stack / "cdk.tf.json").read_bytes()
        b = (tmp_path / "slow" / "stacks" / stack / "cdk.tf.json").read_bytes()
        assert a == b, stack
    assert fast_out.count("resources ->") == slow_out.count("resources ->") == 6


def test_fast_path_is_active_in_this_process() -> None:
    # conftest installed it; a second call reports the same without re-importing.
    assert fast_provider.install() is True
    assert getattr(sys.modules[fast_provider.PACKAGE], "__fast_provider__", False)


def test_fallback_when_the_assembly_cannot_load_cleans_up(tmp_path: Path) -> None:
    code = (
        f"import sys, importlib.util; sys.path.insert(0, {str(ROOT)!r})\n"
        "import constructs_lib.fast_provider as f\n"
        "real = importlib.util.module_from_spec\n"
        "def broken(spec):\n"
        "    m = real(spec); m.__path__ = []; return m\n"  # ._jsii cannot be found
        "importlib.util.module_from_spec = broken\n"
        "ok = f.install()\n"
        "importlib.util.module_from_spec = real\n"
        "import cdktf_cdktf_provider_aws as p\n"
        "print(ok, getattr(p, '__fast_provider__', False), hasattr(p, 'wafv2_web_acl'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-3:] == ["False", "False", "True"]


def test_fallback_to_normal_import_when_fast_path_fails(tmp_path: Path) -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "import constructs_lib.fast_provider as f\n"
        "f.MIN_JSII = (99, 0)\n"  # pretend jsii is too old
        "ok = f.install()\n"
        "import cdktf_cdktf_provider_aws as p\n"
        "print(ok, hasattr(p, 'wafv2_web_acl'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-2:] == ["False", "True"]

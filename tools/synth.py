"""``make synth`` with a no-change cache.

Synthesis costs seconds (jsii start-up); when nothing that affects it changed,
the previous ``cdktf.out`` is reused. The fingerprint covers everything the
synthesized JSON depends on: the app's code (``main.py``, ``constructs_lib``,
the orchestrator's source), every settings file, the lock files, and the
environment variables ``main.py`` reads. Any change re-synthesizes.

    python -m tools.synth            # synth or reuse
    python -m tools.synth --force    # always synth
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Every environment variable main.py reads (see its docstring).
SYNTH_ENV = (
    "ENVIRONMENT", "CONFIG_FILE", "ENVIRONMENT_SUFFIX", "AWS_REGION", "DEPLOY_TARGET", "AWS_ENDPOINT_URL",
    "FAST_PROVIDER_LOADING", "CDKTF_OUTDIR",
)  # fmt: skip
STAMP = ".synth-fingerprint"


def _inputs(root: Path, env: Mapping[str, str]) -> Iterable[Path]:
    yield root / "main.py"
    yield root / "Pipfile.lock"
    yield root / "cdktf.json"
    for folder, pattern in (("constructs_lib", "*.py"), ("lambda_src", "*.py"), ("config", "*.toml")):
        yield from sorted((root / folder).rglob(pattern))
    if env.get("CONFIG_FILE"):
        yield Path(env["CONFIG_FILE"])


def fingerprint(root: Path, env: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for path in _inputs(root, env):
        if "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    digest.update(json.dumps({k: env.get(k) for k in SYNTH_ENV}, sort_keys=True).encode())
    return digest.hexdigest()


def outdir(root: Path, env: Mapping[str, str]) -> Path:
    return Path(env.get("CDKTF_OUTDIR", root / "cdktf.out"))


def synth(root: Path = ROOT, env: Mapping[str, str] | None = None, force: bool = False) -> bool:
    """Synthesize unless the previous output is still current. True if it ran."""
    env = dict(os.environ if env is None else env)
    out = outdir(root, env)
    stamp = out / STAMP
    current = fingerprint(root, env)
    if not force and stamp.exists() and stamp.read_text() == current and (out / "manifest.json").exists():
        print(f"synth: up to date, reusing {out} (fingerprint {current[:12]})")
        return False
    started = time.monotonic()
    # Its own session: a terminal's Ctrl-C reaches the calling tool, which stops it.
    proc = subprocess.run([sys.executable, str(root / "main.py")], cwd=root, env=env, start_new_session=True)
    if proc.returncode != 0:
        raise SystemExit(proc.returncode)
    stamp.write_text(current)
    print(f"synth: {time.monotonic() - started:.1f}s (fingerprint {current[:12]})")
    return True


def main(argv: list[str]) -> int:
    synth(force="--force" in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

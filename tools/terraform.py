"""Run terraform for this project's stacks, with an optional offline provider mirror.

``TF_PROVIDER_MIRROR=<dir>`` (the folder holding ``registry.terraform.io/``)
makes every terraform subprocess started here install hashicorp/aws from that
folder: a CLI config is written to ``build/terraform.rc`` and
``TF_CLI_CONFIG_FILE`` points at it for our subprocesses only. Without the
variable, terraform behaves as usual (registry over the internet).

Usage: python -m tools.terraform validate [stack-dir ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"


def cli_config(mirror: str) -> str:
    return f"""# Written by tools/terraform.py for TF_PROVIDER_MIRROR; do not edit.
provider_installation {{
  filesystem_mirror {{
    path    = "{mirror}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }}
}}
plugin_cache_dir = "{BUILD / "plugin-cache"}"
"""


def terraform_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for terraform subprocesses, honouring TF_PROVIDER_MIRROR."""
    env = dict(os.environ if base is None else base)
    env.setdefault("TF_IN_AUTOMATION", "1")
    env.setdefault("CHECKPOINT_DISABLE", "1")
    mirror = env.get("TF_PROVIDER_MIRROR")
    if mirror:
        BUILD.mkdir(exist_ok=True)
        (BUILD / "plugin-cache").mkdir(exist_ok=True)
        rc = BUILD / "terraform.rc"
        rc.write_text(cli_config(str(Path(mirror).resolve())))
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    elif env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        # A config path that does not exist only produces warnings; drop it.
        del env["TF_CLI_CONFIG_FILE"]
    return env


def run(
    args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["terraform", *args], cwd=cwd, env=dict(env or terraform_env()), capture_output=True, text=True
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"terraform {' '.join(args)} failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def validate(stack_dir: Path, env: Mapping[str, str] | None = None) -> None:
    env = env or terraform_env()
    run(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, env)
    run(["validate", "-no-color"], stack_dir, env)


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] != "validate":
        print(__doc__, file=sys.stderr)
        return 2
    dirs = [Path(d) for d in argv[1:]] or sorted((ROOT / "cdktf.out" / "stacks").iterdir())
    env = terraform_env()
    for d in dirs:
        print(f"terraform validate {d.name} ...", flush=True)
        validate(d, env)
        print(f"terraform validate {d.name}: ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Entry point: settings -> stacks -> cdktf.out. The only module that reads the environment.

Environment variables (all optional):
  ENVIRONMENT          synthesize only this environment (config/<ENVIRONMENT>.toml);
                       default: every config/*.toml
  CONFIG_FILE          synthesize exactly this settings file instead
  ENVIRONMENT_SUFFIX   override environment_suffix (needs a single environment)
  AWS_REGION           override region
  DEPLOY_TARGET        "aws" (default) or "local" (the embedded emulator)
  AWS_ENDPOINT_URL     the emulator's endpoint, used when DEPLOY_TARGET=local
  FAST_PROVIDER_LOADING  "0" to import the provider bindings the normal way
  CDKTF_OUTDIR         where to synthesize (default: cdktf.out)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from constructs_lib.settings import ENV_OVERRIDES, ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parent
CONFIG_DIR = ROOT / "config"


def _overrides(env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {field: env[var] for var, field in ENV_OVERRIDES.items() if env.get(var)}
    if out.get("deploy_target", "aws") != "local":
        # AWS_ENDPOINT_URL is the emulator's; a real-account synth ignores it.
        out.pop("endpoint_url", None)
    return out


def config_files(env: dict[str, str]) -> list[Path]:
    if env.get("CONFIG_FILE"):
        return [Path(env["CONFIG_FILE"])]
    if env.get("ENVIRONMENT"):
        return [CONFIG_DIR / f"{env['ENVIRONMENT']}.toml"]
    return sorted(CONFIG_DIR.glob("*.toml"))


def load_all(env: dict[str, str]) -> list[Settings]:
    files = config_files(env)
    overrides = _overrides(env)
    if "environment_suffix" in overrides and len(files) > 1:
        raise ConfigError(
            "environment", ["ENVIRONMENT_SUFFIX needs a single environment: set ENVIRONMENT or CONFIG_FILE too"]
        )
    problems: list[str] = []
    result = []
    for path in files:
        try:
            result.append(load_settings(path, overrides))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("configuration", problems)
    names = [s.environment for s in result]
    if len(names) != len(set(names)):
        raise ConfigError("configuration", [f"environment names must be unique across files: {names}"])
    creators: dict[str, list[str]] = {}
    for settings in result:
        if settings.ci_on and settings.ci.oidc_provider == "create":
            creators.setdefault(settings.account, []).append(settings.environment)
    # IAM allows one OIDC provider per URL per account: a second create fails with EntityAlreadyExists.
    clashes = [
        f"ci.oidc_provider = 'create' in {', '.join(envs)}, all in account {account}: IAM holds one GitHub OIDC "
        "provider per account; keep 'create' in one environment and set 'existing' in the others"
        for account, envs in creators.items()
        if len(envs) > 1
    ]
    if clashes:
        raise ConfigError("configuration", clashes)
    return result


def main() -> int:
    env = dict(os.environ)
    try:
        all_settings = load_all(env)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    # Only now touch jsii: a settings mistake never costs a Node start-up.
    from constructs_lib import fast_provider

    if env.get("FAST_PROVIDER_LOADING", "1") != "0":
        fast_provider.install()
    from cdktf import App

    from constructs_lib.app import build_app, summarize

    outdir = Path(env.get("CDKTF_OUTDIR", ROOT / "cdktf.out"))
    app = App(outdir=str(outdir))
    build_app(app, all_settings)
    app.synth()
    for result in summarize(outdir):
        print(f"{result.stack}: {result.resources} resources -> {result.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What GitHub needs to know about CI's access, derived from the settings in one place.

    python -m tools.ci_setup env --environment dev   # CI_REGION=..., CI_PLAN_ROLE_ARN=..., CI_DEPLOY_ROLE_ARN=...

The workflows append that to ``$GITHUB_ENV`` before they assume a role, so no region, account
or role ARN is written in ``.github/workflows/`` and nothing has to be copied into repository
variables (where it would go stale when a setting changes). ``make bootstrap-ci`` prints the same
values next to the access stack's outputs, and the GitHub environments to create.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from constructs_lib import ci_access
from constructs_lib.context import Aws
from constructs_lib.settings import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def literal_aws(settings: Settings) -> Aws:
    """The environment's account and region as literals (the stacks read them from data sources
    at plan time; settings accept commercial regions only, so the partition is "aws")."""
    return Aws(partition="aws", account_id=settings.account, region=settings.region)


def github_env(settings: Settings) -> dict[str, str]:
    """The variables the workflows read (names: .github/workflows/*.yml)."""
    arns = ci_access.role_arns(literal_aws(settings), settings)
    return {"CI_REGION": settings.region, "CI_PLAN_ROLE_ARN": arns["plan"], "CI_DEPLOY_ROLE_ARN": arns["deploy"]}


def ci_setup_lines(settings: Settings, outputs: Mapping[str, Any]) -> list[str]:
    """After ``make bootstrap-ci``: what was made and the steps left in GitHub."""
    derived = github_env(settings)
    made = {
        "CI_PLAN_ROLE_ARN": outputs.get("ci_plan_role_arn"),
        "CI_DEPLOY_ROLE_ARN": outputs.get("ci_deploy_role_arn"),
    }
    mismatched = [name for name, arn in made.items() if arn != derived[name]]
    if mismatched:
        raise RuntimeError(f"the access stack's roles differ from what the workflows derive: {mismatched}")
    repo = settings.ci.github_repository
    plan_env = ci_access.plan_environment(settings)
    return [
        "",
        f"CI access for {settings.environment} is ready ({repo}):",
        f"  plan role            {derived['CI_PLAN_ROLE_ARN']}",
        f"  deploy role          {derived['CI_DEPLOY_ROLE_ARN']}",
        f"  OIDC provider        {outputs.get('ci_oidc_provider_arn', '')}",
        f"  boundary             {outputs.get('ci_permissions_boundary_arn', '')}",
        f"In GitHub ({repo} > Settings > Environments), create:",
        f"  {plan_env:20s} no protection rules (pull-request plans run in it)",
        f"  {settings.environment:20s} the deploy gate: add required reviewers"
        + (" (prod: at least one)" if settings.is_production else ""),
        "Repository variables: none. The workflows derive the region and both role ARNs from "
        f"config/{settings.environment}.toml (python -m tools.ci_setup env --environment {settings.environment}):",
        *(f"  {name}={value}" for name, value in derived.items()),
    ]


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.ci_setup", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["env"])
    parser.add_argument("--environment", required=True)
    parser.add_argument("--config", type=Path, help="settings file (default: config/<environment>.toml)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config or ROOT / "config" / f"{args.environment}.toml")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not settings.ci_on:
        print(
            f"error: {args.environment}: [ci] github_repository is not set; CI has no roles to assume", file=sys.stderr
        )
        return 2
    for name, value in github_env(settings).items():
        print(f"{name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

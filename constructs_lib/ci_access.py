"""CI's access to one environment, as code: GitHub's OIDC provider, a plan role, a deploy role,
and the permissions boundary every role of the platform carries.

- **Trust.** Both roles trust only GitHub's OIDC provider, for tokens whose audience is
  ``sts.amazonaws.com`` and whose subject names this repository exactly: the deploy role only
  the GitHub environment named after the environment (where its protection rules live), the
  plan role only pull requests and the ``<environment>-plan`` environment the plan jobs run in.
  GitHub documents the subject formats:
  https://docs.github.com/en/actions/reference/security/oidc#example-subject-claims
- **Plan role: read only.** What ``make plan`` and ``make drift`` call (both run with
  ``-lock=false``): Describe/List/Get, the state objects, and decrypting through S3 and Secrets
  Manager. No write action (tests/unit/test_ci_access.py checks every action's access level in
  AWS's catalogue).
- **Deploy role: the platform and nothing above it.** It may create and change roles only when
  they carry the boundary (``iam:PermissionsBoundary``), pass only the platform's roles and only
  to the services that use them (``iam:PassedToService``), and never touch CI's own roles, the
  boundary or the OIDC provider (explicit deny). The boundary allows exactly the actions the
  platform's own roles are granted, so no role the deploy role creates can administer IAM.
- **Evidence.** The action lists below are what terraform and the deploy tool call on the
  emulator during deploy, plan, drift, apply-plan and destroy (recorded per request, see
  local_aws/call_log.py); tests/integration prove every recorded call is allowed by the role
  that makes it in CI (tools/least_privilege.py).

ARNs are built here from settings (``settings.account``, commercial partition: the settings
accept only commercial regions), so the documents are literal JSON a reviewer reads in the plan
and a test evaluates as is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from constructs_lib import policies
from constructs_lib.iam import ServiceRole
from constructs_lib.settings import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_URL, Settings

#: The host part of the issuer: IAM's condition keys and the provider's ARN are named after it.
OIDC_HOST = GITHUB_OIDC_URL.removeprefix("https://")

#: Services the platform's roles are passed to (``iam:PassedToService``): ECS tasks, the two
#: functions, CodeBuild, CodePipeline, the EventBridge rule's target role, VPC flow logs and
#: S3 replication.
PASSED_TO_SERVICES = (
    "codebuild.amazonaws.com",
    "codepipeline.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "events.amazonaws.com",
    "lambda.amazonaws.com",
    "s3.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
)

#: IAM actions that accept the ``iam:PermissionsBoundary`` condition key: the deploy role may
#: call them only for a role that carries (or gets) the platform's boundary.
#: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-delegate
BOUNDARY_CONDITIONED = (
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)


@dataclass(frozen=True)
class Subjects:
    """The OIDC ``sub`` values each role accepts (exact strings, no wildcard)."""

    plan: tuple[str, ...]
    deploy: tuple[str, ...]


def subjects(settings: Settings) -> Subjects:
    repo = settings.ci.github_repository
    if repo is None:
        raise ValueError("ci.github_repository is not set: this environment has no CI roles")
    return Subjects(
        plan=(f"repo:{repo}:pull_request", f"repo:{repo}:environment:{plan_environment(settings)}"),
        deploy=(f"repo:{repo}:environment:{settings.environment}",),
    )


def plan_environment(settings: Settings) -> str:
    """The GitHub environment the plan jobs run in (no protection rules: it only names them)."""
    return f"{settings.environment}-plan"


def provider_arn(settings: Settings) -> str:
    return f"arn:aws:iam::{settings.account}:oidc-provider/{OIDC_HOST}"


def role_arns(settings: Settings) -> dict[str, str]:
    naming = settings.naming
    return {
        "plan": f"arn:aws:iam::{settings.account}:role/{naming.name('ci-plan')}",
        "deploy": f"arn:aws:iam::{settings.account}:role/{naming.name('ci-deploy')}",
    }


def web_identity_trust(provider: str, accepted: Sequence[str]) -> str:
    """The trust policy of a CI role: GitHub's tokens for this audience and these subjects only."""
    return policies.document(
        policies.Statement(
            sid="GitHubActions",
            actions=["sts:AssumeRoleWithWebIdentity"],
            principals={"Federated": [provider]},
            conditions={
                "StringEquals": {
                    f"{OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                    f"{OIDC_HOST}:sub": list(accepted),
                }
            },
        )
    )


# -- permissions -------------------------------------------------------------------------------


#: The IAM catalogue (parliament's copy of AWS's "Actions, resources, and condition keys").
@cache
def _catalogue() -> dict[str, dict[str, dict[str, object]]]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parliament imports pkg_resources
        import parliament

    return {
        service["prefix"]: {p["privilege"].lower(): p for p in service["privileges"]}
        for service in parliament.iam_definition
    }


def privilege(action: str) -> dict[str, object]:
    """AWS's catalogue entry of ``action`` (``prefix:Name``); KeyError when AWS has no such action."""
    prefix, name = action.split(":", 1)
    return _catalogue()[prefix][name.lower()]


def access_level(action: str) -> str:
    """ "List", "Read", "Write", "Tagging" or "Permissions management" (AWS's classification)."""
    return str(privilege(action)["access_level"])


def star_only(action: str) -> bool:
    """True when the action has no resource type: IAM applies it only to ``"Resource": "*"``."""
    types = privilege(action)["resource_types"]
    assert isinstance(types, list)
    return all(not t["resource_type"] for t in types)


def resource_patterns(prefix: str, settings: Settings) -> list[str]:
    """The resources of ``prefix`` an environment's CI may act on: its names where the service
    names resources after them, else this account in the environment's regions."""
    naming = settings.naming
    account = settings.account
    regions = [settings.region]
    if settings.replica_naming is not None:
        regions.append(settings.replica_naming.region)
    if prefix == "s3":
        # <project>-<component>-<suffix>-<account>-<region> (constructs_lib/naming.py)
        bucket = f"arn:aws:s3:::{naming.project}-*-{naming.suffix}-{account}-*"
        return [bucket, f"{bucket}/*"]
    if prefix == "iam":
        return [f"arn:aws:iam::{account}:role/{naming.project}-*-{naming.suffix}"]
    if prefix == "route53":
        return ["arn:aws:route53:::hostedzone/*", "arn:aws:route53:::change/*"]
    if prefix == "dynamodb":
        return [f"arn:aws:dynamodb:{settings.region}:{account}:table/{naming.name('tflock')}"]
    return [f"arn:aws:{prefix}:{region}:{account}:*" for region in regions]


def scoped_statements(sid: str, actions: Iterable[str], settings: Settings) -> list[policies.Statement]:
    """``actions`` as statements: the ones IAM applies only to ``*`` on ``*``, the rest per
    service on :func:`resource_patterns`. Sids: ``<sid>Any`` and ``<sid><Prefix>``."""
    actions = sorted(set(actions))
    anywhere = [a for a in actions if star_only(a)]
    out = [policies.Statement(sid=f"{sid}Any", actions=anywhere, resources=["*"])] if anywhere else []
    by_prefix: dict[str, list[str]] = {}
    for action in actions:
        if action not in anywhere:
            by_prefix.setdefault(action.split(":", 1)[0], []).append(action)
    for prefix, grouped in sorted(by_prefix.items()):
        name = "".join(part.capitalize() for part in prefix.split("-"))
        out.append(
            policies.Statement(sid=f"{sid}{name}", actions=grouped, resources=resource_patterns(prefix, settings))
        )
    return out


#: A managed policy holds at most 6,144 characters, whitespace not counted (IAM quotas).
MANAGED_POLICY_CHARS = 6144


def chunks(statements: Sequence[policies.Statement], limit: int = MANAGED_POLICY_CHARS) -> list[str]:
    """Policy documents of at most ``limit`` characters (no whitespace counted), statements in
    order; a statement larger than the limit on its own is split by actions."""
    documents: list[str] = []
    current: list[policies.Statement] = []

    def size(group: Sequence[policies.Statement]) -> int:
        return len("".join(policies.document(*group).split()))

    pending = list(statements)
    while pending:
        statement = pending.pop(0)
        if size([statement]) > limit:
            half = len(statement.actions) // 2
            first = policies.Statement(
                sid=f"{statement.sid}1", actions=statement.actions[:half], resources=statement.resources,
                effect=statement.effect, conditions=statement.conditions,
            )  # fmt: skip
            second = policies.Statement(
                sid=f"{statement.sid}2", actions=statement.actions[half:], resources=statement.resources,
                effect=statement.effect, conditions=statement.conditions,
            )  # fmt: skip
            pending[:0] = [first, second]
            continue
        if current and size([*current, statement]) > limit:
            documents.append(policies.document(*current))
            current = []
        current.append(statement)
    if current:
        documents.append(policies.document(*current))
    return documents


def boundary_statements(settings: Settings, platform_roles: Sequence[ServiceRole]) -> list[policies.Statement]:
    """The cap on every role of the platform: exactly the actions its roles are granted (so the
    boundary takes nothing away from them), and no IAM beyond passing the platform's roles."""
    granted = sorted({a for role in platform_roles for s in role.statements if s.effect == "Allow" for a in s.actions})
    return [
        policies.Statement(sid="PlatformRoleActions", actions=[a for a in granted if not a.startswith("iam:")],
                           resources=["*"]),
        *([policies.Statement(sid="PassPlatformRoles", actions=[a for a in granted if a.startswith("iam:")],
                              resources=resource_patterns("iam", settings))]
          if any(a.startswith("iam:") for a in granted) else []),
    ]  # fmt: skip


def plan_statements(settings: Settings) -> list[policies.Statement]:
    """What ``make plan`` and ``make drift`` call with ``-lock=false``: read only."""
    return scoped_statements("Read", PLAN_ACTIONS, settings)


def _ci_resources(settings: Settings) -> list[str]:
    """CI's own access: its roles, their policies, the boundary and the OIDC provider."""
    naming = settings.naming
    account = settings.account
    return [
        *role_arns(settings).values(),
        f"arn:aws:iam::{account}:policy/{naming.name('ci-plan')}-*",
        f"arn:aws:iam::{account}:policy/{naming.name('ci-deploy')}-*",
        f"arn:aws:iam::{account}:policy/{naming.name('ci-boundary')}",
        provider_arn(settings),
    ]


def deploy_statements(settings: Settings) -> list[policies.Statement]:
    """What ``make deploy``, ``make apply-plan`` and ``make destroy`` call, scoped to the
    environment, plus the IAM rules that stop the role from escalating."""
    boundary = settings.ci_boundary_arn
    roles = resource_patterns("iam", settings)
    iam_plain = sorted(a for a in DEPLOY_ACTIONS if a.startswith("iam:") and a not in BOUNDARY_CONDITIONED)
    return [
        *scoped_statements("Deploy", [a for a in DEPLOY_ACTIONS if not a.startswith("iam:")], settings),
        policies.Statement(sid="PlatformRoles", actions=iam_plain, resources=roles),
        policies.Statement(
            sid="PlatformRolesCarryTheBoundary",
            actions=sorted(a for a in DEPLOY_ACTIONS if a in BOUNDARY_CONDITIONED),
            resources=roles,
            conditions={"StringEquals": {"iam:PermissionsBoundary": boundary}},
        ),
        policies.Statement(
            sid="PassOnlyPlatformRoles",
            actions=["iam:PassRole"],
            resources=roles,
            conditions={"StringEquals": {"iam:PassedToService": list(PASSED_TO_SERVICES)}},
        ),
        policies.Statement(sid="NeverCiAccess", effect="Deny", actions=["iam:*"], resources=_ci_resources(settings)),
        policies.Statement(
            sid="NeverDropTheBoundary", effect="Deny", actions=["iam:DeleteRolePermissionsBoundary"], resources=["*"]
        ),
    ]


#: Filled from the recorded calls (see the module docstring).
PLAN_ACTIONS: tuple[str, ...] = ()
DEPLOY_ACTIONS: tuple[str, ...] = ()

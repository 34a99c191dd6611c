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

import fnmatch
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from constructs_lib import policies
from constructs_lib.settings import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_URL, Settings

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from constructs_lib.context import Aws
    from constructs_lib.iam import ServiceRole

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


def _iam(aws: Aws, resource: str) -> str:
    return aws.arn("iam", resource, region="")


def provider_arn(aws: Aws) -> str:
    return _iam(aws, f"oidc-provider/{OIDC_HOST}")


def role_arns(aws: Aws, settings: Settings) -> dict[str, str]:
    naming = settings.naming
    return {
        "plan": _iam(aws, f"role/{naming.name('ci-plan')}"),
        "deploy": _iam(aws, f"role/{naming.name('ci-deploy')}"),
    }


def boundary_arn(aws: Aws, settings: Settings) -> str | None:
    """The permissions boundary every role of the platform carries while CI deploys it ([ci] set):
    the deploy role may create and change only roles that carry it."""
    return _iam(aws, f"policy/{settings.naming.name('ci-boundary')}") if settings.ci_on else None


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
                    f"{OIDC_HOST}:sub": accepted[0] if len(accepted) == 1 else list(accepted),
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
    """True when the action (every action a pattern like ``kms:GenerateDataKey*`` names) has no
    resource type: IAM applies it only to ``"Resource": "*"``."""
    prefix, name = action.split(":", 1)
    matches = [p for key, p in _catalogue()[prefix].items() if fnmatch.fnmatchcase(key, name.lower())]
    if not matches:
        raise KeyError(action)
    return all(not t["resource_type"] for p in matches for t in p["resource_types"])  # type: ignore[attr-defined]


def resource_patterns(prefix: str, settings: Settings, aws: Aws, action: str = "") -> list[str]:
    """The resources of ``prefix`` (``action``, where one differs) an environment's CI may act on:
    its names where the service names resources after them, else this account in the
    environment's regions."""
    naming = settings.naming
    if "Dashboard" in action and prefix == "cloudwatch":
        # Dashboards are global: arn:<partition>:cloudwatch::<account>:dashboard/<name> (no region).
        return [aws.arn("cloudwatch", f"dashboard/{naming.prefix}", region="")]
    if action == "iam:GetUser":
        # The provider asks who the caller is (GetUser without a name): a user of this account.
        return [_iam(aws, "user/*")]
    regions = [settings.region]
    if settings.replica_naming is not None:
        regions.append(settings.replica_naming.region)
    if prefix == "s3":
        # <project>-<component>-<suffix>-<account>-<region> (constructs_lib/naming.py), and the
        # names before they carried the account, which the deploy tool looks for to upgrade.
        buckets = (f"{naming.project}-*-{naming.suffix}-{aws.account_id}-*", f"{naming.project}-*-{naming.suffix}")
        return [arn for b in buckets for arn in (aws.bucket_arn(b), aws.bucket_arn(b, "*"))]
    if prefix == "iam":
        return [_iam(aws, f"role/{naming.project}-*-{naming.suffix}")]
    if prefix == "route53":
        return [aws.arn("route53", f"{kind}/*", region="", account="") for kind in ("hostedzone", "change")]
    if prefix == "dynamodb":
        return [aws.arn("dynamodb", f"table/{naming.name('tflock')}")]
    return [aws.arn(prefix, "*", region=region) for region in regions]


def scoped_statements(sid: str, actions: Iterable[str], settings: Settings, aws: Aws) -> list[policies.Statement]:
    """``actions`` as statements: the ones IAM applies only to ``*`` on ``*``, the rest per
    service on :func:`resource_patterns`. Sids: ``<sid>Any`` and ``<sid><Prefix>``."""
    actions = sorted(set(actions))
    anywhere = [a for a in actions if star_only(a)]
    out = [policies.Statement(sid=f"{sid}Any", actions=anywhere, resources=["*"])] if anywhere else []
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for action in actions:
        if action not in anywhere:
            prefix = action.split(":", 1)[0]
            groups.setdefault((prefix, tuple(resource_patterns(prefix, settings, aws, action))), []).append(action)
    seen: dict[str, int] = {}
    for (prefix, resources), grouped in sorted(groups.items()):
        name = "".join(part.capitalize() for part in prefix.split("-"))
        seen[name] = seen.get(name, 0) + 1
        suffix = "" if seen[name] == 1 else str(seen[name])
        out.append(policies.Statement(sid=f"{sid}{name}{suffix}", actions=grouped, resources=list(resources)))
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


def boundary_statements(
    settings: Settings, aws: Aws, platform_roles: Sequence[ServiceRole]
) -> list[policies.Statement]:
    """The cap on every role of the platform: exactly the actions its roles are granted (so the
    boundary takes nothing away from them), and no IAM beyond passing the platform's roles."""
    granted = sorted({a for role in platform_roles for s in role.statements if s.effect == "Allow" for a in s.actions})
    return [
        # The platform's own resources only: its names, or this account in its regions.
        *scoped_statements("Platform", [a for a in granted if not a.startswith("iam:")], settings, aws),
        *([policies.Statement(sid="PassPlatformRoles", actions=[a for a in granted if a.startswith("iam:")],
                              resources=resource_patterns("iam", settings, aws))]
          if any(a.startswith("iam:") for a in granted) else []),
    ]  # fmt: skip


def _via_services(settings: Settings) -> dict[str, dict[str, list[str]]]:
    """Only when S3 (the state objects) or Secrets Manager (the secret values) asks KMS for the
    caller: never a direct Decrypt of something else under the environment's keys."""
    return {"StringEquals": {"kms:ViaService": [f"{s}.{settings.region}.amazonaws.com" for s in KMS_VIA]}}


def _key_arns(aws: Aws) -> list[str]:
    return [aws.arn("kms", "key/*")]


def features(settings: Settings) -> list[str]:
    """The groups of :data:`PLAN_ACTIONS` and :data:`DEPLOY_ACTIONS` this environment needs: an
    environment without NAT gateways, say, gets no right to create one."""
    wanted = {
        "base": True,
        "domain": settings.edge.domain_name is not None,
        "nat": settings.network.enable_nat_gateway,
        "replication": settings.replication_on,
        "reserved": bool(
            settings.pipeline.orchestrator_reserved_concurrency or settings.pipeline.mirror_reserved_concurrency
        ),
        "emails": bool(settings.observability.alarm_emails),
        "connection": settings.pipeline.codestar_connection_arn is not None,
        # A production destroy first counts what would stop it halfway (images kept in ECR).
        "production": settings.is_production,
    }
    return [name for name, on in wanted.items() if on]


def plan_actions(settings: Settings) -> list[str]:
    return sorted({a for f in features(settings) for a in PLAN_ACTIONS.get(f, ())})


def deploy_actions(settings: Settings) -> list[str]:
    recorded = {a for f in features(settings) for a in DEPLOY_ACTIONS.get(f, ())}
    return sorted({*recorded, *TAG_ON_CREATE, *ON_CHANGE})


def plan_statements(settings: Settings, aws: Aws) -> list[policies.Statement]:
    """What ``make plan`` and ``make drift`` call with ``-lock=false``: read only, plus decrypting
    what it reads through S3 and Secrets Manager."""
    return [
        *scoped_statements("Read", plan_actions(settings), settings, aws),
        policies.Statement(
            sid="DecryptWhatItReads",
            actions=list(PLAN_WRITE_EXCEPTIONS),
            resources=_key_arns(aws),
            conditions=_via_services(settings),
        ),
    ]


def _ci_resources(settings: Settings, aws: Aws) -> list[str]:
    """CI's own access: its roles, their policies, the boundary and the OIDC provider."""
    naming = settings.naming
    return [
        *role_arns(aws, settings).values(),
        _iam(aws, f"policy/{naming.name('ci-plan')}-*"),
        _iam(aws, f"policy/{naming.name('ci-deploy')}-*"),
        _iam(aws, f"policy/{naming.name('ci-boundary')}"),
        provider_arn(aws),
    ]


def deploy_statements(settings: Settings, aws: Aws) -> list[policies.Statement]:
    """What ``make deploy``, ``make apply-plan`` and ``make destroy`` call, scoped to the
    environment, plus the IAM rules that stop the role from escalating."""
    boundary = boundary_arn(aws, settings)
    roles = resource_patterns("iam", settings, aws)
    access_state = aws.bucket_arn(settings.naming.name("tfstate"), settings.access_state_key)
    granted = deploy_actions(settings)
    # Who the caller is (a user, not a role): with the other actions, on its own resource.
    caller = ["iam:GetUser"] if "iam:GetUser" in granted else []
    iam_plain = sorted(
        a for a in granted if a.startswith("iam:") and a not in (*BOUNDARY_CONDITIONED, "iam:PassRole", *caller)
    )
    return [
        *scoped_statements("Deploy", [a for a in granted if not a.startswith("iam:")] + caller, settings, aws),
        policies.Statement(
            sid="EncryptAndDecryptThroughServices",
            actions=sorted(DEPLOY_VIA_SERVICE_ACTIONS),
            resources=_key_arns(aws),
            conditions=_via_services(settings),
        ),
        policies.Statement(sid="PlatformRoles", actions=iam_plain, resources=roles),
        policies.Statement(
            sid="PlatformRolesCarryTheBoundary",
            actions=sorted(a for a in granted if a in BOUNDARY_CONDITIONED),
            resources=roles,
            conditions={"ArnEquals": {"iam:PermissionsBoundary": boundary}},
        ),
        policies.Statement(
            sid="PassOnlyPlatformRoles",
            actions=["iam:PassRole"],
            resources=roles,
            conditions={"StringEquals": {"iam:PassedToService": list(PASSED_TO_SERVICES)}},
        ),
        policies.Statement(
            sid="NeverCiAccess", effect="Deny", actions=["iam:*"], resources=_ci_resources(settings, aws)
        ),
        policies.Statement(
            sid="NeverDropTheBoundary", effect="Deny", actions=["iam:DeleteRolePermissionsBoundary"], resources=["*"]
        ),
        # The access stack's state: CI reads none of it and writes none of it.
        policies.Statement(
            sid="NeverCiState",
            effect="Deny",
            actions=["s3:DeleteObject", "s3:PutObject"],
            resources=[f"{access_state}", f"{access_state}.tflock"],
        ),
    ]


#: The services that call KMS on CI's behalf: S3 (the state objects, SSE-KMS under the state key)
#: and Secrets Manager (the secret values terraform refreshes).
KMS_VIA = ("s3", "secretsmanager")

#: The plan role's only actions that AWS's catalogue calls "Write", and why (README lists them).
PLAN_WRITE_EXCEPTIONS = {
    policies.KEY_DECRYPT_ACTIONS[
        0
    ]: "reading the state (SSE-KMS) and the secret values terraform refreshes: S3 and Secrets "
    "Manager call KMS for the caller; only through those two services (kms:ViaService)",
}

#: What S3 and Secrets Manager ask KMS for on the deploy role's behalf (writing and reading the
#: state, putting a secret value): only through those services.
DEPLOY_VIA_SERVICE_ACTIONS = (*policies.KEY_DECRYPT_ACTIONS, "kms:GenerateDataKey")

#: Granted, and never called on the emulator: needed on AWS only (or on a change the tests do
#: not make), and why. The evidence test reports these and fails on any other action granted
#: but never called.
ONLY_ON_AWS: dict[str, str] = {
    policies.KEY_DECRYPT_ACTIONS[
        0
    ]: "S3 and Secrets Manager call KMS for the caller on AWS; the emulator decrypts internally",
    "kms:GenerateDataKey": "S3 asks KMS for a data key per state object written under the state key on AWS; "
    "the emulator encrypts internally",
}

#: Creating a resource with tags is authorized as the service's tagging action too, though no
#: such call is made (so the emulator never records one). AWS, per service: e.g. "To create a
#: log group with tags, you must have the logs:CreateLogGroup and logs:TagResource permissions"
#: (CreateLogGroup); likewise sqs:TagQueue, kms:TagResource, elasticloadbalancing:AddTags, ...
TAG_ON_CREATE = (
    "acm:AddTagsToCertificate", "codepipeline:TagResource", "dynamodb:TagResource", "ecr:TagResource",
    "ecs:TagResource", "elasticloadbalancing:AddTags", "events:TagResource", "iam:TagRole", "kms:TagResource",
    "lambda:TagResource", "logs:TagResource", "secretsmanager:TagResource", "sns:TagResource", "sqs:TagQueue",
    "wafv2:TagResource", "xray:TagResource",
)  # fmt: skip

#: What terraform calls when a setting changes (an update in place), which the integration tests'
#: changes do not reach: without them the first real change of such a setting would be refused.
ON_CHANGE = (
    "codebuild:UpdateProject", "codepipeline:UpdatePipeline", "ecr:PutImageScanningConfiguration",
    "ecr:PutImageTagMutability", "ecs:DeregisterTaskDefinition", "ecs:UpdateService",
    "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyTargetGroup", "iam:UpdateAssumeRolePolicy",
    "kms:PutKeyPolicy", "kms:UpdateKeyDescription", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
    "logs:DeleteRetentionPolicy", "secretsmanager:UpdateSecret", "wafv2:UpdateWebACL", "xray:UpdateSamplingRule",
)  # fmt: skip

for _action in TAG_ON_CREATE:
    ONLY_ON_AWS[_action] = "creating a resource with tags is authorized as tagging it too (no call of its own)"
for _action in ON_CHANGE:
    ONLY_ON_AWS[_action] = "called when a setting changes in place; the integration tests change none that needs it"

#: Recorded from the calls (see the module docstring), by the feature that needs them: what the
#: plan role and the deploy role call. Data, not code: regenerated from a recording
#: (README: Connect a GitHub repository) and reviewed like any other change.
_RECORDED = json.loads((Path(__file__).resolve().parent / "ci_actions.json").read_text())
PLAN_ACTIONS: dict[str, list[str]] = _RECORDED["plan"]
DEPLOY_ACTIONS: dict[str, list[str]] = _RECORDED["deploy"]

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from constructs_lib import policies
from constructs_lib.settings import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_URL, Settings

if TYPE_CHECKING:  # pragma: no cover - annotations only: the workflows' helper never starts jsii
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


def resource_patterns(prefix: str, settings: Settings, action: str = "") -> list[str]:
    """The resources of ``prefix`` (``action``, where one differs) an environment's CI may act on:
    its names where the service names resources after them, else this account in the
    environment's regions."""
    naming = settings.naming
    account = settings.account
    if "Dashboard" in action and prefix == "cloudwatch":
        # Dashboards are global: arn:aws:cloudwatch::<account>:dashboard/<name> (no region).
        return [f"arn:aws:cloudwatch::{account}:dashboard/{naming.prefix}"]
    if action == "iam:GetUser":
        # The provider asks who the caller is (GetUser without a name): a user of this account.
        return [f"arn:aws:iam::{account}:user/*"]
    regions = [settings.region]
    if settings.replica_naming is not None:
        regions.append(settings.replica_naming.region)
    if prefix == "s3":
        # <project>-<component>-<suffix>-<account>-<region> (constructs_lib/naming.py), and the
        # names before they carried the account, which the deploy tool looks for to upgrade.
        bucket = f"arn:aws:s3:::{naming.project}-*-{naming.suffix}-{account}-*"
        legacy = f"arn:aws:s3:::{naming.project}-*-{naming.suffix}"
        return [bucket, f"{bucket}/*", legacy, f"{legacy}/*"]
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
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for action in actions:
        if action not in anywhere:
            prefix = action.split(":", 1)[0]
            groups.setdefault((prefix, tuple(resource_patterns(prefix, settings, action))), []).append(action)
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


def boundary_statements(settings: Settings, platform_roles: Sequence[ServiceRole]) -> list[policies.Statement]:
    """The cap on every role of the platform: exactly the actions its roles are granted (so the
    boundary takes nothing away from them), and no IAM beyond passing the platform's roles."""
    granted = sorted({a for role in platform_roles for s in role.statements if s.effect == "Allow" for a in s.actions})
    return [
        # The platform's own resources only: its names, or this account in its regions.
        *scoped_statements("Platform", [a for a in granted if not a.startswith("iam:")], settings),
        *([policies.Statement(sid="PassPlatformRoles", actions=[a for a in granted if a.startswith("iam:")],
                              resources=resource_patterns("iam", settings))]
          if any(a.startswith("iam:") for a in granted) else []),
    ]  # fmt: skip


def _via_services(settings: Settings) -> dict[str, dict[str, list[str]]]:
    """Only when S3 (the state objects) or Secrets Manager (the secret values) asks KMS for the
    caller: never a direct Decrypt of something else under the environment's keys."""
    return {"StringEquals": {"kms:ViaService": [f"{s}.{settings.region}.amazonaws.com" for s in KMS_VIA]}}


def _key_arns(settings: Settings) -> list[str]:
    return [f"arn:aws:kms:{settings.region}:{settings.account}:key/*"]


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


def plan_statements(settings: Settings) -> list[policies.Statement]:
    """What ``make plan`` and ``make drift`` call with ``-lock=false``: read only, plus decrypting
    what it reads through S3 and Secrets Manager."""
    return [
        *scoped_statements("Read", plan_actions(settings), settings),
        policies.Statement(
            sid="DecryptWhatItReads",
            actions=list(PLAN_WRITE_EXCEPTIONS),
            resources=_key_arns(settings),
            conditions=_via_services(settings),
        ),
    ]


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
    access_state = f"arn:aws:s3:::{settings.naming.name('tfstate')}/{settings.access_state_key}"
    granted = deploy_actions(settings)
    # Who the caller is (a user, not a role): with the other actions, on its own resource.
    caller = ["iam:GetUser"] if "iam:GetUser" in granted else []
    iam_plain = sorted(
        a for a in granted if a.startswith("iam:") and a not in (*BOUNDARY_CONDITIONED, "iam:PassRole", *caller)
    )
    return [
        *scoped_statements("Deploy", [a for a in granted if not a.startswith("iam:")] + caller, settings),
        policies.Statement(
            sid="EncryptAndDecryptThroughServices",
            actions=sorted(DEPLOY_VIA_SERVICE_ACTIONS),
            resources=_key_arns(settings),
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
        policies.Statement(sid="NeverCiAccess", effect="Deny", actions=["iam:*"], resources=_ci_resources(settings)),
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
    "kms:Decrypt": "reading the state (SSE-KMS) and the secret values terraform refreshes: S3 and Secrets "
    "Manager call KMS for the caller; only through those two services (kms:ViaService)",
}

#: What S3 and Secrets Manager ask KMS for on the deploy role's behalf (writing and reading the
#: state, putting a secret value): only through those services.
DEPLOY_VIA_SERVICE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")

#: Granted, and never called on the emulator: needed on AWS only (or on a change the tests do
#: not make), and why. The evidence test reports these and fails on any other action granted
#: but never called.
ONLY_ON_AWS: dict[str, str] = {
    "kms:Decrypt": "S3 and Secrets Manager call KMS for the caller on AWS; the emulator decrypts internally",
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

#: Recorded from the calls (see the module docstring), by the feature that needs them.
PLAN_ACTIONS: dict[str, tuple[str, ...]] = {
    "base": (
        "cloudwatch:DescribeAlarms",
        "cloudwatch:GetDashboard",
        "cloudwatch:ListTagsForResource",
        "codebuild:BatchGetProjects",
        "codepipeline:GetPipeline",
        "codepipeline:ListTagsForResource",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:GetItem",
        "dynamodb:ListTagsOfResource",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeFlowLogs",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribePrefixLists",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcAttribute",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeVpcs",
        "ecr:DescribeRepositories",
        "ecr:GetLifecyclePolicy",
        "ecr:ListTagsForResource",
        "ecs:DescribeClusters",
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "elasticloadbalancing:DescribeCapacityReservation",
        "elasticloadbalancing:DescribeListenerAttributes",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeTargetGroups",
        "events:DescribeRule",
        "events:ListTagsForResource",
        "events:ListTargetsByRule",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:GetUser",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListAliases",
        "kms:ListResourceTags",
        "lambda:GetFunction",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:ListVersionsByFunction",
        "logs:DescribeLogGroups",
        "logs:DescribeMetricFilters",
        "logs:DescribeResourcePolicies",
        "logs:ListTagsForResource",
        "s3:GetAccelerateConfiguration",
        "s3:GetBucketAcl",
        "s3:GetBucketCORS",
        "s3:GetBucketLogging",
        "s3:GetBucketNotification",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketPolicy",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketRequestPayment",
        "s3:GetBucketTagging",
        "s3:GetBucketVersioning",
        "s3:GetBucketWebsite",
        "s3:GetEncryptionConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetObject",
        "s3:GetObjectTagging",
        "s3:GetReplicationConfiguration",
        "s3:ListBucket",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetRandomPassword",
        "secretsmanager:GetResourcePolicy",
        "secretsmanager:GetSecretValue",
        "sns:GetTopicAttributes",
        "sns:ListTagsForResource",
        "sqs:GetQueueAttributes",
        "sqs:ListQueueTags",
        "wafv2:GetLoggingConfiguration",
        "wafv2:GetWebACL",
        "wafv2:GetWebACLForResource",
        "wafv2:ListTagsForResource",
        "xray:GetSamplingRules",
        "xray:ListTagsForResource",
    ),
    "domain": (
        "acm:DescribeCertificate",
        "acm:ListTagsForCertificate",
        "route53:GetHostedZone",
        "route53:ListHostedZones",
        "route53:ListResourceRecordSets",
        "route53:ListTagsForResource",
    ),
    "nat": (
        "ec2:DescribeAddresses",
        "ec2:DescribeAddressesAttribute",
        "ec2:DescribeNatGateways",
    ),
    "emails": ("sns:GetSubscriptionAttributes",),
}

DEPLOY_ACTIONS: dict[str, tuple[str, ...]] = {
    "base": (
        "cloudwatch:DeleteAlarms",
        "cloudwatch:DeleteDashboards",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:GetDashboard",
        "cloudwatch:ListTagsForResource",
        "cloudwatch:PutDashboard",
        "cloudwatch:PutMetricAlarm",
        "codebuild:BatchGetProjects",
        "codebuild:CreateProject",
        "codebuild:DeleteProject",
        "codepipeline:CreatePipeline",
        "codepipeline:DeletePipeline",
        "codepipeline:GetPipeline",
        "codepipeline:ListTagsForResource",
        "dynamodb:CreateTable",
        "dynamodb:DeleteItem",
        "dynamodb:DeleteTable",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:GetItem",
        "dynamodb:ListTagsOfResource",
        "dynamodb:PutItem",
        "dynamodb:UpdateContinuousBackups",
        "ec2:AssociateRouteTable",
        "ec2:AttachInternetGateway",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:CreateFlowLogs",
        "ec2:CreateInternetGateway",
        "ec2:CreateNetworkAclEntry",
        "ec2:CreateRoute",
        "ec2:CreateRouteTable",
        "ec2:CreateSecurityGroup",
        "ec2:CreateSubnet",
        "ec2:CreateTags",
        "ec2:CreateVpc",
        "ec2:CreateVpcEndpoint",
        "ec2:DeleteFlowLogs",
        "ec2:DeleteInternetGateway",
        "ec2:DeleteNetworkAclEntry",
        "ec2:DeleteRoute",
        "ec2:DeleteRouteTable",
        "ec2:DeleteSecurityGroup",
        "ec2:DeleteSubnet",
        "ec2:DeleteVpc",
        "ec2:DeleteVpcEndpoints",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeFlowLogs",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribePrefixLists",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcAttribute",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeVpcs",
        "ec2:DetachInternetGateway",
        "ec2:DisassociateRouteTable",
        "ec2:ModifyVpcAttribute",
        "ec2:ReplaceNetworkAclAssociation",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ecr:CreateRepository",
        "ecr:DeleteLifecyclePolicy",
        "ecr:DeleteRepository",
        "ecr:DescribeRepositories",
        "ecr:GetLifecyclePolicy",
        "ecr:ListTagsForResource",
        "ecr:PutLifecyclePolicy",
        "ecs:CreateCluster",
        "ecs:CreateService",
        "ecs:DeleteCluster",
        "ecs:DeleteService",
        "ecs:DeregisterTaskDefinition",
        "ecs:DescribeClusters",
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "ecs:RegisterTaskDefinition",
        "ecs:UpdateService",
        "elasticloadbalancing:CreateListener",
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:DescribeCapacityReservation",
        "elasticloadbalancing:DescribeListenerAttributes",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "events:DeleteRule",
        "events:DescribeRule",
        "events:ListTagsForResource",
        "events:ListTargetsByRule",
        "events:PutRule",
        "events:PutTargets",
        "events:RemoveTargets",
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:GetUser",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:ListRolePolicies",
        "iam:PassRole",
        "iam:PutRolePolicy",
        "kms:CreateAlias",
        "kms:CreateKey",
        "kms:DeleteAlias",
        "kms:DescribeKey",
        "kms:EnableKeyRotation",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListAliases",
        "kms:ListResourceTags",
        "kms:ScheduleKeyDeletion",
        "lambda:CreateFunction",
        "lambda:DeleteFunction",
        "lambda:GetFunction",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:InvokeFunction",
        "lambda:ListVersionsByFunction",
        "logs:CreateLogGroup",
        "logs:DeleteLogGroup",
        "logs:DeleteMetricFilter",
        "logs:DeleteResourcePolicy",
        "logs:DescribeLogGroups",
        "logs:DescribeMetricFilters",
        "logs:DescribeResourcePolicies",
        "logs:ListTagsForResource",
        "logs:PutMetricFilter",
        "logs:PutResourcePolicy",
        "logs:PutRetentionPolicy",
        "s3:CreateBucket",
        "s3:DeleteBucket",
        "s3:DeleteBucketPolicy",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:GetAccelerateConfiguration",
        "s3:GetBucketAcl",
        "s3:GetBucketCORS",
        "s3:GetBucketLogging",
        "s3:GetBucketNotification",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketPolicy",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketRequestPayment",
        "s3:GetBucketTagging",
        "s3:GetBucketVersioning",
        "s3:GetBucketWebsite",
        "s3:GetEncryptionConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetObject",
        "s3:GetObjectTagging",
        "s3:GetReplicationConfiguration",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:PutBucketLogging",
        "s3:PutBucketNotification",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketTagging",
        "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:PutObject",
        "s3:PutObjectTagging",
        "secretsmanager:CreateSecret",
        "secretsmanager:DeleteResourcePolicy",
        "secretsmanager:DeleteSecret",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetRandomPassword",
        "secretsmanager:GetResourcePolicy",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:PutSecretValue",
        "sns:CreateTopic",
        "sns:DeleteTopic",
        "sns:GetTopicAttributes",
        "sns:ListTagsForResource",
        "sns:SetTopicAttributes",
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:GetQueueAttributes",
        "sqs:ListQueueTags",
        "sqs:SetQueueAttributes",
        "wafv2:AssociateWebACL",
        "wafv2:CreateWebACL",
        "wafv2:DeleteLoggingConfiguration",
        "wafv2:DeleteWebACL",
        "wafv2:DisassociateWebACL",
        "wafv2:GetLoggingConfiguration",
        "wafv2:GetWebACL",
        "wafv2:GetWebACLForResource",
        "wafv2:ListTagsForResource",
        "wafv2:PutLoggingConfiguration",
        "xray:CreateSamplingRule",
        "xray:DeleteSamplingRule",
        "xray:GetSamplingRules",
        "xray:ListTagsForResource",
    ),
    "domain": (
        "acm:DeleteCertificate",
        "acm:DescribeCertificate",
        "acm:ListTagsForCertificate",
        "acm:RequestCertificate",
        "route53:ChangeResourceRecordSets",
        "route53:GetChange",
        "route53:GetHostedZone",
        "route53:ListHostedZones",
        "route53:ListResourceRecordSets",
        "route53:ListTagsForResource",
    ),
    "nat": (
        "ec2:AllocateAddress",
        "ec2:CreateNatGateway",
        "ec2:DeleteNatGateway",
        "ec2:DescribeAddresses",
        "ec2:DescribeAddressesAttribute",
        "ec2:DescribeNatGateways",
        "ec2:DisassociateAddress",
        "ec2:ReleaseAddress",
    ),
    "replication": ("s3:PutReplicationConfiguration",),
    "reserved": (
        "lambda:DeleteFunctionConcurrency",
        "lambda:PutFunctionConcurrency",
    ),
    "emails": (
        "sns:GetSubscriptionAttributes",
        "sns:Subscribe",
        "sns:Unsubscribe",
    ),
    "connection": ("codestar-connections:PassConnection",),
    "production": ("ecr:ListImages",),
}

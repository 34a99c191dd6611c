"""Access stack: who may plan and who may change this environment from CI (GitHub Actions).

An administrator deploys it once per environment (``make bootstrap-ci``; ``make deploy`` too),
never CI itself: CI's roles cannot write this stack's state or change these resources, so no
pull request can widen its own access. Its state lives in the environment's state bucket.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import DataAwsIamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from constructs_lib import ci_access, policies
from constructs_lib.context import Aws
from constructs_lib.iam import ServiceRole
from constructs_lib.settings import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_URL, Settings
from constructs_lib.stacks.target import add_provider, add_s3_backend


def access_stack_name(settings: Settings) -> str:
    return f"access-{settings.environment}"


class AccessStack(TerraformStack):
    """Attributes: ``plan_role``, ``deploy_role``, ``boundary`` and the policy documents
    (``plan_statements``, ``deploy_statements``, ``boundary_statements``) for tests."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings, platform_roles: Sequence[ServiceRole]) -> None:
        super().__init__(scope, id)
        naming = settings.naming
        add_provider(self, settings, administrator=True)
        add_s3_backend(
            self,
            settings,
            bucket=naming.name("tfstate"),
            table=naming.name("tflock"),
            key=settings.access_state_key,
            administrator=True,
        )
        aws = Aws.discover(self, settings.region)
        provider_arn: str
        if settings.ci.oidc_provider == "create":
            # IAM allows one provider per URL per account: exactly one environment per account creates
            # it (settings refuse two), the others look it up. No thumbprint: IAM trusts GitHub's
            # certificate through its own root CAs ("thumbprint ... not used" for this host:
            # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc_verify-thumbprint.html).
            provider_arn = IamOpenidConnectProvider(
                self, "github", url=GITHUB_OIDC_URL, client_id_list=[GITHUB_OIDC_AUDIENCE]
            ).arn
        else:
            provider_arn = DataAwsIamOpenidConnectProvider(self, "github", url=GITHUB_OIDC_URL).arn
        accepted = ci_access.subjects(settings)

        self.boundary_statements = ci_access.boundary_statements(settings, aws, platform_roles)
        self.boundary = IamPolicy(
            self,
            "boundary",
            name=naming.name("ci-boundary"),
            description=f"Permissions boundary of every {settings.project} {settings.environment} role",
            policy=policies.document(*self.boundary_statements),
        )
        self.plan_statements = ci_access.plan_statements(settings, aws)
        self.plan_role = self._role(
            "plan", naming.name("ci-plan"), provider_arn, accepted.plan, self.plan_statements, settings
        )
        self.deploy_statements = ci_access.deploy_statements(settings, aws)
        self.deploy_role = self._role(
            "deploy", naming.name("ci-deploy"), provider_arn, accepted.deploy, self.deploy_statements, settings
        )
        outputs = {
            "ci_region": settings.region,
            "ci_plan_role_arn": self.plan_role.arn,
            "ci_deploy_role_arn": self.deploy_role.arn,
            "ci_oidc_provider_arn": provider_arn,
            "ci_permissions_boundary_arn": self.boundary.arn,
            "ci_github_environments": f"{ci_access.plan_environment(settings)}, {settings.environment}",
        }
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)

    def _role(
        self,
        id: str,
        name: str,
        provider_arn: str,
        accepted: Sequence[str],
        statements: Sequence[policies.Statement],
        settings: Settings,
    ) -> IamRole:
        role = IamRole(
            self,
            f"{id}-role",
            name=name,
            description=f"GitHub Actions of {settings.ci.github_repository}: {id} {settings.environment}",
            assume_role_policy=ci_access.web_identity_trust(provider_arn, accepted),
            max_session_duration=3600,
        )
        # Managed policies, one per group of services: an inline policy may hold 10,240 characters
        # per role, a managed one 6,144 each, and the deploy role's list is longer than either.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
        for index, chunk in enumerate(ci_access.chunks(statements)):
            policy = IamPolicy(self, f"{id}-policy-{index}", name=f"{name}-{index}", policy=chunk)
            IamRolePolicyAttachment(self, f"{id}-attachment-{index}", role=role.name, policy_arn=policy.arn)
        return role

"""Service roles: exact trust principal, inline least-privilege policy."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from constructs_lib import policies


class ServiceRole(Construct):
    """A role one AWS service assumes, with one inline policy.

    The policy is a separate ``aws_iam_role_policy`` so resources the policy
    names (keys, buckets) can depend on the role without a cycle.

    Attributes: ``role``, ``statements`` (typed, for tests and reviewers).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        role_name: str,
        service: str,
        account_id: str,
        statements: Sequence[policies.Statement],
        source_arn: str | None = None,
        assume_role_policy: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.statements = list(statements)
        self.role = IamRole(
            self,
            "this",
            name=role_name,
            assume_role_policy=assume_role_policy or policies.service_trust(service, account_id, source_arn=source_arn),
        )
        self.policy = IamRolePolicy(
            self, "policy", name="least-privilege", role=self.role.id, policy=policies.document(*self.statements)
        )
        self.arn: str = self.role.arn

"""Service roles: exact trust principal, inline least-privilege policy."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from constructs_lib import policies


class ServiceRole(Construct):
    """A role one AWS service assumes, with one inline policy.

    Statements come from the constructs that own the resources
    (``key.grant_use(role)``, ``log_group.grant_write(role)``) through
    :meth:`add_statements`, in the order they are granted; the policy document
    is rendered again after each grant.

    The policy is a separate ``aws_iam_role_policy`` so resources the policy
    names (keys, buckets) can depend on the role without a cycle.

    Attributes: ``role``, ``policy``, ``arn``, ``statements`` (typed, for tests and reviewers).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        role_name: str,
        service: str,
        account_id: str,
        statements: Sequence[policies.Statement] = (),
        source_arn: str | Sequence[str] | None = None,
        assume_role_policy: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.statements: list[policies.Statement] = []
        self.role = IamRole(
            self,
            "this",
            name=role_name,
            assume_role_policy=assume_role_policy or policies.service_trust(service, account_id, source_arn=source_arn),
        )
        self.policy = IamRolePolicy(self, "policy", name="least-privilege", role=self.role.id, policy="")
        self.arn: str = self.role.arn
        self.add_statements(*statements)

    def add_statements(self, *statements: policies.Statement) -> None:
        """Grant ``statements`` (a duplicate Sid is an error, raised here)."""
        self.statements.extend(statements)
        if self.statements:
            self.policy.policy = policies.document(*self.statements)


def bound_every_role(stack: Construct, boundary_arn: str | None) -> list[IamRole]:
    """Give every IAM role in ``stack`` the permissions boundary ``boundary_arn`` (None: none).

    CI's deploy role may create or change a role only when it carries this boundary
    (constructs_lib/ci_access.py), so every role the platform defines must carry it; one walk
    over the finished stack covers the roles a later construct adds without anyone remembering.
    Returns the roles it bounded (for tests).
    """
    if boundary_arn is None:
        return []
    roles = [node for node in stack.node.find_all() if isinstance(node, IamRole)]
    for role in roles:
        role.permissions_boundary = boundary_arn
    return roles

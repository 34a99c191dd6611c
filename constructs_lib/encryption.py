"""The environment's customer-managed KMS key (one per environment)."""

from __future__ import annotations

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from constructs_lib import policies


class EnvironmentKey(Construct):
    """CMK with rotation on and a key policy with one statement per purpose
    (``policies.kms_key_policy`` for the platform, ``policies.state_key_policy`` for state).

    Attributes:
        key: the ``aws_kms_key``; pass this construct (not the ARN) to others.
        alias: ``alias/<project>-<suffix>``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alias_name: str,
        description: str,
        policy_statements: list[policies.Statement],
        deletion_window_in_days: int,
        provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.policy_statements = policy_statements
        self.key = KmsKey(
            self,
            "this",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_in_days,
            policy=policies.document(*self.policy_statements),
            provider=provider,
        )
        self.alias = KmsAlias(self, "alias", name=alias_name, target_key_id=self.key.key_id, provider=provider)
        #: The key's ARN token, read once (every read is a round trip to jsii).
        self.arn: str = self.key.arn

    def grant_use(self, grantee: policies.Grantee, *, sid: str = "UseKey") -> None:
        """Every use of the key (encrypt, decrypt, re-encrypt, data keys, describe)."""
        grantee.add_statements(self._statement(sid, policies.KEY_USE_ACTIONS))

    def grant_data(self, grantee: policies.Grantee, *, sid: str = "UseKey") -> None:
        """Data keys and decrypt: send to an encrypted topic or queue, read and write SSE-KMS objects."""
        grantee.add_statements(self._statement(sid, policies.KEY_DATA_ACTIONS))

    def grant_decrypt(self, grantee: policies.Grantee, *, sid: str) -> None:
        """Read what was encrypted under the key (a secret)."""
        grantee.add_statements(self._statement(sid, policies.KEY_DECRYPT_ACTIONS))

    def _statement(self, sid: str, actions: tuple[str, ...]) -> policies.Statement:
        return policies.Statement(sid=sid, actions=actions, resources=[self.arn])

"""The environment's customer-managed KMS key (one per environment)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from constructs_lib import policies


class EnvironmentKey(Construct):
    """CMK with rotation on and a key policy with one statement per purpose.

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
        account_id: str,
        region: str,
        deletion_window_in_days: int,
        tags: dict[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.policy_statements = policies.kms_key_policy(account_id, region)
        self.key = KmsKey(
            self,
            "this",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_in_days,
            policy=policies.document(*self.policy_statements),
            tags=tags,
        )
        self.alias = KmsAlias(self, "alias", name=alias_name, target_key_id=self.key.key_id)
        #: The key's ARN token, read once (every read is a round trip to jsii).
        self.arn: str = self.key.arn

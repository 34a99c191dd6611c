"""ECR repository for the service image."""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import EcrRepository, EcrRepositoryEncryptionConfiguration
from constructs import Construct

from constructs_lib.encryption import EnvironmentKey

UNTAGGED_EXPIRY_DAYS = 7


def lifecycle_policy(keep_tagged: int) -> str:
    """Expire untagged images after 7 days; keep the last ``keep_tagged`` tagged ones."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"expire untagged images after {UNTAGGED_EXPIRY_DAYS} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": UNTAGGED_EXPIRY_DAYS,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"keep the last {keep_tagged} tagged images",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_tagged},
                    "action": {"type": "expire"},
                },
            ]
        }
    )


class Registry(Construct):
    """Attributes: repository."""

    def __init__(
        self, scope: Construct, id: str, *, name: str, key: EnvironmentKey, keep_tagged: int, force_delete: bool
    ) -> None:
        super().__init__(scope, id)
        self.repository = EcrRepository(
            self,
            "this",
            name=name,
            # Immutable tags: a commit id always means the same image.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=key.arn)],
            force_delete=force_delete,
        )
        EcrLifecyclePolicy(self, "lifecycle", repository=self.repository.name, policy=lifecycle_policy(keep_tagged))

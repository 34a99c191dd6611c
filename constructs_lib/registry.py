"""ECR: the service's repository, and a pull-through cache of ECR Public.

The cache is how private tasks reach public images without a NAT gateway:
``public.ecr.aws/<path>:<tag>`` is run as
``<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<path>:<tag>``, served by
this account's ECR through the same VPC endpoints as the service's own image.
ECR creates each cached repository on the first pull, which is why the task
execution role may create repositories under the prefix (and nothing else).
https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_pull_through_cache_rule import EcrPullThroughCacheRule
from cdktf_cdktf_provider_aws.ecr_repository import EcrRepository, EcrRepositoryEncryptionConfiguration
from constructs import Construct

from constructs_lib import policies
from constructs_lib.encryption import EnvironmentKey
from constructs_lib.images import ECR_PUBLIC, ImageRef

#: What a pull needs on a repository.
PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
#: What the *first* pull of an image through the cache needs in addition: ECR
#: creates the cached repository and imports the image from upstream.
#: https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html
CACHE_FIRST_PULL_ACTIONS = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")

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
    """Attributes: repository, public_cache (the pull-through cache rule)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        key: EnvironmentKey,
        keep_tagged: int,
        force_delete: bool,
        cache_prefix: str,
        account_id: str,
        region: str,
    ) -> None:
        super().__init__(scope, id)
        self._account_id = account_id
        self._region = region
        self.cache_prefix = cache_prefix
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
        # One rule per environment (the prefix carries the suffix), so two
        # environments in one account never fight over it. ECR Public needs no
        # credentials, so there is no credential_arn.
        self.public_cache = EcrPullThroughCacheRule(
            self, "ecr-public-cache", ecr_repository_prefix=cache_prefix, upstream_registry_url=ECR_PUBLIC
        )

    def image_uri(self, image: str) -> str:
        """The URI a task should run ``image`` by: ECR Public images through the cache.

        Built from the rule's own attributes, so a task definition that runs a
        cached image depends on the rule and is never created before it.
        """
        ref = ImageRef.parse(image)
        if not ref.is_ecr_public:
            return image
        host = f"{self.public_cache.registry_id}.dkr.ecr.{self._region}.amazonaws.com"
        return f"{host}/{self.cache_prefix}/{ref.repository}{ref.suffix}"

    @property
    def cached_repositories_arn(self) -> str:
        """Every repository the cache creates (and only those)."""
        return f"arn:{policies.PARTITION}:ecr:{self._region}:{self._account_id}:repository/{self.cache_prefix}/*"

    def pull_statements(self, *extra_repository_arns: str) -> list[policies.Statement]:
        """What a task execution role needs to pull the service image and cached public images."""
        return [
            policies.Statement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            policies.Statement(
                sid="PullImage",
                actions=PULL_ACTIONS,
                resources=[self.repository.arn, self.cached_repositories_arn, *extra_repository_arns],
            ),
            policies.Statement(
                sid="PullThroughCache", actions=CACHE_FIRST_PULL_ACTIONS, resources=[self.cached_repositories_arn]
            ),
        ]

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
from constructs_lib.context import PlatformContext
from constructs_lib.images import ECR_PUBLIC, ImageRef

#: ECR's login (a registry token): granted only on "*".
LOGIN = policies.Statement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"])
#: What a pull needs on a repository.
PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
#: What a push needs: a pull's actions (layer checks), the upload, and DescribeImages
#: (the buildspec checks whether a tag already exists).
PUSH_ACTIONS = (
    *PULL_ACTIONS,
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:DescribeImages",
)
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
    """Attributes: repository, public_cache (the pull-through cache rule), cache_prefix."""

    def __init__(self, scope: Construct, id: str, *, ctx: PlatformContext, keep_tagged: int) -> None:
        super().__init__(scope, id)
        self._aws = ctx.aws
        self.cache_prefix = ctx.naming.name("ecrpub")
        self.repository = EcrRepository(
            self,
            "this",
            name=ctx.naming.name("app"),
            # Immutable tags: a commit id always means the same image.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=ctx.key.arn)],
            force_delete=ctx.disposable,
        )
        EcrLifecyclePolicy(self, "lifecycle", repository=self.repository.name, policy=lifecycle_policy(keep_tagged))
        # One rule per environment (the prefix carries the suffix), so two
        # environments in one account never fight over it. ECR Public needs no
        # credentials, so there is no credential_arn.
        self.public_cache = EcrPullThroughCacheRule(
            self, "ecr-public-cache", ecr_repository_prefix=self.cache_prefix, upstream_registry_url=ECR_PUBLIC
        )

    def image_uri(self, image: str) -> str:
        """The URI a task should run ``image`` by: ECR Public images through the cache.

        Built from the rule's own attributes, so a task definition that runs a
        cached image depends on the rule and is never created before it.
        """
        ref = ImageRef.parse(image)
        if not ref.is_ecr_public:
            return image
        host = f"{self.public_cache.registry_id}.dkr.ecr.{self._aws.region}.amazonaws.com"
        return f"{host}/{self.cache_prefix}/{ref.repository}{ref.suffix}"

    @property
    def cached_repositories_arn(self) -> str:
        """Every repository the cache creates (and only those)."""
        return self._aws.arn("ecr", f"repository/{self.cache_prefix}/*")

    def repository_arn(self, image: str) -> str | None:
        """The ECR repository ``image`` is in, when that is a private ECR registry."""
        ref = ImageRef.parse(image)
        ecr = ref.private_ecr
        return self._aws.arn("ecr", f"repository/{ref.repository}", account=ecr[0], region=ecr[1]) if ecr else None

    def grant_pull(self, grantee: policies.Grantee, *images: str) -> None:
        """Pull the service image, cached public images, and ``images`` in other private repositories."""
        extra = [arn for arn in map(self.repository_arn, images) if arn is not None]
        grantee.add_statements(
            LOGIN,
            policies.Statement(
                sid="PullImage",
                actions=PULL_ACTIONS,
                resources=[self.repository.arn, self.cached_repositories_arn, *extra],
            ),
            policies.Statement(
                sid="PullThroughCache", actions=CACHE_FIRST_PULL_ACTIONS, resources=[self.cached_repositories_arn]
            ),
        )

    def grant_push(self, grantee: policies.Grantee) -> None:
        """Push to the service repository (and read back what is there)."""
        grantee.add_statements(
            LOGIN, policies.Statement(sid="PushImage", actions=PUSH_ACTIONS, resources=[self.repository.arn])
        )

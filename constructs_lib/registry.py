"""ECR: the service's repository (the images the pipeline builds).

Public images the service runs are mirrored into repositories of their own
(:mod:`constructs_lib.mirror`), not pulled through an ECR pull-through cache:
a NAT-less task cannot make a cache's first pull over the VPC endpoints.
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import EcrRepository, EcrRepositoryEncryptionConfiguration
from constructs import Construct

from constructs_lib import policies
from constructs_lib.context import PlatformContext
from constructs_lib.images import ImageRef

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
    """Attributes: repository (the service's images)."""

    def __init__(self, scope: Construct, id: str, *, ctx: PlatformContext, keep_tagged: int) -> None:
        super().__init__(scope, id)
        self._aws = ctx.aws
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

    def repository_arn(self, image: str) -> str | None:
        """The ECR repository ``image`` is in, when that is a private ECR registry."""
        ref = ImageRef.parse(image)
        ecr = ref.private_ecr
        return self._aws.arn("ecr", f"repository/{ref.repository}", account=ecr[0], region=ecr[1]) if ecr else None

    def grant_pull(self, grantee: policies.Grantee, *images: str) -> None:
        """Pull the service image, and ``images`` in other private repositories."""
        extra = [arn for arn in map(self.repository_arn, images) if arn is not None]
        grantee.add_statements(
            LOGIN,
            policies.Statement(sid="PullImage", actions=PULL_ACTIONS, resources=[self.repository.arn, *extra]),
        )

    def grant_push(self, grantee: policies.Grantee) -> None:
        """Push to the service repository (and read back what is there)."""
        grantee.add_statements(
            LOGIN, policies.Statement(sid="PushImage", actions=PUSH_ACTIONS, resources=[self.repository.arn])
        )

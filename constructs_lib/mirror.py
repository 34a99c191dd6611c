"""Public images the service runs, copied into this account's ECR before any task needs them.

A NAT-less environment's tasks reach only this account's ECR (VPC endpoints), and an ECR
pull-through cache cannot serve their *first* pull: "When an image is pulled using a pull
through cache rule for the first time, if you've configured Amazon ECR to use an interface
VPC endpoint using AWS PrivateLink then you need to create a public subnet in the same VPC,
with a NAT gateway ... Subsequent image pulls don't require this."
https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html

So each ECR Public image the task definition runs (the X-Ray daemon, the bootstrap image)
gets a Terraform-managed repository (the environment's key, immutable tags, scan on push,
lifecycle, emptied on destroy outside prod), and the image mirror function (outside the
VPC without NAT, using Lambda's own internet access; in the private subnets with NAT)
copies the pinned upstream image into it, invoked by Terraform itself
(``aws_lambda_invocation``). The task definition runs the image by the digest the
invocation returns, so Terraform's graph orders it: the repository, then the
copy, then the task definition and the service. A changed image (a new X-Ray daemon version
in settings) changes the invocation's input, which copies the new image before the task
definition changes; an unchanged one invokes nothing (repeated deploys are no-ops).
Environments with NAT take the same path.
"""

from __future__ import annotations

import json

from cdktf import AssetType, Fn, TerraformAsset, Token
from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import EcrRepository, EcrRepositoryEncryptionConfiguration
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_invocation import LambdaInvocation
from constructs import Construct

from constructs_lib import policies, tracing
from constructs_lib.context import PlatformContext
from constructs_lib.functions import LAMBDA_SOURCES, RUNTIME, package_source
from constructs_lib.iam import ServiceRole
from constructs_lib.images import ImageRef
from constructs_lib.logs import EncryptedLogGroup
from constructs_lib.network import FunctionPlacement
from constructs_lib.notifications import Notifications
from constructs_lib.registry import LOGIN, PULL_ACTIONS, lifecycle_policy

SOURCE_DIR = LAMBDA_SOURCES / "image_mirror"
HANDLER = f"{SOURCE_DIR.name}.handler.handler"
#: What a copy needs on a mirrored repository: read what is there, upload what is not.
COPY_ACTIONS = (
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)
#: A copy of a few hundred MB of layers, part by part, well inside Lambda's 15 minutes.
TIMEOUT_SECONDS = 900
MEMORY_MB = 1024


class MirroredImage(Construct):
    """One public image's repository and the copy that fills it.

    Attributes: ``repository``, ``copy`` (the invocation), ``uri`` (by digest, read from the copy).
    """

    def __init__(self, scope: Construct, id: str, *, mirror: ImageMirror, image: str) -> None:
        super().__init__(scope, id)
        ref = ImageRef.parse(image)
        ctx = mirror.ctx
        # Tags are immutable: an image pinned only by digest is tagged after its digest.
        tag = ref.tag or f"pinned-{str(ref.digest).removeprefix('sha256:')[:12]}"
        self.repository = EcrRepository(
            self,
            "repository",
            name=f"{mirror.prefix}/{ref.repository}",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=ctx.key.arn)],
            force_delete=ctx.disposable,
        )
        EcrLifecyclePolicy(self, "lifecycle", repository=self.repository.name, policy=lifecycle_policy(mirror.keep))
        self.copy = LambdaInvocation(
            self,
            "copy",
            function_name=mirror.function_name,
            input=json.dumps({"source": image, "repository": f"{mirror.prefix}/{ref.repository}", "tag": tag}),
            depends_on=[self.repository, mirror.function],
        )
        digest = Token.as_string(Fn.lookup(Fn.jsondecode(self.copy.result), "digest"))
        #: The image by digest: the task definition depends on the copy through it.
        self.uri = f"{self.repository.repository_url}@{digest}"


class ImageMirror(Construct):
    """The mirror function and the repositories it fills (``mirrored``: image -> MirroredImage).

    Attributes: function, role, log_group, prefix (every mirrored repository is under it).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PlatformContext,
        notifications: Notifications,
        keep_tagged: int,
        reserved_concurrency: int | None = None,
        placement: FunctionPlacement | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.ctx = ctx
        self.keep = keep_tagged
        self.prefix = ctx.naming.name("mirror")
        function_name = ctx.naming.name("mirror")
        self.log_group = EncryptedLogGroup(self, "log-group", ctx=ctx, name=ctx.naming.lambda_log_group(function_name))
        self.role = ServiceRole(
            self, "role", role_name=ctx.naming.name("mirror-role"), service="lambda.amazonaws.com",
            account_id=ctx.aws.account_id,
        )  # fmt: skip
        self.log_group.grant_write(self.role)
        tracing.grant_send_traces(self.role)
        self.role.add_statements(
            LOGIN,
            policies.Statement(sid="CopyImages", actions=COPY_ACTIONS, resources=[self.repositories_arn]),
        )
        notifications.grant_send_dead_letter(self.role, sid="DeadLetter")
        ctx.key.grant_data(self.role)  # the encrypted dead-letter queue
        if placement is not None:
            placement.grant_attach(self.role)
        code = TerraformAsset(self, "code", path=str(package_source(SOURCE_DIR)), type=AssetType.ARCHIVE)
        self.function = LambdaFunction(
            self,
            "this",
            function_name=function_name,
            description="Copies the public images the service runs into this account's ECR",
            role=self.role.arn,
            runtime=RUNTIME,
            handler=HANDLER,
            filename=code.path,
            source_code_hash=code.asset_hash,
            timeout=TIMEOUT_SECONDS,
            memory_size=MEMORY_MB,
            # Reserved (where the settings ask): copies before a deploy are never starved by the
            # account's other functions, and never exceed the reservation.
            reserved_concurrent_executions=reserved_concurrency,
            # It needs the internet (ECR Public): in the private subnets where they have NAT,
            # outside the VPC where they do not. It pushes only into the repositories above.
            vpc_config=placement.vpc_config if placement is not None else None,
            tracing_config={"mode": "Active"},
            dead_letter_config={"target_arn": notifications.dead_letter_queue_arn},
            depends_on=[self.log_group.group, self.role.policy],
        )
        self.function_name: str = self.function.function_name
        self.mirrored: dict[str, MirroredImage] = {}

    @property
    def repositories_arn(self) -> str:
        """Every mirrored repository (and only those)."""
        return self.ctx.aws.arn("ecr", f"repository/{self.prefix}/*")

    def mirror(self, id: str, image: str) -> MirroredImage:
        """Mirror ``image`` (an ECR Public reference) under the fixed construct ``id``."""
        mirrored = MirroredImage(self, id, mirror=self, image=image)
        self.mirrored[image] = mirrored
        return mirrored

    def grant_pull(self, grantee: policies.Grantee) -> None:
        grantee.add_statements(
            policies.Statement(sid="PullMirroredImages", actions=PULL_ACTIONS, resources=[self.repositories_arn])
        )

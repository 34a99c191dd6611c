"""Physical resource names: ``<project>-<component>-<suffix>``.

Every name the platform gives an AWS resource comes from here, so the length
and character-set rules of each AWS service are enforced in one place and
settings validation (``settings.py``) can prove, before synthesis, that the
longest derived name still fits and breaks no reserved-name rule.

S3 bucket names are global across every account of a partition, so a bucket
is named ``<project>-<component>-<suffix>-<account>-<region>``: two accounts
(or two regions of one) never collide, and nobody can create the platform's
bucket names in advance without knowing the account. (S3's account regional
namespace, ``...-<account>-<region>-an``, would also stop that squatting, but
it needs a CreateBucket header hashicorp/aws 5.100.0 cannot send.)
https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html

Construct IDs are *not* derived from these names: an ID decides a resource's
terraform address, so deriving it from settings would replace live resources
when a setting changes. A name carries the environment suffix, an ID never does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class NameKind(enum.Enum):
    """An AWS naming rule; ``limit`` is its maximum length in characters."""

    # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
    LOAD_BALANCER = "load balancer"
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
    TARGET_GROUP = "target group"
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
    S3_BUCKET = "S3 bucket"
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
    IAM_ROLE = "IAM role"
    # https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
    LAMBDA_FUNCTION = "Lambda function"
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
    SQS_QUEUE = "SQS queue"
    # https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
    EVENT_RULE = "EventBridge rule"
    # ECS cluster/service, CodeBuild project, CodePipeline, ECR, DynamoDB, SNS: 100+.
    GENERIC = "other"

    @property
    def limit(self) -> int:
        return _LIMITS[self]


_LIMITS = {
    NameKind.LOAD_BALANCER: 32,
    NameKind.TARGET_GROUP: 32,
    NameKind.S3_BUCKET: 63,
    NameKind.IAM_ROLE: 64,
    NameKind.LAMBDA_FUNCTION: 64,
    NameKind.SQS_QUEUE: 80,
    NameKind.EVENT_RULE: 64,
    NameKind.GENERIC: 100,
}

#: Every component the platform names, with the rule its name must obey.
#: Settings validation checks all of them, so adding a component here is
#: enough to have it guarded.
COMPONENTS: dict[str, NameKind] = {
    "alb": NameKind.LOAD_BALANCER,
    "tg": NameKind.TARGET_GROUP,
    "tfstate": NameKind.S3_BUCKET,
    "tfstate-logs": NameKind.S3_BUCKET,
    "artifacts": NameKind.S3_BUCKET,
    "source": NameKind.S3_BUCKET,
    "alb-logs": NameKind.S3_BUCKET,
    "tflock": NameKind.GENERIC,
    "orchestrator": NameKind.LAMBDA_FUNCTION,
    "orchestrator-role": NameKind.IAM_ROLE,
    "codebuild-role": NameKind.IAM_ROLE,
    "pipeline-role": NameKind.IAM_ROLE,
    "task-exec-role": NameKind.IAM_ROLE,
    "task-role": NameKind.IAM_ROLE,
    "flowlogs-role": NameKind.IAM_ROLE,
    "events-role": NameKind.IAM_ROLE,
    # S3 replication of the state bucket (state stack) and the artifact bucket (platform stack).
    "tfstate-replication": NameKind.IAM_ROLE,
    "artifacts-replication": NameKind.IAM_ROLE,
    # CI's access (access stack): GitHub's plan and deploy roles and the boundary of every role.
    "ci-plan": NameKind.IAM_ROLE,
    "ci-deploy": NameKind.IAM_ROLE,
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html (128 characters)
    "ci-boundary": NameKind.GENERIC,
    "events-dlq": NameKind.SQS_QUEUE,
    "cluster": NameKind.GENERIC,
    "service": NameKind.GENERIC,
    "app": NameKind.GENERIC,
    # The image mirror function, its role, and the prefix of the repositories it fills:
    # <account>.dkr.ecr.<region>.amazonaws.com/<this>/<upstream path>
    "mirror": NameKind.LAMBDA_FUNCTION,
    "mirror-role": NameKind.IAM_ROLE,
    "build": NameKind.GENERIC,
    "pipeline": NameKind.GENERIC,
    "notifications": NameKind.GENERIC,
    "waf": NameKind.GENERIC,
    "sampling": NameKind.GENERIC,
    "source-changed": NameKind.EVENT_RULE,
}

#: Account ids are 12 digits; they and the region end every bucket name.
ACCOUNT_ID_LENGTH = 12

#: S3 refuses bucket names with these prefixes and suffixes (reserved for other S3 features).
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
#: "must not begin with 'internal-'" (CreateLoadBalancer, Name).
ELB_RESERVED_PREFIX = "internal-"

# X-Ray sampling rule names are limited to 32 characters.
# https://docs.aws.amazon.com/xray/latest/api/API_SamplingRule.html
SAMPLING_RULE_LIMIT = 32


def physical_name(project: str, component: str, suffix: str, *, account: str = "", region: str = "") -> str:
    """``<project>-<component>-<suffix>``, and ``-<account>-<region>`` for a bucket;
    raises if the component is unknown."""
    if component not in COMPONENTS:
        raise KeyError(f"unknown name component {component!r}; add it to naming.COMPONENTS")
    name = f"{project}-{component}-{suffix}"
    if COMPONENTS[component] is NameKind.S3_BUCKET:
        name += f"-{account or '0' * ACCOUNT_ID_LENGTH}-{region}"
    return name


def _all_names(project: str, suffix: str, region: str) -> list[tuple[str, NameKind]]:
    return [(physical_name(project, c, suffix, region=region), k) for c, k in COMPONENTS.items()]


def longest_overflow(project: str, suffix: str, region: str) -> tuple[str, int] | None:
    """The first derived name (longest first) that exceeds its limit, or None."""
    candidates = sorted(
        ((name, kind.limit) for name, kind in _all_names(project, suffix, region)),
        key=lambda pair: pair[1] - len(pair[0]),
    )
    name, limit = candidates[0]
    return (name, limit) if len(name) > limit else None


def max_suffix_length(project: str, region: str) -> int:
    """The longest suffix for which every derived name fits its limit."""
    return min(k.limit - len(physical_name(project, c, "", region=region)) for c, k in COMPONENTS.items())


def reserved_name_problem(project: str, suffix: str, region: str) -> str | None:
    """The first derived name AWS refuses for its shape (not its length), or None."""
    for name, kind in _all_names(project, suffix, region):
        if kind is NameKind.LOAD_BALANCER and name.startswith(ELB_RESERVED_PREFIX):
            return f"{kind.value} name {name!r} would begin with {ELB_RESERVED_PREFIX!r}, which ELB refuses"
        if kind is NameKind.S3_BUCKET:
            for prefix in S3_RESERVED_PREFIXES:
                if name.startswith(prefix):
                    return f"bucket name {name!r} would start with {prefix!r}, which S3 reserves"
    for reserved in S3_RESERVED_SUFFIXES:
        if f"-{suffix}".endswith(reserved):
            return f"a name ending in {reserved!r} is reserved by S3 (access point and bucket aliases)"
    return None


@dataclass(frozen=True)
class Naming:
    """Derives every physical name for one environment.

    Settings validation guarantees every name fits; ``name`` still checks, so a
    component added without updating ``COMPONENTS`` fails loudly in tests.
    """

    project: str
    suffix: str
    #: The environment's account and region: the last parts of every bucket name.
    account: str
    region: str

    def name(self, component: str) -> str:
        value = physical_name(self.project, component, self.suffix, account=self.account, region=self.region)
        limit = COMPONENTS[component].limit
        if len(value) > limit:  # pragma: no cover - prevented by settings validation
            raise ValueError(f"name {value!r} exceeds {limit} characters")
        return value

    @property
    def legacy_cache_prefix(self) -> str:
        """The ECR pull-through cache prefix of releases up to 2026-11-30: repositories ECR
        created under it outlive the rule (retire-legacy deletes them)."""
        return f"{self.project}-ecrpub-{self.suffix}"

    def legacy_bucket(self, component: str) -> str:
        """The name a bucket had before names carried the account and region (releases up to
        2026-11-30): the upgrade path finds an existing deployment's state by it."""
        if COMPONENTS[component] is not NameKind.S3_BUCKET:
            raise KeyError(f"{component!r} is not a bucket")
        return f"{self.project}-{component}-{self.suffix}"

    @property
    def prefix(self) -> str:
        """``<project>-<suffix>``: the ``Name`` tag of network resources, the dashboard."""
        return f"{self.project}-{self.suffix}"

    def scoped(self, label: str, kind: NameKind = NameKind.GENERIC) -> str:
        """``<project>-<suffix>-<label>``: the environment's security groups,
        notification rules, alarms and log filters, grouped when sorted by name."""
        value = f"{self.prefix}-{label}"
        if len(value) > kind.limit:
            raise ValueError(f"{kind.value} name {value!r} exceeds {kind.limit} characters")
        return value

    # Names that do not follow the <project>-<component>-<suffix> pattern
    # because AWS (or the service writing to them) dictates their shape.

    @property
    def key_alias(self) -> str:
        return f"alias/{self.prefix}"

    @property
    def state_key_alias(self) -> str:
        """The key of the Terraform state (bucket, lock table, and every state object)."""
        return f"alias/{self.project}-state-{self.suffix}"

    @property
    def sampling_rule(self) -> str:
        # 32-character limit: keep it short, truncate the project if needed.
        return self.prefix[:SAMPLING_RULE_LIMIT]

    def secret(self, purpose: str) -> str:
        return f"{self.project}/{self.suffix}/{purpose}"

    def log_group(self, service: str) -> str:
        """``/aws/codepipeline/<suffix>``-style groups for services that do not dictate a name."""
        prefixes = {
            "codepipeline": "/aws/codepipeline",
            "codebuild": "/aws/codebuild",
            "ecs": "/ecs",
            "vpc-flow-logs": "/aws/vpc-flow-logs",
        }
        return f"{prefixes[service]}/{self.prefix}"

    @staticmethod
    def container_insights_log_group(cluster_name: str) -> str:
        """Where ECS Container Insights writes performance events (a name ECS dictates)."""
        return f"/aws/ecs/containerinsights/{cluster_name}/performance"

    def lambda_log_group(self, function_name: str) -> str:
        # Exactly the group Lambda writes to; anything else lets Lambda auto-create
        # an unencrypted group with infinite retention.
        return f"/aws/lambda/{function_name}"

    @property
    def waf_log_group(self) -> str:
        # WAF only delivers logs to groups whose name starts with aws-waf-logs-.
        # https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html
        return f"aws-waf-logs-{self.prefix}"

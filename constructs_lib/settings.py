"""Validated, frozen settings for one environment.

Loaded from ``config/<environment>.toml`` (stdlib ``tomllib``); environment
variable overrides are applied by ``main.py`` only, as a plain dict passed to
:func:`load_settings`. Every problem, wherever it is in the file, is reported
at once in a single :class:`ConfigError` naming the field path, the value
given and what is allowed, before any jsii call is made.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pycountry
from botocore.loaders import Loader
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from constructs_lib.images import ECR_PUBLIC, ImageRef
from constructs_lib.naming import COMPONENTS, Naming, longest_overflow, max_suffix_length, reserved_name_problem
from local_aws import EMULATOR_ACCOUNT_ID


class ConfigError(Exception):
    """Every problem found in the settings, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        plural = "s" if len(problems) != 1 else ""
        lines = [f"invalid settings in {source} ({len(problems)} problem{plural}):"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


def _field_error(loc: tuple[str, ...], value: Any, message: str) -> ValidationError:
    """A cross-field problem reported against the one field to change (not "(top level)")."""
    error = PydanticCustomError("cross_field", "{message}", {"message": message})
    return ValidationError.from_exception_data("Settings", [InitErrorDetails(type=error, loc=loc, input=value)])


class _Strict(BaseModel):
    # extra="forbid": a typo in the TOML must never be silently ignored.
    # strict=True: "2" is not 2, and "yes" is not true.
    # use_attribute_docstrings: the string under each field is its description,
    # which feeds the README settings table and config/settings.schema.json.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True)


# Values CloudWatch Logs accepts for retentionInDays.
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# Fargate task size combinations, cpu units -> allowed memory MiB.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}

PIPELINE_STATES = ("STARTED", "SUCCEEDED", "FAILED", "CANCELED", "SUPERSEDED", "RESUMED", "STOPPED", "STOPPING")

_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$"
)
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:certificate/[0-9a-f-]{36}$")
_CODESTAR_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z]{2}(-[a-z]+)+-\d:\d{12}:connection/[0-9a-f-]{36}$"
)
#: ACM's longest common name (RequestCertificate's DomainName), below DNS's 253.
ACM_COMMON_NAME_MAX = 64
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SUFFIX = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _known_regions() -> frozenset[str]:
    # botocore's bundled endpoint data is the maintained list of public regions
    # (its loader alone: a whole botocore session costs twice as long to start).
    # The commercial partition only: ARNs follow data.aws_partition, but service
    # principals and endpoint service names use its DNS suffix (amazonaws.com).
    partitions = Loader().load_data("endpoints")["partitions"]
    (aws,) = [p for p in partitions if p["partition"] == "aws"]
    return frozenset(aws["regions"])


KNOWN_REGIONS = _known_regions()


def _private_cidr(value: str, *, min_prefix: int = 16, max_prefix: int = 24) -> str:
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"must be an IPv4 network like 10.0.0.0/16 ({exc})") from None
    if not net.is_private or net.subnet_of(ipaddress.IPv4Network("100.64.0.0/10")):
        raise ValueError("must be a private (RFC 1918) IPv4 block: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    if not min_prefix <= net.prefixlen <= max_prefix:
        raise ValueError(f"must be a /{min_prefix} to /{max_prefix} block, got /{net.prefixlen}")
    return str(net)


class NetworkSettings(_Strict):
    vpc_cidr: str = "10.0.0.0/16"
    """Private (RFC 1918) IPv4 block, /16 to /24; split into 8 equal subnets."""
    az_count: Literal[2, 3] = 2
    """Availability zones; one public and one private subnet in each."""
    enable_nat_gateway: bool = False
    """NAT gateway(s) for general egress from the private subnets."""
    single_nat_gateway: bool = True
    """One NAT gateway for all AZs (cheaper) instead of one per AZ (survives an AZ outage)."""
    enable_vpc_endpoints: bool = True
    """S3 gateway endpoint plus interface endpoints for ECR, Logs, Secrets Manager and X-Ray."""
    availability_zones: list[str] | None = None
    """Zone names, one per az_count; unset means the first az_count zones the account has (plan time)."""
    availability_zone_ids: list[str] | None = None
    """Zone IDs (like use1-az1), one per az_count: the same zones in every account. Excludes availability_zones."""

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return _network_settings_cidr(v)

    @field_validator("availability_zones")
    @classmethod
    def _zones(cls, v: list[str] | None) -> list[str] | None:
        return _network_settings_zones(v)

    @field_validator("availability_zone_ids")
    @classmethod
    def _zone_ids(cls, v: list[str] | None) -> list[str] | None:
        return _network_settings_zone_ids(v)

    @model_validator(mode="after")
    def _one_way_to_pin(self) -> NetworkSettings:
        return _network_settings_one_way_to_pin(self)

    @model_validator(mode="after")
    def _egress_path(self) -> NetworkSettings:
        return _network_settings_egress_path(self)


# The bodies of NetworkSettings's validators and derived values: plain functions, because mutation
# testing (make mutate) does not mutate decorated ones.


def _network_settings_cidr(v: str) -> str:
    return _private_cidr(v)


def _network_settings_zones(v: list[str] | None) -> list[str] | None:
    if v is not None and (len(set(v)) != len(v) or not all(re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d[a-z]", z) for z in v)):
        raise ValueError("must be distinct zone names like us-east-1a")
    return v


def _network_settings_zone_ids(v: list[str] | None) -> list[str] | None:
    if v is not None and (len(set(v)) != len(v) or not all(re.fullmatch(r"[a-z]{2,6}\d+-az\d+", z) for z in v)):
        raise ValueError("must be distinct zone IDs like use1-az1 (aws ec2 describe-availability-zones)")
    return v


def _network_settings_one_way_to_pin(self: NetworkSettings) -> NetworkSettings:
    if self.availability_zones is not None and self.availability_zone_ids is not None:
        raise ValueError("set availability_zones or availability_zone_ids, not both")
    if self.availability_zone_ids is not None and len(self.availability_zone_ids) != self.az_count:
        raise ValueError(
            f"availability_zone_ids {self.availability_zone_ids} must list exactly az_count = {self.az_count} zones"
        )
    return self


def _network_settings_egress_path(self: NetworkSettings) -> NetworkSettings:
    if not self.enable_nat_gateway and not self.enable_vpc_endpoints:
        raise ValueError(
            "enable_nat_gateway and enable_vpc_endpoints are both false: tasks in the private "
            "subnets could not pull images from ECR, read secrets or ship logs; enable at least one"
        )
    return self


class SecuritySettings(_Strict):
    kms_deletion_window_days: Annotated[int, Field(ge=7, le=30)] = 30
    """Days a scheduled key deletion waits (AWS allows 7-30)."""
    secret_rotation_lambda_arn: str | None = None
    """Lambda function ARN that rotates the application secret; unset means no rotation resource."""
    secret_rotation_days: Annotated[int, Field(ge=1, le=1000)] = 30
    """Rotation interval when a rotation Lambda is set."""
    secret_readers: list[str] = []
    """Role ARNs that may also read secret values (break-glass, the rotation function's role)."""

    @field_validator("secret_rotation_lambda_arn")
    @classmethod
    def _lambda_arn(cls, v: str | None) -> str | None:
        return _security_settings_lambda_arn(v)

    @field_validator("secret_readers")
    @classmethod
    def _readers(cls, v: list[str]) -> list[str]:
        return _security_settings_readers(v)

    @model_validator(mode="after")
    def _rotation_reads(self) -> SecuritySettings:
        # The secrets' policies deny reading a value to every principal not named; the rotation
        # function reads the value it rotates, with its own role.
        return _security_settings_rotation_reads(self)


# The bodies of SecuritySettings's validators and derived values: plain functions, because mutation
# testing (make mutate) does not mutate decorated ones.


def _security_settings_lambda_arn(v: str | None) -> str | None:
    if v is not None and not _LAMBDA_ARN.match(v):
        raise ValueError("must be a Lambda function ARN like arn:aws:lambda:eu-west-1:123456789012:function:rotate")
    return v


def _security_settings_readers(v: list[str]) -> list[str]:
    bad = [arn for arn in v if not _ROLE_ARN.match(arn)]
    if bad:
        raise ValueError(
            f"not IAM role ARNs: {', '.join(bad)}; each must look like arn:aws:iam::123456789012:role/break-glass"
        )
    if len(set(v)) != len(v):
        raise ValueError("lists a role twice")
    return v


def _security_settings_rotation_reads(self: SecuritySettings) -> SecuritySettings:
    if self.secret_rotation_lambda_arn is not None and not self.secret_readers:
        raise ValueError(
            "secret_rotation_lambda_arn is set but secret_readers is empty: the secrets' policies let only "
            "the roles named read a value; add the rotation function's execution role to secret_readers"
        )
    return self


class EdgeSettings(_Strict):
    allowed_ingress_cidrs: Annotated[list[str], Field(min_length=1)] = ["0.0.0.0/0"]
    """IPv4 CIDRs admitted to the ALB on ports 80/443."""
    certificate_arn: str | None = None
    """ACM certificate ARN in the stack's region: adds an HTTPS listener (TLS 1.3 policy); HTTP then redirects."""
    domain_name: str | None = None
    """Name the service answers on (in hosted_zone): an alias to the ALB, and a DNS-validated certificate
    (at most 64 characters, ACM's limit for the name it certifies, unless certificate_arn brings one)."""
    hosted_zone: str | None = None
    """Public Route 53 hosted zone (its name) that holds domain_name; set with domain_name."""
    allow_plain_http: bool = False
    """Accept a prod environment without HTTPS (no domain_name, no certificate_arn); every summary says so."""
    waf_rate_limit: Annotated[int, Field(ge=100, le=2_000_000_000)] = 2000
    """Requests per 5 minutes from one IP before the WAF blocks it."""
    geo_blocking_enabled: bool = False
    """Block requests from blocked_countries (enabled with an empty list is refused)."""
    blocked_countries: list[str] = []
    """ISO 3166-1 alpha-2 codes; lower case is upper-cased, unknown codes are refused."""
    health_check_path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9/._-]*$", max_length=1024)] = "/"
    """Target group health-check path."""
    alb_deletion_protection: bool | None = None
    """ALB deletion protection; unset means on in prod, off elsewhere."""

    @field_validator("allowed_ingress_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        return _edge_settings_cidrs(v)

    @field_validator("certificate_arn")
    @classmethod
    def _acm(cls, v: str | None) -> str | None:
        return _edge_settings_acm(v)

    @field_validator("domain_name", "hosted_zone")
    @classmethod
    def _dns_name(cls, v: str | None) -> str | None:
        # Route 53 and ACM: labels of letters, digits and hyphens, at most 63 characters each,
        # at most 253 in all; no wildcard (the service answers on one name).
        return _edge_settings_dns_name(v)

    @model_validator(mode="after")
    def _domain_in_zone(self) -> EdgeSettings:
        return _edge_settings_domain_in_zone(self)

    @property
    def https(self) -> bool:
        return _edge_settings_https(self)

    @field_validator("blocked_countries")
    @classmethod
    def _countries(cls, v: list[str]) -> list[str]:
        # ISO 3166-1 alpha-2 from pycountry (maintained), not a hand-typed list.
        # Lower case is clear intent and is normalised; unknown codes are refused.
        return _edge_settings_countries(v)

    @model_validator(mode="after")
    def _geo(self) -> EdgeSettings:
        # Decision: enabled with an empty list is refused, not treated as "off".
        # A reviewer reading geo_blocking_enabled = true must be able to trust it.
        return _edge_settings_geo(self)


# The bodies of EdgeSettings's validators and derived values: plain functions, because mutation
# testing (make mutate) does not mutate decorated ones.


def _edge_settings_cidrs(v: list[str]) -> list[str]:
    out = []
    for cidr in v:
        try:
            out.append(str(ipaddress.IPv4Network(cidr, strict=True)))
        except ValueError:
            raise ValueError(f"{cidr!r} is not an IPv4 network like 203.0.113.0/24") from None
    return out


def _edge_settings_acm(v: str | None) -> str | None:
    if v is not None and not _ACM_ARN.match(v):
        raise ValueError("must be an ACM certificate ARN like arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>")
    return v


def _edge_settings_dns_name(v: str | None) -> str | None:
    if v is None:
        return v
    name = v.lower().rstrip(".")
    label = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
    if len(name) > 253 or not re.fullmatch(rf"{label}(\.{label})+", name):
        raise ValueError("must be a DNS name like app.example.com (letters, digits, hyphens; no wildcard)")
    return name


def _edge_settings_domain_in_zone(self: EdgeSettings) -> EdgeSettings:
    if (self.domain_name is None) != (self.hosted_zone is None):
        raise ValueError("domain_name and hosted_zone must be set together (the zone holds the name's records)")
    if (
        self.domain_name
        and self.hosted_zone
        and not (self.domain_name == self.hosted_zone or self.domain_name.endswith(f".{self.hosted_zone}"))
    ):
        raise ValueError(f"domain_name {self.domain_name} is not in hosted_zone {self.hosted_zone}")
    # The platform requests the certificate (no certificate_arn) with domain_name as its common
    # name, which ACM caps below DNS's 253: "In compliance with RFC 5280, the length of the domain
    # name (technically, the Common Name) that you provide cannot exceed 64 octets (characters),
    # including periods." (ACM API reference, RequestCertificate, DomainName)
    if self.domain_name and self.certificate_arn is None and len(self.domain_name) > ACM_COMMON_NAME_MAX:
        raise _field_error(
            ("domain_name",),
            self.domain_name,
            f"is {len(self.domain_name)} characters: the certificate the platform requests names it as its "
            f"common name, which ACM limits to {ACM_COMMON_NAME_MAX}; choose a shorter name, or set "
            "edge.certificate_arn to a certificate you have",
        )
    return self


def _edge_settings_https(self: EdgeSettings) -> bool:
    return self.certificate_arn is not None or self.domain_name is not None


def _edge_settings_countries(v: list[str]) -> list[str]:
    normalised = [c.strip().upper() for c in v]
    bad = [orig for orig, c in zip(v, normalised, strict=True) if pycountry.countries.get(alpha_2=c) is None]
    if bad:
        hint = " (the United Kingdom is GB)" if any(c.upper() == "UK" for c in bad) else ""
        raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}{hint}")
    return sorted(set(normalised))


def _edge_settings_geo(self: EdgeSettings) -> EdgeSettings:
    if self.geo_blocking_enabled and not self.blocked_countries:
        raise ValueError(
            "geo_blocking_enabled is true but blocked_countries is empty: "
            "list at least one ISO 3166-1 alpha-2 code, or set geo_blocking_enabled = false"
        )
    return self


class ServiceSettings(_Strict):
    container_port: Annotated[int, Field(ge=1, le=65535)] = 8080
    """Port the application container listens on."""
    cpu: Literal[256, 512, 1024, 2048, 4096] = 256
    """Fargate task CPU units."""
    memory: int = 512
    """Fargate task memory (MiB); must be a valid size for cpu."""
    desired_count: Annotated[int, Field(ge=1, le=100)] = 2
    """Running tasks."""
    health_check_grace_period_seconds: Annotated[int, Field(ge=0, le=2_147_483_647)] = 60
    """Seconds ECS ignores failing ALB health checks after a task starts."""
    bootstrap_image: Annotated[str, Field(min_length=3, max_length=255)] = (
        # Runs as non-root, listens on 8080, writes only to /tmp: works with a read-only root.
        "public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine"
    )
    """Image the service runs until the pipeline's first build; public.ecr.aws images are mirrored into the account."""
    xray_daemon_image: Annotated[str, Field(min_length=3, max_length=255)] = (
        "public.ecr.aws/xray/aws-xray-daemon:3.3.14"
    )
    """X-Ray daemon sidecar image (ECR Public); mirrored into this account's ECR before tasks run it."""
    readonly_root_filesystem: bool = True
    """Read-only root filesystem for the app container (where the image allows it)."""
    ecr_keep_tagged_images: Annotated[int, Field(ge=1, le=1000)] = 20
    """ECR lifecycle: tagged images kept; untagged ones expire after 7 days."""

    @field_validator("bootstrap_image")
    @classmethod
    def _image(cls, v: str) -> str:
        return _service_settings_image(v)

    @field_validator("xray_daemon_image")
    @classmethod
    def _xray_image(cls, v: str) -> str:
        return _service_settings_xray_image(v)

    @model_validator(mode="after")
    def _fargate_size(self) -> ServiceSettings:
        return _service_settings_fargate_size(self)


# The bodies of ServiceSettings's validators and derived values: plain functions, because mutation
# testing (make mutate) does not mutate decorated ones.


def _service_settings_image(v: str) -> str:
    ImageRef.parse(v)  # ValueError names the expected shape
    return v


def _service_settings_xray_image(v: str) -> str:
    ref = ImageRef.parse(v)
    if not ref.is_ecr_public or not (ref.tag or ref.digest):
        raise ValueError(
            f"must be a tagged {ECR_PUBLIC} image (the mirror copies from ECR Public), "
            "like public.ecr.aws/xray/aws-xray-daemon:3.3.14"
        )
    return v


def _service_settings_fargate_size(self: ServiceSettings) -> ServiceSettings:
    allowed = FARGATE_MEMORY[self.cpu]
    if self.memory not in allowed:
        raise ValueError(
            f"memory = {self.memory} is not a Fargate size for cpu = {self.cpu}; "
            f"allowed: {', '.join(map(str, allowed))}"
        )
    return self


class PipelineSettings(_Strict):
    require_manual_approval: bool | None = None
    """Manual approval stage before deploy; unset means required in prod only."""
    codestar_connection_arn: str | None = None
    """CodeStar connection for a GitHub source; unset means an S3 source object."""
    github_repository: str | None = None
    """owner/name of the GitHub repository (set with codestar_connection_arn)."""
    branch: Annotated[str, Field(min_length=1, max_length=255)] = "main"
    """Branch the GitHub source tracks."""
    build_compute_type: Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"] = (
        "BUILD_GENERAL1_SMALL"
    )
    """CodeBuild compute size."""
    artifact_expiration_days: Annotated[int, Field(ge=1, le=3650)] = 30
    """Days before pipeline artifacts and source objects expire."""
    orchestrator_reserved_concurrency: Annotated[int, Field(ge=1, le=1000)] | None = None
    """Executions reserved for the deploy orchestrator; unset reserves none (AWS keeps 100 unreserved)."""
    mirror_reserved_concurrency: Annotated[int, Field(ge=1, le=1000)] | None = None
    """Executions reserved for the image mirror (invoked once per changed public image); unset reserves none."""

    @field_validator("codestar_connection_arn")
    @classmethod
    def _conn(cls, v: str | None) -> str | None:
        return _pipeline_settings_conn(v)

    @field_validator("github_repository")
    @classmethod
    def _repo(cls, v: str | None) -> str | None:
        return _pipeline_settings_repo(v)

    @model_validator(mode="after")
    def _github_pair(self) -> PipelineSettings:
        return _pipeline_settings_github_pair(self)


# The bodies of PipelineSettings's validators and derived values: plain functions, because mutation
# testing (make mutate) does not mutate decorated ones.


def _pipeline_settings_conn(v: str | None) -> str | None:
    if v is not None and not _CODESTAR_ARN.match(v):
        raise ValueError(
            "must be a CodeStar connection ARN like "
            "arn:aws:codestar-connections:eu-west-1:123456789012:connection/<uuid>"
        )
    return v


def _pipeline_settings_repo(v: str | None) -> str | None:
    if v is not None and not _GITHUB_REPO.match(v):
        raise ValueError("must be owner/name, like acme/web-service")
    return v


def _pipeline_settings_github_pair(self: PipelineSettings) -> PipelineSettings:
    if (self.codestar_connection_arn is None) != (self.github_repository is None):
        raise ValueError("codestar_connection_arn and github_repository must be set together (GitHub source)")
    return self


class AlarmThresholds(_Strict):
    alb_5xx_count: Annotated[int, Field(ge=1)] = 10
    """ALB 5xx responses per 5 minutes."""
    unhealthy_targets: Annotated[int, Field(ge=1)] = 1
    """Unhealthy targets (maximum over 1 minute, 3 periods)."""
    target_response_time_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    """p99 target response time."""
    ecs_cpu_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    """Service CPU utilisation."""
    ecs_memory_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    """Service memory utilisation."""
    lambda_errors: Annotated[int, Field(ge=1)] = 1
    """Orchestrator errors per 5 minutes."""
    lambda_throttles: Annotated[int, Field(ge=1)] = 1
    """Orchestrator throttles per 5 minutes."""
    dlq_visible_messages: Annotated[int, Field(ge=1)] = 1
    """Undelivered notifications waiting in the dead-letter queue."""
    waf_blocked_requests: Annotated[int, Field(ge=1)] = 500
    """WAF-blocked requests per 5 minutes (a spike: an attack or a bad rule)."""
    pipeline_failures: Annotated[int, Field(ge=1)] = 1
    """Failed pipeline executions per 5 minutes."""


class ObservabilitySettings(_Strict):
    log_retention_days: int = 30
    """Retention of every log group; only values CloudWatch Logs accepts."""
    alarm_emails: list[str] = []
    """E-mail subscriptions to the notifications topic."""
    pipeline_notify_states: Annotated[list[str], Field(min_length=1)] = ["FAILED", "SUCCEEDED"]
    """Pipeline execution states that send a notification."""
    xray_sampling_rate: Annotated[float, Field(ge=0, le=1)] = 0.1
    """Fixed rate of the X-Ray sampling rule (after a reservoir of 1 request/second)."""
    alarms: AlarmThresholds = AlarmThresholds()
    """Alarm thresholds ([observability.alarms])."""

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        return _observability_settings_retention(v)

    @field_validator("alarm_emails")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        return _observability_settings_emails(v)

    @field_validator("pipeline_notify_states")
    @classmethod
    def _states(cls, v: list[str]) -> list[str]:
        return _observability_settings_states(v)


# The bodies of ObservabilitySettings's validators and derived values: plain functions, because mutation
# testing (make mutate) does not mutate decorated ones.


def _observability_settings_retention(v: int) -> int:
    if v not in LOG_RETENTION_DAYS:
        raise ValueError(f"CloudWatch Logs accepts only {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return v


def _observability_settings_emails(v: list[str]) -> list[str]:
    bad = [e for e in v if not _EMAIL.match(e)]
    if bad:
        raise ValueError(f"not e-mail addresses: {', '.join(bad)}")
    return v


def _observability_settings_states(v: list[str]) -> list[str]:
    bad = [s for s in v if s not in PIPELINE_STATES]
    if bad:
        raise ValueError(f"unknown pipeline states {', '.join(bad)}; allowed: {', '.join(PIPELINE_STATES)}")
    return v


class RecoverySettings(_Strict):
    replicate: bool | None = None
    """Replicate every bucket (state, artifacts, source, logs) to replica_region; unset: on in prod only."""
    replica_region: str | None = None
    """Region the replicas live in (another region of the same partition); needed while replication is on."""

    @field_validator("replica_region")
    @classmethod
    def _replica_region(cls, v: str | None) -> str | None:
        return _recovery_settings_replica_region(v)


# The bodies of RecoverySettings's validators and derived values: plain functions, because mutation
# testing (make mutate) does not mutate decorated ones.


def _recovery_settings_replica_region(v: str | None) -> str | None:
    if v is not None and v not in KNOWN_REGIONS:
        raise ValueError(f"unknown AWS region; allowed: {', '.join(sorted(KNOWN_REGIONS))}")
    return v


#: GitHub's OIDC issuer and the audience its tokens carry for AWS (aws-actions/configure-aws-credentials).
#: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
# GitHub: an owner is 1-39 letters, digits or single inner hyphens; a repository name is letters,
# digits, ".", "_" and "-" (not "." or ".."). No wildcard can get through either part.
_CI_REPOSITORY = re.compile(r"^(?P<owner>[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38})/(?P<name>[A-Za-z0-9_.-]{1,100})$")


class CiSettings(_Strict):
    github_repository: str | None = None
    """GitHub repository (owner/name) whose workflows plan and deploy this environment; unset: no CI roles."""
    oidc_provider: Literal["create", "existing"] = "create"
    """\"create\": this environment creates the account's GitHub OIDC provider; \"existing\": it uses the one there."""

    @field_validator("github_repository")
    @classmethod
    def _repository(cls, v: str | None) -> str | None:
        return _ci_settings_repository(v)


# The bodies of CiSettings's validators and derived values: plain functions, because mutation
# testing (make mutate) does not mutate decorated ones.


def _ci_settings_repository(v: str | None) -> str | None:
    if v is None:
        return v
    match = _CI_REPOSITORY.match(v)
    if not match or match.group("name") in (".", ".."):
        raise ValueError(
            "must be one GitHub repository as owner/name (letters, digits, '-' in the owner; letters, "
            "digits, '.', '_', '-' in the name; no wildcards), e.g. 'example-org/cicd-platform'"
        )
    return v


class Settings(_Strict):
    project: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,11}$")] = "cicd"
    """Short project name, first part of every resource name."""
    environment: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,9}$")]
    """Environment name; \"prod\" turns on production defaults."""
    environment_suffix: str
    """Last part of every resource name; short enough for every AWS name limit."""
    region: str = "us-east-1"
    """AWS region (commercial partition)."""
    account_id: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    """AWS account of this environment: the provider's allowed_account_ids; required to deploy to AWS."""
    deploy_role_arn: str | None = None
    """IAM role in account_id the provider assumes (cross-account deploys from one CI identity)."""
    deploy_target: Literal["aws", "local"] = "aws"
    """\"aws\" for a real account, \"local\" for the embedded emulator."""
    endpoint_url: Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.:-]+/?$")] | None = None
    """Emulator endpoint; required when deploy_target is \"local\"."""
    tags: dict[str, str] = {}
    """Tags on every resource (project, environment and managed-by are added)."""
    network: NetworkSettings = NetworkSettings()
    """[network] section."""
    security: SecuritySettings = SecuritySettings()
    """[security] section."""
    edge: EdgeSettings = EdgeSettings()
    """[edge] section."""
    service: ServiceSettings = ServiceSettings()
    """[service] section."""
    pipeline: PipelineSettings = PipelineSettings()
    """[pipeline] section."""
    observability: ObservabilitySettings = ObservabilitySettings()
    """[observability] section."""
    recovery: RecoverySettings = RecoverySettings()
    """[recovery] section."""
    ci: CiSettings = CiSettings()
    """[ci] section."""

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        return _settings_region(v)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        # https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
        return _settings_tags(v)

    @field_validator("environment_suffix")
    @classmethod
    def _suffix(cls, v: str) -> str:
        return _settings_suffix(v)

    @model_validator(mode="after")
    def _derived_names(self) -> Settings:
        """Every name the platform derives fits its AWS limit and breaks no reserved-name rule
        (bucket names end with -<account>-<region>, so the region counts too)."""
        return _settings_derived_names(self)

    @model_validator(mode="after")
    def _zones_in_region(self) -> Settings:
        return _settings_zones_in_region(self)

    @property
    def availability_zones(self) -> list[str] | None:
        """The zones the user pinned, or None: the stack then reads the account's own zones
        (``aws_availability_zones``), because zone names are mapped per account and not
        every region offers a, b and c to every account.
        https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html"""
        return _settings_availability_zones(self)

    @model_validator(mode="after")
    def _cross_field(self) -> Settings:
        return _settings_cross_field(self)

    @model_validator(mode="after")
    def _account_known(self) -> Settings:
        # Bucket names carry the account (S3 names are global), and the S3 backend block
        # needs the state bucket's literal name: a real account must be named.
        return _settings_account_known(self)

    @model_validator(mode="after")
    def _certificate_in_region(self) -> Settings:
        # "Certificates in ACM are regional resources." https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
        return _settings_certificate_in_region(self)

    @model_validator(mode="after")
    def _replica_region_known(self) -> Settings:
        return _settings_replica_region_known(self)

    @model_validator(mode="after")
    def _production_serves_https(self) -> Settings:
        # Prod is secure by default: plain HTTP only when someone wrote down that they accept it.
        return _settings_production_serves_https(self)

    @model_validator(mode="after")
    def _readers_in_account(self) -> Settings:
        return _settings_readers_in_account(self)

    @field_validator("deploy_role_arn")
    @classmethod
    def _role_arn(cls, v: str | None, info: ValidationInfo) -> str | None:
        return _settings_role_arn(v, info)

    @model_validator(mode="after")
    def _image_reachable(self) -> Settings:
        """Without NAT, private tasks reach only this account's ECR in this region
        (VPC endpoints): ECR Public images are mirrored into it (constructs_lib/mirror.py)."""
        return _settings_image_reachable(self)

    # Derived values. Kept as properties so the TOML stays minimal.

    @property
    def is_production(self) -> bool:
        return _settings_is_production(self)

    @property
    def account(self) -> str:
        """The account names are built for: ``account_id``, or the emulator's on the local target."""
        return _settings_account(self)

    @property
    def naming(self) -> Naming:
        return _settings_naming(self)

    @property
    def replication_on(self) -> bool:
        return _settings_replication_on(self)

    @property
    def ci_on(self) -> bool:
        """CI has its own roles ([ci] names the repository): the access stack is synthesized."""
        return _settings_ci_on(self)

    @property
    def replica_naming(self) -> Naming | None:
        """Names in the replica region (bucket names end with it), or None without replication."""
        return _settings_replica_naming(self)

    @property
    def alb_deletion_protection(self) -> bool:
        return _settings_alb_deletion_protection(self)

    @property
    def require_manual_approval(self) -> bool:
        return _settings_require_manual_approval(self)

    @property
    def state_key(self) -> str:
        """The platform stack's state object in the state bucket."""
        return _settings_state_key(self)

    @property
    def bootstrap_state_key(self) -> str:
        """The state-backend stack's own state object, in the bucket it creates."""
        return _settings_bootstrap_state_key(self)

    @property
    def access_state_key(self) -> str:
        """The access stack's state (CI's roles), in the state bucket; CI's roles cannot write it."""
        return _settings_access_state_key(self)


# The bodies of Settings's validators and derived values: plain functions, because mutation
# testing (make mutate) does not mutate decorated ones.


def _settings_region(v: str) -> str:
    if v not in KNOWN_REGIONS:
        raise ValueError(f"unknown AWS region; allowed: {', '.join(sorted(KNOWN_REGIONS))}")
    return v


def _settings_tags(v: dict[str, str]) -> dict[str, str]:
    for key, value in v.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise ValueError(f"tag {key!r}: keys are 1-128 characters, values at most 256")
        if key.lower().startswith("aws:"):
            raise ValueError(f"tag {key!r}: the aws: prefix is reserved for AWS")
    return v


def _settings_suffix(v: str) -> str:
    if not _SUFFIX.match(v):
        raise ValueError(
            "use lower-case letters, digits and single hyphens (S3 and ALB names allow "
            "nothing else), e.g. 'dev' or 'pr-42'"
        )
    return v


def _settings_derived_names(self: Settings) -> Settings:
    overflow = longest_overflow(self.project, self.environment_suffix, self.region)
    if overflow:
        name, limit = overflow
        longest = max_suffix_length(self.project, self.region)
        raise _field_error(
            ("environment_suffix",),
            self.environment_suffix,
            f"too long: derived name {name!r} is {len(name)} characters, the limit is {limit}; "
            f"with project {self.project!r} in {self.region} the suffix may be at most {longest} characters",
        )
    reserved = reserved_name_problem(self.project, self.environment_suffix, self.region)
    if reserved:
        field = "environment_suffix" if reserved.startswith("a name ending") else "project"
        value = self.environment_suffix if field == "environment_suffix" else self.project
        raise _field_error((field,), value, f"{reserved}; choose another {field}")
    return self


def _settings_zones_in_region(self: Settings) -> Settings:
    zones = self.network.availability_zones
    if zones is not None and (len(zones) != self.network.az_count or any(not z.startswith(self.region) for z in zones)):
        raise ValueError(
            f"network.availability_zones {zones} must list exactly az_count = {self.network.az_count} "
            f"zones of region {self.region}"
        )
    return self


def _settings_availability_zones(self: Settings) -> list[str] | None:
    zones = self.network.availability_zones
    return list(zones) if zones is not None else None


def _settings_cross_field(self: Settings) -> Settings:
    if self.deploy_target == "local" and self.endpoint_url is None:
        raise ValueError("deploy_target = 'local' needs endpoint_url (set AWS_ENDPOINT_URL to the emulator)")
    return self


def _settings_account_known(self: Settings) -> Settings:
    if self.deploy_target == "aws" and self.account_id is None:
        raise _field_error(
            ("account_id",),
            None,
            'required when deploy_target = "aws": bucket names carry the account id and the provider '
            'refuses any other account; add account_id = "<12-digit AWS account id>"',
        )
    return self


def _settings_certificate_in_region(self: Settings) -> Settings:
    arn = self.edge.certificate_arn
    if arn is not None and arn.split(":")[3] != self.region:
        raise _field_error(
            ("edge", "certificate_arn"),
            arn,
            f"is a certificate in {arn.split(':')[3]}, but the load balancer is in {self.region}: ACM "
            "certificates are regional; request or import one in the stack's region",
        )
    return self


def _settings_replica_region_known(self: Settings) -> Settings:
    recovery = self.recovery
    if self.replication_on and recovery.replica_region is None:
        why = "the prod default" if recovery.replicate is None else "recovery.replicate = true"
        raise _field_error(
            ("recovery", "replica_region"),
            None,
            f"replication of the state and artifact buckets is on ({why}): name the region the replicas "
            "live in, e.g. us-west-2; or set recovery.replicate = false",
        )
    if recovery.replica_region is not None and recovery.replica_region == self.region:
        raise _field_error(
            ("recovery", "replica_region"),
            recovery.replica_region,
            f"is the stack's own region: a replica must survive the loss of {self.region}; choose another region",
        )
    if self.replication_on and recovery.replica_region is not None:
        overflow = longest_overflow(self.project, self.environment_suffix, recovery.replica_region)
        if overflow:
            name, limit = overflow
            raise _field_error(
                ("recovery", "replica_region"),
                recovery.replica_region,
                f"makes the replica bucket name {name!r} {len(name)} characters, over S3's {limit}; "
                "choose a region with a shorter name or a shorter environment_suffix",
            )
    return self


def _settings_production_serves_https(self: Settings) -> Settings:
    edge = self.edge
    if self.is_production and not edge.https and not edge.allow_plain_http:
        raise _field_error(
            ("edge", "domain_name"),
            None,
            f'environment "{self.environment}" needs HTTPS: set edge.domain_name with edge.hosted_zone (the '
            "platform requests and validates a certificate), or edge.certificate_arn (a certificate you have); "
            "to serve plain HTTP anyway, set edge.allow_plain_http = true",
        )
    return self


def _settings_readers_in_account(self: Settings) -> Settings:
    elsewhere = [
        arn for arn in self.security.secret_readers
        if self.account_id is not None and arn.split(":")[4] != self.account_id
    ]  # fmt: skip
    if elsewhere:
        raise _field_error(
            ("security", "secret_readers"),
            elsewhere,
            f"names roles outside account_id {self.account_id}: the secrets and their key are this account's; "
            "list roles of this account (a role elsewhere would also need the key policy)",
        )
    return self


def _settings_role_arn(v: str | None, info: ValidationInfo) -> str | None:
    if v is None:
        return v
    match = _ROLE_ARN.match(v)
    if not match:
        raise ValueError("must be an IAM role ARN like arn:aws:iam::123456789012:role/deploy")
    if "account_id" not in info.data:
        return v  # account_id itself is invalid and reported on its own
    account = info.data["account_id"]
    if account is None:
        raise ValueError("needs account_id: set account_id to the account this role belongs to")
    if match.group("account") != account:
        raise ValueError(f"is a role in account {match.group('account')}, but account_id is {account}")
    return v


def _settings_image_reachable(self: Settings) -> Settings:
    if self.network.enable_nat_gateway:
        return self
    image = self.service.bootstrap_image
    ref = ImageRef.parse(image)
    if ref.is_ecr_public:
        return self
    ecr = ref.private_ecr
    if ecr is not None and ecr == (self.account, self.region):
        return self
    why = (
        f"{ref.registry} is unreachable from the private subnets with network.enable_nat_gateway = false "
        f"(only ECR Public images, which the platform mirrors into this account's ECR, and this account's "
        f"ECR in {self.region}, through the VPC endpoints)"
    )
    raise _field_error(
        ("service", "bootstrap_image"),
        image,
        f"{why}; use a {ECR_PUBLIC} image (e.g. {ServiceSettings().bootstrap_image}), push it to this "
        "account's ECR, or set network.enable_nat_gateway = true",
    )


def _settings_is_production(self: Settings) -> bool:
    return self.environment == "prod"


def _settings_account(self: Settings) -> str:
    return self.account_id or EMULATOR_ACCOUNT_ID


def _settings_naming(self: Settings) -> Naming:
    return Naming(self.project, self.environment_suffix, account=self.account, region=self.region)


def _settings_replication_on(self: Settings) -> bool:
    flag = self.recovery.replicate
    return self.is_production if flag is None else flag


def _settings_ci_on(self: Settings) -> bool:
    return self.ci.github_repository is not None


def _settings_replica_naming(self: Settings) -> Naming | None:
    region = self.recovery.replica_region
    if not self.replication_on or region is None:
        return None
    return Naming(self.project, self.environment_suffix, account=self.account, region=region)


def _settings_alb_deletion_protection(self: Settings) -> bool:
    flag = self.edge.alb_deletion_protection
    return self.is_production if flag is None else flag


def _settings_require_manual_approval(self: Settings) -> bool:
    flag = self.pipeline.require_manual_approval
    return self.is_production if flag is None else flag


def _settings_state_key(self: Settings) -> str:
    return f"{self.project}/{self.environment}/terraform.tfstate"


def _settings_bootstrap_state_key(self: Settings) -> str:
    return f"{self.project}/{self.environment}/state-backend.tfstate"


def _settings_access_state_key(self: Settings) -> str:
    return f"{self.project}/{self.environment}/access.tfstate"


#: Environment variables main.py applies on top of the TOML (the only env reads).
ENV_OVERRIDES: dict[str, str] = {
    "ENVIRONMENT_SUFFIX": "environment_suffix",
    "AWS_REGION": "region",
    "DEPLOY_TARGET": "deploy_target",
    "AWS_ENDPOINT_URL": "endpoint_url",
}


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors(include_url=False):
        path = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            # pydantic's input for a missing field is the mapping around it: nothing the user wrote.
            problems.append(f"{path}: required setting is missing; see the settings table in README.md")
            continue
        if err["type"] == "extra_forbidden":
            msg = "unknown setting (typo?); see the settings table in README.md"
        problems.append(f"{path} = {_describe(err['input'])}: {msg}")
    return problems


def _deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_settings(raw: Mapping[str, Any], source: str = "settings") -> Settings:
    """Validate a raw mapping; raises :class:`ConfigError` listing every problem."""
    try:
        return Settings.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError(source, _problems(exc)) from None


def load_settings(path: Path, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read a TOML file, apply ``overrides`` (from main.py's env vars), validate."""
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, ["file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"not valid TOML: {exc}"]) from None
    return parse_settings(_deep_merge(raw, overrides or {}), source)


__all__ = [
    "COMPONENTS",
    "ENV_OVERRIDES",
    "ConfigError",
    "Settings",
    "load_settings",
    "parse_settings",
]

"""Every refusal is a user's whole answer: the field, the bad value and what is allowed.

A user who mistypes a setting reads one line per problem and nothing else (no traceback), so
each line is compared in full: a refusal that lost its example, its list separator or its
words would leave the user guessing. mutmut found each of these messages could be garbled
with every test green (the tests matched a fragment).
"""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.settings import ACM_COMMON_NAME_MAX, KNOWN_REGIONS, ConfigError, parse_settings
from tests.helpers import make_settings, raw_config

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0e8a5d3c-2f55-4b6f-9a56-8f3c7f1f7c11"


def problems(**overrides: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", **overrides)
    return info.value.problems


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"edge": {"certificate_arn": "arn:aws:iam::123456789012:server-certificate/web"}},
            "edge.certificate_arn = 'arn:aws:iam::123456789012:server-certificate/web': must be an ACM "
            "certificate ARN like arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>",
        ),
        (
            {"edge": {"allowed_ingress_cidrs": ["203.0.113.0/24", "10.0.0.1/24"]}},
            "edge.allowed_ingress_cidrs = ['203.0.113.0/24', '10.0.0.1/24']: '10.0.0.1/24' is not an IPv4 "
            "network like 203.0.113.0/24",
        ),
        (
            {"network": {"availability_zones": ["us-east-1a", "us-east-1a"], "az_count": 2}},
            "network.availability_zones = ['us-east-1a', 'us-east-1a']: must be distinct zone names like us-east-1a",
        ),
        (
            {"network": {"availability_zone_ids": ["use1-az1", "us-east-1b"], "az_count": 2}},
            "network.availability_zone_ids = ['use1-az1', 'us-east-1b']: must be distinct zone IDs like use1-az1 "
            "(aws ec2 describe-availability-zones)",
        ),
        (
            {"observability": {"alarm_emails": ["ops@example.com", "ops", "@example.com"]}},
            "observability.alarm_emails = ['ops@example.com', 'ops', '@example.com']: not e-mail addresses: "
            "ops, @example.com",
        ),
        (
            {"pipeline": {"codestar_connection_arn": "arn:aws:codebuild:us-east-1:123456789012:project/x"}},
            "pipeline.codestar_connection_arn = 'arn:aws:codebuild:us-east-1:123456789012:project/x': must be a "
            "CodeStar connection ARN like arn:aws:codestar-connections:eu-west-1:123456789012:connection/<uuid>",
        ),
        (
            {"pipeline": {"github_repository": "acme"}},
            "pipeline.github_repository = 'acme': must be owner/name, like acme/web-service",
        ),
        (
            {"security": {"secret_rotation_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:layer:rotate"}},
            "security.secret_rotation_lambda_arn = 'arn:aws:lambda:us-east-1:123456789012:layer:rotate': must be "
            "a Lambda function ARN like arn:aws:lambda:eu-west-1:123456789012:function:rotate",
        ),
        (
            {"security": {"secret_readers": ["arn:aws:iam::123456789012:user/alice", "role/x"]}},
            "security.secret_readers = ['arn:aws:iam::123456789012:user/alice', 'role/x']: not IAM role ARNs: "
            "arn:aws:iam::123456789012:user/alice, role/x; each must look like "
            "arn:aws:iam::123456789012:role/break-glass",
        ),
        (
            {"service": {"xray_daemon_image": "amazon/aws-xray-daemon:3.3.14"}},
            "service.xray_daemon_image = 'amazon/aws-xray-daemon:3.3.14': must be a tagged public.ecr.aws image "
            "(the mirror copies from ECR Public), like public.ecr.aws/xray/aws-xray-daemon:3.3.14",
        ),
        (
            {"edge": {"blocked_countries": ["de", "XX", "uk"], "geo_blocking_enabled": True}},
            "edge.blocked_countries = ['de', 'XX', 'uk']: not ISO 3166-1 alpha-2 country codes: XX, uk "
            "(the United Kingdom is GB)",
        ),
        (
            {"edge": {"blocked_countries": ["XX"], "geo_blocking_enabled": True}},
            "edge.blocked_countries = ['XX']: not ISO 3166-1 alpha-2 country codes: XX",
        ),
        (
            {"edge": {"blocked_countries": [], "geo_blocking_enabled": True}},
            "edge = {'blocked_countries': [], 'geo_blocking_enabled': True}: geo_blocking_enabled is true but "
            "blocked_countries is empty: list at least one ISO 3166-1 alpha-2 code, or set "
            "geo_blocking_enabled = false",
        ),
        (
            {"edge": {"domain_name": "-bad.example.com", "hosted_zone": "example.com"}},
            "edge.domain_name = '-bad.example.com': must be a DNS name like app.example.com (letters, digits, "
            "hyphens; no wildcard)",
        ),
        (
            {"pipeline": {"github_repository": "acme/web", "codestar_connection_arn": None}},
            "pipeline = {'github_repository': 'acme/web', 'codestar_connection_ar...: codestar_connection_arn and "
            "github_repository must be set together (GitHub source)",
        ),
        (
            {
                "security": {
                    "secret_rotation_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:rotate",
                    "secret_readers": [],
                }
            },
            "security = {'secret_rotation_lambda_arn': 'arn:aws:lambda:us-east-1:...: secret_rotation_lambda_arn is "
            "set but secret_readers is empty: the secrets' policies let only the roles named read a value; add the "
            "rotation function's execution role to secret_readers",
        ),
        (
            {
                "service": {"bootstrap_image": "docker.io/library/nginx:1.27"},
                "network": {"enable_nat_gateway": False, "enable_vpc_endpoints": True},
            },
            "service.bootstrap_image = 'docker.io/library/nginx:1.27': docker.io is unreachable from the private "
            "subnets with network.enable_nat_gateway = false (only ECR Public images, which the platform mirrors "
            "into this account's ECR, and this account's ECR in us-east-1, through the VPC endpoints); use a "
            "public.ecr.aws image (e.g. public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine), push it to this "
            "account's ECR, or set network.enable_nat_gateway = true",
        ),
        (
            {
                "account_id": "123456789012",
                "security": {
                    "secret_readers": ["arn:aws:iam::123456789012:role/ok", "arn:aws:iam::210987654321:role/other"]
                },
            },
            "security.secret_readers = ['arn:aws:iam::210987654321:role/other']: names roles outside account_id "
            "123456789012: the secrets and their key are this account's; list roles of this account (a role "
            "elsewhere would also need the key policy)",
        ),
        (
            {"network": {"enable_nat_gateway": False, "enable_vpc_endpoints": False}},
            "network = {'vpc_cidr': '10.10.0.0/16', 'az_count': 2, 'enable_nat_g...: enable_nat_gateway and "
            "enable_vpc_endpoints are both false: tasks in the private subnets could not pull images from ECR, read "
            "secrets or ship logs; enable at least one",
        ),
        (
            {
                "network": {
                    "availability_zones": ["us-east-1a", "us-east-1b"],
                    "availability_zone_ids": ["use1-az1", "use1-az2"],
                    "az_count": 2,
                }
            },
            "network = {'vpc_cidr': '10.10.0.0/16', 'az_count': 2, 'enable_nat_g...: set availability_zones or "
            "availability_zone_ids, not both",
        ),
        (
            {"edge": {"certificate_arn": CERT.replace("us-east-1", "eu-west-1")}},
            "edge.certificate_arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0e8a5d3c-...: is a certificate "
            "in eu-west-1, but the load balancer is in us-east-1: ACM certificates are regional; request or import "
            "one in the stack's region",
        ),
        (
            {"project": "internal"},
            "project = 'internal': load balancer name 'internal-alb-dev' would begin with 'internal-', which ELB "
            "refuses; choose another project",
        ),
        (
            {"project": "sthree"},
            "project = 'sthree': bucket name 'sthree-tfstate-dev-000000000000-us-east-1' would start with 'sthree-', "
            "which S3 reserves; choose another project",
        ),
        (
            {"environment_suffix": "s3alias"},
            "environment_suffix = 's3alias': a name ending in '-s3alias' is reserved by S3 (access point and bucket "
            "aliases); choose another environment_suffix",
        ),
        (
            {"project": "p" * 12, "region": "ap-southeast-7", "environment_suffix": "a" * 10},
            "environment_suffix = 'aaaaaaaaaa': too long: derived name "
            "'pppppppppppp-tfstate-logs-aaaaaaaaaa-000000000000-ap-southeast-7' is 64 characters, the limit is 63; "
            "with project 'pppppppppppp' in ap-southeast-7 the suffix may be at most 9 characters",
        ),
        (
            {"recovery": {"replicate": True, "replica_region": None}},
            "recovery.replica_region = None: replication of the state and artifact buckets is on "
            "(recovery.replicate = true): name the region the replicas live in, e.g. us-west-2; or set "
            "recovery.replicate = false",
        ),
        (
            {"environment_suffix": "a" * 22, "recovery": {"replicate": True, "replica_region": "ap-southeast-7"}},
            "recovery.replica_region = 'ap-southeast-7': makes the replica bucket name "
            "'cicd-tfstate-logs-aaaaaaaaaaaaaaaaaaaaaa-000000000000-ap-southeast-7' 68 characters, over S3's 63; "
            "choose a region with a shorter name or a shorter environment_suffix",
        ),
        (
            {"network": {"vpc_cidr": "8.8.8.0/24"}},
            "network.vpc_cidr = '8.8.8.0/24': must be a private (RFC 1918) IPv4 block: 10.0.0.0/8, 172.16.0.0/12 or "
            "192.168.0.0/16",
        ),
        (
            {"ci": {"github_repository": "acme/."}},
            "ci.github_repository = 'acme/.': must be one GitHub repository as owner/name (letters, digits, '-' in "
            "the owner; letters, digits, '.', '_', '-' in the name; no wildcards), e.g. 'example-org/cicd-platform'",
        ),
        (
            {"environment_suffix": "Dev"},
            "environment_suffix = 'Dev': use lower-case letters, digits and single hyphens (S3 and ALB names allow "
            "nothing else), e.g. 'dev' or 'pr-42'",
        ),
        (
            {"edge": {"domain_name": "app.example.com", "hosted_zone": None}},
            "edge = {'domain_name': 'app.example.com', 'hosted_zone': None}: domain_name and hosted_zone must be set "
            "together (the zone holds the name's records)",
        ),
        (
            {"edge": {"waf_rate_limt": 500}},
            "edge.waf_rate_limt = 500: unknown setting (typo?); see the settings table in README.md",
        ),
    ],
    ids=lambda v: next(iter(v)) + "." + next(iter(next(iter(v.values())))) if isinstance(v, dict) else "",
)
def test_a_refusal_names_the_field_the_value_and_what_is_allowed(overrides: dict[str, Any], expected: str) -> None:
    assert problems(**overrides) == [expected]


def test_a_value_is_shown_whole_up_to_60_characters_then_cut_to_57_and_an_ellipsis() -> None:
    """A long value (a pasted policy, a list of ARNs) would bury the message; a short one is shown whole."""
    shown = "a" * 58  # repr: 60 characters
    assert problems(pipeline={"github_repository": shown}) == [
        f"pipeline.github_repository = '{shown}': must be owner/name, like acme/web-service"
    ]
    cut = "b" * 59  # repr: 61 characters
    assert problems(pipeline={"github_repository": cut}) == [
        f"pipeline.github_repository = '{cut[:56]}...: must be owner/name, like acme/web-service"
    ]


def test_a_missing_setting_does_not_hide_the_problems_after_it() -> None:
    raw = raw_config("dev")
    del raw["environment_suffix"]
    raw["tags"] = {"aws:x": "y"}
    raw["network"] = {"az_count": 9}
    with pytest.raises(ConfigError) as info:
        parse_settings(raw)
    assert info.value.problems == [
        "environment_suffix: required setting is missing; see the settings table in README.md",
        "tags = {'aws:x': 'y'}: tag 'aws:x': the aws: prefix is reserved for AWS",
        "network.az_count = 9: Input should be 2 or 3",
    ]


def test_parse_settings_names_its_source_as_settings_unless_told() -> None:
    raw = raw_config("dev")
    raw["environment_suffix"] = "Dev"
    with pytest.raises(ConfigError) as info:
        parse_settings(raw)
    assert str(info.value).split("\n")[0] == "invalid settings in settings (1 problem):"


def test_prod_without_https_says_each_way_to_https_or_to_opt_out() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("prod", edge={"domain_name": None, "hosted_zone": None})
    assert info.value.problems == [
        'edge.domain_name = None: environment "prod" needs HTTPS: set edge.domain_name with edge.hosted_zone (the '
        "platform requests and validates a certificate), or edge.certificate_arn (a certificate you have); to serve "
        "plain HTTP anyway, set edge.allow_plain_http = true"
    ]


def test_prod_replicates_by_default_and_says_so_when_the_region_is_missing() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("prod", recovery={"replica_region": None})
    assert info.value.problems == [
        "recovery.replica_region = None: replication of the state and artifact buckets is on (the prod default): "
        "name the region the replicas live in, e.g. us-west-2; or set recovery.replicate = false"
    ]


def test_a_replica_region_is_only_measured_when_replication_is_on() -> None:
    """With replication off no replica bucket exists: a region whose replica names would be too long is fine."""
    s = make_settings(
        "dev", environment_suffix="a" * 22, recovery={"replicate": False, "replica_region": "ap-southeast-7"}
    )
    assert (s.replication_on, s.recovery.replica_region) == (False, "ap-southeast-7")


def test_tags_take_aws_s_lengths_exactly() -> None:
    """AWS's tagging rules: "Maximum key length: 128 Unicode characters"; "Maximum value length: 256
    Unicode characters"; a key has at least one character, a value may be empty."""
    tags = {"k" * 128: "v" * 256, "x": ""}
    assert tags.items() <= make_settings("dev", tags=tags).tags.items()
    for bad, shown in (({"k" * 129: "v"}, "k" * 129), ({"": "v"}, ""), ({"k": "v" * 257}, "k")):
        (problem,) = problems(tags=bad)
        assert problem.endswith(f": tag {shown!r}: keys are 1-128 characters, values at most 256"), problem


@pytest.mark.parametrize(
    ("overrides", "head"),
    [
        ({"recovery": {"replica_region": "us-west-9"}}, "recovery.replica_region = 'us-west-9': unknown AWS region; "),
        ({"region": "mars-1"}, "region = 'mars-1': unknown AWS region; "),
    ],
)
def test_an_unknown_region_lists_the_known_regions_in_order(overrides: dict[str, Any], head: str) -> None:
    (problem,) = problems(**overrides)
    found, _, allowed = problem.partition("allowed: ")
    assert found == head
    listed = allowed.split(", ")
    assert listed == sorted(listed)
    assert set(listed) == KNOWN_REGIONS
    assert "us-west-2" in listed


# --- edge names: DNS's limit, and ACM's lower one for a certificate the platform requests ---


def name_of_length(length: int, zone: str = "example.com") -> str:
    """A name in ``zone`` of exactly ``length`` characters, in labels of at most 63."""
    labels, left = [], length - len(zone)
    while left > 0:
        size = min(63, left - 1)  # each label brings its "."
        labels.append("a" * size)
        left -= size + 1
    name = ".".join([*labels, zone])
    assert len(name) == length
    assert all(len(label) <= 63 for label in name.split("."))
    return name


def test_a_requested_certificate_names_at_most_64_characters() -> None:
    """ACM, RequestCertificate's DomainName: "In compliance with RFC 5280, the length of the domain
    name (technically, the Common Name) that you provide cannot exceed 64 octets (characters),
    including periods." The platform requests the certificate when no certificate_arn is set."""
    longest = name_of_length(ACM_COMMON_NAME_MAX)
    assert make_settings("dev", edge={"domain_name": longest, "hosted_zone": "example.com"}).edge.https
    too_long = name_of_length(ACM_COMMON_NAME_MAX + 1)
    assert problems(edge={"domain_name": too_long, "hosted_zone": "example.com"}) == [
        f"edge.domain_name = '{too_long[:56]}...: is 65 characters: the certificate the platform requests names "
        "it as its common name, which ACM limits to 64; choose a shorter name, or set edge.certificate_arn to a "
        "certificate you have"
    ]


def test_a_brought_certificate_lets_the_name_reach_dns_s_253() -> None:
    """A certificate_arn of one's own may carry a longer name as a subject alternative name (ACM:
    "names up to 253 octets in length"); Route 53 takes up to 253 characters."""
    edge = {"certificate_arn": CERT, "hosted_zone": "example.com"}
    longest = name_of_length(253)
    assert make_settings("dev", edge={**edge, "domain_name": longest}).edge.domain_name == longest
    too_long = name_of_length(254)
    assert problems(edge={**edge, "domain_name": too_long}) == [
        f"edge.domain_name = '{too_long[:56]}...: must be a DNS name like app.example.com (letters, digits, "
        "hyphens; no wildcard)"
    ]

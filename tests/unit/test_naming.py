from __future__ import annotations

import pytest

from constructs_lib.naming import (
    COMPONENTS,
    NameKind,
    Naming,
    longest_overflow,
    max_suffix_length,
    physical_name,
    reserved_name_problem,
)

ACCOUNT = "123456789012"


def naming(project: str = "cicd", suffix: str = "dev", region: str = "us-east-1") -> Naming:
    return Naming(project, suffix, account=ACCOUNT, region=region)


def test_names_follow_project_component_suffix() -> None:
    assert naming().name("cluster") == "cicd-cluster-dev"


def test_bucket_names_end_with_account_and_region() -> None:
    """S3 names are global across accounts: the account and region make them ours alone."""
    assert naming().name("artifacts") == "cicd-artifacts-dev-123456789012-us-east-1"
    assert naming(region="eu-west-3").name("tfstate") == "cicd-tfstate-dev-123456789012-eu-west-3"
    assert (
        Naming("cicd", "dev", account="210987654321", region="us-east-1")
        .name("source")
        .endswith("-210987654321-us-east-1")
    )


def test_legacy_bucket_names_are_the_last_releases() -> None:
    assert naming().legacy_bucket("tfstate") == "cicd-tfstate-dev"
    assert naming().legacy_cache_prefix == "cicd-ecrpub-dev"  # its pull-through cache's repositories
    with pytest.raises(KeyError, match="not a bucket"):
        naming().legacy_bucket("cluster")


def test_unknown_component_refused() -> None:
    with pytest.raises(KeyError, match="unknown name component 'nope'"):
        physical_name("cicd", "nope", "dev")


# The longest region names of the commercial partition are 14 characters (ap-southeast-1).
@pytest.mark.parametrize("project", ["ab", "cicd", "abcdefghijkl"])
@pytest.mark.parametrize("region", ["us-east-1", "ap-southeast-1"])
def test_max_suffix_length_is_exact_boundary(project: str, region: str) -> None:
    n = max_suffix_length(project, region)
    assert longest_overflow(project, "a" * n, region) is None
    overflow = longest_overflow(project, "a" * (n + 1), region)
    assert overflow is not None
    name, limit = overflow
    assert len(name) == limit + 1


def test_buckets_set_the_suffix_budget_in_long_regions() -> None:
    # 63 = 12 (project) + 12 ("tfstate-logs") + 12 (account) + 14 (region) + 4 hyphens + 9 (suffix)
    assert max_suffix_length("abcdefghijkl", "ap-southeast-1") == 9
    name, limit = longest_overflow("abcdefghijkl", "a" * 10, "ap-southeast-1") or ("", 0)
    assert (name.split("-")[1], limit) == ("tfstate", 63)


def test_every_component_fits_its_limit_at_the_boundary() -> None:
    at_limit = naming(suffix="a" * max_suffix_length("cicd", "us-east-1"))
    for component, kind in COMPONENTS.items():
        assert len(at_limit.name(component)) <= kind.limit, component


@pytest.mark.parametrize(
    ("project", "suffix", "expected"),
    [
        ("internal", "dev", "load balancer name 'internal-alb-dev' would begin with 'internal-'"),
        ("sthree", "dev", "bucket name 'sthree-tfstate-dev-"),
        ("cicd", "s3alias", "a name ending in '-s3alias' is reserved"),
        ("cicd", "dev-s3alias", "a name ending in '-s3alias' is reserved"),
    ],
)
def test_reserved_name_shapes_are_found(project: str, suffix: str, expected: str) -> None:
    problem = reserved_name_problem(project, suffix, "us-east-1")
    assert problem is not None
    assert expected in problem


@pytest.mark.parametrize(
    ("project", "suffix"), [("cicd", "dev"), ("internals", "dev"), ("amzn", "s3"), ("cicd", "alias")]
)
def test_ordinary_names_are_not_reserved(project: str, suffix: str) -> None:
    assert reserved_name_problem(project, suffix, "us-east-1") is None


def test_aws_dictated_names() -> None:
    n = naming()
    assert n.key_alias == "alias/cicd-dev"
    assert n.waf_log_group.startswith("aws-waf-logs-")
    assert n.lambda_log_group("cicd-orchestrator-dev") == "/aws/lambda/cicd-orchestrator-dev"
    assert n.log_group("codepipeline") == "/aws/codepipeline/cicd-dev"
    assert n.secret("app") == "cicd/dev/app"
    assert (
        n.container_insights_log_group("cicd-cluster-dev") == "/aws/ecs/containerinsights/cicd-cluster-dev/performance"
    )


def test_sampling_rule_name_within_32_characters() -> None:
    assert len(naming("abcdefghijkl", "a" * 40).sampling_rule) == 32


def test_scoped_names_share_the_environment_prefix_and_are_checked_against_their_limit() -> None:
    n = naming()
    assert n.prefix == "cicd-dev"
    assert n.scoped("pipeline-history", NameKind.EVENT_RULE) == "cicd-dev-pipeline-history"
    with pytest.raises(ValueError, match=r"EventBridge rule name .cicd-dev-x+. exceeds 64 characters"):
        n.scoped("x" * 60, NameKind.EVENT_RULE)

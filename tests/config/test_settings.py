"""Settings validation: one test per rule, and every problem reported at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from constructs_lib.naming import max_suffix_length
from constructs_lib.settings import ConfigError, Settings, load_settings, parse_settings
from tests.helpers import CONFIG_DIR, ROOT, make_settings, raw_config


def refused(**overrides: object) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", **overrides)
    return info.value


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_shipped_configs_are_valid(env: str) -> None:
    assert make_settings(env).environment == env


@pytest.mark.parametrize("suffix", ["Dev", "dev_1", "dev!", "-dev", "dev--x", "dev.1", ""])
def test_suffix_with_upper_case_or_special_characters_refused(suffix: str) -> None:
    err = refused(environment_suffix=suffix)
    assert any(p.startswith("environment_suffix = ") for p in err.problems), err.problems
    assert "lower-case letters, digits and single hyphens" in str(err)


def test_longest_accepted_suffix_fits_every_name() -> None:
    longest = "a" * max_suffix_length("cicd", "us-east-1")
    settings = make_settings("dev", environment_suffix=longest)
    # The tightest name is the state access-log bucket (63 characters with account and region).
    assert len(settings.naming.name("tfstate-logs")) == 63
    assert len(settings.naming.name("alb")) <= 32


def test_suffix_one_character_too_long_refused() -> None:
    err = refused(environment_suffix="a" * (max_suffix_length("cicd", "us-east-1") + 1))
    assert err.problems[0].startswith("environment_suffix = ")
    assert "cicd-tfstate-logs-" in err.problems[0]
    assert "is 64 characters, the limit is 63" in err.problems[0]
    assert f"at most {max_suffix_length('cicd', 'us-east-1')} characters" in err.problems[0]


def test_the_longest_project_and_suffix_fit_the_bucket_budget_in_the_longest_region() -> None:
    """Bucket names end with -<account>-<region>: in a 14-character region the 63-character
    S3 limit is what bounds the suffix of a 12-character project."""
    project, region = "abcdefghijkl", "ap-southeast-1"
    longest = "a" * max_suffix_length(project, region)
    s = make_settings("dev", project=project, region=region, environment_suffix=longest)
    assert len(s.naming.name("tfstate-logs")) == 63
    err = refused(project=project, region=region, environment_suffix=longest + "a")
    assert "the limit is 63" in err.problems[0]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"project": "internal"}, "project", "would begin with 'internal-', which ELB refuses"),
        ({"project": "sthree"}, "project", "would start with 'sthree-', which S3 reserves"),
        ({"environment_suffix": "s3alias"}, "environment_suffix", "reserved by S3"),
        ({"environment_suffix": "pr-s3alias"}, "environment_suffix", "reserved by S3"),
    ],
)
def test_names_aws_reserves_are_refused(overrides: dict[str, object], field: str, message: str) -> None:
    err = refused(**overrides)
    assert err.problems[0].startswith(f"{field} = ")
    assert message in err.problems[0]


def test_certificate_from_another_region_refused() -> None:
    """ "Certificates in ACM are regional resources" (ACM user guide, Supported Regions)."""
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0e8a5d3c-2f55-4b6f-9a56-8f3c7f1f7c11"
    err = refused(edge={"certificate_arn": arn})
    assert err.problems[0].startswith(f"edge.certificate_arn = '{arn[:50]}")
    assert "is a certificate in eu-west-1, but the load balancer is in us-east-1" in err.problems[0]
    assert make_settings("dev", region="eu-west-1", edge={"certificate_arn": arn}).edge.certificate_arn == arn


def test_aws_target_needs_the_account() -> None:
    err = refused(account_id=None)
    assert err.problems == [
        'account_id = None: required when deploy_target = "aws": bucket names carry the account id and the '
        'provider refuses any other account; add account_id = "<12-digit AWS account id>"'
    ]


def test_local_target_names_buckets_for_the_emulators_account() -> None:
    s = make_settings("dev", account_id=None, deploy_target="local", endpoint_url="http://127.0.0.1:4566")
    assert s.account == "123456789012"
    assert s.naming.name("artifacts") == "cicd-artifacts-dev-123456789012-us-east-1"


@pytest.mark.parametrize("value", [None, 1, 1000])
def test_orchestrator_reserved_concurrency_unset_by_default_and_bounded(value: int | None) -> None:
    assert make_settings("dev").pipeline.orchestrator_reserved_concurrency is None
    s = make_settings("dev", pipeline={"orchestrator_reserved_concurrency": value})
    assert s.pipeline.orchestrator_reserved_concurrency == value
    for bad in (0, 1001):
        err = refused(pipeline={"orchestrator_reserved_concurrency": bad})
        assert err.problems[0].startswith(f"pipeline.orchestrator_reserved_concurrency = {bad}")


@pytest.mark.parametrize(
    ("cidr", "why"),
    [
        ("8.8.0.0/16", "private"),
        ("100.64.0.0/16", "private"),
        ("10.0.0.0/8", "/16 to /24"),
        ("10.0.0.0/25", "/16 to /24"),
        ("10.0.0.1/16", "IPv4 network"),
        ("not-a-cidr", "IPv4 network"),
    ],
)
def test_vpc_cidr_not_private_16_to_24_refused(cidr: str, why: str) -> None:
    err = refused(network={"vpc_cidr": cidr})
    assert err.problems[0].startswith(f"network.vpc_cidr = '{cidr}'")
    assert why in err.problems[0]


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.16.0.0/20", "192.168.1.0/24"])
def test_vpc_cidr_private_blocks_accepted(cidr: str) -> None:
    assert make_settings("dev", network={"vpc_cidr": cidr}).network.vpc_cidr == cidr


def test_unknown_region_refused() -> None:
    err = refused(region="us-middle-1")
    assert err.problems[0].startswith("region = 'us-middle-1': unknown AWS region; allowed: ")
    assert "eu-west-1" in err.problems[0]


def test_unknown_key_refused_not_ignored() -> None:
    err = refused(network={"enable_nat_gatway": True})
    assert err.problems == [
        "network.enable_nat_gatway = True: unknown setting (typo?); see the settings table in README.md"
    ]


def test_unknown_top_level_key_refused() -> None:
    assert "regoin" in refused(regoin="eu-west-1").problems[0]


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"network": {"az_count": "2"}}, "network.az_count"),
        ({"network": {"enable_nat_gateway": "yes"}}, "network.enable_nat_gateway"),
        ({"tags": ["a"]}, "tags"),
        ({"observability": {"log_retention_days": 30.5}}, "observability.log_retention_days"),
    ],
)
def test_wrong_type_refused(overrides: dict[str, object], path: str) -> None:
    err = refused(**overrides)
    assert err.problems[0].startswith(f"{path} = ")


def test_every_bad_field_reported_at_once() -> None:
    err = refused(environment_suffix="BAD", region="mars-1", network={"vpc_cidr": "8.8.8.0/24", "az_count": 5})
    paths = sorted(p.split(" = ")[0] for p in err.problems)
    assert paths == ["environment_suffix", "network.az_count", "network.vpc_cidr", "region"]
    assert str(err).startswith("invalid settings in dev+test (4 problems):")


def test_missing_required_field_refused() -> None:
    raw = raw_config("dev")
    del raw["environment_suffix"]
    with pytest.raises(ConfigError) as info:
        parse_settings(raw)
    assert info.value.problems == [
        "environment_suffix: required setting is missing; see the settings table in README.md"
    ]


def test_az_count_outside_2_or_3_refused() -> None:
    assert refused(network={"az_count": 4}).problems[0].startswith("network.az_count = 4")


def test_reserved_aws_tag_prefix_refused() -> None:
    assert "aws: prefix is reserved" in refused(tags={"aws:owner": "x"}).problems[0]


def test_overlong_tag_value_refused() -> None:
    assert "values at most 256" in refused(tags={"k": "v" * 257}).problems[0]


def test_empty_tags_accepted() -> None:
    raw = raw_config("dev")
    raw["tags"] = {}
    assert parse_settings(raw).tags == {}


def test_local_target_needs_endpoint() -> None:
    # What the user reads after the (cut) settings: the field, what it needs and how to give it.
    (problem,) = refused(deploy_target="local").problems
    assert problem.endswith(": deploy_target = 'local' needs endpoint_url (set AWS_ENDPOINT_URL to the emulator)")


def test_local_target_with_endpoint_accepted() -> None:
    s = make_settings("dev", deploy_target="local", endpoint_url="http://127.0.0.1:5000")
    assert s.endpoint_url == "http://127.0.0.1:5000"


def test_unknown_deploy_target_refused() -> None:
    assert refused(deploy_target="azure").problems[0].startswith("deploy_target = 'azure'")


def test_production_defaults_derived_from_environment() -> None:
    prod, dev = make_settings("prod"), make_settings("dev")
    assert (prod.alb_deletion_protection, prod.require_manual_approval) == (True, True)
    assert (dev.alb_deletion_protection, dev.require_manual_approval) == (False, False)


def test_explicit_flags_override_environment_defaults() -> None:
    s = make_settings("dev", edge={"alb_deletion_protection": True}, pipeline={"require_manual_approval": True})
    assert s.alb_deletion_protection
    assert s.require_manual_approval


def test_settings_are_frozen() -> None:
    s = make_settings("dev")
    with pytest.raises(ValidationError, match="frozen"):
        s.region = "eu-west-1"  # type: ignore[misc]
    assert isinstance(s, Settings)


def test_state_key_layout() -> None:
    assert make_settings("staging").state_key == "cicd/staging/terraform.tfstate"


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        (
            {"edge": {"certificate_arn": "arn:aws:iam::123456789012:server-certificate/x"}},
            "edge.certificate_arn",
            "ACM",
        ),
        (
            {"pipeline": {"codestar_connection_arn": "github", "github_repository": "a/b"}},
            "pipeline.codestar_connection_arn",
            "CodeStar",
        ),
        ({"pipeline": {"github_repository": "not a repo"}}, "pipeline.github_repository", "owner/name"),
        ({"network": {"availability_zones": ["us-east-1a", "us-east-1a"]}}, "network.availability_zones", "distinct"),
        ({"network": {"availability_zones": ["eu-west-1a", "eu-west-1b"]}}, "(top level)", "zones of region us-east-1"),
        ({"network": {"availability_zones": ["us-east-1a"]}}, "(top level)", "exactly az_count = 2"),
        ({"network": {"availability_zone_ids": ["us-east-1a", "use1-az2"]}}, "network.availability_zone_ids", "IDs"),
        ({"network": {"availability_zone_ids": ["use1-az1", "use1-az1"]}}, "network.availability_zone_ids", "distinct"),
        ({"network": {"availability_zone_ids": ["use1-az1"]}}, "network", "exactly az_count = 2"),
        (
            {
                "network": {
                    "availability_zones": ["us-east-1a", "us-east-1b"],
                    "availability_zone_ids": ["use1-az1", "use1-az2"],
                }
            },
            "network",
            "not both",
        ),
    ],
    ids=[
        "acm",
        "codestar",
        "repo",
        "zones-duplicate",
        "zones-region",
        "zones-count",
        "ids-shape",
        "ids-duplicate",
        "ids-count",
        "names-and-ids",
    ],
)
def test_arns_and_zones_validated(overrides: dict[str, object], path: str, message: str) -> None:
    err = refused(**overrides)
    assert err.problems[0].startswith(f"{path} = ")
    assert message in err.problems[0]


def test_explicit_zones_used_in_order_and_unset_zones_left_to_the_account() -> None:
    s = make_settings("dev", network={"availability_zones": ["us-east-1d", "us-east-1f"]})
    assert s.availability_zones == ["us-east-1d", "us-east-1f"]
    # Zone names are mapped per account: unpinned, the stack reads them (aws_availability_zones).
    assert make_settings("prod").availability_zones is None


def test_load_settings_reads_toml_and_applies_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text((CONFIG_DIR / "dev.toml").read_text())
    s = load_settings(cfg, {"environment_suffix": "pr-7", "network": {"az_count": 3}})
    assert (s.environment_suffix, s.network.az_count, s.network.vpc_cidr) == ("pr-7", 3, "10.10.0.0/16")


def test_load_settings_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="file not found") as info:
        load_settings(path)
    assert str(info.value) == f"invalid settings in {path} (1 problem):\n  - file not found"
    assert (info.value.source, info.value.problems) == (str(path), ["file not found"])


def test_load_settings_bad_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("project = ")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_settings(cfg)
    assert info.value.source == str(cfg)
    assert str(info.value).startswith(f"invalid settings in {cfg} (1 problem):\n  - not valid TOML: ")


def test_every_problem_of_a_file_is_listed_under_its_name(tmp_path: Path) -> None:
    cfg = tmp_path / "two.toml"
    cfg.write_text((CONFIG_DIR / "dev.toml").read_text().replace('region = "us-east-1"', 'region = "us-middle-1"'))
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, {"network": {"az_count": "two"}})
    assert info.value.source == str(cfg)
    lines = str(info.value).splitlines()
    assert lines[0] == f"invalid settings in {cfg} (2 problems):"
    assert len(lines) == 3
    assert all(line.startswith("  - ") for line in lines[1:])


def test_a_file_is_read_as_utf_8_whatever_the_locale(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    text = (CONFIG_DIR / "dev.toml").read_text()
    cfg.write_bytes(("# Équipe plateforme, Zürich\n" + text).encode("utf-8"))
    assert load_settings(cfg).environment_suffix == "dev"
    # A machine whose locale is plain ASCII (LANG=C on a minimal image, UTF-8 mode off) too.
    probe = "import sys, pathlib; from constructs_lib.settings import load_settings; "
    probe += "print(load_settings(pathlib.Path(sys.argv[1])).environment_suffix)"
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(cfg)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert (proc.returncode, proc.stdout) == (0, "dev\n"), proc.stderr


# --- works on AWS: images private tasks can reach, the account guard ----------


def test_docker_hub_image_without_nat_refused_naming_the_field() -> None:
    err = refused(service={"bootstrap_image": "nginx:1.27"})
    (problem,) = err.problems
    assert problem.startswith("service.bootstrap_image = 'nginx:1.27': docker.io is unreachable")
    assert "network.enable_nat_gateway = true" in problem  # the fix
    assert "public.ecr.aws" in problem


@pytest.mark.parametrize("image", ["ghcr.io/acme/web:1", "quay.io/acme/web:1"])
def test_any_other_public_registry_without_nat_refused(image: str) -> None:
    assert refused(service={"bootstrap_image": image}).problems[0].startswith(f"service.bootstrap_image = '{image}'")


def test_docker_hub_image_with_nat_accepted() -> None:
    assert make_settings("staging", service={"bootstrap_image": "nginx:1.27"}).service.bootstrap_image == "nginx:1.27"


def test_ecr_public_image_without_nat_accepted() -> None:
    image = "public.ecr.aws/docker/library/httpd:2.4"
    assert make_settings("dev", service={"bootstrap_image": image}).service.bootstrap_image == image


def test_own_private_ecr_image_without_nat_accepted() -> None:
    image = "111111111111.dkr.ecr.us-east-1.amazonaws.com/web:1"
    settings = make_settings("dev", account_id="111111111111", service={"bootstrap_image": image})
    assert settings.service.bootstrap_image == image


def test_private_ecr_image_of_another_account_without_nat_refused() -> None:
    err = refused(service={"bootstrap_image": "111111111111.dkr.ecr.us-east-1.amazonaws.com/web:1"})
    assert "unreachable from the private subnets" in err.problems[0]


@pytest.mark.parametrize(
    "image",
    ["222222222222.dkr.ecr.us-east-1.amazonaws.com/web:1", "111111111111.dkr.ecr.eu-west-1.amazonaws.com/web:1"],
    ids=["other-account", "other-region"],
)
def test_another_accounts_or_regions_ecr_without_nat_refused(image: str) -> None:
    err = refused(account_id="111111111111", service={"bootstrap_image": image})
    assert err.problems[0].startswith(f"service.bootstrap_image = '{image}'")


def test_malformed_image_refused() -> None:
    err = refused(service={"bootstrap_image": "Not An Image"})
    assert err.problems[0].startswith("service.bootstrap_image = 'Not An Image': ")
    assert "not a container image reference" in err.problems[0]


@pytest.mark.parametrize("account", ["12345678901", "1234567890123", "abcdefghijkl", "12345678901a"])
def test_account_id_must_be_12_digits(account: str) -> None:
    assert refused(account_id=account).problems[0].startswith(f"account_id = '{account}'")


def test_account_id_is_kept() -> None:
    assert make_settings("dev").account_id == "123456789012"  # the shipped example
    assert make_settings("dev", account_id="111111111111").account_id == "111111111111"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"account_id": None, "deploy_target": "local", "endpoint_url": "http://127.0.0.1:1",
          "deploy_role_arn": "arn:aws:iam::111111111111:role/deploy"},
         "needs account_id: set account_id to the account this role belongs to"),
        ({"account_id": "111111111111", "deploy_role_arn": "arn:aws:iam::222222222222:role/deploy"},
         "is a role in account 222222222222, but account_id is 111111111111"),
        ({"account_id": "111111111111", "deploy_role_arn": "arn:aws:iam::111111111111:user/deploy"},
         "must be an IAM role ARN like arn:aws:iam::123456789012:role/deploy"),
    ],
    ids=["no-account", "other-account", "not-a-role"],
)  # fmt: skip
def test_deploy_role_arn_validated(overrides: dict[str, object], message: str) -> None:
    # The whole line the user reads: the field, the value given, what is wrong and what to do.
    assert refused(**overrides).problems == [f"deploy_role_arn = {overrides['deploy_role_arn']!r}: {message}"]


def test_deploy_role_in_the_environments_account_accepted() -> None:
    role = "arn:aws:iam::111111111111:role/ci/deploy"
    assert make_settings("dev", account_id="111111111111", deploy_role_arn=role).deploy_role_arn == role


def test_an_explicit_empty_deploy_role_is_no_role() -> None:
    assert make_settings("dev", deploy_role_arn=None).deploy_role_arn is None


def test_a_deploy_role_with_a_bad_account_id_reports_the_account_id_only() -> None:
    err = refused(account_id="12", deploy_role_arn="arn:aws:iam::111111111111:role/deploy")
    assert [p.split(" = ")[0] for p in err.problems] == ["account_id"]

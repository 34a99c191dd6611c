from __future__ import annotations

import pytest

from constructs_lib.naming import COMPONENTS, NameKind, Naming, longest_overflow, max_suffix_length, physical_name


def test_names_follow_project_component_suffix() -> None:
    assert Naming("cicd", "dev").name("artifacts") == "cicd-artifacts-dev"


def test_unknown_component_refused() -> None:
    with pytest.raises(KeyError, match="unknown name component 'nope'"):
        physical_name("cicd", "nope", "dev")


@pytest.mark.parametrize("project", ["ab", "cicd", "abcdefghijkl"])
def test_max_suffix_length_is_exact_boundary(project: str) -> None:
    n = max_suffix_length(project)
    assert longest_overflow(project, "a" * n) is None
    overflow = longest_overflow(project, "a" * (n + 1))
    assert overflow is not None
    name, limit = overflow
    assert len(name) == limit + 1


def test_every_component_fits_its_limit_at_the_boundary() -> None:
    naming = Naming("cicd", "a" * max_suffix_length("cicd"))
    for component, kind in COMPONENTS.items():
        assert len(naming.name(component)) <= kind.limit, component


def test_aws_dictated_names() -> None:
    naming = Naming("cicd", "dev")
    assert naming.key_alias == "alias/cicd-dev"
    assert naming.waf_log_group.startswith("aws-waf-logs-")
    assert naming.lambda_log_group("cicd-orchestrator-dev") == "/aws/lambda/cicd-orchestrator-dev"
    assert naming.log_group("codepipeline") == "/aws/codepipeline/cicd-dev"
    assert naming.secret("app") == "cicd/dev/app"


def test_sampling_rule_name_within_32_characters() -> None:
    assert len(Naming("abcdefghijkl", "a" * 40).sampling_rule) == 32


def test_scoped_names_share_the_environment_prefix_and_are_checked_against_their_limit() -> None:
    naming = Naming("cicd", "dev")
    assert naming.prefix == "cicd-dev"
    assert naming.scoped("pipeline-history", NameKind.EVENT_RULE) == "cicd-dev-pipeline-history"
    with pytest.raises(ValueError, match=r"EventBridge rule name .cicd-dev-x+. exceeds 64 characters"):
        naming.scoped("x" * 60, NameKind.EVENT_RULE)

"""Property: any settings either raise ConfigError (never another exception)
or synthesize to stacks that pass ``terraform validate``.

Budget: examples are drawn and synthesized in this one process (jsii starts
once); distinct valid results are validated with terraform afterwards (a
separate test, marked ``terraform``), a few of them. The number of examples
run is printed and asserted.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pycountry
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.settings import ConfigError, Settings, parse_settings
from tests.helpers import raw_config
from tools.terraform import terraform_env, validate_together

Synth = dict[str, dict[str, Any]]
EXAMPLES = 80
VALIDATE_AT_MOST = 4

COUNTRIES = [c.alpha_2 for c in pycountry.countries]
junk = st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=6), st.booleans(), st.lists(st.integers(), max_size=2))
FARGATE = [(256, 512), (256, 1024), (512, 1024), (512, 4096), (1024, 2048), (2048, 8192), (4096, 30720)]


def maybe(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[Any]:
    """Valid about 15 times in 16; otherwise a plausible mistake or junk of any type."""
    wrong = st.one_of(bad, junk) if bad is not None else junk
    # (one_of would merge repeated branches, so weight with an explicit draw)
    return st.integers(0, 15).flatmap(lambda i: wrong if i == 7 else good)  # not a boundary: hypothesis favours those


raw_settings = st.fixed_dictionaries(
    {
        "environment_suffix": maybe(
            st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,6})?", fullmatch=True), st.sampled_from(["Dev", "a_b", "x" * 30])
        ),
        "region": maybe(st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2"]), st.just("mars-1")),
        "tags": maybe(st.dictionaries(st.text("abc-", min_size=1, max_size=5), st.text(max_size=5), max_size=2)),
        "network": st.fixed_dictionaries(
            {
                "vpc_cidr": maybe(
                    st.sampled_from(["10.0.0.0/16", "172.16.0.0/20", "192.168.4.0/24"]),
                    st.sampled_from(["8.8.0.0/16", "10.0.0.0/8", "10.0.0.1/16"]),
                ),
                "az_count": maybe(st.sampled_from([2, 3]), st.just(4)),
                "enable_nat_gateway": maybe(st.booleans()),
                "single_nat_gateway": maybe(st.booleans()),
                "enable_vpc_endpoints": maybe(st.booleans()),
            }
        ),
        "edge": st.fixed_dictionaries(
            {
                "waf_rate_limit": maybe(st.integers(100, 5_000_000), st.integers(0, 99)),
                "geo_blocking_enabled": maybe(st.booleans()),
                "blocked_countries": maybe(
                    st.lists(st.sampled_from([*COUNTRIES[:40], "de", "kp"]), min_size=1, max_size=3),
                    st.lists(st.sampled_from(["XX", "UK"]), min_size=1, max_size=2),
                ),
                "health_check_path": maybe(st.sampled_from(["/", "/health"]), st.sampled_from(["health", "/a b"])),
            }
        ),
        "service": maybe(
            st.sampled_from(FARGATE).map(lambda cm: {"cpu": cm[0], "memory": cm[1]}),
            st.just({"cpu": 256, "memory": 4096}),
        ),
        "observability": st.fixed_dictionaries(
            {
                "log_retention_days": maybe(st.sampled_from([1, 7, 14, 30, 365]), st.just(31)),
                "xray_sampling_rate": maybe(st.floats(0, 1, allow_nan=False), st.just(1.5)),
            }
        ),
    }
)


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Any]:
    return {"examples": 0, "refused": 0, "valid": {}}


def test_settings_refuse_cleanly_or_synthesize(synth: Callable[[Settings], Synth], outcomes: dict[str, Any]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(raw_settings)
    def check(overrides: dict[str, Any]) -> None:
        outcomes["examples"] += 1
        raw = copy.deepcopy(raw_config("dev"))
        for key, value in overrides.items():
            if isinstance(value, dict) and key != "tags" and isinstance(raw.get(key, {}), dict):
                raw.setdefault(key, {}).update(value)
            else:
                raw[key] = value
        try:
            parsed = parse_settings(raw, "generated")
        except ConfigError as exc:
            outcomes["refused"] += 1
            problems = exc.problems
        else:
            problems = []
        if problems:
            return
        docs = synth(parsed)  # any exception other than ConfigError fails the property
        # (a ConfigError without problems would fall through and fail here)
        key = json.dumps(docs["platform"]["resource"], sort_keys=True)
        outcomes["valid"].setdefault(key, docs)

    check()
    valid = list(outcomes["valid"].values())
    print(f"\nhypothesis: {outcomes['examples']} examples, {outcomes['refused']} refused, {len(valid)} distinct valid")
    assert outcomes["examples"] >= EXAMPLES
    assert outcomes["refused"] > 0, "the strategy should produce invalid settings too"
    assert valid, "the strategy should produce valid settings too"


@pytest.mark.terraform
def test_generated_valid_settings_pass_terraform_validate(outcomes: dict[str, Any], tmp_path: Path) -> None:
    valid = list(outcomes["valid"].values())
    assert valid, "runs after test_settings_refuse_cleanly_or_synthesize, which collects them"
    # One terraform run for them all (tools/terraform.py: validate_together).
    stacks = {f"{i}-{stack}": doc for i, docs in enumerate(valid[:VALIDATE_AT_MOST]) for stack, doc in docs.items()}
    validate_together(stacks, tmp_path, terraform_env())

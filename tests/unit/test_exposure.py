"""Every security-group rule of the platform, read as "who may talk to whom on which port".

The whole table is asserted per variant, so a rule whose port range widens, whose peer
becomes the internet or another group, or that appears unannounced fails here (the other
tests look up the rules they care about; this one sees them all). Peers are named the way a
reviewer reads them: a group by its name, the VPC, or a CIDR.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.settings import Settings
from tests.helpers import VARIANTS, make_settings, resources

Synth = dict[str, dict[str, Any]]
Rule = tuple[str, str, str, int, int, str]  # group, in/out, protocol, from, to, peer
_GROUP = re.compile(r"^\$\{aws_security_group\.([\w-]+)\.id\}$")


def exposure(doc: dict[str, Any], settings: Settings) -> set[Rule]:
    groups = resources(doc, "aws_security_group")
    name = {
        key: str(group["name"]).removeprefix(f"cicd-{settings.environment_suffix}-") for key, group in groups.items()
    }

    def peer(rule: dict[str, Any]) -> list[str]:
        if rule.get("referenced_security_group_id"):
            return [name[_GROUP.match(rule["referenced_security_group_id"])[1]]]  # type: ignore[index]
        if rule.get("cidr_ipv4") == "${each.value}":  # one rule per allowed CIDR (for_each)
            return list(settings.edge.allowed_ingress_cidrs)
        for key in ("cidr_ipv4", "cidr_ipv6", "prefix_list_id"):
            if rule.get(key):
                return [str(rule[key])]
        raise AssertionError(f"a rule without a peer: {rule}")

    table: set[Rule] = set()
    for key, group in groups.items():
        for direction, label in (("ingress", "in"), ("egress", "out")):
            for rule in group.get(direction, []):
                (cidr,) = rule["cidr_blocks"]
                peer_name = "vpc" if cidr.startswith("${aws_vpc.") else cidr
                table.add((name[key], label, rule["protocol"], rule["from_port"], rule["to_port"], peer_name))
    for rtype, label in (("aws_vpc_security_group_ingress_rule", "in"), ("aws_vpc_security_group_egress_rule", "out")):
        for rule in resources(doc, rtype).values():
            owner = name[_GROUP.match(rule["security_group_id"])[1]]  # type: ignore[index]
            for p in peer(rule):
                table.add((owner, label, rule["ip_protocol"], rule["from_port"], rule["to_port"], p))
    return table


#: What every variant has: the ALB admits HTTP from the allowed clients and reaches the tasks
#: on the container port only; the tasks admit only the ALB and reach out on HTTPS only; the
#: interface endpoints admit HTTPS from the VPC.
BASE: set[Rule] = {
    ("alb", "in", "tcp", 80, 80, "0.0.0.0/0"),
    ("alb", "out", "tcp", 8080, 8080, "service"),
    ("service", "in", "tcp", 8080, 8080, "alb"),
    ("service", "out", "tcp", 443, 443, "0.0.0.0/0"),
    ("endpoints", "in", "tcp", 443, 443, "vpc"),
    ("endpoints", "out", "tcp", 443, 443, "vpc"),
}
#: Functions in the VPC (staging, prod, all-on) reach AWS APIs on HTTPS only.
FUNCTIONS: set[Rule] = {("functions", "out", "tcp", 443, 443, "0.0.0.0/0")}
EXPECTED: dict[str, set[Rule]] = {
    "dev": BASE,
    "staging": BASE | FUNCTIONS,
    "prod": BASE | FUNCTIONS | {("alb", "in", "tcp", 443, 443, "0.0.0.0/0")},
    # A certificate adds HTTPS from the same clients.
    "all-on": BASE | FUNCTIONS | {("alb", "in", "tcp", 443, 443, "0.0.0.0/0")},
    "all-off": BASE,
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_who_may_talk_to_whom_is_exactly_this(variant: str, synth: Callable[[Settings], Synth]) -> None:
    environment, overrides = VARIANTS[variant]
    settings = make_settings(environment, **overrides)
    assert exposure(synth(settings)["platform"], settings) == EXPECTED[variant]


def test_the_allowed_clients_are_each_admitted_and_no_one_else(synth: Callable[[Settings], Synth]) -> None:
    clients = ["203.0.113.0/24", "198.51.100.7/32"]
    settings = make_settings("dev", edge={"allowed_ingress_cidrs": clients})
    table = exposure(synth(settings)["platform"], settings)
    admitted = {rule[5] for rule in table if rule[:2] == ("alb", "in")}
    assert admitted == set(clients)
    assert not any(rule[5] == "0.0.0.0/0" for rule in table if rule[1] == "in")

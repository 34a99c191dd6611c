"""The reachability check's reading of security groups, routes and endpoints, on stacks
shaped unlike the shipped ones (the shipped ones are in test_reachability.py): inline and
standalone rules, rules for all traffic and for port ranges, a NAT route on some subnets
only, endpoints of another VPC or region, a gateway endpoint missing from a route table."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tools.reachability import Egress, _admits_https_from, _allows_https, _https_egress, egress_of

REGION = "eu-west-1"
VPC = "${aws_vpc.vpc.id}"


def sg(name: str) -> str:
    return f"${{aws_security_group.{name}.id}}"


def base() -> dict[str, Any]:
    """Two task subnets in one VPC, each with its own route table; a task group and an
    endpoint group with no rules yet; no routes, no endpoints."""
    return {
        "provider": {"aws": [{"region": REGION}]},
        "resource": {
            "aws_vpc": {"vpc": {"cidr_block": "10.20.0.0/16"}, "other": {"cidr_block": "10.30.0.0/16"}},
            "aws_subnet": {"a": {"vpc_id": VPC}, "b": {"vpc_id": VPC}, "elsewhere": {"vpc_id": "${aws_vpc.other.id}"}},
            "aws_route_table_association": {
                "a": {"subnet_id": "${aws_subnet.a.id}", "route_table_id": "${aws_route_table.a.id}"},
                "b": {"subnet_id": "${aws_subnet.b.id}", "route_table_id": "${aws_route_table.b.id}"},
            },
            "aws_security_group": {"tasks": {}, "endpoints": {}},
        },
    }


SERVICE = {"network_configuration": {"subnets": ["${aws_subnet.a.id}", "${aws_subnet.b.id}"],
                                     "security_groups": [sg("tasks")]}}  # fmt: skip


def add(doc: dict[str, Any], rtype: str, name: str, **values: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc["resource"].setdefault(rtype, {})[name] = values
    return doc


@pytest.mark.parametrize(
    ("rule", "allows"),
    [
        ({"protocol": "-1", "from_port": 0, "to_port": 0}, True),
        ({"protocol": "all"}, True),
        ({"protocol": "ALL"}, True),
        ({"protocol": "tcp", "from_port": 443, "to_port": 443}, True),
        ({"protocol": "TCP", "from_port": 0, "to_port": 65535}, True),
        ({"protocol": "6", "from_port": 400, "to_port": 500}, True),  # protocol number 6 is TCP
        ({"protocol": "tcp", "from_port": 444, "to_port": 500}, False),
        ({"protocol": "tcp", "from_port": 80, "to_port": 442}, False),
        ({"protocol": "udp", "from_port": 443, "to_port": 443}, False),
        ({"protocol": "17", "from_port": 0, "to_port": 65535}, False),
        ({"protocol": "tcp", "to_port": 443}, False),  # no ports: allows nothing
        ({"protocol": "tcp", "from_port": 443}, False),
        ({"from_port": 443, "to_port": 443}, False),  # no protocol
    ],
)
def test_what_counts_as_allowing_https(rule: dict[str, Any], allows: bool) -> None:
    assert _allows_https(rule, "protocol") is allows
    standalone = {("ip_protocol" if k == "protocol" else k): v for k, v in rule.items()}
    assert _allows_https(standalone, "ip_protocol") is allows
    assert _allows_https(rule, "ip_protocol") is (allows and "protocol" not in rule)


def test_https_out_by_an_inline_or_a_standalone_rule_of_a_task_group() -> None:
    doc = base()
    assert not _https_egress(doc, ["tasks"])
    dns = add(doc, "aws_security_group", "tasks", egress=[{"protocol": "udp", "from_port": 53, "to_port": 53}])
    assert not _https_egress(dns, ["tasks"])
    rules = [{"protocol": "udp", "from_port": 53, "to_port": 53}, {"protocol": "tcp", "from_port": 443, "to_port": 443}]
    inline = add(doc, "aws_security_group", "tasks", egress=rules)
    assert _https_egress(inline, ["tasks"])
    standalone = add(doc, "aws_vpc_security_group_egress_rule", "out", security_group_id=sg("tasks"),
                     ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0")  # fmt: skip
    assert _https_egress(standalone, ["tasks"])
    # A rule of another group, or not for HTTPS, does not count.
    other = add(doc, "aws_vpc_security_group_egress_rule", "out", security_group_id=sg("endpoints"),
                ip_protocol="-1", cidr_ipv4="0.0.0.0/0")  # fmt: skip
    assert not _https_egress(other, ["tasks"])
    http = add(doc, "aws_vpc_security_group_egress_rule", "out", security_group_id=sg("tasks"),
               ip_protocol="tcp", from_port=80, to_port=80, cidr_ipv4="0.0.0.0/0")  # fmt: skip
    assert not _https_egress(http, ["tasks"])
    # Any of several groups may carry it.
    assert _https_egress(add(inline, "aws_security_group", "more", egress=[]), ["more", "tasks"])


SOURCES = {"${aws_vpc.vpc.cidr_block}", "10.20.0.0/16", sg("tasks")}


@pytest.mark.parametrize(
    ("ingress", "admits"),
    [
        ({"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["${aws_vpc.vpc.cidr_block}"]}, True),
        ({"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.20.0.0/16"]}, True),
        ({"protocol": "-1", "from_port": 0, "to_port": 0, "security_groups": [sg("tasks")]}, True),
        ({"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.99.0.0/16"]}, False),
        ({"protocol": "tcp", "from_port": 443, "to_port": 443, "security_groups": [sg("endpoints")]}, False),
        ({"protocol": "udp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.20.0.0/16"]}, False),
    ],
    ids=["vpc-token", "vpc-cidr", "task-group-all", "other-cidr", "other-group", "udp"],
)
def test_an_endpoint_group_admits_https_from_the_vpc_or_the_tasks_inline(ingress: dict[str, Any], admits: bool) -> None:
    doc = add(base(), "aws_security_group", "endpoints", ingress=[ingress])
    assert _admits_https_from(doc, "endpoints", SOURCES) is admits


@pytest.mark.parametrize(
    ("rule", "admits"),
    [
        ({"security_group_id": sg("endpoints"), "ip_protocol": "tcp", "from_port": 443, "to_port": 443,
          "cidr_ipv4": "10.20.0.0/16"}, True),
        ({"security_group_id": sg("endpoints"), "ip_protocol": "-1", "referenced_security_group_id": sg("tasks")},
         True),
        ({"security_group_id": sg("tasks"), "ip_protocol": "-1", "cidr_ipv4": "10.20.0.0/16"}, False),
        ({"security_group_id": sg("endpoints"), "ip_protocol": "tcp", "from_port": 443, "to_port": 443,
          "cidr_ipv4": "192.0.2.0/24"}, False),
        ({"security_group_id": sg("endpoints"), "ip_protocol": "tcp", "from_port": 80, "to_port": 80,
          "cidr_ipv4": "10.20.0.0/16"}, False),
    ],
    ids=["vpc-cidr", "task-group", "rule-of-another-group", "other-cidr", "http-only"],
)  # fmt: skip
def test_an_endpoint_group_admits_https_by_a_standalone_rule(rule: dict[str, Any], admits: bool) -> None:
    doc = add(base(), "aws_vpc_security_group_ingress_rule", "in", **rule)
    assert _admits_https_from(doc, "endpoints", SOURCES) is admits


def nat_route(doc: dict[str, Any], table: str, **route: Any) -> dict[str, Any]:
    values = {"route_table_id": f"${{aws_route_table.{table}.id}}", "destination_cidr_block": "0.0.0.0/0",
              "nat_gateway_id": "${aws_nat_gateway.n.id}", **route}  # fmt: skip
    return add(doc, "aws_route", f"to-nat-{table}", **values)


def test_nat_only_when_every_task_subnet_routes_the_internet_to_a_nat_gateway() -> None:
    doc = base()
    assert not egress_of(doc, SERVICE).nat
    one = nat_route(doc, "a")
    assert not egress_of(one, SERVICE).nat  # subnet b has no way out
    both = nat_route(one, "b")
    assert egress_of(both, SERVICE).nat
    # A default route to an internet gateway, or a NAT route to one network only, is not NAT egress.
    igw = nat_route(one, "b", nat_gateway_id=None, gateway_id="${aws_internet_gateway.i.id}")
    assert not egress_of(igw, SERVICE).nat
    partial = nat_route(one, "b", destination_cidr_block="10.0.0.0/8")
    assert not egress_of(partial, SERVICE).nat


def endpoint(doc: dict[str, Any], name: str, **values: Any) -> dict[str, Any]:
    defaults = {"vpc_id": VPC, "vpc_endpoint_type": "Interface", "private_dns_enabled": True,
                "security_group_ids": [sg("endpoints")]}  # fmt: skip
    return add(doc, "aws_vpc_endpoint", name, **{**defaults, **values})


def open_endpoints(doc: dict[str, Any]) -> dict[str, Any]:
    https = {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.20.0.0/16"]}
    return add(doc, "aws_security_group", "endpoints", ingress=[https])


def test_which_endpoints_serve_the_tasks() -> None:
    doc = open_endpoints(base())
    doc = endpoint(doc, "logs", service_name=f"com.amazonaws.{REGION}.logs")
    doc = endpoint(doc, "nodns", service_name=f"com.amazonaws.{REGION}.ecr.api", private_dns_enabled=False)
    doc = endpoint(doc, "away", service_name=f"com.amazonaws.{REGION}.xray", vpc_id="${aws_vpc.other.id}")
    doc = endpoint(doc, "region", service_name="com.amazonaws.us-east-1.secretsmanager")
    doc = endpoint(doc, "unnamed")  # no service name: nothing it serves
    doc = endpoint(doc, "s3", service_name=f"com.amazonaws.{REGION}.s3", vpc_endpoint_type="Gateway",
                   route_table_ids=["${aws_route_table.a.id}", "${aws_route_table.b.id}"])  # fmt: skip
    doc = endpoint(doc, "dynamodb", service_name=f"com.amazonaws.{REGION}.dynamodb", vpc_endpoint_type="Gateway",
                   route_table_ids=["${aws_route_table.a.id}"])  # fmt: skip
    egress = egress_of(doc, SERVICE)
    # Private DNS on, in the tasks' VPC and region, admitting HTTPS: only logs. Gateway endpoints
    # count when they are on every task subnet's route table.
    assert egress == Egress(nat=False, interface_endpoints=frozenset({"logs"}), gateway_endpoints=frozenset({"s3"}),
                            https_out=False)  # fmt: skip
    closed = endpoint(base(), "logs", service_name=f"com.amazonaws.{REGION}.logs")
    assert egress_of(closed, SERVICE).interface_endpoints == frozenset()


def test_a_subnet_without_a_route_table_gets_no_gateway_endpoint_and_no_nat() -> None:
    doc = copy.deepcopy(base())
    del doc["resource"]["aws_route_table_association"]["b"]
    doc = nat_route(nat_route(doc, "a"), "b")
    doc = endpoint(doc, "s3", service_name=f"com.amazonaws.{REGION}.s3", vpc_endpoint_type="Gateway",
                   route_table_ids=["${aws_route_table.a.id}", None])  # fmt: skip
    egress = egress_of(doc, SERVICE)
    assert (egress.nat, egress.gateway_endpoints) == (False, frozenset())


def test_task_subnets_must_be_one_vpc_and_references_must_resolve() -> None:
    doc = base()
    two = {"network_configuration": {"subnets": ["${aws_subnet.a.id}", "${aws_subnet.elsewhere.id}"]}}
    with pytest.raises(ValueError, match="task subnets span 2 VPCs"):
        egress_of(doc, two)
    literal = {"network_configuration": {"subnets": ["subnet-0123456789abcdef0"]}}
    with pytest.raises(
        ValueError, match=r"cannot follow 'subnet-0123456789abcdef0' \(expected a reference to aws_subnet\)"
    ):
        egress_of(doc, literal)
    for value in (None, 7):
        with pytest.raises(ValueError, match="cannot follow"):
            egress_of(doc, {"network_configuration": {"subnets": [value]}})
    wrong = {"network_configuration": {"subnets": ["${aws_vpc.vpc.id}"]}}
    with pytest.raises(ValueError, match="expected a reference to aws_subnet"):
        egress_of(doc, wrong)

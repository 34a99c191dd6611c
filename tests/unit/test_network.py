"""VPC, subnets, the NAT conditional, endpoints and flow logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.network import INTERFACE_ENDPOINTS, subnet_cidrs
from constructs_lib.settings import ConfigError, Settings
from tests.helpers import ACCOUNT_TOKEN, PARTITION_TOKEN, make_settings, one, resources, statements

Synth = dict[str, dict[str, Any]]
NAT_TYPES = ("aws_eip", "aws_nat_gateway")


def default_routes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in resources(doc, "aws_route").items() if v.get("nat_gateway_id")}


def test_vpc_cidr_and_subnets_per_az(prod: Synth) -> None:
    doc = prod["platform"]
    assert one(doc, "aws_vpc")["cidr_block"] == "10.30.0.0/16"
    subnets = resources(doc, "aws_subnet").values()
    public = sorted(s["cidr_block"] for s in subnets if s["tags"]["tier"] == "public")
    private = sorted(s["cidr_block"] for s in subnets if s["tags"]["tier"] == "private")
    assert public == ["10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19"]
    assert private == ["10.30.128.0/19", "10.30.160.0/19", "10.30.192.0/19"]
    assert all(s.get("map_public_ip_on_launch") is False for s in subnets if s["tags"]["tier"] == "public")


def test_prod_pins_zone_ids_with_an_identity_filter(prod: Synth) -> None:
    """Zone IDs are the same physical zones in every account: prod reads exactly the pinned
    IDs back as this account's names (a closed set: CKV_AWS_394), and a plan fails unless the
    region has every one of them."""
    (name, zones) = next(iter(prod["platform"]["data"]["aws_availability_zones"].items()))
    assert zones["filter"] == [{"name": "zone-id", "values": ["use1-az6", "use1-az1", "use1-az2"]}]
    assert "state" not in zones
    (check,) = zones["lifecycle"]["postcondition"]
    assert check["condition"] == "${length(self.names) == 3}"
    # What a plan prints when the region lacks a pinned zone: the setting, its value, the fix.
    assert check["error_message"] == (
        "network.availability_zone_ids = use1-az6, use1-az1, use1-az2, but this account's region has only "
        "some of them; list zone IDs of the stack's region (aws ec2 describe-availability-zones)."
    )
    subnets = resources(prod["platform"], "aws_subnet").values()
    assert sorted({s["availability_zone"] for s in subnets}) == [
        f"${{element(data.aws_availability_zones.{name}.names, {i})}}" for i in range(3)
    ]


def test_subnets_use_the_accounts_zones_unless_pinned(synth: Callable[[Settings], Synth]) -> None:
    """Zone names are mapped per account and not every region offers a, b and c to every
    account: unpinned, each public/private pair takes the account's i-th zone (checked at plan
    time to exist); pinned, exactly the zones given."""
    doc = synth(make_settings("staging"))["platform"]
    count = len(resources(doc, "aws_subnet")) // 2
    (name, zones) = next(iter(doc["data"]["aws_availability_zones"].items()))
    assert "state" not in zones  # an impaired zone stays in the list: no subnet shifts
    assert zones["filter"] == [{"name": "zone-type", "values": ["availability-zone"]}]
    (check,) = zones["lifecycle"]["postcondition"]
    assert check["condition"] == f"${{length(self.names) >= {count}}}"
    assert check["error_message"] == (
        f"network.az_count = {count}, but this account has fewer availability zones in the region; "
        "lower az_count or pin network.availability_zones."
    )
    by_tier: dict[str, list[str]] = {"public": [], "private": []}
    for subnet in sorted(resources(doc, "aws_subnet").values(), key=lambda s: s["tags"]["Name"]):
        by_tier[subnet["tags"]["tier"]].append(subnet["availability_zone"])
    expected = [f"${{element(data.aws_availability_zones.{name}.names, {i})}}" for i in range(count)]
    assert by_tier == {"public": expected, "private": expected}

    pinned = synth(make_settings("dev", network={"availability_zones": ["us-east-1d", "us-east-1f"]}))["platform"]
    assert "aws_availability_zones" not in pinned.get("data", {})
    assert sorted({s["availability_zone"] for s in resources(pinned, "aws_subnet").values()}) == [
        "us-east-1d",
        "us-east-1f",
    ]


def test_subnet_cidrs_for_smallest_vpc() -> None:
    public, private = subnet_cidrs("192.168.1.0/24", 3)
    assert public == ["192.168.1.0/27", "192.168.1.32/27", "192.168.1.64/27"]
    assert private == ["192.168.1.128/27", "192.168.1.160/27", "192.168.1.192/27"]


def test_every_security_group_is_in_the_platforms_vpc(shipped: tuple[Settings, Synth]) -> None:
    # CreateSecurityGroup without a VpcId makes the group in the account's default VPC, where
    # nothing of the platform runs (the Lambda functions' group of a NAT environment included).
    settings, docs = shipped
    doc = docs["platform"]
    (vpc,) = resources(doc, "aws_vpc")
    groups = resources(doc, "aws_security_group")
    assert len(groups) == (4 if settings.network.enable_nat_gateway else 3), sorted(groups)
    for key, group in groups.items():
        assert group.get("vpc_id") == f"${{aws_vpc.{vpc}.id}}", key


def test_default_security_group_has_no_rules(dev: Synth) -> None:
    sg = one(dev["platform"], "aws_default_security_group")
    assert sg["ingress"] == []
    assert sg["egress"] == []
    # This VPC's default group: without vpc_id the provider adopts the default group of the
    # account's default VPC, and this VPC's keeps AWS's allow rules (CIS 5.4 / FSBP EC2.2).
    (vpc,) = resources(dev["platform"], "aws_vpc")
    assert sg["vpc_id"] == f"${{aws_vpc.{vpc}.id}}"


def acl_decision(rules: list[dict[str, Any]], protocol: str, port: int, source: str) -> str:
    """What AWS does with one packet: the lowest-numbered matching rule decides, else deny.
    https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html"""
    import ipaddress

    for rule in sorted(rules, key=lambda r: r["rule_no"]):
        numbers = {"tcp": "6", "udp": "17"}
        proto_ok = rule["protocol"] in ("-1", "all") or rule["protocol"] == numbers[protocol]
        port_ok = rule["protocol"] == "-1" or rule["from_port"] <= port <= rule["to_port"]
        if proto_ok and port_ok and ipaddress.ip_address(source) in ipaddress.ip_network(rule["cidr_block"]):
            return str(rule["action"])
    return "deny"


def test_default_network_acl_refuses_remote_administration_on_every_subnet(
    shipped: tuple[Settings, Synth],
) -> None:
    """CIS 5.1 / FSBP EC2.21: no ingress from anywhere to 22 or 3389; the rest of the traffic the
    platform needs (ALB 80/443, replies on ephemeral ports, inside the VPC) still passes."""
    _, docs = shipped
    doc = docs["platform"]
    acl = one(doc, "aws_default_network_acl")
    assert acl["default_network_acl_id"].endswith(".default_network_acl_id}")
    subnets = {f"${{aws_subnet.{key}.id}}" for key in resources(doc, "aws_subnet")}
    assert set(acl["subnet_ids"]) == subnets
    internet = "198.51.100.7"
    for port in (22, 3389):
        for protocol in ("tcp", "udp"):
            assert acl_decision(acl["ingress"], protocol, port, internet) == "deny", (protocol, port)
            assert acl_decision(acl["ingress"], protocol, port, "10.0.0.5") == "deny", (protocol, port)
    for port in (80, 443, 1024, 3388, 3390, 8080, 65535):
        assert acl_decision(acl["ingress"], "tcp", port, internet) == "allow", port
    assert acl_decision(acl["ingress"], "udp", 53, internet) == "allow"
    assert acl_decision(acl["egress"], "tcp", 443, internet) == "allow"


def test_network_acl_entries_are_written_as_ec2_reads_them_back(shipped: tuple[Settings, Synth]) -> None:
    """DescribeNetworkAcls reports an entry's protocol by number, ports 0 for "all protocols" (-1),
    and no ICMP type or code for TCP, UDP or all, which the provider reads back as 0. The entries
    are a set: one stated any other way differs from what a refresh reads, and every plan would
    then show the ACL rewritten (a change a reviewer learns to skim past)."""
    _, docs = shipped
    acl = one(docs["platform"], "aws_default_network_acl")
    for entry in [*acl["ingress"], *acl["egress"]]:
        assert entry["protocol"] in {"-1", "6", "17"}, entry
        assert (entry["icmp_type"], entry["icmp_code"]) == (0, 0), entry
        assert entry["cidr_block"] == "0.0.0.0/0", entry
        if entry["protocol"] == "-1":
            assert (entry["from_port"], entry["to_port"]) == (0, 0), entry
        else:
            assert entry["from_port"] == entry["to_port"] in {22, 3389}, entry


def test_internet_gateway_and_public_default_route(dev: Synth) -> None:
    doc = dev["platform"]
    # Attached to this VPC: CreateInternetGateway makes a detached gateway, and a route to one
    # that is not attached to the route table's VPC is refused (the public subnets would have no
    # way in or out, and the ALB no internet).
    (vpc,) = resources(doc, "aws_vpc")
    assert one(doc, "aws_internet_gateway")["vpc_id"] == f"${{aws_vpc.{vpc}.id}}"
    igw_routes = [r for r in resources(doc, "aws_route").values() if r.get("gateway_id")]
    assert len(igw_routes) == 1
    assert igw_routes[0]["destination_cidr_block"] == "0.0.0.0/0"


def test_nat_off_has_no_eip_nat_or_private_default_route(dev: Synth) -> None:
    doc = dev["platform"]
    for rtype in NAT_TYPES:
        assert resources(doc, rtype) == {}
    assert default_routes(doc) == {}


def test_nat_on_single_gateway_routes_every_private_table(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", network={"enable_nat_gateway": True}))["platform"]
    assert len(resources(doc, "aws_eip")) == 1
    nat = one(doc, "aws_nat_gateway")
    assert nat["subnet_id"].startswith("${aws_subnet.network_public-0_")
    routes = default_routes(doc)
    assert len(routes) == 2
    assert {r["destination_cidr_block"] for r in routes.values()} == {"0.0.0.0/0"}


def test_nat_per_az(prod: Synth) -> None:
    doc = prod["platform"]
    assert len(resources(doc, "aws_eip")) == 3
    assert len(resources(doc, "aws_nat_gateway")) == 3
    assert len({r["nat_gateway_id"] for r in default_routes(doc).values()}) == 3


def test_each_nat_gateway_is_public_on_its_own_eip_in_its_own_public_subnet_after_the_igw(prod: Synth) -> None:
    """CreateNatGateway: "[Public NAT gateways only] The allocation ID of an Elastic IP address to
    associate with the NAT gateway" (a public gateway without one is refused); AllocateAddress's
    Domain is "vpc" (EC2-Classic is retired). The provider's aws_nat_gateway page: "it's recommended
    to denote that the NAT Gateway depends on the Internet Gateway for the VPC in which the NAT
    Gateway's subnet is located" (a gateway created first has no way out)."""
    doc = prod["platform"]
    eips = resources(doc, "aws_eip")
    assert {e["domain"] for e in eips.values()} == {"vpc"}
    (igw,) = resources(doc, "aws_internet_gateway")
    public = {k for k, s in resources(doc, "aws_subnet").items() if s["tags"]["tier"] == "public"}
    gateways = resources(doc, "aws_nat_gateway").values()
    assert sorted(g["allocation_id"] for g in gateways) == sorted(f"${{aws_eip.{k}.id}}" for k in eips)
    assert sorted(g["subnet_id"] for g in gateways) == sorted(f"${{aws_subnet.{k}.id}}" for k in public)
    assert all(g.get("connectivity_type", "public") == "public" for g in gateways)
    assert all(f"aws_internet_gateway.{igw}" in g["depends_on"] for g in gateways)


def test_nat_toggle_adds_nat_and_moves_the_functions_into_the_vpc(synth: Callable[[Settings], Synth]) -> None:
    """NAT is the functions' way out of the private subnets: turning it on adds the NAT path and
    the functions' placement, and changes nothing but the two functions and their roles' policies."""
    off = synth(make_settings("dev"))["platform"]["resource"]
    on = synth(make_settings("dev", network={"enable_nat_gateway": True}))["platform"]["resource"]
    added = {(rtype, name) for rtype, items in on.items() for name in items if name not in off.get(rtype, {})}
    assert {rtype for rtype, _ in added} == {
        "aws_eip", "aws_nat_gateway", "aws_route", "aws_security_group", "aws_vpc_security_group_egress_rule",
    }  # fmt: skip
    assert {name for rtype, name in added if rtype.startswith(("aws_security_group", "aws_vpc_security"))} == {
        n for n in on["aws_security_group"] if n.startswith("network_functions_")
    } | {n for n in on["aws_vpc_security_group_egress_rule"] if n.startswith("network_functions_")}
    removed = {(rtype, name) for rtype, items in off.items() for name in items if name not in on.get(rtype, {})}
    assert removed == set()
    changed = {
        (rtype, name.split("_")[0])
        for rtype, items in off.items()
        for name, body in items.items()
        if json.dumps(on[rtype][name], sort_keys=True) != json.dumps(body, sort_keys=True)
    }
    assert changed == {
        ("aws_lambda_function", "orchestrator"),
        ("aws_lambda_function", "mirror"),
        ("aws_iam_role_policy", "orchestrator"),
        ("aws_iam_role_policy", "mirror"),
    }


def test_functions_run_in_the_private_subnets_where_there_is_nat(prod: Synth, dev: Synth) -> None:
    """Prod (NAT): both functions in every private subnet behind their own group, which opens
    nothing inbound and only HTTPS outbound; their roles may manage the interfaces Lambda needs.
    dev (no NAT, so no way out of the subnets): outside the VPC."""
    doc = prod["platform"]
    (sg_name, sg) = next(
        (k, v) for k, v in resources(doc, "aws_security_group").items() if k.startswith("network_functions_")
    )
    assert sg["name"] == "cicd-prod-functions"
    assert "ingress" not in sg
    (rule,) = [
        r for k, r in resources(doc, "aws_vpc_security_group_egress_rule").items() if k.startswith("network_functions_")
    ]
    assert (rule["security_group_id"], rule["ip_protocol"], rule["from_port"], rule["to_port"], rule["cidr_ipv4"]) == (
        f"${{aws_security_group.{sg_name}.id}}", "tcp", 443, 443, "0.0.0.0/0",
    )  # fmt: skip
    private = sorted(
        f"${{aws_subnet.{k}.id}}" for k, v in resources(doc, "aws_subnet").items() if v["tags"]["tier"] == "private"
    )
    assert len(private) == 3
    functions = resources(doc, "aws_lambda_function")
    assert set(functions) == {k for k in functions if k.startswith(("orchestrator_", "mirror_"))}
    for fn in functions.values():
        assert sorted(fn["vpc_config"]["subnet_ids"]) == private
        assert fn["vpc_config"]["security_group_ids"] == [f"${{aws_security_group.{sg_name}.id}}"]
    for prefix in ("orchestrator_", "mirror_"):
        (policy,) = [p for k, p in resources(doc, "aws_iam_role_policy").items() if k.startswith(prefix)]
        statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
        # AWS's managed AWSLambdaVPCAccessExecutionRole, EC2 part: Lambda checks the role when it
        # creates the function, and documents no narrower shape that passes that check.
        assert statements["VpcNetworkInterfaces"] == {
            "Sid": "VpcNetworkInterfaces",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
            ],
            "Resource": "*",
        }  # fmt: skip
        assert not [
            s
            for s in statements.values()
            if any(str(a).startswith("ec2:") for a in s["Action"]) and s["Sid"] != "VpcNetworkInterfaces"
        ]
    # The role outlives the function: Lambda deletes its interfaces with it.
    for fn in functions.values():
        assert any(d.startswith("aws_iam_role_policy.") for d in fn["depends_on"])
    for fn in resources(dev["platform"], "aws_lambda_function").values():
        assert "vpc_config" not in fn
    assert not [k for k in resources(dev["platform"], "aws_security_group") if k.startswith("network_functions_")]


def test_neither_nat_nor_endpoints_refused() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", network={"enable_nat_gateway": False, "enable_vpc_endpoints": False})
    assert info.value.problems[0].startswith("network = ")
    assert "could not pull images from ECR" in info.value.problems[0]


def test_endpoints_gateway_for_s3_interface_for_the_rest(dev: Synth) -> None:
    endpoints = resources(dev["platform"], "aws_vpc_endpoint").values()
    by_service = {e["service_name"].rsplit("us-east-1.", 1)[1]: e for e in endpoints}
    assert set(by_service) == {"s3", *INTERFACE_ENDPOINTS}
    assert by_service["s3"]["vpc_endpoint_type"] == "Gateway"
    # An interface endpoint answers in the subnets it has a network interface in ("For each
    # Availability Zone, you can choose one subnet"): every private subnet, where the tasks run,
    # so no task's traffic to AWS crosses a zone or depends on another zone's health.
    private = sorted(
        f"${{aws_subnet.{k}.id}}"
        for k, v in resources(dev["platform"], "aws_subnet").items()
        if v["tags"]["tier"] == "private"
    )
    (group,) = [k for k, g in resources(dev["platform"], "aws_security_group").items() if "endpoints" in g["name"]]
    for svc in INTERFACE_ENDPOINTS:
        assert by_service[svc]["vpc_endpoint_type"] == "Interface"
        assert by_service[svc]["private_dns_enabled"] is True
        assert sorted(by_service[svc]["subnet_ids"]) == private, svc
        assert by_service[svc]["security_group_ids"] == [f"${{aws_security_group.{group}.id}}"], svc
    # Private DNS for interface endpoints needs both DNS attributes on the VPC.
    vpc = one(dev["platform"], "aws_vpc")
    assert (vpc["enable_dns_support"], vpc["enable_dns_hostnames"]) == (True, True)


OTHER_ACCOUNT = "210987654321"


def endpoint_allows(
    policy_json: str, *, action: str, resource: str, principal_account: str, resource_account: str
) -> bool:
    """An endpoint policy's decision on one request (Allow statements only, as these are):
    action and resource by IAM's wildcard rules, the two account condition keys exactly."""
    import fnmatch

    for st in json.loads(policy_json)["Statement"]:
        assert st["Effect"] == "Allow"
        assert st["Principal"] == "*"
        actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
        resources_ = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
        context = {"aws:PrincipalAccount": principal_account, "aws:ResourceAccount": resource_account}
        conditions = st.get("Condition", {})
        assert set(conditions) <= {"StringEquals"}
        if (
            any(fnmatch.fnmatchcase(action, a) for a in actions)
            and any(fnmatch.fnmatchcase(resource, r) for r in resources_)
            and all(context[k] == v for k, v in conditions.get("StringEquals", {}).items())
        ):
            return True
    return False


def test_endpoint_policies_keep_traffic_to_this_account(shipped: tuple[Settings, Synth]) -> None:
    """The endpoints are the only way out of a NAT-less VPC: interface endpoints serve only this
    account's principals; the S3 gateway only this account's buckets and ECR's layer bucket."""
    settings, docs = shipped
    endpoints = {e["service_name"].rsplit(".", 1)[1] if e["vpc_endpoint_type"] == "Gateway"
                 else e["service_name"].split(f"{settings.region}.", 1)[1]: e
                 for e in resources(docs["platform"], "aws_vpc_endpoint").values()}  # fmt: skip
    me = ACCOUNT_TOKEN
    for svc in INTERFACE_ENDPOINTS:
        policy = endpoints[svc]["policy"]
        assert endpoint_allows(policy, action="ecr:BatchGetImage", resource="*", principal_account=me,
                               resource_account=me), svc  # fmt: skip
        assert not endpoint_allows(policy, action="secretsmanager:GetSecretValue", resource="*",
                                   principal_account=OTHER_ACCOUNT, resource_account=me), svc  # fmt: skip
    s3 = endpoints["s3"]["policy"]
    mine = f"arn:{PARTITION_TOKEN}:s3:::cicd-artifacts-dev/x"
    assert endpoint_allows(s3, action="s3:PutObject", resource=mine, principal_account=me, resource_account=me)
    assert endpoint_allows(s3, action="s3:ListBucket", resource=mine[:-2], principal_account=me, resource_account=me)
    # Not the control plane: a task cannot change a bucket's policy through the endpoint.
    assert not endpoint_allows(s3, action="s3:PutBucketPolicy", resource=mine[:-2], principal_account=me,
                               resource_account=me)  # fmt: skip
    # Someone else's bucket: not even with this account's credentials (the exfiltration path).
    assert not endpoint_allows(s3, action="s3:PutObject", resource=f"arn:{PARTITION_TOKEN}:s3:::drop-box/x",
                               principal_account=me, resource_account=OTHER_ACCOUNT)  # fmt: skip
    # ECR's layers: an AWS-owned bucket in this region, read through a URL ECR signed.
    layers = f"arn:{PARTITION_TOKEN}:s3:::prod-{settings.region}-starport-layer-bucket/sha256/abc"
    assert endpoint_allows(s3, action="s3:GetObject", resource=layers, principal_account="aws",
                           resource_account="aws")  # fmt: skip
    assert not endpoint_allows(s3, action="s3:PutObject", resource=layers, principal_account="aws",
                               resource_account="aws")  # fmt: skip
    other_region = f"arn:{PARTITION_TOKEN}:s3:::prod-eu-north-9-starport-layer-bucket/x"
    assert not endpoint_allows(s3, action="s3:GetObject", resource=other_region, principal_account="aws",
                               resource_account="aws")  # fmt: skip


def test_endpoint_security_group_allows_443_from_vpc_only(dev: Synth) -> None:
    sg = next(s for s in resources(dev["platform"], "aws_security_group").values() if "endpoints" in s["name"])
    (rule,) = sg["ingress"]
    assert (rule["from_port"], rule["to_port"], rule["protocol"]) == (443, 443, "tcp")
    (cidr,) = rule["cidr_blocks"]
    assert cidr.startswith("${aws_vpc.network_")
    assert cidr.endswith(".cidr_block}")
    # Outbound too: HTTPS inside the VPC only (a group's rules are its whole list: the provider
    # removes AWS's default allow-all egress rule from a group it manages).
    (out,) = sg["egress"]
    assert (out["from_port"], out["to_port"], out["protocol"], out["cidr_blocks"]) == (443, 443, "tcp", [cidr])


def test_no_endpoints_when_disabled(synth: Callable[[Settings], Synth]) -> None:
    s = make_settings("dev", network={"enable_nat_gateway": True, "enable_vpc_endpoints": False})
    assert resources(synth(s)["platform"], "aws_vpc_endpoint") == {}


def flow_log_parts(doc: dict[str, Any]) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    """((key, body) of dev's flow-log group, (key, body) of its role), found by their names."""
    group = next(
        (k, g)
        for k, g in resources(doc, "aws_cloudwatch_log_group").items()
        if g["name"] == "/aws/vpc-flow-logs/cicd-dev"
    )
    role = next((k, r) for k, r in resources(doc, "aws_iam_role").items() if r["name"] == "cicd-flowlogs-role-dev")
    return group, role


def test_flow_logs_to_encrypted_group_with_retention(dev: Synth) -> None:
    doc = dev["platform"]
    flow = one(doc, "aws_flow_log")
    assert flow["traffic_type"] == "ALL"
    assert flow["log_destination_type"] == "cloud-watch-logs"
    (group_key, group), (role, _) = flow_log_parts(doc)
    assert group["kms_key_id"].startswith("${aws_kms_key.key_")
    assert group["retention_in_days"] == 14
    # CreateFlowLogs: for CloudWatch Logs, LogDestination is the group's ARN and
    # DeliverLogsPermissionArn the role flow logs assume (without it nothing is delivered);
    # MaxAggregationInterval is 60 or 600 seconds, 600 unless set: records reach the group
    # within a minute, not ten, when someone is looking at an incident.
    (vpc,) = resources(doc, "aws_vpc")
    assert flow["vpc_id"] == f"${{aws_vpc.{vpc}.id}}"
    assert flow["log_destination"] == f"${{aws_cloudwatch_log_group.{group_key}.arn}}"
    assert flow["iam_role_arn"] == f"${{aws_iam_role.{role}.arn}}"
    assert flow["max_aggregation_interval"] == 60


def test_flow_log_role_may_do_what_aws_lists_for_publishing_to_its_group(dev: Synth) -> None:
    """VPC user guide, "IAM role for publishing flow logs to CloudWatch Logs": the role's policy
    "must include at least" logs:CreateLogGroup, CreateLogStream, PutLogEvents, DescribeLogGroups
    and DescribeLogStreams. All but CreateLogGroup (the platform makes the group, encrypted, before
    the flow log), on this group; DescribeLogGroups has no resource type ("*")."""
    doc = dev["platform"]
    (group, _), (key, _) = flow_log_parts(doc)
    (policy,) = [p for p in resources(doc, "aws_iam_role_policy").values() if f"aws_iam_role.{key}." in p["role"]]
    arn = f"${{aws_cloudwatch_log_group.{group}.arn}}"
    granted: dict[str, set[str]] = {}
    for stmt in statements(policy["policy"]).values():
        assert stmt["Effect"] == "Allow"
        for action in [stmt["Action"]] if isinstance(stmt["Action"], str) else stmt["Action"]:
            resources_ = [stmt["Resource"]] if isinstance(stmt["Resource"], str) else stmt["Resource"]
            granted.setdefault(action, set()).update(resources_)
    assert granted == {
        "logs:CreateLogStream": {arn, f"{arn}:*"},
        "logs:PutLogEvents": {arn, f"{arn}:*"},
        "logs:DescribeLogStreams": {arn, f"{arn}:*"},
        "logs:DescribeLogGroups": {"*"},
    }


def test_flow_log_role_trusts_only_flow_logs_in_this_account(dev: Synth) -> None:
    doc = dev["platform"]
    _, (_, role) = flow_log_parts(doc)
    trust = statements(role["assume_role_policy"])["TrustService"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    # The trust AWS documents for the flow logs role ("IAM role for publishing flow logs to
    # CloudWatch Logs"): this account, and only its flow logs ("arn:aws:ec2:region:account:vpc-flow-log/*").
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT_TOKEN},
        "ArnLike": {"aws:SourceArn": f"arn:{PARTITION_TOKEN}:ec2:us-east-1:{ACCOUNT_TOKEN}:vpc-flow-log/*"},
    }


#: The network's resources that EC2 lists in the console by their "Name" tag (the key is
#: case-sensitive: a "name" tag leaves the column empty).
NAMED = (
    "aws_vpc", "aws_internet_gateway", "aws_route_table", "aws_subnet", "aws_default_network_acl",
    "aws_eip", "aws_nat_gateway", "aws_vpc_endpoint",
)  # fmt: skip


def test_every_network_resource_shows_its_name_in_the_console(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", network={"enable_nat_gateway": True}))["platform"]
    found = {rtype: resources(doc, rtype) for rtype in NAMED}
    assert all(found.values()), [rtype for rtype, items in found.items() if not items]
    for rtype, items in found.items():
        for key, item in items.items():
            assert str(item.get("tags", {}).get("Name", "")).startswith("cicd-dev"), (rtype, key)


def test_the_networks_attributes_say_what_exists(tmp_path: Path) -> None:
    """The construct's documented attributes, read by whoever builds on it: the endpoints' group
    is None (not a false-y stand-in) when there are no endpoints, the NAT gateways an empty list
    when NAT is off."""
    from cdktf import Testing
    from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
    from cdktf_cdktf_provider_aws.security_group import SecurityGroup

    from constructs_lib.app import build_app
    from constructs_lib.stacks.platform import platform_stack_name

    def network(settings: Settings) -> Any:
        app = Testing.app(outdir=str(tmp_path / settings.environment_suffix))
        build_app(app, [settings])
        return app.node.find_child(platform_stack_name(settings)).network  # type: ignore[attr-defined]

    with_nat = network(make_settings("staging", network={"enable_nat_gateway": True, "enable_vpc_endpoints": False}))
    assert with_nat.endpoint_security_group is None
    assert with_nat.nat_gateways
    assert all(isinstance(g, NatGateway) for g in with_nat.nat_gateways)
    without_nat = network(make_settings("dev"))
    assert isinstance(without_nat.endpoint_security_group, SecurityGroup)
    assert without_nat.nat_gateways == []

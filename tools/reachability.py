"""Can the service's tasks reach everything they need at run time?

``terraform apply`` succeeds whether or not a private task can pull its image:
ECS only finds out when it starts a task (CannotPullContainerError, then the
circuit breaker rolls back). This check reads a synthesized platform stack the
way the VPC will route a task's traffic, for every container of every task
definition an ECS service runs:

- the image's registry: this account's private ECR in the stack's region is
  reachable through the ``ecr.api`` and ``ecr.dkr`` interface endpoints plus
  the S3 gateway endpoint (image layers live in S3), or through NAT; anything
  else (ECR Public, Docker Hub, another account or region) only through NAT.
  An image under a pull-through cache prefix needs that cache rule *and NAT*:
  AWS's ECR guide (pull through cache considerations): "When an image is pulled
  using a pull through cache rule for the first time, if you've configured Amazon
  ECR to use an interface VPC endpoint using AWS PrivateLink then you need to
  create a public subnet in the same VPC, with a NAT gateway, and then route all
  outbound traffic to the internet from their private subnet to the NAT gateway
  in order for the pull to work." An image run by the digest a mirror copy
  returned (``aws_lambda_invocation``, constructs_lib/mirror.py) is in its own
  repository before the task definition exists;
- the awslogs log driver: the ``logs`` endpoint, or NAT;
- ``secrets``: the ``secretsmanager`` (or ``ssm``) endpoint, or NAT;
- the X-Ray daemon: the ``xray`` endpoint, or NAT;
- and the path itself: the task's security groups must allow HTTPS out, an
  interface endpoint must have private DNS on and admit HTTPS from the VPC, a
  gateway endpoint must be on every task subnet's route table, and NAT means a
  default route to a NAT gateway from every task subnet.

    python -m tools.reachability cdktf.out/stacks/platform-dev/cdk.tf.json [--account 123456789012]

Exit 0 when everything is reachable, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs_lib.images import ECR_PUBLIC, ImageRef

Doc = Mapping[str, Any]

#: What a synthesized stack writes for "the account terraform runs in".
SELF_ACCOUNT_TOKENS = (
    re.compile(r"\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}"),
    re.compile(r"\$\{aws_ecr_pull_through_cache_rule\.[\w-]+\.registry_id\}"),
)
SELF = "000000000000"  # stands for "this account" once tokens are resolved
_REPOSITORY_URL = re.compile(r"\$\{aws_ecr_repository\.([\w-]+)\.repository_url\}")
#: ``<repository url>@${jsondecode(aws_lambda_invocation.<copy>.result).digest}``: a mirrored image.
_COPIED_DIGEST = re.compile(r"@\$\{jsondecode\(aws_lambda_invocation\.([\w-]+)\.result\)\.digest\}$")
#: AWS's rule, quoted in every problem it causes.
FIRST_PULL_RULE = (
    "AWS's ECR guide (pull through cache considerations): when an image is pulled through a cache rule for the "
    'first time over interface VPC endpoints, "you need to create a public subnet in the same VPC, with a NAT '
    "gateway, and then route all outbound traffic to the internet from their private subnet to the NAT gateway "
    'in order for the pull to work"'
)
_REF = re.compile(r"^\$\{([\w-]+)\.([\w-]+)\.(\w+)\}$")

XRAY_DAEMON_REPOSITORY = "xray/aws-xray-daemon"


@dataclass(frozen=True)
class Egress:
    """What leaves one service's task subnets, and how."""

    nat: bool
    interface_endpoints: frozenset[str]
    gateway_endpoints: frozenset[str]
    https_out: bool

    def reaches(self, *endpoints: str) -> bool:
        if not self.https_out:
            return False
        if self.nat:
            return True
        return all(e in self.interface_endpoints | self.gateway_endpoints for e in endpoints)

    def missing(self, *endpoints: str) -> str:
        if not self.https_out:
            return "the task security groups allow no HTTPS (tcp/443) egress"
        absent = [e for e in endpoints if e not in self.interface_endpoints | self.gateway_endpoints]
        kinds = ", ".join(f"{e} {'gateway' if e == 's3' else 'interface'} endpoint" for e in absent)
        return f"no NAT route from the task subnets and no {kinds}"


def _resources(doc: Doc, rtype: str) -> dict[str, dict[str, Any]]:
    return dict(doc.get("resource", {}).get(rtype, {}))


def _ref(value: Any) -> tuple[str, str, str] | None:
    """``${aws_subnet.x.id}`` -> ("aws_subnet", "x", "id")."""
    match = _REF.match(value) if isinstance(value, str) else None
    return (match.group(1), match.group(2), match.group(3)) if match else None


def _names(values: Sequence[Any], rtype: str) -> list[str]:
    out = []
    for value in values:
        ref = _ref(value)
        if ref is None or ref[0] != rtype:
            raise ValueError(f"cannot follow {value!r} (expected a reference to {rtype})")
        out.append(ref[1])
    return out


def _region(doc: Doc) -> str:
    return str(doc["provider"]["aws"][0]["region"])


def _allows_https(rule: Mapping[str, Any], protocol_key: str) -> bool:
    """All traffic, or TCP with 443 in its port range (a TCP rule without ports allows nothing)."""
    protocol = str(rule.get(protocol_key)).lower()
    if protocol in ("-1", "all"):
        return True
    if protocol not in ("tcp", "6") or rule.get("from_port") is None or rule.get("to_port") is None:
        return False
    return int(rule["from_port"]) <= 443 <= int(rule["to_port"])


def _https_egress(doc: Doc, groups: list[str]) -> bool:
    for name in groups:
        for rule in _resources(doc, "aws_security_group")[name].get("egress") or []:
            if _allows_https(rule, "protocol"):
                return True
        for rule in _resources(doc, "aws_vpc_security_group_egress_rule").values():
            if rule.get("security_group_id") == f"${{aws_security_group.{name}.id}}" and _allows_https(
                rule, "ip_protocol"
            ):
                return True
    return False


def _admits_https_from(doc: Doc, group: str, sources: set[str]) -> bool:
    """Does the endpoint's security group admit HTTPS from the VPC (or the task groups)?"""
    sg_id = f"${{aws_security_group.{group}.id}}"
    inline = _resources(doc, "aws_security_group")[group].get("ingress") or []
    standalone = [r for r in _resources(doc, "aws_vpc_security_group_ingress_rule").values()
                  if r.get("security_group_id") == sg_id]  # fmt: skip
    for rule in inline:
        peers = {*(rule.get("cidr_blocks") or []), *(rule.get("security_groups") or [])}
        if _allows_https(rule, "protocol") and sources & peers:
            return True
    for rule in standalone:
        peers = {rule.get("cidr_ipv4"), rule.get("referenced_security_group_id")}
        if _allows_https(rule, "ip_protocol") and sources & peers:
            return True
    return False


def egress_of(doc: Doc, service: Mapping[str, Any]) -> Egress:
    region = _region(doc)
    network = service["network_configuration"]
    subnets = _names(network["subnets"], "aws_subnet")
    groups = _names(network.get("security_groups") or [], "aws_security_group")
    all_subnets = _resources(doc, "aws_subnet")
    vpcs = {all_subnets[s]["vpc_id"] for s in subnets}
    if len(vpcs) != 1:
        raise ValueError(f"task subnets span {len(vpcs)} VPCs")
    vpc = vpcs.pop()
    (vpc_name,) = _names([vpc], "aws_vpc")
    vpc_cidr = _resources(doc, "aws_vpc")[vpc_name]["cidr_block"]
    sources = {f"${{aws_vpc.{vpc_name}.cidr_block}}", vpc_cidr, *(f"${{aws_security_group.{g}.id}}" for g in groups)}

    associations = {
        a["subnet_id"]: a["route_table_id"] for a in _resources(doc, "aws_route_table_association").values()
    }
    tables = [associations.get(f"${{aws_subnet.{s}.id}}") for s in subnets]
    nat_tables = {
        r["route_table_id"]
        for r in _resources(doc, "aws_route").values()
        if r.get("destination_cidr_block") == "0.0.0.0/0" and r.get("nat_gateway_id")
    }
    nat = all(t is not None and t in nat_tables for t in tables)

    interface: set[str] = set()
    gateway: set[str] = set()
    prefix = f"com.amazonaws.{region}."
    for endpoint in _resources(doc, "aws_vpc_endpoint").values():
        service_name = endpoint.get("service_name")
        if endpoint.get("vpc_id") != vpc or not isinstance(service_name, str) or not service_name.startswith(prefix):
            continue
        name = service_name[len(prefix) :]
        if endpoint.get("vpc_endpoint_type") == "Gateway":
            routed = endpoint.get("route_table_ids") or []
            if all(t is not None and t in routed for t in tables):
                gateway.add(name)
        elif endpoint.get("private_dns_enabled") and any(
            _admits_https_from(doc, g, sources)
            for g in _names(endpoint.get("security_group_ids") or [], "aws_security_group")
        ):
            interface.add(name)
    return Egress(nat, frozenset(interface), frozenset(gateway), _https_egress(doc, groups))


def _resolve_image(doc: Doc, image: str) -> str:
    for token in SELF_ACCOUNT_TOKENS:
        image = token.sub(SELF, image)

    def repository_url(match: re.Match[str]) -> str:
        repo = _resources(doc, "aws_ecr_repository")[match.group(1)]
        return f"{SELF}.dkr.ecr.{_region(doc)}.amazonaws.com/{repo['name']}"

    copied = _COPIED_DIGEST.search(image)
    if copied is not None:
        # Known after the copy ran; any digest stands for it here.
        image = image[: copied.start()] + "@sha256:" + "0" * 64
    return _REPOSITORY_URL.sub(repository_url, image)


def mirror_problem(doc: Doc, image: str) -> str | None:
    """An image run by a copy's digest must be of the repository that copy fills."""
    copied = _COPIED_DIGEST.search(image)
    if copied is None:
        return None
    copy = _resources(doc, "aws_lambda_invocation").get(copied.group(1))
    if copy is None:
        return f"runs the digest of {copied.group(1)}, which is not in the stack"
    repo = _REPOSITORY_URL.match(image)
    name = _resources(doc, "aws_ecr_repository")[repo.group(1)]["name"] if repo else None
    if name is None or json.loads(copy["input"]).get("repository") != name:
        return (
            f"runs the digest of a copy into {json.loads(copy['input']).get('repository')}, not of its own repository"
        )
    return None


def _cache_prefixes(doc: Doc) -> dict[str, str]:
    return {
        r["ecr_repository_prefix"]: r["upstream_registry_url"]
        for r in _resources(doc, "aws_ecr_pull_through_cache_rule").values()
    }


def container_problems(doc: Doc, container: Mapping[str, Any], egress: Egress, account: str | None) -> Iterator[str]:
    """(what, missing path) for one container; empty when everything is reachable."""
    region = _region(doc)
    name = container["name"]
    image = str(container["image"])
    ref = ImageRef.parse(_resolve_image(doc, image))
    ecr = ref.private_ecr
    own = ecr is not None and ecr[1] == region and ecr[0] in (SELF, account)
    shown = image.replace("${", "{")
    if own:
        cache = _cache_prefixes(doc)
        top = ref.repository.split("/", 1)[0]
        upstream = cache.get(top)
        if top in cache and upstream != ECR_PUBLIC:
            yield f"container {name!r}: image {shown} is under cache prefix {top!r} of {upstream}, not {ECR_PUBLIC}"
        if top in cache and not egress.nat:
            yield (
                f"container {name!r}: image {shown} reaches the task only by a first pull through cache rule "
                f"{top!r}, and the task subnets have no NAT route: {FIRST_PULL_RULE}"
            )
        mirrored = mirror_problem(doc, image)
        if mirrored:
            yield f"container {name!r}: image {shown} {mirrored}"
        if not egress.reaches("ecr.api", "ecr.dkr", "s3"):
            yield f"container {name!r}: image {shown}: {egress.missing('ecr.api', 'ecr.dkr', 's3')}"
    elif not egress.reaches():
        yield f"container {name!r}: image {shown} ({ref.registry}) is reachable only through NAT: {egress.missing()}"
    elif not egress.nat:
        where = "another account or region's ECR" if ecr else ref.registry
        yield (
            f"container {name!r}: image {shown} ({where}) is reachable only through NAT, "
            "and the task subnets have no NAT route"
        )

    log = container.get("logConfiguration") or {}
    if log.get("logDriver") == "awslogs":
        log_region = (log.get("options") or {}).get("awslogs-region", region)
        if log_region != region and not egress.nat:
            yield f"container {name!r}: awslogs to {log_region} needs NAT (endpoints serve {region} only)"
        elif not egress.reaches("logs"):
            yield f"container {name!r}: awslogs log driver (CloudWatch Logs): {egress.missing('logs')}"
    for secret in container.get("secrets") or []:
        service = "ssm" if ":ssm:" in str(secret.get("valueFrom", "")) else "secretsmanager"
        if not egress.reaches(service):
            yield f"container {name!r}: secret {secret.get('name')} ({service}): {egress.missing(service)}"
    if ref.repository.endswith(XRAY_DAEMON_REPOSITORY) and not egress.reaches("xray"):
        yield f"container {name!r}: X-Ray daemon (X-Ray API): {egress.missing('xray')}"


def check(doc: Doc, environment: str, account: str | None = None) -> list[str]:
    """Every unreachable dependency of every service's containers, one line each.

    ``account``: the environment's account id, when known (settings ``account_id``);
    a literal ECR registry of that account counts as the environment's own.
    """
    problems: list[str] = []
    definitions = _resources(doc, "aws_ecs_task_definition")
    services = _resources(doc, "aws_ecs_service")
    if not services:
        return [f"{environment}: no ECS service in this stack"]
    for service in services.values():
        egress = egress_of(doc, service)
        (definition,) = _names([service["task_definition"]], "aws_ecs_task_definition")
        for container in json.loads(definitions[definition]["container_definitions"]):
            problems += [f"{environment}: {p}" for p in container_problems(doc, container, egress, account)]
    return problems


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reachability", description=__doc__.splitlines()[0])
    parser.add_argument("stack_json", type=Path, nargs="+")
    parser.add_argument("--account", help="the environment's account id (settings account_id)")
    args = parser.parse_args(argv)
    problems = []
    for path in args.stack_json:
        problems += check(json.loads(path.read_text()), path.parent.name, args.account)
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

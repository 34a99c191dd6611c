"""VPC: public/private subnets per AZ, optional NAT, VPC endpoints, flow logs."""

from __future__ import annotations

import ipaddress

from cdktf import Fn, Postcondition, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupEgress, SecurityGroupIngress
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from constructs_lib.context import PlatformContext
from constructs_lib.iam import ServiceRole
from constructs_lib.logs import EncryptedLogGroup
from constructs_lib.settings import NetworkSettings

#: Interface endpoints private tasks need when there is no NAT gateway.
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "xray")


def subnet_cidrs(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """Split the VPC into 8 equal blocks: public 0..n-1, private 4..4+n-1.

    Static, so a plan shows real CIDRs and a reviewer can check them.
    """
    blocks = [str(b) for b in ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=3)]
    return blocks[:az_count], blocks[4 : 4 + az_count]


class Network(Construct):
    """Attributes: vpc, public_subnets, private_subnets, private_route_tables,
    nat_gateways (empty when NAT is off), endpoint_security_group (or None),
    flow_log_group; vpc_id, public_subnet_ids, private_subnet_ids and
    private_route_table_ids as tokens read once."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PlatformContext,
        settings: NetworkSettings,
        availability_zones: list[str] | None,
    ) -> None:
        super().__init__(scope, id)
        self._ctx = ctx
        prefix = ctx.naming.prefix
        self.vpc = Vpc(
            self,
            "this",
            cidr_block=settings.vpc_cidr,
            enable_dns_hostnames=True,  # required by interface endpoints' private DNS
            enable_dns_support=True,
            tags={"Name": prefix},
        )
        self.vpc_id: str = self.vpc.id  # read once: every read is a round trip to jsii
        # No rules: nothing may rely on the default group (CIS 5.4 / FSBP EC2.2).
        DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc_id, ingress=[], egress=[])
        igw = InternetGateway(self, "igw", vpc_id=self.vpc_id, tags={"Name": prefix})
        self._subnets(settings, self._zones(settings.az_count, availability_zones), igw)
        self.nat_gateways: list[NatGateway] = []
        if settings.enable_nat_gateway:
            self._nat_gateways(1 if settings.single_nat_gateway else settings.az_count, igw)
        self.endpoint_security_group: SecurityGroup | None = None
        if settings.enable_vpc_endpoints:
            self._endpoints()
        self._flow_logs()

    def _zones(self, count: int, pinned: list[str] | None) -> list[str]:
        """The zones the settings pin, or the first ``count`` zones the account has.

        Zone names are mapped per account, and not every region offers every letter
        to every account, so unpinned zones are read at plan time (only real
        availability zones: no Local or Wavelength zones the account opted into),
        and the first ``count`` are used.
        https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html
        """
        if pinned is not None:
            return pinned
        zones = DataAwsAvailabilityZones(
            self,
            "zones",
            # No state filter: an impaired zone must not drop out of the list and shift every
            # subnet after it. Names come sorted, and a zone AWS adds later sorts after the
            # ones in use, so the first `count` stay the same.
            filter=[DataAwsAvailabilityZonesFilter(name="zone-type", values=["availability-zone"])],
            # element() wraps around: without this, too few zones would silently
            # put two subnets in one zone.
            lifecycle=TerraformResourceLifecycle(
                postcondition=[
                    Postcondition(
                        condition=f"${{length(self.names) >= {count}}}",
                        error_message=f"network.az_count = {count}, but this account has fewer availability "
                        "zones in the region; lower az_count or pin network.availability_zones.",
                    )
                ]
            ),
        )
        names = zones.names
        return [Token.as_string(Fn.element(names, i)) for i in range(count)]

    def _subnets(self, settings: NetworkSettings, availability_zones: list[str], igw: InternetGateway) -> None:
        """One public and one private subnet per AZ; each private subnet has its own route table."""
        prefix = self._ctx.naming.prefix
        public_cidrs, private_cidrs = subnet_cidrs(settings.vpc_cidr, settings.az_count)
        public_rt = RouteTable(self, "public-rt", vpc_id=self.vpc_id, tags={"Name": f"{prefix}-public"})
        public_rt_id = public_rt.id
        Route(
            self, "public-default", route_table_id=public_rt_id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id
        )
        self.public_subnets: list[Subnet] = []
        self.private_subnets: list[Subnet] = []
        self.private_route_tables: list[RouteTable] = []
        for i in range(settings.az_count):
            az = availability_zones[i]
            public = Subnet(
                self,
                f"public-{i}",
                vpc_id=self.vpc_id,
                cidr_block=public_cidrs[i],
                availability_zone=az,
                map_public_ip_on_launch=False,  # only the ALB lives here, and it gets its own IPs
                tags={"Name": f"{prefix}-public-{i}", "tier": "public"},
            )
            RouteTableAssociation(self, f"public-{i}-rta", subnet_id=public.id, route_table_id=public_rt_id)
            private = Subnet(
                self,
                f"private-{i}",
                vpc_id=self.vpc_id,
                cidr_block=private_cidrs[i],
                availability_zone=az,
                tags={"Name": f"{prefix}-private-{i}", "tier": "private"},
            )
            rt = RouteTable(self, f"private-{i}-rt", vpc_id=self.vpc_id, tags={"Name": f"{prefix}-private-{i}"})
            RouteTableAssociation(self, f"private-{i}-rta", subnet_id=private.id, route_table_id=rt.id)
            self.public_subnets.append(public)
            self.private_subnets.append(private)
            self.private_route_tables.append(rt)
        self.public_subnet_ids: list[str] = [s.id for s in self.public_subnets]
        self.private_subnet_ids: list[str] = [s.id for s in self.private_subnets]
        self.private_route_table_ids: list[str] = [rt.id for rt in self.private_route_tables]

    def _nat_gateways(self, nat_count: int, igw: InternetGateway) -> None:
        prefix = self._ctx.naming.prefix
        for i in range(nat_count):
            eip = Eip(self, f"nat-eip-{i}", domain="vpc", tags={"Name": f"{prefix}-nat-{i}"})
            self.nat_gateways.append(
                NatGateway(
                    self,
                    f"nat-{i}",
                    allocation_id=eip.id,
                    subnet_id=self.public_subnets[i].id,
                    tags={"Name": f"{prefix}-nat-{i}"},
                    depends_on=[igw],
                )
            )
        for i, rt_id in enumerate(self.private_route_table_ids):
            Route(
                self,
                f"private-{i}-default",
                route_table_id=rt_id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=self.nat_gateways[min(i, nat_count - 1)].id,
            )

    def _flow_logs(self) -> None:
        ctx = self._ctx
        self.flow_log_group = EncryptedLogGroup(
            self, "flow-log-group", ctx=ctx, name=ctx.naming.log_group("vpc-flow-logs")
        )
        flow_role = ServiceRole(
            self,
            "flow-log-role",
            role_name=ctx.naming.name("flowlogs-role"),
            service="vpc-flow-logs.amazonaws.com",
            account_id=ctx.aws.account_id,
            source_arn=ctx.aws.arn("ec2", "vpc-flow-log/*"),
        )
        self.flow_log_group.grant_write(flow_role, sid="WriteFlowLogs", describe_streams=True)
        FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=flow_role.arn,
            max_aggregation_interval=60,
        )

    def _endpoints(self) -> None:
        prefix, region = self._ctx.naming.prefix, self._ctx.aws.region
        # Gateway endpoint: free, and ECR image layers are served from S3.
        VpcEndpoint(
            self,
            "s3-endpoint",
            vpc_id=self.vpc_id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=self.private_route_table_ids,
            tags={"Name": f"{prefix}-s3"},
        )
        self.endpoint_security_group = SecurityGroup(
            self,
            "endpoint-sg",
            name=self._ctx.naming.scoped("endpoints"),
            description="HTTPS from inside the VPC to interface endpoints",
            vpc_id=self.vpc_id,
            ingress=[
                SecurityGroupIngress(
                    description="HTTPS from the VPC",
                    from_port=443,
                    to_port=443,
                    protocol="tcp",
                    cidr_blocks=[self.vpc.cidr_block],
                )
            ],
            egress=[
                SecurityGroupEgress(
                    description="Responses stay inside the VPC",
                    from_port=443,
                    to_port=443,
                    protocol="tcp",
                    cidr_blocks=[self.vpc.cidr_block],
                )
            ],
        )
        endpoint_sg_id = self.endpoint_security_group.id
        for svc in INTERFACE_ENDPOINTS:
            VpcEndpoint(
                self,
                f"{svc.replace('.', '-')}-endpoint",
                vpc_id=self.vpc_id,
                service_name=f"com.amazonaws.{region}.{svc}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[endpoint_sg_id],
                tags={"Name": f"{prefix}-{svc}"},
            )

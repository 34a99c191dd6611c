"""VPC: public/private subnets per AZ, optional NAT, VPC endpoints, flow logs."""

from __future__ import annotations

import ipaddress
from typing import TypeVar

from cdktf import Fn, Postcondition, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from cdktf_cdktf_provider_aws.default_network_acl import (
    DefaultNetworkAcl,
    DefaultNetworkAclEgress,
    DefaultNetworkAclIngress,
)
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunctionVpcConfig
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupEgress, SecurityGroupIngress
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct

from constructs_lib import policies
from constructs_lib.context import Aws, PlatformContext
from constructs_lib.iam import ServiceRole
from constructs_lib.logs import EncryptedLogGroup
from constructs_lib.settings import NetworkSettings
from constructs_lib.storage import READ_ACTIONS, WRITE_ACTIONS

#: Remote-administration ports the VPC's network ACL refuses from anywhere, before anything
#: else (CIS AWS Foundations 5.1 / Security Hub EC2.21: no network ACL may allow ingress from
#: 0.0.0.0/0 to 22 or 3389). Nothing in the platform listens on them: tasks are reached only
#: through the ALB, and nobody logs in to Fargate.
ADMIN_PORTS = {"ssh": 22, "rdp": 3389}
#: IANA protocol numbers, as network ACL entries carry them.
TCP, UDP = "6", "17"

#: Interface endpoints private tasks need when there is no NAT gateway.
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "xray")


# Endpoint policies. Without one an endpoint allows every principal everything; in a VPC
# without NAT the endpoints are the only way out, so they would be the path for sending
# data to another account's bucket or secret.
# https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html


#: What may pass the S3 gateway endpoint to this account's buckets.
GATEWAY_S3_ACTIONS = (
    *READ_ACTIONS, *WRITE_ACTIONS, "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts", "s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads",
    "s3:GetBucketLocation",
)  # fmt: skip


def interface_endpoint_policy(aws: Aws) -> str:
    """Only this account's principals (the task's roles) may use an interface endpoint."""
    return policies.document(
        policies.Statement(
            sid="ThisAccountsPrincipals",
            principals="*",
            actions=["*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:PrincipalAccount": aws.account_id}},
        )
    )


def ecr_layer_bucket_arn(aws: Aws) -> str:
    """The AWS-owned bucket ECR serves image layers from, in this region.

    "Minimum Amazon S3 bucket permissions for Amazon ECR": a task pulling through the S3
    gateway endpoint downloads layers from ``prod-<region>-starport-layer-bucket``; the request
    is a URL ECR presigned, signed by ECR, not by this account, so it needs its own statement.
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
    """
    return aws.bucket_arn(f"prod-{aws.region}-starport-layer-bucket", "*")


def s3_gateway_endpoint_policy(aws: Aws) -> str:
    """This account's buckets, and reading ECR's image layers: nothing else through S3."""
    return policies.document(
        policies.Statement(
            sid="ThisAccountsBuckets",
            principals="*",
            # The data path: objects and listing them. Managing buckets goes through the S3 API
            # from outside the VPC (terraform), never from a task.
            actions=GATEWAY_S3_ACTIONS,
            # Buckets and their objects (not access points, jobs or other S3 resources) ...
            resources=[aws.bucket_arn("*"), aws.bucket_arn("*", "*")],
            # ... of this account only.
            conditions={"StringEquals": {"aws:ResourceAccount": aws.account_id}},
        ),
        policies.Statement(
            sid="EcrImageLayers",
            principals="*",
            actions=READ_ACTIONS,
            resources=[ecr_layer_bucket_arn(aws)],
        ),
    )


_Entry = TypeVar("_Entry", DefaultNetworkAclIngress, DefaultNetworkAclEgress)


def _acl_entry(kind: type[_Entry], rule_no: int, action: str, protocol: str = "-1", port: int = 0) -> _Entry:
    """One network ACL rule for any source or destination. Protocols by number and the ICMP
    fields stated as EC2 reports them back ("6", 0), so a refresh never reads a spelling change
    as drift; protocol "-1" (all) takes port 0."""
    return kind(
        rule_no=rule_no, action=action, protocol=protocol, from_port=port, to_port=port,
        cidr_block="0.0.0.0/0", icmp_code=0, icmp_type=0,
    )  # fmt: skip


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
        zones = self._zones(settings.az_count, availability_zones, settings.availability_zone_ids)
        self._subnets(settings, zones, igw)
        self._network_acl()
        self.nat_gateways: list[NatGateway] = []
        if settings.enable_nat_gateway:
            self._nat_gateways(1 if settings.single_nat_gateway else settings.az_count, igw)
        self.endpoint_security_group: SecurityGroup | None = None
        if settings.enable_vpc_endpoints:
            self._endpoints()
        self._flow_logs()

    def _zones(self, count: int, pinned: list[str] | None, zone_ids: list[str] | None) -> list[str]:
        """The zone names the settings pin, the zones of the pinned zone IDs, or the first
        ``count`` zones the account has.

        Zone names are mapped per account, and not every region offers every letter
        to every account, so unpinned zones are read at plan time (only real
        availability zones: no Local or Wavelength zones the account opted into),
        and the first ``count`` are used. Zone IDs name the same physical zone in every
        account ("AZ IDs are the same across all AWS accounts"), so a pinned ID list
        is read back as this account's names with an identity filter: the set is
        closed, and a zone AWS adds to the region can never join it.
        https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html
        """
        if pinned is not None:
            return pinned
        if zone_ids is not None:
            identity = DataAwsAvailabilityZonesFilter(name="zone-id", values=zone_ids)
            condition = f"${{length(self.names) == {count}}}"
            problem = (
                f"network.availability_zone_ids = {', '.join(zone_ids)}, but this account's region has only "
                "some of them; list zone IDs of the stack's region (aws ec2 describe-availability-zones)."
            )
        else:
            # No state filter: an impaired zone must not drop out of the list and shift every
            # subnet after it. Names come sorted, and a zone AWS adds later sorts after the
            # ones in use, so the first `count` stay the same.
            identity = DataAwsAvailabilityZonesFilter(name="zone-type", values=["availability-zone"])
            condition = f"${{length(self.names) >= {count}}}"
            problem = (
                f"network.az_count = {count}, but this account has fewer availability "
                "zones in the region; lower az_count or pin network.availability_zones."
            )
        zones = DataAwsAvailabilityZones(
            self,
            "zones",
            filter=[identity],
            # element() wraps around: without this, too few zones would silently
            # put two subnets in one zone.
            lifecycle=TerraformResourceLifecycle(
                postcondition=[Postcondition(condition=condition, error_message=problem)]
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

    def _network_acl(self) -> None:
        """The VPC's default network ACL, which every subnet here uses, taken over.

        AWS creates it allowing everything in and out. Network ACLs are stateless: a tight
        allow-list must also admit every reply (ephemeral ports from the internet for NAT,
        the S3 gateway endpoint and the ALB), so it could only ever be a looser copy of the
        security groups, which already admit exactly internet -> ALB -> tasks -> AWS APIs.
        The ACL's job here is the one a security group cannot do: refuse, for every subnet,
        whatever a future security-group rule might open on the remote-administration
        ports. Deny rules first (rules are evaluated lowest number first), then allow.
        https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
        """
        # TCP and UDP: RDP runs over both.
        blocked = [(protocol, port) for port in ADMIN_PORTS.values() for protocol in (TCP, UDP)]
        deny = [
            _acl_entry(DefaultNetworkAclIngress, 100 + 10 * i, "deny", protocol, port)
            for i, (protocol, port) in enumerate(blocked)
        ]
        DefaultNetworkAcl(
            self,
            "default-acl",
            default_network_acl_id=self.vpc.default_network_acl_id,
            # Every subnet, named: a subnet left out would show as a change on every plan.
            subnet_ids=[*self.public_subnet_ids, *self.private_subnet_ids],
            ingress=[*deny, _acl_entry(DefaultNetworkAclIngress, 200, "allow")],
            egress=[_acl_entry(DefaultNetworkAclEgress, 100, "allow")],
            tags={"Name": self._ctx.naming.prefix},
        )

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
        # "The IAM policy that's attached to your IAM role must include at least the following
        # permissions": CreateLogGroup, CreateLogStream, PutLogEvents, DescribeLogGroups and
        # DescribeLogStreams (VPC user guide, flow-logs-iam-role). All of them but CreateLogGroup:
        # the group exists before the flow log (encrypted, with its retention), and one flow logs
        # made would be neither. DescribeLogGroups has no resource type, so it is granted on "*".
        self.flow_log_group.grant_write(flow_role, sid="WriteFlowLogs", describe_streams=True)
        flow_role.add_statements(
            policies.Statement(sid="FindFlowLogGroup", actions=["logs:DescribeLogGroups"], resources=["*"])
        )
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
            policy=s3_gateway_endpoint_policy(self._ctx.aws),
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
        interface_policy = interface_endpoint_policy(self._ctx.aws)
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
                policy=interface_policy,
                tags={"Name": f"{prefix}-{svc}"},
            )


def https_egress(scope: Construct, id: str, security_group_id: str, description: str) -> VpcSecurityGroupEgressRule:
    """HTTPS out to anywhere: AWS APIs through the interface endpoints or NAT (a task's or a
    function's only way out; the network ACL and the endpoints' policies narrow it further)."""
    return VpcSecurityGroupEgressRule(
        scope,
        id,
        security_group_id=security_group_id,
        description=description,
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        cidr_ipv4="0.0.0.0/0",
    )


#: What Lambda does with a function's execution role to attach it to the VPC: exactly
#: AWSLambdaVPCAccessExecutionRole's EC2 actions (its logs actions come with the log group).
#: https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html
FUNCTION_ENI_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


class FunctionPlacement(Construct):
    """Where the platform's Lambda functions run when the VPC has NAT: its private subnets,
    behind a security group of their own that opens nothing inbound and HTTPS outbound.

    Inside the VPC their calls to AWS go through the interface endpoints (which admit the
    VPC's CIDR) or the NAT gateways, the flow logs record them, and the network ACL applies.
    A NAT-less VPC has no way to the public APIs and registries the functions call (ECR
    Public, CodePipeline, ECS), so there they run outside it (``network.enable_nat_gateway``).

    Attributes: security_group, vpc_config (for ``LambdaFunction(vpc_config=...)``).
    """

    def __init__(self, scope: Construct, id: str, *, ctx: PlatformContext, network: Network) -> None:
        super().__init__(scope, id)
        self.security_group = SecurityGroup(
            self,
            "sg",
            name=ctx.naming.scoped("functions"),
            description="Platform Lambda functions: HTTPS out, nothing in",
            vpc_id=network.vpc_id,
        )
        self._security_group_id: str = self.security_group.id
        https_egress(
            self, "out-https", self._security_group_id, "HTTPS to AWS APIs and ECR Public via endpoints or NAT"
        )
        self._subnet_ids = network.private_subnet_ids
        self.vpc_config = LambdaFunctionVpcConfig(
            subnet_ids=self._subnet_ids, security_group_ids=[self._security_group_id]
        )

    def grant_attach(self, grantee: policies.Grantee) -> None:
        """What Lambda needs from ``grantee`` (an execution role) to place the function here:
        the EC2 actions of AWS's managed AWSLambdaVPCAccessExecutionRole, on ``"*"`` as there.

        Lambda checks the role when it creates or updates the function, and AWS documents no
        narrower shape that passes: "ec2:DescribeNetworkInterfaces – This action only works if
        it's allowed on all resources"; "ec2:DeleteNetworkInterface – If you don't specify a
        resource ID ... your function may not be able to access the VPC" (Lambda developer guide,
        configuration-vpc), and roles scoped to subnets or conditions are reported to fail the
        check. The function depends on this policy, so Lambda can still delete its interfaces
        when the function goes ("If you delete the execution role before Lambda deletes the
        Hyperplane ENI, Lambda won't be able to delete the Hyperplane ENI").
        """
        grantee.add_statements(
            policies.Statement(sid="VpcNetworkInterfaces", actions=FUNCTION_ENI_ACTIONS, resources=["*"])
        )

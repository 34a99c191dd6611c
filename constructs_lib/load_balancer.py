"""Internet-facing ALB, its access-log bucket, target group, listeners, and the
two security groups on the path internet -> ALB -> service."""

from __future__ import annotations

from cdktf import TerraformIterator, Token
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from constructs_lib import policies
from constructs_lib.context import Aws, PlatformContext
from constructs_lib.metrics import Metric
from constructs_lib.network import Network, https_egress
from constructs_lib.settings import EdgeSettings
from constructs_lib.storage import SecureBucket

#: Modern TLS only: TLS 1.3 with TLS 1.2 fallback using forward-secret ciphers.
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"

#: ELB account that writes access logs, for regions older than August 2022.
#: Newer regions use the logdelivery.elasticloadbalancing.amazonaws.com principal.
#: No maintained package carries this table; it is copied from
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378", "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
    "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-south-1": "635631232127",
    "eu-west-3": "009996457667", "eu-north-1": "897822967062", "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}  # fmt: skip

ACCESS_LOG_PREFIX = "alb"

#: Days the ALB access logs (and the platform buckets' S3 access logs) are kept, in each region.
ACCESS_LOG_DAYS = 90


def log_delivery_statement(aws: Aws, bucket_name: str) -> policies.Statement:
    principal = (
        {"AWS": [aws.account_root(ELB_LOG_ACCOUNTS[aws.region])]}
        if aws.region in ELB_LOG_ACCOUNTS
        else {"Service": ["logdelivery.elasticloadbalancing.amazonaws.com"]}
    )
    return policies.Statement(
        sid="AllowElbLogDelivery",
        principals=principal,
        actions=["s3:PutObject"],
        resources=[aws.bucket_arn(bucket_name, f"{ACCESS_LOG_PREFIX}/AWSLogs/{aws.account_id}/*")],
    )


class LoadBalancer(Construct):
    """Attributes: lb, target_group, http_listener, https_listener (or None),
    forwarding_listener (the one whose default action forwards to target_group),
    alb_security_group, service_security_group, access_logs (bucket)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PlatformContext,
        settings: EdgeSettings,
        network: Network,
        container_port: int,
        deletion_protection: bool,
        certificate_arn: str | None,
    ) -> None:
        """``certificate_arn``: serve HTTPS with it (HTTP then only redirects); None: plain HTTP."""
        super().__init__(scope, id)
        self._certificate_arn = certificate_arn
        self._security_groups(ctx, settings, network.vpc_id, container_port)
        # ELB (and S3 server access logging) write with SSE-S3 only; SSE-KMS buckets are refused.
        logs_bucket = ctx.naming.name("alb-logs")
        self.access_logs = SecureBucket(
            self,
            "access-logs",
            bucket_name=logs_bucket,
            key=None,
            expiration_days=ACCESS_LOG_DAYS,
            force_destroy=not deletion_protection,
            extra_statements=[
                log_delivery_statement(ctx.aws, logs_bucket),
                # The same bucket receives the platform buckets' S3 access logs.
                SecureBucket.allow_s3_access_logs(ctx.aws, logs_bucket),
            ],
        )
        self.lb = Lb(
            self,
            "this",
            name=ctx.naming.name("alb"),
            load_balancer_type="application",
            internal=False,
            subnets=network.public_subnet_ids,
            security_groups=[self.alb_security_group_id],
            drop_invalid_header_fields=True,
            enable_deletion_protection=deletion_protection,
            access_logs={"bucket": self.access_logs.name, "prefix": ACCESS_LOG_PREFIX, "enabled": True},
            # ELB checks it may write to the bucket when the ALB is created.
            depends_on=[self.access_logs.policy],
        )
        self._target_group_and_listeners(ctx, settings, network.vpc_id, container_port)
        # Tokens read once (every read is a round trip to jsii).
        self.arn_suffix: str = self.lb.arn_suffix
        self.target_group_arn_suffix: str = self.target_group.arn_suffix

    def _security_groups(self, ctx: PlatformContext, settings: EdgeSettings, vpc_id: str, container_port: int) -> None:
        """internet -> ALB -> service, and the service's HTTPS to AWS APIs; nothing else."""
        self.alb_security_group = SecurityGroup(
            self, "alb-sg", name=ctx.naming.scoped("alb"), description="Internet to ALB", vpc_id=vpc_id
        )
        self.service_security_group = SecurityGroup(
            self, "service-sg", name=ctx.naming.scoped("service"), description="ALB to service tasks", vpc_id=vpc_id
        )
        # Read once: every read is a round trip to jsii.
        self.alb_security_group_id: str = self.alb_security_group.id
        self.service_security_group_id: str = self.service_security_group.id
        # Standalone rule resources: the two groups reference each other, which
        # inline rules would turn into a dependency cycle.
        # for_each keyed by CIDR: editing the list replaces only the rules that changed.
        ports = {"alb-in-http": 80, "alb-in-https": 443} if self._certificate_arn else {"alb-in-http": 80}
        for rule_id, port in ports.items():
            cidrs = TerraformIterator.from_list(list(settings.allowed_ingress_cidrs))
            VpcSecurityGroupIngressRule(
                self,
                rule_id,
                for_each=cidrs,
                security_group_id=self.alb_security_group_id,
                description=f"Port {port} from allowed clients",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=Token.as_string(cidrs.value),
            )
        self._service_path_rules(container_port)

    def _service_path_rules(self, container_port: int) -> None:
        VpcSecurityGroupEgressRule(
            self,
            "alb-out-service",
            security_group_id=self.alb_security_group_id,
            description="Only to the service tasks",
            ip_protocol="tcp",
            from_port=container_port,
            to_port=container_port,
            referenced_security_group_id=self.service_security_group_id,
        )
        VpcSecurityGroupIngressRule(
            self,
            "service-in-alb",
            security_group_id=self.service_security_group_id,
            description="Only from the ALB",
            ip_protocol="tcp",
            from_port=container_port,
            to_port=container_port,
            referenced_security_group_id=self.alb_security_group_id,
        )
        https_egress(
            self,
            "service-out-https",
            self.service_security_group_id,
            "HTTPS to AWS APIs (ECR, Logs, Secrets Manager, X-Ray) via endpoints or NAT",
        )

    def _target_group_and_listeners(
        self, ctx: PlatformContext, settings: EdgeSettings, vpc_id: str, container_port: int
    ) -> None:
        self.target_group = LbTargetGroup(
            self,
            "target-group",
            name=ctx.naming.name("tg"),
            target_type="ip",  # Fargate tasks register by IP
            port=container_port,
            protocol="HTTP",
            vpc_id=vpc_id,
            deregistration_delay="30",
            health_check={
                "path": settings.health_check_path,
                "matcher": "200-399",
                "interval": 15,
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
            },
        )
        forward = LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)
        self.https_listener: LbListener | None = None
        if self._certificate_arn:
            self.https_listener = LbListener(
                self,
                "https",
                load_balancer_arn=self.lb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=self._certificate_arn,
                default_action=[forward],
            )
            http_action = LbListenerDefaultAction(
                type="redirect", redirect={"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}
            )
        else:
            http_action = forward
        self.http_listener = LbListener(
            self, "http", load_balancer_arn=self.lb.arn, port=80, protocol="HTTP", default_action=[http_action]
        )
        # A target group is "associated with a load balancer" only once a listener forwards to it.
        # With HTTPS that is the HTTPS listener, which waits for the certificate's validation.
        self.forwarding_listener: LbListener = self.https_listener or self.http_listener

    def metric(self, name: str, *, per_target_group: bool = False) -> Metric:
        """An ``AWS/ApplicationELB`` metric of this ALB (or of its target group)."""
        dimensions = [("LoadBalancer", self.arn_suffix)]
        if per_target_group:
            dimensions.append(("TargetGroup", self.target_group_arn_suffix))
        return Metric("AWS/ApplicationELB", name, tuple(dimensions))

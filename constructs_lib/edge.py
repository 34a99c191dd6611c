"""WAFv2 web ACL on the ALB: managed rule groups, rate limit, optional geo-blocking, logging."""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.wafv2_web_acl import Wafv2WebAcl, Wafv2WebAclRule
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
)
from constructs import Construct

from constructs_lib.context import PlatformContext
from constructs_lib.load_balancer import LoadBalancer
from constructs_lib.logs import EncryptedLogGroup
from constructs_lib.metrics import Metric
from constructs_lib.settings import EdgeSettings

#: (rule name, vendor rule group), evaluated in this order after the custom rules.
#: https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-list.html
MANAGED_RULE_GROUPS = (
    ("aws-ip-reputation", "AWSManagedRulesAmazonIpReputationList"),
    ("aws-anonymous-ip", "AWSManagedRulesAnonymousIpList"),
    ("aws-common", "AWSManagedRulesCommonRuleSet"),
    ("aws-known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet"),
)
#: Rules of a managed group that only count instead of blocking. Blocking every
#: cloud-hosted client (HostingProviderIPList) would also block legitimate
#: API clients and uptime checkers; counting keeps the signal in the metrics.
COUNT_ONLY_RULES = {"AWSManagedRulesAnonymousIpList": ("HostingProviderIPList",)}
#: Headers that carry credentials; never written to WAF logs.
REDACTED_HEADERS = ("authorization", "cookie")


def _visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def managed_group(group: str) -> dict[str, Any]:
    statement: dict[str, Any] = {"vendor_name": "AWS", "name": group}
    overrides = COUNT_ONLY_RULES.get(group, ())
    if overrides:
        statement["rule_action_override"] = [{"name": rule, "action_to_use": {"count": {}}} for rule in overrides]
    return statement


def waf_rules(settings: EdgeSettings, metric_prefix: str) -> list[Wafv2WebAclRule]:
    """Rules with unique, gapped priorities (room to insert rules later)."""
    rules: list[Wafv2WebAclRule] = []
    if settings.geo_blocking_enabled and settings.blocked_countries:
        rules.append(
            Wafv2WebAclRule(
                name="geo-block",
                priority=0,
                action={"block": {}},
                # ``statement`` is untyped in the bindings: Terraform's snake_case keys.
                statement={"geo_match_statement": {"country_codes": list(settings.blocked_countries)}},
                visibility_config=_visibility(f"{metric_prefix}-geo-block"),
            )
        )
    rules.append(
        Wafv2WebAclRule(
            name="rate-limit",
            priority=10,
            action={"block": {}},
            statement={
                "rate_based_statement": {
                    "limit": settings.waf_rate_limit,
                    "aggregate_key_type": "IP",
                    "evaluation_window_sec": 300,
                }
            },
            visibility_config=_visibility(f"{metric_prefix}-rate-limit"),
        )
    )
    for i, (name, group) in enumerate(MANAGED_RULE_GROUPS):
        rules.append(
            Wafv2WebAclRule(
                name=name,
                priority=20 + 10 * i,
                override_action={"none": {}},
                statement={"managed_rule_group_statement": managed_group(group)},
                visibility_config=_visibility(f"{metric_prefix}-{name}"),
            )
        )
    return rules


class Edge(Construct):
    """Attributes: web_acl, log_group."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PlatformContext,
        settings: EdgeSettings,
        load_balancer: LoadBalancer,
    ) -> None:
        super().__init__(scope, id)
        self._region = ctx.aws.region
        name = ctx.naming.name("waf")
        #: What CloudWatch files the web ACL's metrics under (its WebACL dimension): the
        #: visibility config's metric name, which is not necessarily the ACL's name.
        self.metric_name = name
        self.web_acl = Wafv2WebAcl(
            self,
            "this",
            name=name,
            description="Managed rules, per-IP rate limit and optional geo-blocking in front of the ALB",
            scope="REGIONAL",
            default_action={"allow": {}},
            rule=waf_rules(settings, name),
            visibility_config=_visibility(self.metric_name),
        )
        Wafv2WebAclAssociation(self, "alb", resource_arn=load_balancer.lb.arn, web_acl_arn=self.web_acl.arn)
        self.log_group = EncryptedLogGroup(self, "log-group", ctx=ctx, name=ctx.naming.waf_log_group)
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(single_header={"name": header})
                for header in REDACTED_HEADERS
            ],
        )

    def metric(self, name: str) -> Metric:
        """An ``AWS/WAFV2`` metric of the web ACL, all rules together."""
        return Metric("AWS/WAFV2", name, (("WebACL", self.metric_name), ("Region", self._region), ("Rule", "ALL")))

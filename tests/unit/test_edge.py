"""ALB listeners and security groups, and the WAF web ACL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.edge import MANAGED_RULE_GROUPS
from constructs_lib.load_balancer import TLS_POLICY
from constructs_lib.settings import ConfigError, Settings
from tests.helpers import PARTITION_TOKEN, make_settings, one, resources, statements

Synth = dict[str, dict[str, Any]]
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0e8a5d3c-2f55-4b6f-9a56-8f3c7f1f7c11"


def rules(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in one(doc, "aws_wafv2_web_acl")["rule"]}


# --- ALB -------------------------------------------------------------------


def test_alb_internet_facing_in_public_subnets(dev: Synth) -> None:
    lb = one(dev["platform"], "aws_lb")
    assert lb["internal"] is False
    assert lb["load_balancer_type"] == "application"
    assert all("network_public-" in s for s in lb["subnets"])
    assert lb["drop_invalid_header_fields"] is True
    assert lb["access_logs"]["enabled"] is True


def test_alb_deletion_protection_only_in_prod(dev: Synth, prod: Synth) -> None:
    assert one(dev["platform"], "aws_lb")["enable_deletion_protection"] is False
    assert one(prod["platform"], "aws_lb")["enable_deletion_protection"] is True


def test_http_listener_forwards_without_certificate(dev: Synth) -> None:
    (listener,) = resources(dev["platform"], "aws_lb_listener").values()
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    assert listener["default_action"][0]["type"] == "forward"


def test_http_redirects_to_tls13_https_with_certificate(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", edge={"certificate_arn": CERT}))["platform"]
    listeners = {lst["port"]: lst for lst in resources(doc, "aws_lb_listener").values()}
    assert listeners[80]["default_action"][0]["type"] == "redirect"
    assert listeners[80]["default_action"][0]["redirect"] == {
        "port": "443",
        "protocol": "HTTPS",
        "status_code": "HTTP_301",
    }
    assert listeners[443]["protocol"] == "HTTPS"
    assert listeners[443]["ssl_policy"] == TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[443]["certificate_arn"] == CERT
    assert listeners[443]["default_action"][0]["type"] == "forward"


def test_prod_serves_https_on_its_domain_with_a_validated_certificate(prod: Synth) -> None:
    """The shipped prod: certificate requested for the domain, validated through the zone's
    record, the listener on the *validated* ARN, HTTP only redirects, the name an alias."""
    doc = prod["platform"]
    zone = doc["data"]["aws_route53_zone"]
    ((zone_key, zone_body),) = zone.items()
    assert zone_body == {"name": "example.com", "private_zone": False}
    cert_key, cert = next(iter(resources(doc, "aws_acm_certificate").items()))
    assert (cert["domain_name"], cert["validation_method"]) == ("app.example.com", "DNS")
    assert cert["lifecycle"] == {"create_before_destroy": True}
    records = resources(doc, "aws_route53_record")
    validation_record = next(r for r in records.values() if "for_each" in r)
    assert validation_record["for_each"] == (
        f"${{{{ for key, val in tolist(aws_acm_certificate.{cert_key}.domain_validation_options): "
        "val.domain_name => val }}"
    )
    assert validation_record["zone_id"] == f"${{data.aws_route53_zone.{zone_key}.zone_id}}"
    assert validation_record["type"] == "${each.value.resource_record_type}"
    validation_key, validation = next(iter(resources(doc, "aws_acm_certificate_validation").items()))
    assert validation["certificate_arn"] == f"${{aws_acm_certificate.{cert_key}.arn}}"
    assert "aws_route53_record." in validation["validation_record_fqdns"]
    listeners = {lst["port"]: lst for lst in resources(doc, "aws_lb_listener").values()}
    assert set(listeners) == {80, 443}
    # The listener takes the ARN from the validation: it is created only once ACM issued it.
    assert listeners[443]["certificate_arn"] == f"${{aws_acm_certificate_validation.{validation_key}.certificate_arn}}"
    assert listeners[443]["ssl_policy"] == TLS_POLICY
    assert listeners[443]["default_action"][0]["type"] == "forward"
    assert [a["type"] for a in listeners[80]["default_action"]] == ["redirect"]  # no plain-HTTP forward
    (alias,) = [r for r in records.values() if "alias" in r]
    assert (alias["name"], alias["type"]) == ("app.example.com", "A")
    assert alias["alias"]["name"].startswith("${aws_lb.load-balancer_this_")
    assert alias["alias"]["zone_id"].endswith(".zone_id}")
    assert alias["alias"]["evaluate_target_health"] is True
    ports = {r["from_port"] for r in resources(doc, "aws_vpc_security_group_ingress_rule").values() if "cidr_ipv4" in r}
    assert ports == {80, 443}
    assert doc["output"]["service_url"]["value"] == "https://app.example.com"


def test_a_brought_certificate_is_used_and_none_requested(synth: Callable[[Settings], Synth]) -> None:
    edge = {"certificate_arn": CERT, "domain_name": "web.example.org", "hosted_zone": "example.org"}
    doc = synth(make_settings("dev", edge=edge))["platform"]
    assert resources(doc, "aws_acm_certificate") == {}
    listeners = {lst["port"]: lst for lst in resources(doc, "aws_lb_listener").values()}
    assert listeners[443]["certificate_arn"] == CERT
    (alias,) = resources(doc, "aws_route53_record").values()
    assert alias["name"] == "web.example.org"


def refusal(**edge: Any) -> str:
    with pytest.raises(ConfigError) as info:
        make_settings("prod", edge={"domain_name": None, "hosted_zone": None, **edge})
    (problem,) = info.value.problems
    return problem


def test_prod_without_https_refused_naming_both_fields() -> None:
    problem = refusal()
    assert problem.startswith("edge.domain_name = None: ")
    assert "edge.certificate_arn" in problem
    assert "edge.allow_plain_http = true" in problem


def test_prod_plain_http_only_by_explicit_opt_out(synth: Callable[[Settings], Synth]) -> None:
    settings = make_settings("prod", edge={"domain_name": None, "hosted_zone": None, "allow_plain_http": True})
    doc = synth(settings)["platform"]
    (listener,) = resources(doc, "aws_lb_listener").values()
    assert listener["protocol"] == "HTTP"
    assert doc["output"]["service_url"]["value"].startswith("http://${aws_lb.")


@pytest.mark.parametrize(
    ("edge", "expected"),
    [
        ({"domain_name": "app.example.com", "hosted_zone": None}, "must be set together"),
        ({"domain_name": "app.example.com", "hosted_zone": "example.org"}, "is not in hosted_zone example.org"),
        ({"domain_name": "*.example.com", "hosted_zone": "example.com"}, "must be a DNS name"),
        ({"domain_name": "-bad.example.com", "hosted_zone": "example.com"}, "must be a DNS name"),
        ({"domain_name": "localhost", "hosted_zone": "localhost"}, "must be a DNS name"),
    ],
)
def test_bad_domain_settings_refused(edge: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", edge=edge)
    assert any(expected in p and p.startswith("edge") for p in info.value.problems), info.value.problems


def test_domain_names_normalised() -> None:
    edge = make_settings("dev", edge={"domain_name": "App.Example.COM.", "hosted_zone": "example.com"}).edge
    assert (edge.domain_name, edge.hosted_zone) == ("app.example.com", "example.com")


def test_target_group_ip_with_health_check_path(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", edge={"health_check_path": "/healthz"}))["platform"]
    tg = one(doc, "aws_lb_target_group")
    assert tg["target_type"] == "ip"
    assert tg["port"] == 8080
    assert tg["health_check"]["path"] == "/healthz"


def test_alb_ingress_only_from_allowed_cidrs(synth: Callable[[Settings], Synth]) -> None:
    s = make_settings("dev", edge={"allowed_ingress_cidrs": ["203.0.113.0/24", "198.51.100.0/24"]})
    ingress = resources(synth(s)["platform"], "aws_vpc_security_group_ingress_rule").values()
    (from_internet,) = [r for r in ingress if "cidr_ipv4" in r]
    assert from_internet["for_each"] == '${toset(["203.0.113.0/24", "198.51.100.0/24"])}'
    assert from_internet["cidr_ipv4"] == "${each.value}"
    assert from_internet["from_port"] == 80


def test_alb_sends_only_to_service_on_container_port(dev: Synth) -> None:
    egress = resources(dev["platform"], "aws_vpc_security_group_egress_rule")
    alb_out = [r for r in egress.values() if "load-balancer_alb-sg" in r["security_group_id"]]
    assert len(alb_out) == 1
    assert (alb_out[0]["from_port"], alb_out[0]["to_port"]) == (8080, 8080)
    assert "load-balancer_service-sg" in alb_out[0]["referenced_security_group_id"]
    assert "cidr_ipv4" not in alb_out[0]


def test_invalid_ingress_cidr_refused() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", edge={"allowed_ingress_cidrs": ["10.0.0.1/8"]})
    assert "edge.allowed_ingress_cidrs" in info.value.problems[0]


def test_access_log_bucket_sse_s3_and_elb_delivery_principal(dev: Synth) -> None:
    doc = dev["platform"]
    bucket_key = next(
        k
        for k, b in resources(doc, "aws_s3_bucket").items()
        if b["bucket"] == "cicd-alb-logs-dev-123456789012-us-east-1"
    )
    sse = next(
        s
        for s in resources(doc, "aws_s3_bucket_server_side_encryption_configuration").values()
        if bucket_key in s["bucket"]
    )
    assert sse["rule"][0]["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    policy = next(p for p in resources(doc, "aws_s3_bucket_policy").values() if bucket_key in p["bucket"])
    stmt = statements(policy["policy"])["AllowElbLogDelivery"]
    assert stmt["Principal"] == {"AWS": f"arn:{PARTITION_TOKEN}:iam::127311923021:root"}
    assert stmt["Action"] == "s3:PutObject"


def test_access_log_delivery_uses_service_principal_in_newer_regions(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", region="ap-southeast-4"))["platform"]
    policy = next(p for p in resources(doc, "aws_s3_bucket_policy").values() if "AllowElbLogDelivery" in p["policy"])
    stmt = statements(policy["policy"])["AllowElbLogDelivery"]
    assert stmt["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}


# --- WAF -------------------------------------------------------------------


def test_waf_managed_groups_and_rate_limit(dev: Synth) -> None:
    found = rules(dev["platform"])
    for name, group in MANAGED_RULE_GROUPS:
        statement = found[name]["statement"]["managed_rule_group_statement"]
        assert (statement["vendor_name"], statement["name"]) == ("AWS", group)
        assert found[name]["override_action"] == {"none": {}}
    anonymous = found["aws-anonymous-ip"]["statement"]["managed_rule_group_statement"]
    assert anonymous["rule_action_override"] == [{"name": "HostingProviderIPList", "action_to_use": {"count": {}}}]
    assert "rule_action_override" not in found["aws-common"]["statement"]["managed_rule_group_statement"]
    rate = found["rate-limit"]
    assert rate["statement"]["rate_based_statement"]["limit"] == 2000
    assert rate["statement"]["rate_based_statement"]["aggregate_key_type"] == "IP"
    assert rate["action"] == {"block": {}}
    assert {g for _, g in MANAGED_RULE_GROUPS} == {
        "AWSManagedRulesAnonymousIpList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }


def test_waf_is_regional_and_associated_with_the_alb(dev: Synth) -> None:
    doc = dev["platform"]
    assert one(doc, "aws_wafv2_web_acl")["scope"] == "REGIONAL"
    assoc = one(doc, "aws_wafv2_web_acl_association")
    assert assoc["resource_arn"].startswith("${aws_lb.load-balancer_")


def test_geo_rule_off_by_default(dev: Synth) -> None:
    assert "geo-block" not in rules(dev["platform"])


def test_geo_rule_on_in_prod(prod: Synth) -> None:
    geo = rules(prod["platform"])["geo-block"]
    assert geo["statement"]["geo_match_statement"]["country_codes"] == ["CU", "IR", "KP", "SY"]
    assert geo["action"] == {"block": {}}
    assert geo["priority"] == 0


def test_geo_enabled_with_empty_list_refused() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", edge={"geo_blocking_enabled": True, "blocked_countries": []})
    assert info.value.problems[0].startswith("edge = ")
    assert "blocked_countries is empty" in info.value.problems[0]


def test_country_codes_lower_case_normalised() -> None:
    s = make_settings("dev", edge={"geo_blocking_enabled": True, "blocked_countries": ["kp", "Ir", "KP"]})
    assert s.edge.blocked_countries == ["IR", "KP"]


def test_each_invalid_country_code_listed() -> None:
    with pytest.raises(ConfigError) as info:
        make_settings("dev", edge={"geo_blocking_enabled": True, "blocked_countries": ["XX", "UK", "DE", "ZZ"]})
    problem = info.value.problems[0]
    assert problem.startswith("edge.blocked_countries = ")
    assert "not ISO 3166-1 alpha-2 country codes: XX, UK, ZZ" in problem
    assert "the United Kingdom is GB" in problem


def test_countries_listed_but_geo_disabled_creates_no_rule(synth: Callable[[Settings], Synth]) -> None:
    doc = synth(make_settings("dev", edge={"geo_blocking_enabled": False, "blocked_countries": ["KP"]}))["platform"]
    assert "geo-block" not in rules(doc)


def test_rule_priorities_unique(prod: Synth) -> None:
    priorities = [r["priority"] for r in rules(prod["platform"]).values()]
    assert len(priorities) == len(set(priorities)) == 6


def test_metrics_and_sampling_on_every_rule_and_acl(prod: Synth) -> None:
    acl = one(prod["platform"], "aws_wafv2_web_acl")
    for cfg in [acl["visibility_config"], *(r["visibility_config"] for r in acl["rule"])]:
        assert cfg["cloudwatch_metrics_enabled"] is True
        assert cfg["sampled_requests_enabled"] is True
    names = [r["visibility_config"]["metric_name"] for r in acl["rule"]]
    assert len(set(names)) == len(names)


def test_waf_logging_redacts_credentials_to_prefixed_encrypted_group(dev: Synth) -> None:
    doc = dev["platform"]
    logging = one(doc, "aws_wafv2_web_acl_logging_configuration")
    assert logging["redacted_fields"] == [
        {"single_header": {"name": "authorization"}},
        {"single_header": {"name": "cookie"}},
    ]
    group = next(
        g for g in resources(doc, "aws_cloudwatch_log_group").values() if g["name"].startswith("aws-waf-logs-")
    )
    assert group["name"] == "aws-waf-logs-cicd-dev"
    assert group["kms_key_id"].startswith("${aws_kms_key.key_")

"""The arguments whose change replaces a live resource stay what deployed environments hold.

terraform replaces a resource when an argument the provider marks "Forces new resource" changes:
a security group's description, a bucket's name, a table's key, a load balancer's scheme. The
plan says "must be replaced", but a reviewer reading a plan of 200 resources can miss it, and the
replacement is an outage (a security group is deleted with every interface in it) or lost data.
``tests/fixtures/replacing.json`` pins those arguments for dev and prod as deployed today; change
it only with the change that means to replace the resource (``python -m
tests.unit.test_replacing_attributes`` writes it from the current code).

The snapshots in ``tests/snapshot`` pin whole documents; this is the fast test that names what a
changed value costs, and the one mutation testing runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

#: Per type, the arguments terraform-provider-aws documents as "Forces new resource" (or that
#: AWS cannot change in place), for the types the stacks hold.
REPLACING: dict[str, tuple[str, ...]] = {
    "aws_vpc": ("cidr_block",),
    "aws_subnet": ("vpc_id", "cidr_block", "availability_zone"),
    "aws_route_table": ("vpc_id",),
    "aws_security_group": ("name", "description", "vpc_id"),
    "aws_vpc_security_group_egress_rule": ("security_group_id",),
    "aws_vpc_security_group_ingress_rule": ("security_group_id",),
    "aws_eip": ("domain",),
    "aws_nat_gateway": ("allocation_id", "subnet_id", "connectivity_type"),
    "aws_vpc_endpoint": ("vpc_id", "service_name", "vpc_endpoint_type"),
    "aws_flow_log": ("vpc_id", "traffic_type", "log_destination_type", "log_destination", "log_format"),
    "aws_s3_bucket": ("bucket", "object_lock_enabled"),
    "aws_dynamodb_table": ("name", "hash_key", "range_key"),
    "aws_ecr_repository": ("name", "encryption_configuration"),
    "aws_kms_key": ("key_usage", "customer_master_key_spec", "multi_region"),
    "aws_kms_alias": ("name",),
    "aws_cloudwatch_log_group": ("name",),
    "aws_cloudwatch_log_metric_filter": ("name", "log_group_name"),
    "aws_secretsmanager_secret": ("name",),
    "aws_sns_topic": ("name", "fifo_topic"),
    "aws_sqs_queue": ("name", "fifo_queue"),
    "aws_ecs_cluster": ("name",),
    "aws_ecs_service": ("name", "cluster", "launch_type"),
    "aws_lb": ("name", "internal", "load_balancer_type"),
    "aws_lb_target_group": ("name", "port", "protocol", "target_type", "vpc_id"),
    "aws_lambda_function": ("function_name",),
    "aws_iam_role": ("name", "path"),
    "aws_iam_policy": ("name", "path", "description"),
    "aws_codebuild_project": ("name",),
    "aws_codepipeline": ("name",),
    "aws_cloudwatch_event_rule": ("name", "event_bus_name"),
    "aws_cloudwatch_metric_alarm": ("alarm_name",),
    "aws_wafv2_web_acl": ("name", "scope"),
    "aws_acm_certificate": ("domain_name", "key_algorithm"),
    "aws_xray_sampling_rule": ("rule_name",),
}
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "replacing.json"


def replacing(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"<type>.<name>": {argument: value or None}}`` for every resource of a REPLACING type."""
    return {
        f"{rtype}.{name}": {arg: body.get(arg) for arg in REPLACING[rtype]}
        for rtype, found in sorted(doc.get("resource", {}).items())
        if rtype in REPLACING
        for name, body in sorted(found.items())
    }


def current(docs: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    return {env: {stack: replacing(doc) for stack, doc in sorted(stacks.items())} for env, stacks in docs.items()}


def test_no_argument_that_replaces_a_live_resource_changes(
    dev: dict[str, dict[str, Any]], prod: dict[str, dict[str, Any]]
) -> None:
    expected = json.loads(FIXTURE.read_text())
    found = current({"dev": dev, "prod": prod})
    for env in ("dev", "prod"):
        for stack, resources in expected[env].items():
            # A resource that is gone is test_stateful_addresses' to report; a changed one is this test's.
            now = found[env][stack]
            changed = {
                address: {
                    arg: (was, now[address].get(arg)) for arg, was in args.items() if now[address].get(arg) != was
                }
                for address, args in resources.items()
                if address in now and now[address] != args
            }
            assert changed == {}, f"{env} {stack}: arguments that replace the resource changed (was, now): {changed}"


def test_every_replacing_type_the_stacks_hold_is_pinned(
    dev: dict[str, dict[str, Any]], prod: dict[str, dict[str, Any]]
) -> None:
    expected = json.loads(FIXTURE.read_text())
    pinned = {a.split(".")[0] for env in expected.values() for stack in env.values() for a in stack}
    held = {t for docs in (dev, prod) for doc in docs.values() for t in doc.get("resource", {}) if t in REPLACING}
    assert held == pinned == set(REPLACING)


if __name__ == "__main__":  # pragma: no cover - writes the fixture from the current code
    from tests.conftest import _synth
    from tests.helpers import make_settings

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build/replacing-synth")
    for env in ("dev", "prod"):
        (out / env).mkdir(parents=True, exist_ok=True)
    docs = {env: _synth(make_settings(env), out / env) for env in ("dev", "prod")}
    FIXTURE.write_text(json.dumps(current(docs), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE}")

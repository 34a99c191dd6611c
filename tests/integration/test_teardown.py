"""Runs last: ``destroy`` leaves nothing behind, enumerated with boto3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import Deployment

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]


def test_destroy_leaves_nothing_behind(deployment: Deployment, aws: Aws) -> None:
    proc = deployment.cli("destroy", "--keep-emulator")
    assert "platform-it: destroyed" in proc.stdout
    assert "state-backend-it: destroyed" in proc.stdout

    leftovers: dict[str, list[Any]] = {
        "s3 buckets": [b["Name"] for b in aws("s3").list_buckets()["Buckets"]],
        "vpcs": [v["VpcId"] for v in aws("ec2").describe_vpcs()["Vpcs"] if not v.get("IsDefault")],
        "elastic ips": aws("ec2").describe_addresses()["Addresses"],
        "load balancers": aws("elbv2").describe_load_balancers()["LoadBalancers"],
        "target groups": aws("elbv2").describe_target_groups()["TargetGroups"],
        # A deleted cluster stays visible as INACTIVE for a while, as on AWS.
        "ecs clusters": [
            c["clusterArn"]
            for c in aws("ecs").describe_clusters(clusters=aws("ecs").list_clusters()["clusterArns"] or ["none"])[
                "clusters"
            ]
            if c["status"] == "ACTIVE"
        ],
        "ecr repositories": aws("ecr").describe_repositories()["repositories"],
        "lambda functions": aws("lambda").list_functions()["Functions"],
        "codebuild projects": aws("codebuild").list_projects()["projects"],
        "pipelines": aws("codepipeline").list_pipelines()["pipelines"],
        "log groups": [g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]],
        "alarms": aws("cloudwatch").describe_alarms()["MetricAlarms"],
        "dashboards": aws("cloudwatch").list_dashboards()["DashboardEntries"],
        "event rules": aws("events").list_rules()["Rules"],
        "topics": aws("sns").list_topics()["Topics"],
        "queues": aws("sqs").list_queues().get("QueueUrls", []),
        "tables": aws("dynamodb").list_tables()["TableNames"],
        "secrets": aws("secretsmanager").list_secrets()["SecretList"],
        "web acls": aws("wafv2").list_web_acls(Scope="REGIONAL")["WebACLs"],
        "sampling rules": aws("xray").get_sampling_rules()["SamplingRuleRecords"],
        "iam roles": [r["RoleName"] for r in aws("iam").list_roles()["Roles"] if r["RoleName"].startswith("cicd-")],
        "kms aliases": [a["AliasName"] for a in aws("kms").list_aliases()["Aliases"] if "cicd" in a["AliasName"]],
    }
    assert {k: v for k, v in leftovers.items() if v} == {}

    # Customer-managed keys cannot be deleted at once: they must be scheduled for
    # deletion. AWS-managed keys (aws/...) belong to AWS and are not ours to delete.
    # (moto, like AWS, creates alias/aws/dynamodb on its own and keeps it.)
    kms = aws("kms")
    aws_managed = {a["TargetKeyId"] for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith("alias/aws/")}
    keys = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]]
    ours = {k["KeyId"]: k["KeyState"] for k in keys if k["KeyManager"] == "CUSTOMER" and k["KeyId"] not in aws_managed}
    assert len(ours) >= 2, keys  # the platform key and the state key
    assert set(ours.values()) == {"PendingDeletion"}, keys

"""Deploy the platform once per test session into its own emulator, with the
real CLI (``python -m tools.deploy``), and hand tests the outputs and clients.

The session uses a private workspace (emulator, cdktf.out, bootstrap state,
outputs) under pytest's temp dir, so it never touches a developer's own local
deployment. The configuration is tests/integration/it.toml: dev-like, with
geo-blocking on so the conditional WAF rule is deployed and checked too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_aws import CLIENT_CREDENTIALS, CREDENTIALS_ENV, call_log
from tests.helpers import ROOT
from tools.terraform import GO_GC_TARGET, terraform_env

CONFIG = Path(__file__).resolve().parent / "it.toml"
ENVIRONMENT = "it"
REGION = "us-east-1"

pytestmark = pytest.mark.integration


@dataclass
class Deployment:
    workspace: Path
    outputs: dict[str, Any]
    endpoint: str
    log: str
    #: The settings file every verb of this deployment uses.
    config: Path = CONFIG

    def client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            **CLIENT_CREDENTIALS,
        )

    def cli(
        self, verb: str, *extra: str, check: bool = True, timeout: int = 600, cwd: Path = ROOT
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(self.workspace, verb, *extra, check=check, timeout=timeout, cwd=cwd, config=self.config)

    def stack_dir(self, kind: str = "platform") -> Path:
        return self.workspace / "cdktf.out" / "stacks" / f"{kind}-{ENVIRONMENT}"


#: Cross-region replication as prod ships it. Only the upgrade group's deployment turns it on
#: (tests/integration/test_recovery.py): every terraform run of a replicated stack starts a
#: second provider and refreshes its replica's resources, which the other groups do not need.
REPLICATION = '\n[recovery]\nreplicate = true\nreplica_region = "us-west-2"\n'


def replicated_config(folder: Path) -> Path:
    """The integration settings with cross-region replication on, written into ``folder``."""
    path = folder / "it-replicated.toml"
    path.write_text(CONFIG.read_text() + REPLICATION)
    return path


#: What the operator changes before destroying a protected environment whose protected buckets
#: hold objects (README: Destroying safely): protection off in the settings, then deploy.
UNPROTECTED = ("alb_deletion_protection = true", "alb_deletion_protection = false")


def unprotected_config(folder: Path) -> Path:
    """The integration settings with the ALB's deletion protection (and its log bucket's
    keep-unless-empty) turned off, written into ``folder``."""
    path = folder / "it-unprotected.toml"
    text = CONFIG.read_text()
    assert UNPROTECTED[0] in text, f"{CONFIG} no longer turns protection on as {UNPROTECTED[0]!r}"
    path.write_text(text.replace(*UNPROTECTED))
    return path


def deploy_command(workspace: Path, verb: str, *extra: str, config: Path = CONFIG) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tools.deploy",
        verb,
        "--environment",
        ENVIRONMENT,
        "--target",
        "local",
        "--config",
        str(config),
        "--work-dir",
        str(workspace),
        *extra,
    ]


#: Under each workspace: the emulator's record of every call, and which verb made which.
CALL_LOG = "calls.jsonl"
CALL_WINDOWS = "call-windows.jsonl"


def flush_calls(workspace: Path) -> None:
    """Wait for the workspace's emulator (if one runs) to write every call it answered."""
    port = workspace / "emulator" / "port"
    if port.exists():
        call_log.flush(f"http://127.0.0.1:{port.read_text().strip()}")


def cli_env() -> dict[str, str]:
    """The deploy tool's environment: ours, without coverage's subprocess hook.

    The tool starts the emulator, which would inherit the hook and serve every API
    call under coverage's tracer (1.4-2x slower per call, measured side by side)
    while running none of the measured code; what the tool itself runs (synthesis)
    is measured in-process by the unit tests.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("COVERAGE_")}
    # The last release's tools (tests/integration/upgrade.py) predate GO_GC_TARGET; their
    # terraform gets the same setting as ours.
    env.setdefault("GOGC", GO_GC_TARGET)
    return env


def emulator_terraform_env(endpoint: str) -> dict[str, str]:
    """For terraform run by hand in a stack folder of a deployment: the mirror discovery of
    every verb, the emulator's credentials and its URL (the local provider has no endpoints
    block: constructs_lib/stacks/target.py)."""
    return dict(terraform_env(), **CREDENTIALS_ENV, AWS_ENDPOINT_URL=endpoint)


def run_cli(
    workspace: Path,
    verb: str,
    *extra: str,
    check: bool = True,
    timeout: int = 600,
    config: Path = CONFIG,
    cwd: Path = ROOT,
) -> subprocess.CompletedProcess[str]:
    calls = workspace / CALL_LOG
    flush_calls(workspace)  # the tests' own calls so far are written before this verb's start
    start = calls.stat().st_size if calls.exists() else 0
    proc = subprocess.run(
        deploy_command(workspace, verb, *extra, config=config),
        cwd=cwd,
        # The emulator this workspace starts records every call (tests/integration/least_privilege.py).
        env=dict(cli_env(), PYTHONPATH=str(ROOT), LOCAL_AWS_CALL_LOG=str(calls)),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    # Which calls this verb made: the bytes it added to the log (a group's verbs run one at a time).
    flush_calls(workspace)  # every call of this verb is written before its window closes
    with (workspace / CALL_WINDOWS).open("a") as windows:
        end = calls.stat().st_size if calls.exists() else 0
        windows.write(json.dumps({"verb": verb, "start": start, "end": end, "code": proc.returncode}) + "\n")
    if check:
        assert proc.returncode == 0, f"{verb} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Any:
    workspace = tmp_path_factory.mktemp("deploy")
    proc = run_cli(workspace, "deploy")
    outputs = json.loads((workspace / "cfn-outputs" / "flat-outputs.json").read_text())
    endpoint = (workspace / "emulator" / "port").read_text().strip()
    yield Deployment(workspace, outputs, f"http://127.0.0.1:{endpoint}", proc.stdout)
    # Whatever the tests did, never leave an emulator running.
    from local_aws.server import stop

    stop(workspace / "emulator")


@pytest.fixture(scope="session")
def aws(deployment: Deployment) -> Callable[[str], Any]:
    return deployment.client


def inventory(aws: Callable[[str], Any]) -> dict[str, list[Any]]:
    """Everything a deployment can leave in the emulator, by kind (for before/after checks)."""
    return {
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
        # CI's access: the boundary and the roles' policies, and the account's GitHub provider.
        "iam policies": [
            p["PolicyName"]
            for p in aws("iam").list_policies(Scope="Local")["Policies"]
            if p["PolicyName"].startswith("cicd-")
        ],
        "oidc providers": aws("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"],
        "kms aliases": [a["AliasName"] for a in aws("kms").list_aliases()["Aliases"] if "cicd" in a["AliasName"]],
        "enabled keys of ours": [k["KeyId"] for k in our_enabled_keys(aws)],
        "ecr pull-through cache rules": aws("ecr").describe_pull_through_cache_rules()["pullThroughCacheRules"],
        "acm certificates": aws("acm").list_certificates()["CertificateSummaryList"],
        # The hosted zone is the account's (a prerequisite, never the platform's); its records are ours.
        "dns records": [
            r["Name"]
            for z in aws("route53").list_hosted_zones()["HostedZones"]
            for r in aws("route53").list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"]
            if r["Type"] not in ("NS", "SOA")
        ],
    }


def our_enabled_keys(aws: Callable[[str], Any]) -> list[dict[str, Any]]:
    """Enabled customer-managed keys, without AWS-managed ones (alias/aws/...), which
    moto, like AWS, creates on its own (moto even reports alias/aws/dynamodb as CUSTOMER)."""
    kms = aws("kms")
    aws_managed = {
        a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith("alias/aws/")
    }
    metas = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]]
    return [
        m
        for m in metas
        if m["KeyManager"] == "CUSTOMER" and m["KeyState"] == "Enabled" and m["KeyId"] not in aws_managed
    ]


@pytest.fixture(scope="session")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The last release deployed, then upgraded to this code (tests/integration/upgrade.py)."""
    from tests.integration.upgrade import upgrade_last_release

    yield from upgrade_last_release(tmp_path_factory)

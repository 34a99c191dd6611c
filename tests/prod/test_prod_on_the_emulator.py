"""The shipped prod settings (config/prod.toml), deployed to a fresh emulator exactly as `make
deploy ENVIRONMENT=prod` does, then read back with boto3: HTTPS on the validated certificate,
every bucket replicated, the functions in the VPC with their reservations, pinned zone IDs; a
second deploy changes nothing, and the documented recovery plans no changes against the replica.

Not part of `make test` (a prod deployment costs minutes of CI time the integration groups
already spend on the same code paths with the dev-like settings): `make test-prod` runs it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_aws import CLIENT_CREDENTIALS
from tests.helpers import ROOT
from tests.integration.conftest import cli_env

pytestmark = pytest.mark.prod_emulator
REGION, REPLICA_REGION, ACCOUNT = "us-east-1", "us-west-2", "123456789012"
Aws = Callable[..., Any]


def cli(workspace: Path, verb: str, *extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "tools.deploy", verb, "--environment", "prod", "--target", "local",
         "--work-dir", str(workspace), *extra],
        cwd=ROOT, env=dict(cli_env(), PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert proc.returncode == 0, f"{verb}: {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Aws, str]]:
    workspace = tmp_path_factory.mktemp("prod")
    first = cli(workspace, "deploy")
    endpoint = f"http://127.0.0.1:{(workspace / 'emulator' / 'port').read_text().strip()}"

    def aws(service: str, region: str = REGION) -> Any:
        return boto3.client(service, endpoint_url=endpoint, region_name=region, **CLIENT_CREDENTIALS)

    try:
        yield workspace, aws, first.stdout
    finally:
        from local_aws.server import stop

        stop(workspace / "emulator")


def test_a_second_deploy_of_prod_changes_nothing(deployed: tuple[Path, Aws, str]) -> None:
    workspace, _, _ = deployed
    again = cli(workspace, "deploy").stdout
    assert "state-backend-prod: 0 added, 0 changed, 0 destroyed" in again
    assert "platform-prod: 0 added, 0 changed, 0 destroyed" in again


def test_prod_serves_https_on_the_validated_certificate(deployed: tuple[Path, Aws, str]) -> None:
    _, aws, _ = deployed
    elbv2 = aws("elbv2")
    (lb,) = [b for b in elbv2.describe_load_balancers()["LoadBalancers"] if b["LoadBalancerName"] == "cicd-alb-prod"]
    listeners = {li["Port"]: li for li in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]}
    assert listeners[443]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    (certificate,) = listeners[443]["Certificates"]
    assert aws("acm").describe_certificate(CertificateArn=certificate["CertificateArn"])["Certificate"]["Status"] == (
        "ISSUED"
    )
    assert listeners[80]["DefaultActions"][0]["Type"] == "redirect"


def test_every_prod_bucket_replicates_to_the_replica_region(deployed: tuple[Path, Aws, str]) -> None:
    _, aws, _ = deployed
    s3 = aws("s3")
    for component in ("tfstate", "tfstate-logs", "artifacts", "alb-logs", "source"):
        source = f"cicd-{component}-prod-{ACCOUNT}-{REGION}"
        (rule,) = s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"]
        assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::cicd-{component}-prod-{ACCOUNT}-{REPLICA_REGION}"
        assert rule["Status"] == "Enabled"


def test_prod_functions_run_in_the_private_subnets_of_the_pinned_zones(deployed: tuple[Path, Aws, str]) -> None:
    _, aws, _ = deployed
    ec2, lam = aws("ec2"), aws("lambda")
    private = ec2.describe_subnets(Filters=[{"Name": "tag:tier", "Values": ["private"]}])["Subnets"]
    assert sorted(s["AvailabilityZoneId"] for s in private) == ["use1-az1", "use1-az2", "use1-az6"]
    for name, reserved in (("cicd-orchestrator-prod", 5), ("cicd-mirror-prod", 2)):
        function = lam.get_function(FunctionName=name)
        assert sorted(function["Configuration"]["VpcConfig"]["SubnetIds"]) == sorted(s["SubnetId"] for s in private)
        assert function["Concurrency"] == {"ReservedConcurrentExecutions": reserved}


def test_the_documented_recovery_plans_no_changes_against_the_replica(deployed: tuple[Path, Aws, str]) -> None:
    workspace, aws, _ = deployed
    source, replica = (f"cicd-tfstate-prod-{ACCOUNT}-{region}" for region in (REGION, REPLICA_REGION))
    for key in ("cicd/prod/state-backend.tfstate", "cicd/prod/terraform.tfstate"):
        primary = json.loads(aws("s3").get_object(Bucket=source, Key=key)["Body"].read())
        copy = json.loads(aws("s3").get_object(Bucket=replica, Key=key)["Body"].read())
        assert (copy["lineage"], copy["serial"]) == (primary["lineage"], primary["serial"]), key
    out = cli(workspace, "recover").stdout
    for stack in ("state-backend-prod", "platform-prod"):
        assert f"{stack}: planned against s3://{replica} ({REPLICA_REGION}): no changes" in out

"""The embedded emulator: process management and every shim, against a real
emulator process on loopback (its own state directory, so it never touches a
deployment's emulator)."""

from __future__ import annotations

import io
import json
import os
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from constructs_lib import policies
from local_aws import CLIENT_CREDENTIALS, server
from local_aws.shims import CODEPIPELINE_LOCATION_MARKER, RetryReplay

REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[server.Emulator, Path]]:
    state = tmp_path_factory.mktemp("emulator")
    emu = server.start(state)
    yield emu, state
    server.stop(state)


@pytest.fixture(scope="module")
def endpoint(emulator: tuple[server.Emulator, Path]) -> str:
    return emulator[0].endpoint


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **CLIENT_CREDENTIALS)


def as_attempt(sdk_client: Any, invocation: str, attempt: int) -> Any:
    """The client's next calls carry one SDK invocation id and attempt number, as a retry does."""

    def headers(request: Any, **_: Any) -> None:
        request.headers["amz-sdk-invocation-id"] = invocation
        request.headers["amz-sdk-request"] = f"attempt={attempt}; max=3"

    sdk_client.meta.events.register("before-send", headers, unique_id="as-attempt")
    return sdk_client


def authorize_https(ec2: Any, group: str) -> str:
    permission = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
    rules = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])["SecurityGroupRules"]
    return str(rules[0]["SecurityGroupRuleId"])


def json_call(endpoint: str, service: str, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A JSON-protocol request shaped like the Go SDK's (terraform's) requests."""
    request = urllib.request.Request(
        endpoint + "/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "X-Amz-Target": target,
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=test/20260101/{REGION}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        if not (text := err.read() or b"{}").lstrip().startswith(b"{"):
            return err.code, {"body": text.decode(errors="replace")[:500]}  # moto's HTML error pages
        return err.code, json.loads(text)


# --- process management -------------------------------------------------------


def test_start_writes_pid_and_port_and_is_healthy(emulator: tuple[server.Emulator, Path]) -> None:
    emu, state = emulator
    assert int((state / "pid").read_text()) == emu.pid
    assert int((state / "port").read_text()) == emu.port
    assert emu.endpoint.startswith("http://127.0.0.1:")
    assert server.healthy(emu.port)


def test_start_again_reuses_the_running_emulator(emulator: tuple[server.Emulator, Path]) -> None:
    emu, state = emulator
    assert server.start(state) == emu
    assert server.running(state) == emu


def test_stop_is_clean_and_idempotent(tmp_path: Path) -> None:
    emu = server.start(tmp_path)
    assert server.stop(tmp_path) is True
    assert not server.healthy(emu.port, timeout=0.5)
    assert not (tmp_path / "pid").exists()
    assert server.running(tmp_path) is None
    assert server.stop(tmp_path) is False


def test_the_emulator_runs_untraced_by_a_coverage_run_but_keeps_the_rest_of_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytest-cov (and ``coverage run``) hand every Python process they start these variables; the
    # emulator runs nothing coverage measures, and traced it costs about 1.6 times the CPU.
    monkeypatch.setenv("COVERAGE_PROCESS_CONFIG", "{}")
    monkeypatch.setenv("COVERAGE_PROCESS_START", str(tmp_path / "none.toml"))
    monkeypatch.setenv("EMULATOR_TEST_MARKER", "kept")
    emu = server.start(tmp_path)
    try:
        environ = dict(
            entry.split("=", 1) for entry in Path(f"/proc/{emu.pid}/environ").read_text().split("\0") if "=" in entry
        )
    finally:
        server.stop(tmp_path)
    assert not set(server.MEASUREMENT_VARIABLES) & set(environ)
    assert environ["EMULATOR_TEST_MARKER"] == "kept"
    assert environ["PATH"] == os.environ["PATH"]


def test_cli_status_reports_not_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "STATE_DIR", tmp_path)
    monkeypatch.setattr(server, "running", lambda state_dir=tmp_path: None)
    assert server.main(["status"]) == 1
    assert "not running" in capsys.readouterr().out


# --- shim 1: X-Ray sampling rules ---------------------------------------------


RULE = {
    "RuleName": "cicd-test",
    "Priority": 1000,
    "FixedRate": 0.1,
    "ReservoirSize": 1,
    "ServiceName": "*",
    "ServiceType": "*",
    "Host": "*",
    "HTTPMethod": "*",
    "URLPath": "*",
    "Version": 1,
    "ResourceARN": "*",
}


def test_xray_sampling_rule_lifecycle(endpoint: str) -> None:
    xray = client(endpoint, "xray")
    created = xray.create_sampling_rule(SamplingRule=RULE, Tags=[{"Key": "env", "Value": "test"}])
    arn = created["SamplingRuleRecord"]["SamplingRule"]["RuleARN"]
    assert arn == f"arn:aws:xray:{REGION}:{ACCOUNT}:sampling-rule/cicd-test"

    rules = {r["SamplingRule"]["RuleName"]: r["SamplingRule"] for r in xray.get_sampling_rules()["SamplingRuleRecords"]}
    assert rules["cicd-test"]["FixedRate"] == 0.1

    xray.update_sampling_rule(SamplingRuleUpdate={"RuleName": "cicd-test", "FixedRate": 0.5})
    rules = {r["SamplingRule"]["RuleName"]: r["SamplingRule"] for r in xray.get_sampling_rules()["SamplingRuleRecords"]}
    assert rules["cicd-test"]["FixedRate"] == 0.5

    assert xray.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "test"}]
    xray.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "platform"}])
    xray.untag_resource(ResourceARN=arn, TagKeys=["env"])
    assert xray.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "platform"}]

    xray.delete_sampling_rule(RuleARN=arn)
    assert all(r["SamplingRule"]["RuleName"] != "cicd-test" for r in xray.get_sampling_rules()["SamplingRuleRecords"])


def test_xray_refuses_incomplete_duplicate_and_unknown(endpoint: str) -> None:
    # Server-side validation is what is tested: turn the client's off.
    xray = boto3.client(
        "xray",
        endpoint_url=endpoint,
        region_name=REGION,
        **CLIENT_CREDENTIALS,
        config=botocore.config.Config(parameter_validation=False),
    )
    incomplete = {**{k: v for k, v in RULE.items() if k != "URLPath"}, "RuleName": "incomplete"}
    with pytest.raises(xray.exceptions.ClientError, match="missing"):
        xray.create_sampling_rule(SamplingRule=incomplete)
    xray.create_sampling_rule(SamplingRule={**RULE, "RuleName": "twice"})
    with pytest.raises(xray.exceptions.ClientError, match="already exists"):
        xray.create_sampling_rule(SamplingRule={**RULE, "RuleName": "twice"})
    with pytest.raises(xray.exceptions.ClientError, match="not found"):
        xray.update_sampling_rule(SamplingRuleUpdate={"RuleName": "nope", "FixedRate": 0.2})
    with pytest.raises(xray.exceptions.ClientError, match="not found"):
        xray.delete_sampling_rule(RuleName="nope")
    with pytest.raises(xray.exceptions.ClientError, match="not found"):
        xray.list_tags_for_resource(ResourceARN="arn:aws:xray:us-east-1:1:sampling-rule/nope")


# --- shims 2 and 3: CodeBuild ---------------------------------------------------


def test_codebuild_codepipeline_project_created_without_location_and_keeps_its_key(endpoint: str) -> None:
    iam = client(endpoint, "iam")
    iam.create_role(RoleName="cb-role", AssumeRolePolicyDocument="{}")
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    status, created = json_call(
        endpoint,
        "codebuild",
        "CodeBuild_20161006.CreateProject",
        {
            "name": "shim-build",
            "source": {"type": "CODEPIPELINE", "buildspec": "version: 0.2"},
            "artifacts": {"type": "CODEPIPELINE"},
            "environment": {"type": "LINUX_CONTAINER", "image": "img", "computeType": "BUILD_GENERAL1_SMALL"},
            "serviceRole": f"arn:aws:iam::{ACCOUNT}:role/cb-role",
            "encryptionKey": key,
        },
    )
    assert status == 200, created
    assert "location" not in created["project"]["source"]
    status, got = json_call(endpoint, "codebuild", "CodeBuild_20161006.BatchGetProjects", {"names": ["shim-build"]})
    project = got["projects"][0]
    assert "location" not in project["source"]
    assert "location" not in project["artifacts"]
    assert project["encryptionKey"] == key
    assert CODEPIPELINE_LOCATION_MARKER not in json.dumps(got)
    # An update (a new buildspec) is applied in place, as AWS does, and read back.
    status, updated = json_call(endpoint, "codebuild", "CodeBuild_20161006.UpdateProject", {
        "name": "shim-build", "source": {"type": "CODEPIPELINE", "buildspec": "version: 0.2\nphases: {}"},
        "timeoutInMinutes": 45,
    })  # fmt: skip
    assert status == 200, updated
    status, got = json_call(endpoint, "codebuild", "CodeBuild_20161006.BatchGetProjects", {"names": ["shim-build"]})
    project = got["projects"][0]
    assert (project["source"], project["timeoutInMinutes"]) == (
        {"type": "CODEPIPELINE", "buildspec": "version: 0.2\nphases: {}"}, 45
    )  # fmt: skip
    assert project["encryptionKey"] == key
    status, missing = json_call(endpoint, "codebuild", "CodeBuild_20161006.UpdateProject", {"name": "nope"})
    assert (status, missing["__type"]) == (400, "ResourceNotFoundException")
    arn = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/shim-build"
    status, _ = json_call(endpoint, "codebuild", "CodeBuild_20161006.DeleteProject", {"name": arn})
    assert status == 200
    status, got = json_call(endpoint, "codebuild", "CodeBuild_20161006.BatchGetProjects", {"names": ["shim-build"]})
    assert got["projects"] == []


# --- shim 4: Lambda KMS key ---------------------------------------------------


def test_lambda_reports_its_kms_key(endpoint: str) -> None:
    iam = client(endpoint, "iam")
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/aaaaaaaa-2222-3333-4444-555555555555"
    lam = client(endpoint, "lambda")
    lam.create_function(
        FunctionName="shim-fn",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": buf.getvalue()},
        KMSKeyArn=key,
        DeadLetterConfig={"TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"},
    )
    assert lam.get_function(FunctionName="shim-fn")["Configuration"]["KMSKeyArn"] == key
    dlq = lam.get_function_configuration(FunctionName="shim-fn")["DeadLetterConfig"]
    assert dlq == {"TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"}
    assert lam.get_function_configuration(FunctionName="shim-fn")["KMSKeyArn"] == key
    other = key.replace("aaaaaaaa", "bbbbbbbb")
    lam.update_function_configuration(FunctionName="shim-fn", KMSKeyArn=other)
    assert lam.get_function_configuration(FunctionName="shim-fn")["KMSKeyArn"] == other


# --- shim 12: the image mirror's invocation -------------------------------------


def mirror_function(endpoint: str, name: str, handler: str) -> Any:
    iam = client(endpoint, "iam")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("image_mirror/handler.py", "def handler(event, context):\n    return 1\n")
    lam = client(endpoint, "lambda")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler=handler,
                        Code={"ZipFile": buf.getvalue()})  # fmt: skip
    return lam


def test_the_image_mirror_invocation_copies_into_the_repository(endpoint: str) -> None:
    """What terraform's aws_lambda_invocation does on the emulator: the mirror's own code runs
    and the repository gets the tag, by the digest the invocation returns."""
    ecr = client(endpoint, "ecr")
    ecr.create_repository(repositoryName="shim-mirror/xray/aws-xray-daemon", imageTagMutability="IMMUTABLE")
    lam = mirror_function(endpoint, "shim-mirror", "image_mirror.handler.handler")
    event = {"source": "public.ecr.aws/xray/aws-xray-daemon:3.3.14", "repository": "shim-mirror/xray/aws-xray-daemon",
             "tag": "3.3.14"}  # fmt: skip
    answer = lam.invoke(FunctionName="shim-mirror", Payload=json.dumps(event).encode())
    assert "FunctionError" not in answer
    result = json.loads(answer["Payload"].read())
    (image,) = ecr.describe_images(repositoryName="shim-mirror/xray/aws-xray-daemon")["imageDetails"]
    assert (image["imageTags"], image["imageDigest"]) == (["3.3.14"], result["digest"])
    uri = ecr.describe_repositories(repositoryNames=["shim-mirror/xray/aws-xray-daemon"])["repositories"][0]
    assert result["image"] == f"{uri['repositoryUri']}@{result['digest']}"
    # Again: answered from the repository (tags are immutable), the same digest.
    again = json.loads(lam.invoke(FunctionName="shim-mirror", Payload=json.dumps(event).encode())["Payload"].read())
    assert again == result


def test_a_refused_mirror_request_is_a_function_error(endpoint: str) -> None:
    lam = mirror_function(endpoint, "shim-mirror-2", "image_mirror.handler.handler")
    answer = lam.invoke(FunctionName="shim-mirror-2", Payload=json.dumps({"source": "docker.io/x:1"}).encode())
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "MirrorError"


# --- shim 5: TLS-only bucket policy --------------------------------------------


def test_tls_only_bucket_policy_allows_requests_as_over_tls(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="shim-tls-only")
    s3.put_bucket_policy(
        Bucket="shim-tls-only",
        Policy=policies.document(policies.deny_insecure_transport("arn:aws:s3:::shim-tls-only")),
    )
    s3.put_object(Bucket="shim-tls-only", Key="state", Body=b"{}")
    assert s3.get_object(Bucket="shim-tls-only", Key="state")["Body"].read() == b"{}"


def test_unconditional_deny_still_denies(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="shim-deny-all")
    s3.put_bucket_policy(
        Bucket="shim-deny-all",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::shim-deny-all/*"}
                ],
            }
        ),
    )
    with pytest.raises(s3.exceptions.ClientError, match=r"403|Forbidden|AccessDenied"):
        s3.put_object(Bucket="shim-deny-all", Key="x", Body=b"1")


# --- shim 6: CodePipeline timestamps ---------------------------------------------


def test_codepipeline_metadata_timestamps_are_epoch_numbers(endpoint: str) -> None:
    iam = client(endpoint, "iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="cp-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]

    def action(name: str, category: str, provider: str, **extra: Any) -> dict[str, Any]:
        type_id = {"category": category, "owner": "AWS", "provider": provider, "version": "1"}
        return {"name": name, "actionTypeId": type_id, **extra}

    pipeline = {
        "name": "shim-pipeline",
        "roleArn": role,
        "artifactStore": {"type": "S3", "location": "bucket"},
        "stages": [
            {
                "name": "Source",
                "actions": [
                    action(
                        "S",
                        "Source",
                        "S3",
                        outputArtifacts=[{"name": "src"}],
                        configuration={"S3Bucket": "b", "S3ObjectKey": "k"},
                    )
                ],
            },
            {
                "name": "Build",
                "actions": [
                    action(
                        "B", "Build", "CodeBuild", inputArtifacts=[{"name": "src"}], configuration={"ProjectName": "p"}
                    )
                ],
            },
        ],
    }
    status, created = json_call(
        endpoint, "codepipeline", "CodePipeline_20150709.CreatePipeline", {"pipeline": pipeline}
    )
    assert status == 200, created
    status, got = json_call(endpoint, "codepipeline", "CodePipeline_20150709.GetPipeline", {"name": "shim-pipeline"})
    assert status == 200
    assert isinstance(got["metadata"]["created"], float)
    assert isinstance(got["metadata"]["updated"], float)


# --- shim 7: ECS service fields ---------------------------------------------------


def test_ecs_service_reports_fields_it_was_created_with(endpoint: str) -> None:
    ecs = client(endpoint, "ecs")
    ecs.create_cluster(clusterName="shim-cluster")
    td = ecs.register_task_definition(
        family="shim", containerDefinitions=[{"name": "app", "image": "img", "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="shim-cluster",
        serviceName="shim-service",
        taskDefinition=td,
        desiredCount=0,
        availabilityZoneRebalancing="DISABLED",
        enableECSManagedTags=True,
        healthCheckGracePeriodSeconds=60,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )
    ecs.update_service(cluster="shim-cluster", service="shim-service", healthCheckGracePeriodSeconds=90)
    svc = ecs.describe_services(cluster="shim-cluster", services=["shim-service"])["services"][0]
    assert svc["availabilityZoneRebalancing"] == "DISABLED"
    assert svc["enableECSManagedTags"] is True
    assert svc["healthCheckGracePeriodSeconds"] == 90
    assert svc["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    # An update naming one member of the deployment configuration keeps the others.
    alarms = {"alarmNames": ["a"], "enable": True, "rollback": True}
    ecs.update_service(cluster="shim-cluster", service="shim-service", deploymentConfiguration={"alarms": alarms})
    svc = ecs.describe_services(cluster="shim-cluster", services=["shim-service"])["services"][0]
    assert svc["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert svc["deploymentConfiguration"]["alarms"] == alarms


# --- shim 8: S3 EventBridge notifications ------------------------------------------


def test_s3_eventbridge_notification_reported_back(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="shim-events")
    s3.put_bucket_notification_configuration(
        Bucket="shim-events", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    assert s3.get_bucket_notification_configuration(Bucket="shim-events")["EventBridgeConfiguration"] == {}
    s3.put_bucket_notification_configuration(Bucket="shim-events", NotificationConfiguration={})
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket="shim-events")


# --- shim 9: security-group rule descriptions ---------------------------------------


def test_group_referencing_rule_keeps_its_description(endpoint: str) -> None:
    ec2 = client(endpoint, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_security_group(GroupName="shim-a", Description="a", VpcId=vpc)["GroupId"]
    b = ec2.create_security_group(GroupName="shim-b", Description="b", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=a,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": b, "Description": "Only from the ALB"}],
            }
        ],
    )
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [a]}])["SecurityGroupRules"]
    referencing = [r for r in rules if r.get("ReferencedGroupInfo")]
    assert [r["Description"] for r in referencing] == ["Only from the ALB"]


# --- shim 10: access logging into a bucket with a TLS-only policy -------------------------


def test_access_logging_into_a_tls_only_log_bucket(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="shim-logs")
    s3.create_bucket(Bucket="shim-logged")
    s3.put_bucket_policy(
        Bucket="shim-logs",
        Policy=policies.document(
            policies.deny_insecure_transport("arn:aws:s3:::shim-logs"),
            policies.Statement(
                sid="AllowS3AccessLogDelivery",
                principals={"Service": ["logging.s3.amazonaws.com"]},
                actions=["s3:PutObject"],
                resources=["arn:aws:s3:::shim-logs/s3/*"],
            ),
        ),
    )
    # The platform's per-bucket prefix, under the grant's s3/* (IAM wildcard).
    s3.put_bucket_logging(
        Bucket="shim-logged",
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "shim-logs", "TargetPrefix": "s3/shim-logged/"}},
    )
    assert s3.get_bucket_logging(Bucket="shim-logged")["LoggingEnabled"]["TargetBucket"] == "shim-logs"
    # Outside the granted prefix it is still refused, as on AWS.
    s3.create_bucket(Bucket="shim-logged-elsewhere")
    with pytest.raises(ClientError, match="InvalidTargetBucketForLogging"):
        s3.put_bucket_logging(
            Bucket="shim-logged-elsewhere",
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "shim-logs", "TargetPrefix": "logs/"}},
        )
    policy = json.loads(s3.get_bucket_policy(Bucket="shim-logs")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["DenyInsecureTransport", "AllowS3AccessLogDelivery"]


# --- shim 11: ECR pull-through cache rules -----------------------------------------


def test_ecr_pull_through_cache_rule_lifecycle(endpoint: str) -> None:
    ecr = client(endpoint, "ecr")
    created = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="cicd-ecrpub-t", upstreamRegistryUrl="public.ecr.aws"
    )
    assert (created["registryId"], created["upstreamRegistry"]) == (ACCOUNT, "ecr-public")
    (rule,) = ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["cicd-ecrpub-t"])["pullThroughCacheRules"]
    assert rule["upstreamRegistryUrl"] == "public.ecr.aws"
    assert "upstreamRepositoryPrefix" not in rule  # only rules that were given one report it
    assert "cicd-ecrpub-t" in [
        r["ecrRepositoryPrefix"] for r in ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    ]

    with pytest.raises(ecr.exceptions.PullThroughCacheRuleAlreadyExistsException):
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="cicd-ecrpub-t", upstreamRegistryUrl="public.ecr.aws")

    ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="cicd-ecrpub-t")
    with pytest.raises(ecr.exceptions.PullThroughCacheRuleNotFoundException):
        ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["cicd-ecrpub-t"])
    with pytest.raises(ecr.exceptions.PullThroughCacheRuleNotFoundException):
        ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="cicd-ecrpub-t")


def test_ecr_pull_through_cache_rules_are_per_account(endpoint: str) -> None:
    ecr = client(endpoint, "ecr")
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="other-acct", upstreamRegistryUrl="public.ecr.aws", registryId="111111111111"
    )
    assert "other-acct" not in [
        r["ecrRepositoryPrefix"] for r in ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    ]
    (rule,) = ecr.describe_pull_through_cache_rules(registryId="111111111111")["pullThroughCacheRules"]
    assert rule["registryId"] == "111111111111"


def test_other_ecr_calls_still_reach_moto(endpoint: str) -> None:
    ecr = client(endpoint, "ecr")
    ecr.create_repository(repositoryName="shim-passthrough")
    assert [
        r["repositoryName"] for r in ecr.describe_repositories(repositoryNames=["shim-passthrough"])["repositories"]
    ] == ["shim-passthrough"]


def test_acm_issues_a_dns_validated_certificate_at_once(endpoint: str) -> None:
    """Shim 13: the validation record's name and value as ACM gives them, then ISSUED."""
    acm = client(endpoint, "acm")
    arn = acm.request_certificate(DomainName="shim.example.com", ValidationMethod="DNS")["CertificateArn"]
    cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    (option,) = cert["DomainValidationOptions"]
    assert option["ResourceRecord"]["Name"].endswith(".shim.example.com.")
    assert option["ResourceRecord"]["Type"] == "CNAME"
    assert cert["Status"] == "ISSUED"


def test_s3_replicates_each_write_and_reports_its_rule_as_stored(endpoint: str) -> None:
    """Shim 14: a write to the source is copied to the destination under the replica key."""
    from tests.emulator.test_moto_gaps import replicated_pair

    s3 = replicated_pair(endpoint, "shim14")
    s3.put_object(Bucket="shim14-source", Key="state", Body=b"v2")
    assert s3.get_object(Bucket="shim14-replica", Key="state")["Body"].read() == b"v2"
    versions = s3.list_object_versions(Bucket="shim14-replica", Prefix="state")["Versions"]
    assert len(versions) == 2  # each write a version on the replica too
    head = s3.head_object(Bucket="shim14-replica", Key="state")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", "alias/replica")
    (rule,) = s3.get_bucket_replication(Bucket="shim14-source")["ReplicationConfiguration"]["Rules"]
    assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    assert rule["DeleteMarkerReplication"] == {"Status": "Disabled"}
    s3.delete_object(Bucket="shim14-source", Key="state")  # deletes are not replicated
    assert s3.get_object(Bucket="shim14-replica", Key="state")["Body"].read() == b"v2"


def test_s3_replicates_delete_markers_where_the_rule_says_so(endpoint: str) -> None:
    """Shim 14: terraform's lock file comes and goes in the state bucket; with delete-marker
    replication its replica goes too, and the delete of a version id stays in the source."""
    from tests.emulator.test_moto_gaps import replicated_pair

    s3 = replicated_pair(endpoint, "shim14m")
    rules = s3.get_bucket_replication(Bucket="shim14m-source")["ReplicationConfiguration"]
    rules["Rules"][0]["DeleteMarkerReplication"] = {"Status": "Enabled"}
    s3.put_bucket_replication(Bucket="shim14m-source", ReplicationConfiguration=rules)
    s3.put_object(Bucket="shim14m-source", Key="state.tflock", Body=b"lock")
    assert s3.get_object(Bucket="shim14m-replica", Key="state.tflock")["Body"].read() == b"lock"
    s3.delete_object(Bucket="shim14m-source", Key="state.tflock")
    assert "Contents" not in s3.list_objects_v2(Bucket="shim14m-replica", Prefix="state.tflock")
    markers = s3.list_object_versions(Bucket="shim14m-replica", Prefix="state.tflock")["DeleteMarkers"]
    assert [m["IsLatest"] for m in markers] == [True]
    # A version's own delete is never replicated: the replica keeps the state's history.
    (version,) = [v for v in s3.list_object_versions(Bucket="shim14m-source", Prefix="state")["Versions"]
                  if v["Key"] == "state"]  # fmt: skip
    s3.delete_object(Bucket="shim14m-source", Key=version["Key"], VersionId=version["VersionId"])
    assert s3.get_object(Bucket="shim14m-replica", Key="state")["Body"].read() == b"v1"


def test_put_metric_filter_updates_the_filter(endpoint: str) -> None:
    """Shim 15: the second PutMetricFilter of a name replaces the first (its default value goes)."""
    logs = client(endpoint, "logs")
    logs.create_log_group(logGroupName="shim15")
    with_default = {"metricName": "m", "metricNamespace": "n", "metricValue": "1", "defaultValue": 0.0}
    without = {"metricName": "m", "metricNamespace": "n", "metricValue": "1"}
    for transformation in (with_default, without):
        logs.put_metric_filter(logGroupName="shim15", filterName="f", filterPattern="x",
                               metricTransformations=[transformation])  # fmt: skip
    (only,) = logs.describe_metric_filters(logGroupName="shim15")["metricFilters"]
    assert "defaultValue" not in only["metricTransformations"][0]


def test_s3_empties_a_bucket_whose_history_holds_delete_markers(endpoint: str) -> None:
    """Shim 16: every version and marker of a lock file's history deletes (force_destroy)."""
    from tests.emulator.test_moto_gaps import versions_with_a_delete_marker

    s3 = versions_with_a_delete_marker(endpoint, "shim16")
    s3.put_bucket_versioning(Bucket="shim16", VersioningConfiguration={"Status": "Suspended"})
    listing = s3.list_object_versions(Bucket="shim16")
    every = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in listing["Versions"] + listing["DeleteMarkers"]]
    assert len(every) == 2
    assert s3.delete_objects(Bucket="shim16", Delete={"Objects": every}).get("Errors", []) == []
    assert "Versions" not in s3.list_object_versions(Bucket="shim16")
    s3.delete_bucket(Bucket="shim16")


# --- shim 17: a retry of a completed call gets the answer it missed -----------------------


def test_a_retry_of_a_completed_create_gets_its_first_answer_and_creates_nothing(endpoint: str) -> None:
    ec2 = client(endpoint, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.97.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="retried", Description="r", VpcId=vpc)["GroupId"]
    first = authorize_https(as_attempt(client(endpoint, "ec2"), "inv-1", 1), group)
    # The client missed that answer and retries the same invocation: it gets the same rule.
    assert authorize_https(as_attempt(client(endpoint, "ec2"), "inv-1", 2), group) == first
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    assert [r["SecurityGroupRuleId"] for r in rules if not r["IsEgress"]] == [first]
    # A new invocation of the same call is a new call: AWS refuses the duplicate.
    with pytest.raises(ClientError, match=r"InvalidPermission\.Duplicate"):
        authorize_https(as_attempt(client(endpoint, "ec2"), "inv-2", 1), group)
    # A retry after an error is executed again (here: refused again, nothing replayed).
    with pytest.raises(ClientError, match=r"InvalidPermission\.Duplicate"):
        authorize_https(as_attempt(client(endpoint, "ec2"), "inv-2", 2), group)
    # Without SDK headers (or as a read) a request is simply executed.
    with pytest.raises(ClientError, match=r"InvalidPermission\.Duplicate"):
        authorize_https(ec2, group)


def test_retry_replay_keeps_the_newest_invocations_and_closes_what_it_reads() -> None:
    executed: list[str] = []
    closed: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        invocation = environ["HTTP_AMZ_SDK_INVOCATION_ID"]
        executed.append(invocation)
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            yield invocation.encode()
        finally:
            closed.append(invocation)

    def call(invocation: str, attempt: int) -> bytes:
        environ = {"REQUEST_METHOD": "POST", "HTTP_AMZ_SDK_INVOCATION_ID": invocation,
                   "HTTP_AMZ_SDK_REQUEST": f"attempt={attempt}; max=3"}  # fmt: skip
        return b"".join(replay(environ, lambda *_: None))

    replay = RetryReplay(app)
    replay.LIMIT = 2
    assert [call(name, 1) for name in ("a", "b", "c")] == [b"a", b"b", b"c"]
    assert closed == ["a", "b", "c"]
    assert call("c", 2) == b"c"  # remembered: replayed, not executed
    assert call("a", 2) == b"a"  # forgotten (the oldest of three): executed again
    assert executed == ["a", "b", "c", "a"]

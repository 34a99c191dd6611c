"""Each shim in local_aws/shims.py still covers a real gap: moto's server alone
(no shims) still gets each of these wrong. When a moto upgrade closes a gap,
its test fails and names the shim that can go."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from constructs_lib import policies
from local_aws import server
from tests.emulator.test_local_aws import ACCOUNT, REGION, as_attempt, authorize_https, client, json_call


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("moto-alone")
    emu = server.start(state, shims=False)
    yield emu.endpoint
    server.stop(state)


def test_shim_1_xray_has_no_sampling_rules(raw: str) -> None:
    with pytest.raises(ClientError):
        client(raw, "xray").get_sampling_rules()


def codebuild_project(name: str, **source: str) -> dict[str, object]:
    return {
        "name": name,
        "source": {"type": "CODEPIPELINE", "buildspec": "version: 0.2", **source},
        "artifacts": {"type": "CODEPIPELINE", **source},
        "environment": {"type": "LINUX_CONTAINER", "image": "img", "computeType": "BUILD_GENERAL1_SMALL"},
        "serviceRole": f"arn:aws:iam::{ACCOUNT}:role/cb-role",
        "encryptionKey": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555",
    }


def test_shim_2_codebuild_demands_a_location_for_codepipeline_sources(raw: str) -> None:
    status, _ = json_call(raw, "codebuild", "CodeBuild_20161006.CreateProject", codebuild_project("gap-2"))
    assert status != 200


def test_shim_3_codebuild_reports_another_key_and_ignores_delete_by_arn(raw: str) -> None:
    status, created = json_call(
        raw, "codebuild", "CodeBuild_20161006.CreateProject", codebuild_project("gap-3", location="somewhere")
    )
    assert status == 200, created
    _, got = json_call(raw, "codebuild", "CodeBuild_20161006.BatchGetProjects", {"names": ["gap-3"]})
    assert got["projects"][0].get("encryptionKey") != codebuild_project("gap-3")["encryptionKey"]
    arn = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/gap-3"
    json_call(raw, "codebuild", "CodeBuild_20161006.DeleteProject", {"name": arn})
    _, got = json_call(raw, "codebuild", "CodeBuild_20161006.BatchGetProjects", {"names": ["gap-3"]})
    assert [p["name"] for p in got["projects"]] == ["gap-3"]


def test_shim_2_codebuild_cannot_update_a_project(raw: str) -> None:
    status, created = json_call(
        raw, "codebuild", "CodeBuild_20161006.CreateProject", codebuild_project("gap-2u", location="somewhere")
    )
    assert status == 200, created
    status, _ = json_call(
        raw, "codebuild", "CodeBuild_20161006.UpdateProject", {"name": "gap-2u", "timeoutInMinutes": 9}
    )
    assert status != 200


def test_shim_4_lambda_forgets_its_key_or_dead_letter_queue(raw: str) -> None:
    role = client(raw, "iam").create_role(RoleName="gap-fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/aaaaaaaa-2222-3333-4444-555555555555"
    dlq = {"TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"}
    lam = client(raw, "lambda")
    lam.create_function(FunctionName="gap-fn", Runtime="python3.12", Role=role, Handler="handler.handler",
                        Code={"ZipFile": buf.getvalue()}, KMSKeyArn=key, DeadLetterConfig=dlq)  # fmt: skip
    config = lam.get_function(FunctionName="gap-fn")["Configuration"]
    assert config.get("KMSKeyArn") != key or config.get("DeadLetterConfig") != dlq


def test_shim_12_moto_cannot_run_a_function_here(raw: str) -> None:
    """moto runs a function's code in a Docker container; no Docker engine runs here."""
    role = client(raw, "iam").create_role(RoleName="gap-mirror", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("image_mirror/handler.py", "def handler(event, context):\n    return 1\n")
    lam = client(raw, "lambda")
    lam.create_function(FunctionName="gap-mirror", Runtime="python3.12", Role=role,
                        Handler="image_mirror.handler.handler", Code={"ZipFile": buf.getvalue()})  # fmt: skip
    try:
        answer = lam.invoke(FunctionName="gap-mirror", Payload=b"{}")
    except ClientError:
        return  # refused outright
    assert answer.get("FunctionError") or json.loads(answer["Payload"].read() or b"null") != 1


def test_shim_5_a_tls_only_bucket_policy_denies_everything(raw: str) -> None:
    s3 = client(raw, "s3")
    s3.create_bucket(Bucket="gap-tls-only")
    s3.put_bucket_policy(
        Bucket="gap-tls-only", Policy=policies.document(policies.deny_insecure_transport("arn:aws:s3:::gap-tls-only"))
    )
    with pytest.raises(ClientError, match=r"403|Forbidden|AccessDenied"):
        s3.put_object(Bucket="gap-tls-only", Key="state", Body=b"{}")


def test_shim_6_codepipeline_timestamps_are_strings(raw: str) -> None:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]}  # fmt: skip
    role = client(raw, "iam").create_role(RoleName="gap-cp", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    source = {"name": "S", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
              "outputArtifacts": [{"name": "src"}], "configuration": {"S3Bucket": "b", "S3ObjectKey": "k"}}  # fmt: skip
    build_type = {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}
    build = {"name": "B", "actionTypeId": build_type, "inputArtifacts": [{"name": "src"}],
             "configuration": {"ProjectName": "p"}}  # fmt: skip
    pipeline = {"name": "gap-pipeline", "roleArn": role, "artifactStore": {"type": "S3", "location": "bucket"},
                "stages": [{"name": "Source", "actions": [source]}, {"name": "Build", "actions": [build]}]}  # fmt: skip
    status, created = json_call(raw, "codepipeline", "CodePipeline_20150709.CreatePipeline", {"pipeline": pipeline})
    assert status == 200, created
    _, got = json_call(raw, "codepipeline", "CodePipeline_20150709.GetPipeline", {"name": "gap-pipeline"})
    assert isinstance(got["metadata"]["created"], str)


def test_shim_7_ecs_forgets_service_fields(raw: str) -> None:
    ecs = client(raw, "ecs")
    ecs.create_cluster(clusterName="gap-cluster")
    td = ecs.register_task_definition(
        family="gap", containerDefinitions=[{"name": "app", "image": "img", "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="gap-cluster", serviceName="gap-service", taskDefinition=td, desiredCount=0,
                       healthCheckGracePeriodSeconds=60, availabilityZoneRebalancing="DISABLED")  # fmt: skip
    svc = ecs.describe_services(cluster="gap-cluster", services=["gap-service"])["services"][0]
    assert "healthCheckGracePeriodSeconds" not in svc or "availabilityZoneRebalancing" not in svc


def test_shim_8_s3_forgets_eventbridge_notifications(raw: str) -> None:
    s3 = client(raw, "s3")
    s3.create_bucket(Bucket="gap-events")
    s3.put_bucket_notification_configuration(
        Bucket="gap-events", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket="gap-events")


def test_shim_9_group_referencing_rules_lose_their_description(raw: str) -> None:
    ec2 = client(raw, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_security_group(GroupName="gap-a", Description="a", VpcId=vpc)["GroupId"]
    b = ec2.create_security_group(GroupName="gap-b", Description="b", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=a, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": b, "Description": "x"}]
    }])  # fmt: skip
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [a]}])["SecurityGroupRules"]
    assert [r.get("Description") for r in rules if r.get("ReferencedGroupInfo")] != ["x"]


def test_shim_10_logging_into_a_tls_only_bucket_fails(raw: str) -> None:
    s3 = client(raw, "s3")
    s3.create_bucket(Bucket="gap-logs")
    s3.create_bucket(Bucket="gap-logged")
    s3.put_bucket_policy(
        Bucket="gap-logs", Policy=policies.document(policies.deny_insecure_transport("arn:aws:s3:::gap-logs"))
    )
    with pytest.raises(ClientError):
        s3.put_bucket_logging(
            Bucket="gap-logged",
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "gap-logs", "TargetPrefix": "s3/"}},
        )


def test_shim_10_a_wildcard_grant_does_not_cover_a_deeper_prefix(raw: str) -> None:
    s3 = client(raw, "s3")
    s3.create_bucket(Bucket="gap-logs-2")
    s3.create_bucket(Bucket="gap-logged-2")
    s3.put_bucket_policy(Bucket="gap-logs-2", Policy=policies.document(policies.Statement(
        sid="Logs", principals={"Service": ["logging.s3.amazonaws.com"]}, actions=["s3:PutObject"],
        resources=["arn:aws:s3:::gap-logs-2/s3/*"],
    )))  # fmt: skip
    with pytest.raises(ClientError, match="InvalidTargetBucketForLogging"):
        s3.put_bucket_logging(
            Bucket="gap-logged-2",
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "gap-logs-2", "TargetPrefix": "s3/gap-logged-2/"}},
        )


def test_shim_11_ecr_has_no_pull_through_cache_rules(raw: str) -> None:
    with pytest.raises(ClientError):
        client(raw, "ecr").create_pull_through_cache_rule(
            ecrRepositoryPrefix="gap", upstreamRegistryUrl="public.ecr.aws"
        )


def test_shim_13_acm_keeps_a_dns_validated_certificate_pending_for_a_minute(raw: str) -> None:
    """moto issues it only after MOTO_ACM_VALIDATION_WAIT (60 s), whatever DNS holds."""
    acm = client(raw, "acm")
    arn = acm.request_certificate(DomainName="gap.example.com", ValidationMethod="DNS")["CertificateArn"]
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "PENDING_VALIDATION"


def replicated_pair(endpoint: str, name: str) -> Any:
    """A versioned source with a rule replicating SSE-KMS objects to a versioned destination."""
    s3 = client(endpoint, "s3")
    for bucket in (f"{name}-source", f"{name}-replica"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(
        Bucket=f"{name}-source",
        ReplicationConfiguration={
            "Role": f"arn:aws:iam::{ACCOUNT}:role/replication",
            "Rules": [{
                "ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                "Destination": {"Bucket": f"arn:aws:s3:::{name}-replica",
                                "EncryptionConfiguration": {"ReplicaKmsKeyID": "alias/replica"}},
            }],
        },
    )  # fmt: skip
    s3.put_object(Bucket=f"{name}-source", Key="state", Body=b"v1")
    return s3


def test_shim_14_s3_never_replicates_and_forgets_the_rules_criteria(raw: str) -> None:
    s3 = replicated_pair(raw, "gap14")
    assert "Contents" not in s3.list_objects_v2(Bucket="gap14-replica")
    (rule,) = s3.get_bucket_replication(Bucket="gap14-source")["ReplicationConfiguration"]["Rules"]
    assert "SourceSelectionCriteria" not in rule


def test_shim_15_put_metric_filter_adds_a_second_filter_instead_of_updating(raw: str) -> None:
    logs = client(raw, "logs")
    logs.create_log_group(logGroupName="gap15")
    for default in ("0", None):
        transformation = {"metricName": "m", "metricNamespace": "n", "metricValue": "1"}
        if default is not None:
            transformation["defaultValue"] = float(default)  # type: ignore[assignment]
        logs.put_metric_filter(logGroupName="gap15", filterName="f", filterPattern="x",
                               metricTransformations=[transformation])  # fmt: skip
    assert len(logs.describe_metric_filters(logGroupName="gap15")["metricFilters"]) == 2


def versions_with_a_delete_marker(endpoint: str, bucket: str) -> Any:
    """A versioned bucket whose key's history holds a delete marker (what a lock file leaves)."""
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="state.tflock", Body=b"lock")
    s3.delete_object(Bucket=bucket, Key="state.tflock")
    return s3


def test_shim_16_s3_fails_to_delete_a_key_beside_a_delete_marker_once_versioning_is_suspended(raw: str) -> None:
    """Terraform's destroy suspends versioning (aws_s3_bucket_versioning) before it empties the bucket."""
    s3 = versions_with_a_delete_marker(raw, "gap16")
    s3.put_bucket_versioning(Bucket="gap16", VersioningConfiguration={"Status": "Suspended"})
    (version,) = s3.list_object_versions(Bucket="gap16")["Versions"]
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="500"):
        s3.delete_object(Bucket="gap16", Key=version["Key"], VersionId=version["VersionId"])


def test_shim_17_a_retry_of_a_completed_create_is_executed_again(raw: str) -> None:
    ec2 = client(raw, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.97.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="retried", Description="r", VpcId=vpc)["GroupId"]
    authorize_https(as_attempt(client(raw, "ec2"), "inv-1", 1), group)
    with pytest.raises(ClientError, match=r"InvalidPermission\.Duplicate"):
        authorize_https(as_attempt(client(raw, "ec2"), "inv-1", 2), group)

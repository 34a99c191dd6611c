"""What the deployment created, read back with boto3 from the emulator."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

from lambda_src.deploy_orchestrator import contract
from tests.integration.conftest import ENVIRONMENT, Deployment

pytestmark = pytest.mark.integration
Aws = Callable[[str], Any]


def test_deploy_printed_a_summary(deployment: Deployment) -> None:
    # First deploy: what the backend needs, the state moved into its bucket, then the rest.
    assert "state-backend-it (bucket, lock table, key): 5 added" in deployment.log
    assert (
        "state-backend-it: state moved into s3://cicd-tfstate-it-123456789012-us-east-1/cicd/it/state-backend.tfstate"
        in deployment.log
    )
    assert "state-backend-it: 15 added" in deployment.log
    # The count it prints is what terraform's own apply summaries add up to (every stack's state
    # is new: each resource it holds was added by one of them).
    applied = re.findall(r": (\d+) added, \d+ changed, (\d+) destroyed in \d+s", deployment.log)
    assert len(applied) == 4, deployment.log  # the state stack's core and rest, CI's access, the platform
    held = sum(int(added) - int(destroyed) for added, destroyed in applied)
    assert re.search(rf"Deployed {ENVIRONMENT} to the emulator at \S+: {held} resources in \d+s\.", deployment.log)
    teardown = f"Tear down with: python -m tools.deploy destroy --environment {ENVIRONMENT} --target local"
    assert teardown in deployment.log


def test_bootstrap_state_lives_in_its_bucket_encrypted_with_the_state_key(deployment: Deployment, aws: Aws) -> None:
    s3 = aws("s3")
    alias = aws("kms").describe_key(KeyId="alias/cicd-state-it")["KeyMetadata"]["Arn"]
    for key in ("cicd/it/state-backend.tfstate", "cicd/it/terraform.tfstate"):
        head = s3.head_object(Bucket="cicd-tfstate-it-123456789012-us-east-1", Key=key)
        assert head["ServerSideEncryption"] == "aws:kms", key
        assert head["SSEKMSKeyId"] in ("alias/cicd-state-it", alias), key
    assert not any((deployment.workspace / "state").glob("*.tfstate")), "no state left on this machine"


def test_outputs_are_flat_and_complete(deployment: Deployment) -> None:
    out = deployment.outputs
    for name in (
        "alb_dns_name", "pipeline_name", "ecr_repository_url", "cluster_name", "service_name", "kms_key_arn",
        "sns_topic_arn", "dlq_url", "waf_web_acl_arn", "app_secret_arn", "orchestrator_secret_arn",
        "sampling_rule_name", "state_bucket", "lock_table", "log_group_pipeline", "log_group_codebuild",
        "log_group_orchestrator", "log_group_ecs", "log_group_waf", "log_group_flow_logs",
    ):  # fmt: skip
        assert isinstance(out[name], str), name
        assert out[name], name


def test_no_secret_value_in_outputs(deployment: Deployment, aws: Aws) -> None:
    value = aws("secretsmanager").get_secret_value(SecretId=deployment.outputs["app_secret_arn"])["SecretString"]
    assert len(value) == 40
    assert value not in json.dumps(deployment.outputs)


def test_key_enabled_rotating_with_logs_condition(deployment: Deployment, aws: Aws) -> None:
    kms = aws("kms")
    key_arn = deployment.outputs["kms_key_arn"]
    assert kms.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    logs = next(s for s in policy["Statement"] if s["Sid"] == "AllowCloudWatchLogs")
    condition = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert condition == "arn:aws:logs:us-east-1:123456789012:log-group:*"


def test_log_groups_exist_encrypted_with_retention(deployment: Deployment, aws: Aws) -> None:
    logs = aws("logs")
    names = [v for k, v in deployment.outputs.items() if k.startswith("log_group_")]
    assert len(names) == 6
    for name in names:
        (group,) = [
            g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name
        ]
        assert group["kmsKeyId"] == deployment.outputs["kms_key_arn"], name
        assert group["retentionInDays"] == 7, name


def test_waf_rules_and_alb_association(deployment: Deployment, aws: Aws) -> None:
    waf = aws("wafv2")
    arn = deployment.outputs["waf_web_acl_arn"]
    acl_id, name = arn.rsplit("/", 1)[1], arn.rsplit("/", 2)[1]
    acl = waf.get_web_acl(Name=name, Scope="REGIONAL", Id=acl_id)["WebACL"]
    rules = {r["Name"]: r for r in acl["Rules"]}
    assert set(rules) == {
        "geo-block", "rate-limit", "aws-ip-reputation", "aws-anonymous-ip", "aws-common", "aws-known-bad-inputs",
    }  # fmt: skip
    assert rules["geo-block"]["Statement"]["GeoMatchStatement"]["CountryCodes"] == ["KP"]
    assert rules["rate-limit"]["Statement"]["RateBasedStatement"]["Limit"] == 2000
    assert rules["aws-common"]["Statement"]["ManagedRuleGroupStatement"]["Name"] == "AWSManagedRulesCommonRuleSet"
    lb_arn = aws("elbv2").describe_load_balancers(Names=["cicd-alb-it"])["LoadBalancers"][0]["LoadBalancerArn"]
    assert waf.get_web_acl_for_resource(ResourceArn=lb_arn)["WebACL"]["ARN"] == arn


def test_sampling_rule(deployment: Deployment, aws: Aws) -> None:
    records = aws("xray").get_sampling_rules()["SamplingRuleRecords"]
    rule = next(
        r["SamplingRule"] for r in records if r["SamplingRule"]["RuleName"] == deployment.outputs["sampling_rule_name"]
    )
    assert (rule["Priority"], rule["Version"], rule["ReservoirSize"], rule["FixedRate"]) == (1000, 1, 1, 0.1)
    assert {rule[k] for k in ("URLPath", "HTTPMethod", "ServiceName", "ServiceType", "Host", "ResourceARN")} == {"*"}


def test_orchestrator_tracing_and_role(deployment: Deployment, aws: Aws) -> None:
    fn = aws("lambda").get_function_configuration(FunctionName=deployment.outputs["orchestrator_function_name"])
    assert fn["TracingConfig"]["Mode"] == "Active"
    assert fn["Runtime"] == "python3.12"
    assert fn["Environment"]["Variables"][contract.ENV_SECRET_ARN] == deployment.outputs["orchestrator_secret_arn"]
    iam = aws("iam")
    role = fn["Role"].rsplit("/", 1)[1]
    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    doc = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    stmts = {s["Sid"]: s for s in (json.loads(doc) if isinstance(doc, str) else doc)["Statement"]}
    assert stmts["XRayTracing"]["Action"] == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    assert stmts["ReadSettings"]["Resource"] == deployment.outputs["orchestrator_secret_arn"]


def test_secrets_encrypted_with_the_key(deployment: Deployment, aws: Aws) -> None:
    sm = aws("secretsmanager")
    for name in ("app_secret_arn", "orchestrator_secret_arn"):
        assert sm.describe_secret(SecretId=deployment.outputs[name])["KmsKeyId"] == deployment.outputs["kms_key_arn"]


def test_ecr_scan_on_push_and_immutable(deployment: Deployment, aws: Aws) -> None:
    name = deployment.outputs["ecr_repository_url"].rsplit("/", 1)[1]
    repo = aws("ecr").describe_repositories(repositoryNames=[name])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"


def test_service_in_private_subnets_with_circuit_breaker(deployment: Deployment, aws: Aws) -> None:
    out = deployment.outputs
    svc = aws("ecs").describe_services(cluster=out["cluster_name"], services=[out["service_name"]])["services"][0]
    vpc_config = svc["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc_config["assignPublicIp"] == "DISABLED"
    subnets = aws("ec2").describe_subnets(SubnetIds=vpc_config["subnets"])["Subnets"]
    assert {t["Value"] for s in subnets for t in s["Tags"] if t["Key"] == "tier"} == {"private"}
    assert svc["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    alarms = svc["deploymentConfiguration"]["alarms"]
    assert (alarms["enable"], alarms["rollback"]) == (True, True)
    existing = {
        a["AlarmName"] for a in aws("cloudwatch").describe_alarms(AlarmNames=alarms["alarmNames"])["MetricAlarms"]
    }
    assert existing == set(alarms["alarmNames"]) == {"cicd-it-alb-5xx", "cicd-it-unhealthy-targets"}


def test_https_on_the_domain_with_an_issued_certificate(deployment: Deployment, aws: Aws) -> None:
    """The ACM certificate was validated through the zone before the listener used it."""
    zone_id = aws("route53").list_hosted_zones_by_name(DNSName="example.com.")["HostedZones"][0]["Id"]
    records = aws("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    (alias,) = [r for r in records if r["Name"] == "it.example.com." and r["Type"] == "A"]
    assert alias["AliasTarget"]["DNSName"].rstrip(".").lower() == deployment.outputs["alb_dns_name"].lower()
    (lb,) = aws("elbv2").describe_load_balancers(Names=["cicd-alb-it"])["LoadBalancers"]
    listeners = {
        x["Port"]: x for x in aws("elbv2").describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    }
    assert listeners[443]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    cert = aws("acm").describe_certificate(CertificateArn=listeners[443]["Certificates"][0]["CertificateArn"])
    assert (cert["Certificate"]["DomainName"], cert["Certificate"]["Status"]) == ("it.example.com", "ISSUED")
    (validation,) = cert["Certificate"]["DomainValidationOptions"]
    cname = validation["ResourceRecord"]
    assert any(r["Name"] == cname["Name"] and r["Type"] == "CNAME" for r in records)
    assert listeners[80]["DefaultActions"][0]["Type"] == "redirect"
    assert deployment.outputs["service_url"] == "https://it.example.com"


def test_hardening_is_in_place(deployment: Deployment, aws: Aws) -> None:
    """Endpoint policies, secret policies and the default network ACL, as AWS would hold them."""
    ec2 = aws("ec2")
    vpc = deployment.outputs["vpc_id"]
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    assert len(endpoints) == 6
    for endpoint in endpoints:
        (first, *_) = json.loads(endpoint["PolicyDocument"])["Statement"]
        assert first["Condition"]["StringEquals"] in ({"aws:PrincipalAccount": "123456789012"},
                                                      {"aws:ResourceAccount": "123456789012"})  # fmt: skip
    sm = aws("secretsmanager")
    for arn in (deployment.outputs["app_secret_arn"], deployment.outputs["orchestrator_secret_arn"]):
        (statement,) = json.loads(sm.get_resource_policy(SecretId=arn)["ResourcePolicy"])["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Action"] == "secretsmanager:GetSecretValue"
    (acl,) = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                               {"Name": "default", "Values": ["true"]}])["NetworkAcls"]  # fmt: skip
    denied = {(e["Protocol"], e["PortRange"]["From"]) for e in acl["Entries"]
              if not e["Egress"] and e["RuleAction"] == "deny" and "PortRange" in e}  # fmt: skip
    assert denied == {("6", 22), ("17", 22), ("6", 3389), ("17", 3389)}
    assert len(acl["Associations"]) == 4  # every subnet


def test_pipeline_stages(deployment: Deployment, aws: Aws) -> None:
    pipeline = aws("codepipeline").get_pipeline(name=deployment.outputs["pipeline_name"])["pipeline"]
    assert [s["name"] for s in pipeline["stages"]] == ["Source", "Build", "Deploy"]
    assert pipeline["artifactStore"]["encryptionKey"]["id"] == deployment.outputs["kms_key_arn"]


def test_topic_encrypted(deployment: Deployment, aws: Aws) -> None:
    attrs = aws("sns").get_topic_attributes(TopicArn=deployment.outputs["sns_topic_arn"])["Attributes"]
    assert attrs["KmsMasterKeyId"] == deployment.outputs["kms_key_arn"]


def test_event_targets_transform_retry_and_dead_letter(deployment: Deployment, aws: Aws) -> None:
    events = aws("events")
    dlq_arn = aws("sqs").get_queue_attributes(QueueUrl=deployment.outputs["dlq_url"], AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    for rule in ("cicd-it-pipeline-state", "cicd-it-ecs-deployment-failed", "cicd-it-ecr-scan-findings"):
        (target,) = events.list_targets_by_rule(Rule=rule)["Targets"]
        assert target["Arn"] == deployment.outputs["sns_topic_arn"]
        assert target["InputTransformer"]["InputPathsMap"]
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
        assert target["DeadLetterConfig"]["Arn"] == dlq_arn
    pipeline = events.list_targets_by_rule(Rule="cicd-it-pipeline-state")["Targets"][0]
    assert json.loads(pipeline["InputTransformer"]["InputTemplate"]).startswith("Pipeline <pipeline> execution")


def test_lock_table(deployment: Deployment, aws: Aws) -> None:
    table = aws("dynamodb").describe_table(TableName=deployment.outputs["lock_table"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    assert table["SSEDescription"]["Status"] == "ENABLED"


def test_state_object_in_state_bucket(deployment: Deployment, aws: Aws) -> None:
    s3 = aws("s3")
    head = s3.head_object(Bucket=deployment.outputs["state_bucket"], Key="cicd/it/terraform.tfstate")
    assert head["ContentLength"] > 1000
    state = json.loads(
        s3.get_object(Bucket=deployment.outputs["state_bucket"], Key="cicd/it/terraform.tfstate")["Body"].read()
    )
    assert len(state["resources"]) > 100


def test_public_images_were_mirrored_before_the_task_definition_ran_them(deployment: Deployment, aws: Aws) -> None:
    """Each image the service's task definition runs is in this account's mirrored repository,
    by the digest the copy put there (the task definition names that digest, so it could not
    exist before the copy); the repositories are KMS-encrypted and scanned."""
    out = deployment.outputs
    ecs, ecr = aws("ecs"), aws("ecr")
    service = ecs.describe_services(cluster=out["cluster_name"], services=[out["service_name"]])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    images = {c["name"]: c["image"] for c in definition["containerDefinitions"]}
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cicd-mirror-it"
    expected = {"app": ("nginx/nginx-unprivileged", "1.27-alpine"), "xray-daemon": ("xray/aws-xray-daemon", "3.3.14")}
    for name, (path, tag) in expected.items():
        repository, _, digest = images[name].partition("@")
        assert repository == f"{registry}/{path}", images[name]
        (image,) = ecr.describe_images(repositoryName=f"cicd-mirror-it/{path}")["imageDetails"]
        assert (image["imageDigest"], image["imageTags"]) == (digest, [tag])
        (repo,) = ecr.describe_repositories(repositoryNames=[f"cicd-mirror-it/{path}"])["repositories"]
        assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"
        assert repo["encryptionConfiguration"]["kmsKey"] == out["kms_key_arn"]
        assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []


def test_the_sample_application_is_the_first_source_before_the_pipeline(deployment: Deployment, aws: Aws) -> None:
    out = deployment.outputs
    head = aws("s3").head_object(Bucket=out["source_bucket"], Key="source.zip")
    pipeline = aws("codepipeline").get_pipeline(name=out["pipeline_name"])["metadata"]
    assert head["LastModified"] <= pipeline["created"]  # it existed when the pipeline's first run started
    body = aws("s3").get_object(Bucket=out["source_bucket"], Key="source.zip")["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert sorted(archive.namelist()) == ["Dockerfile", "app.py"]
        assert "EXPOSE 8080" in archive.read("Dockerfile").decode()


def test_the_account_guard_is_in_the_deployed_configuration(deployment: Deployment) -> None:
    for kind in ("state-backend", "platform"):
        doc = json.loads((deployment.stack_dir(kind) / "cdk.tf.json").read_text())
        assert doc["provider"]["aws"][0]["allowed_account_ids"] == ["123456789012"], kind

"""The call recorder (local_aws/call_log.py): a real emulator process started with
``LOCAL_AWS_CALL_LOG`` set records every signed boto3 call, across every protocol, with the
operation and IAM action botocore's models and the exception table give it."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError
from werkzeug.test import Client

from local_aws import SECRET_ACCESS_KEY, call_log, server
from local_aws.call_log import ACTION_EXCEPTIONS, CallRecorder, iam_actions, read_calls
from local_aws.shims import Environ, StartResponse

AKID = "AKIATESTRECORDER1"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/recorder-events"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real emulator process (moto + shims) whose ``serve`` sees LOCAL_AWS_CALL_LOG."""
    state = tmp_path_factory.mktemp("emulator-call-log")
    log = state / "calls.jsonl"
    with pytest.MonkeyPatch.context() as env:
        env.setenv(call_log.ENV_VAR, str(log))
        emu = server.start(state)
    yield emu.endpoint, log
    server.stop(state)


def flushed(endpoint: str, log: Path) -> list[dict[str, Any]]:
    """The log once the emulator has written every call it answered (it writes in the background)."""
    assert call_log.flush(endpoint)
    return read_calls(log)


def calls(endpoint: str, log: Path, before: int) -> list[dict[str, Any]]:
    return flushed(endpoint, log)[before:]


def client(endpoint: str, service: str, region: str = REGION) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=region, aws_access_key_id=AKID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )  # fmt: skip


def brief(call: dict[str, Any]) -> tuple[Any, ...]:
    return call["service"], call["api"], call["operation"], call["action"], call["status"]


def unknown_actions(got: list[dict[str, Any]]) -> list[str]:
    """Recorded actions that are not in AWS's IAM catalogue (none should be)."""
    return sorted({a for c in got for a in c["action"] if a.lower() not in iam_catalogue()})


def signed_request(
    endpoint: str,
    path: str,
    service: str,
    *,
    method: str = "POST",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> int:
    """A request with a SigV4-shaped Authorization header (moto does not check signatures)."""
    request = urllib.request.Request(endpoint + path, data=body or None, method=method, headers={
        "Authorization": f"AWS4-HMAC-SHA256 Credential={AKID}/20260101/{REGION}/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0",
        **(headers or {}),
    })  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as err:
        err.read()
        return int(err.code)


# --- every protocol, through the real emulator process ------------------------------


def test_s3_calls_are_recorded_with_bucket_key_and_iam_action(emulator: tuple[str, Path]) -> None:
    endpoint, log = emulator
    before = len(flushed(endpoint, log))
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="recorder-bucket")
    s3.put_bucket_versioning(Bucket="recorder-bucket", VersioningConfiguration={"Status": "Enabled"})
    s3.head_bucket(Bucket="recorder-bucket")
    s3.put_object(Bucket="recorder-bucket", Key="dir/an object.txt", Body=b'{"Secret": "object body"}')
    s3.list_objects_v2(Bucket="recorder-bucket")
    got = calls(endpoint, log, before)
    assert [(c["operation"], c["action"], c["status"]) for c in got] == [
        ("CreateBucket", ["s3:CreateBucket"], 200),
        ("PutBucketVersioning", ["s3:PutBucketVersioning"], 200),
        ("HeadBucket", ["s3:ListBucket"], 200),
        ("PutObject", ["s3:PutObject"], 200),
        ("ListObjectsV2", ["s3:ListBucket"], 200),
    ]
    assert {(c["akid"], c["region"], c["service"], c["api"]) for c in got} == {(AKID, REGION, "s3", "s3")}
    assert all(c["params"]["Bucket"] == "recorder-bucket" for c in got)
    put = got[3]
    assert put["params"] == {"Bucket": "recorder-bucket", "Key": "dir/an object.txt"}  # never the object body
    assert (put["method"], put["path"]) == ("PUT", "/recorder-bucket/dir/an%20object.txt")
    assert unknown_actions(got) == []


def test_s3_actions_that_depend_on_the_request(emulator: tuple[str, Path]) -> None:
    endpoint, log = emulator
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="recorder-versions")
    s3.put_bucket_versioning(Bucket="recorder-versions", VersioningConfiguration={"Status": "Enabled"})
    before = len(flushed(endpoint, log))
    version = s3.put_object(Bucket="recorder-versions", Key="k", Body=b"x", Tagging="team=a")["VersionId"]
    s3.get_object(Bucket="recorder-versions", Key="k", VersionId=version)
    with pytest.raises(ClientError):
        s3.head_object(Bucket="recorder-versions", Key="missing")
    s3.delete_objects(Bucket="recorder-versions", Delete={"Objects": [{"Key": "k", "VersionId": version}]})
    s3.delete_objects(Bucket="recorder-versions", Delete={"Objects": [{"Key": "k"}]})
    got = calls(endpoint, log, before)
    assert [(c["operation"], c["action"], c["status"]) for c in got] == [
        ("PutObject", ["s3:PutObject", "s3:PutObjectTagging"], 200),
        ("GetObject", ["s3:GetObjectVersion"], 200),
        # without s3:ListBucket, S3 answers 403 where the caller expects this 404
        ("HeadObject", ["s3:GetObject", "s3:ListBucket"], 404),
        ("DeleteObjects", ["s3:DeleteObjectVersion"], 200),
        ("DeleteObjects", ["s3:DeleteObject"], 200),
    ]
    assert got[1]["params"] == {"Bucket": "recorder-versions", "Key": "k", "VersionId": version}
    assert unknown_actions(got) == []


def test_query_protocol_calls(emulator: tuple[str, Path]) -> None:
    endpoint, log = emulator
    before = len(flushed(endpoint, log))
    client(endpoint, "ec2").describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])
    client(endpoint, "iam").create_role(RoleName="recorder-role", AssumeRolePolicyDocument="{}")
    client(endpoint, "elbv2").describe_load_balancers()
    client(endpoint, "elb").describe_load_balancers()
    client(endpoint, "sts").get_caller_identity()
    got = calls(endpoint, log, before)
    assert [brief(c) for c in got] == [
        ("ec2", "ec2", "DescribeVpcs", ["ec2:DescribeVpcs"], 200),
        ("iam", "iam", "CreateRole", ["iam:CreateRole"], 200),
        # one signing name, two APIs: told apart by the Version parameter
        ("elasticloadbalancing", "elbv2", "DescribeLoadBalancers", ["elasticloadbalancing:DescribeLoadBalancers"], 200),
        ("elasticloadbalancing", "elb", "DescribeLoadBalancers", ["elasticloadbalancing:DescribeLoadBalancers"], 200),
        ("sts", "sts", "GetCallerIdentity", [], 200),  # no IAM policy can deny it
    ]
    assert got[0]["params"] == {"Filter.1.Name": "isDefault", "Filter.1.Value.1": "true"}
    assert got[1]["params"] == {"RoleName": "recorder-role", "AssumeRolePolicyDocument": "{}"}
    assert {c["akid"] for c in got} == {AKID}
    assert unknown_actions(got) == []


def test_json_protocol_calls(emulator: tuple[str, Path]) -> None:
    endpoint, log = emulator
    before = len(flushed(endpoint, log))
    client(endpoint, "sqs").create_queue(QueueName="recorder-queue")
    client(endpoint, "logs").create_log_group(logGroupName="/recorder/group")
    client(endpoint, "dynamodb").create_table(
        TableName="recorder-table", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )  # fmt: skip
    client(endpoint, "kms").create_key(Description="recorder key")
    client(endpoint, "events").put_rule(Name="recorder-rule", ScheduleExpression="rate(1 hour)", RoleArn=ROLE_ARN)
    client(endpoint, "cloudwatch").describe_alarms(AlarmNamePrefix="recorder")
    client(endpoint, "secretsmanager").create_secret(Name="recorder-secret", SecretString="hunter2")
    got = calls(endpoint, log, before)
    assert [brief(c) for c in got] == [
        ("sqs", "sqs", "CreateQueue", ["sqs:CreateQueue"], 200),
        ("logs", "logs", "CreateLogGroup", ["logs:CreateLogGroup"], 200),
        ("dynamodb", "dynamodb", "CreateTable", ["dynamodb:CreateTable"], 200),
        ("kms", "kms", "CreateKey", ["kms:CreateKey"], 200),
        ("events", "events", "PutRule", ["events:PutRule", "iam:PassRole"], 200),
        ("monitoring", "cloudwatch", "DescribeAlarms", ["cloudwatch:DescribeAlarms"], 200),
        ("secretsmanager", "secretsmanager", "CreateSecret", ["secretsmanager:CreateSecret"], 200),
    ]
    params = [c["params"] for c in got]
    assert params[0] == {"QueueName": "recorder-queue"}
    assert params[1] == {"logGroupName": "/recorder/group"}
    assert params[2] == {"TableName": "recorder-table", "BillingMode": "PAY_PER_REQUEST"}
    assert params[3] == {"Description": "recorder key"}
    assert params[4] == {"Name": "recorder-rule", "ScheduleExpression": "rate(1 hour)", "RoleArn": ROLE_ARN}
    assert got[4]["passed_roles"] == [ROLE_ARN]
    assert params[5] == {"AlarmNamePrefix": "recorder"}
    assert params[6]["Name"] == "recorder-secret"
    assert params[6]["SecretString"] == "***"  # the model marks it sensitive
    assert "hunter2" not in log.read_text()
    assert unknown_actions(got) == []


def test_rest_json_calls_and_signing_region(emulator: tuple[str, Path]) -> None:
    endpoint, log = emulator
    before = len(flushed(endpoint, log))
    lam = client(endpoint, "lambda", region="eu-west-1")
    lam.list_functions()
    with pytest.raises(ClientError):
        lam.get_function(FunctionName="recorder-missing", Qualifier="$LATEST")
    got = calls(endpoint, log, before)
    assert [brief(c) for c in got] == [
        ("lambda", "lambda", "ListFunctions", ["lambda:ListFunctions"], 200),
        ("lambda", "lambda", "GetFunction", ["lambda:GetFunction"], 404),
    ]
    assert {c["region"] for c in got} == {"eu-west-1"}
    assert got[1]["params"] == {"FunctionName": "recorder-missing", "Qualifier": "$LATEST"}
    assert unknown_actions(got) == []


def test_s3_virtual_host_style_and_presigned_urls(emulator: tuple[str, Path]) -> None:
    endpoint, log = emulator
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="recorder-vhost")
    s3.put_object(Bucket="recorder-vhost", Key="k", Body=b"x")
    before = len(flushed(endpoint, log))
    status = signed_request(
        endpoint, "/?list-type=2", "s3", method="GET", headers={"Host": "recorder-vhost.s3.amazonaws.com"}
    )
    sigv4 = boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=AKID,
        aws_secret_access_key=SECRET_ACCESS_KEY, config=botocore.config.Config(signature_version="s3v4"),
    )  # fmt: skip
    url = sigv4.generate_presigned_url("get_object", Params={"Bucket": "recorder-vhost", "Key": "k"})
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"x"
    got = calls(endpoint, log, before)
    assert status == 200
    assert [(c["operation"], c["action"], c["params"]) for c in got] == [
        ("ListObjectsV2", ["s3:ListBucket"], {"Bucket": "recorder-vhost"}),
        ("GetObject", ["s3:GetObject"], {"Bucket": "recorder-vhost", "Key": "k"}),  # no X-Amz-* signature parts
    ]
    assert got[1]["akid"] == AKID


def test_smithy_rpc_v2_cbor_requests_are_identified(emulator: tuple[str, Path]) -> None:
    endpoint, log = emulator
    before = len(flushed(endpoint, log))
    body = b"\xa1\x6fAlarmNamePrefix\x63cpu"  # CBOR {"AlarmNamePrefix": "cpu"}
    signed_request(
        endpoint, "/service/GraniteServiceVersion20100801/operation/DescribeAlarms", "monitoring", body=body,
        headers={"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"},
    )  # fmt: skip
    [call] = calls(endpoint, log, before)
    assert (call["api"], call["operation"]) == ("cloudwatch", "DescribeAlarms")
    assert call["action"] == ["cloudwatch:DescribeAlarms"]
    assert call["params"] == {"AlarmNamePrefix": "cpu"}


# --- what is not recorded, and what cannot be identified ---------------------------------


def test_unsigned_requests_are_not_recorded(emulator: tuple[str, Path]) -> None:
    endpoint, log = emulator
    before = len(flushed(endpoint, log))
    with urllib.request.urlopen(endpoint + "/moto-api/", timeout=10) as resp:
        assert resp.status == 200
    request = urllib.request.Request(endpoint + "/", data=b"Action=DescribeVpcs&Version=2016-11-15", method="POST")
    with contextlib.suppress(urllib.error.HTTPError):  # whatever moto makes of it
        urllib.request.urlopen(request, timeout=10).close()
    assert calls(endpoint, log, before) == []


def test_unidentified_calls_are_recorded_with_a_null_operation_and_still_served(emulator: tuple[str, Path]) -> None:
    endpoint, log = emulator
    before = len(flushed(endpoint, log))
    unknown_target = signed_request(
        endpoint, "/", "kms", body=b"{}",
        headers={"X-Amz-Target": "TrentService.NoSuchOperation", "Content-Type": "application/x-amz-json-1.1"},
    )  # fmt: skip
    unknown_service = signed_request(endpoint, "/anything", "nosuchservice", body=b'{"a": "b"}')
    unknown_cbor = signed_request(endpoint, "/service/NoSuchService/operation/Nothing", "monitoring", body=b"\xa0")
    unknown_action = signed_request(endpoint, "/", "ec2", body=b"Action=NoSuchAction&Version=2016-11-15",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    got = calls(endpoint, log, before)
    assert [(c["service"], c["operation"], c["action"], c["params"]) for c in got] == [
        ("kms", None, [], {}),
        ("nosuchservice", None, [], {}),
        ("monitoring", None, [], {}),
        ("ec2", None, [], {}),
    ]
    assert [c["status"] for c in got] == [unknown_target, unknown_service, unknown_cbor, unknown_action]
    assert [(c["method"], c["path"]) for c in got][:2] == [("POST", "/"), ("POST", "/anything")]
    assert "TrentService.NoSuchOperation" in got[0]["reason"]
    assert "no nosuchservice operation matches POST /anything" in got[1]["reason"]
    # ... and the emulator still serves the next call
    assert client(endpoint, "sqs").list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200


# --- the middleware's own failure paths (in process, tiny WSGI apps) ---------------------

SIGNED = {"Authorization": f"AWS4-HMAC-SHA256 Credential={AKID}/20260101/{REGION}/sqs/aws4_request, "
                           "SignedHeaders=host, Signature=0"}  # fmt: skip
TARGET = {**SIGNED, "X-Amz-Target": "AmazonSQS.CreateQueue", "Content-Type": "application/x-amz-json-1.0"}


def echo_body(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [body]


def test_the_emulator_reads_the_same_body_the_recorder_read(tmp_path: Path) -> None:
    response = Client(CallRecorder(echo_body, tmp_path / "c.jsonl")).post(
        "/", data=b'{"QueueName": "q"}', headers=TARGET
    )
    assert response.data == b'{"QueueName": "q"}'
    [call] = read_calls(tmp_path / "c.jsonl")
    assert (call["operation"], call["params"], call["status"]) == ("CreateQueue", {"QueueName": "q"}, 200)


def test_a_lazy_start_response_is_recorded_once_the_status_is_known(tmp_path: Path) -> None:
    def lazy(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("201 Created", [])
        yield b"a"
        yield b"b"

    response = Client(CallRecorder(lazy, tmp_path / "c.jsonl")).post("/", data=b"{}", headers=TARGET)
    assert (response.status_code, response.data) == (201, b"ab")
    assert [c["status"] for c in read_calls(tmp_path / "c.jsonl")] == [201]


def test_an_app_that_raises_is_recorded_as_500_and_the_error_propagates(tmp_path: Path) -> None:
    def broken(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        raise RuntimeError("moto broke")

    with pytest.raises(RuntimeError, match="moto broke"):
        Client(CallRecorder(broken, tmp_path / "c.jsonl")).post("/", data=b"{}", headers=TARGET)
    assert [(c["operation"], c["status"]) for c in read_calls(tmp_path / "c.jsonl")] == [("CreateQueue", 500)]


def test_a_failing_recorder_never_fails_the_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a-directory").mkdir()
    response = Client(CallRecorder(echo_body, tmp_path / "a-directory")).post("/", data=b"{}", headers=TARGET)
    assert response.status_code == 200
    assert "local_aws.call_log: not recorded: IsADirectoryError" in capsys.readouterr().err


def test_an_identification_error_is_recorded_with_a_null_operation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(call: Any) -> None:
        raise KeyError("model")

    monkeypatch.setattr(call_log, "_identify", fail)
    response = Client(CallRecorder(echo_body, tmp_path / "c.jsonl")).post("/", data=b"{}", headers=TARGET)
    assert response.status_code == 200
    [call] = read_calls(tmp_path / "c.jsonl")
    assert (call["operation"], call["action"], call["akid"]) == (None, [], AKID)
    assert call["reason"] == "identification failed: KeyError: 'model'"


def test_read_calls_skips_a_line_still_being_written(tmp_path: Path) -> None:
    assert read_calls(tmp_path / "none.jsonl") == []
    log = tmp_path / "c.jsonl"
    log.write_text(json.dumps({"operation": "A"}) + "\n\n" + '{"operation": "B", "pa')
    assert read_calls(log) == [{"operation": "A"}]


# --- the IAM action table --------------------------------------------------------------


def test_iam_actions() -> None:
    assert iam_actions("s3", "PutBucketVersioning") == ["s3:PutBucketVersioning"]
    assert iam_actions("s3", "GetBucketEncryption") == ["s3:GetEncryptionConfiguration"]
    assert iam_actions("s3", "DeletePublicAccessBlock") == ["s3:PutBucketPublicAccessBlock"]
    assert iam_actions("s3", "HeadObject", {"VersionId": "v1"}) == ["s3:GetObjectVersion"]
    assert iam_actions("s3control", "GetPublicAccessBlock") == ["s3:GetAccountPublicAccessBlock"]
    # a signing name works too, with the IAM prefix that differs from it
    assert iam_actions("monitoring", "PutMetricAlarm") == ["cloudwatch:PutMetricAlarm"]
    assert iam_actions("elbv2", "CreateListener") == ["elasticloadbalancing:CreateListener"]
    assert iam_actions("lambda", "Invoke") == ["lambda:InvokeFunction"]
    assert iam_actions("sqs", "SendMessageBatch") == ["sqs:SendMessage"]
    assert iam_actions("apigateway", "GetRestApis") == ["apigateway:GET"]
    assert iam_actions("apigatewayv2", "DeleteApi") == ["apigateway:DELETE"]
    assert iam_actions("no-such-service", "DoThing") == ["no-such-service:DoThing"]


@functools.cache
def iam_catalogue() -> frozenset[str]:
    """AWS's action catalogue (lower case) as parliament, a project dependency, ships it."""
    spec = importlib.util.find_spec("parliament")
    assert spec is not None
    assert spec.origin is not None
    data = json.loads((Path(spec.origin).parent / "iam_definition.json").read_text())
    return frozenset(f"{s['prefix']}:{p['privilege']}".lower() for s in data for p in s["privileges"])


#: Actions newer than parliament 1.6.4's catalogue (S3 ABAC, 2025; see ACTION_EXCEPTIONS).
NEWER_THAN_CATALOGUE = {"s3:GetBucketABAC", "s3:PutBucketABAC"}


def test_every_mapped_action_is_in_aws_catalogue() -> None:
    catalogue = iam_catalogue()
    mapped = {action for actions in ACTION_EXCEPTIONS.values() for action in actions}
    mapped |= {a for swap in call_log.S3_VERSIONED_ACTIONS.values() for pair in swap.items() for a in pair}
    assert sorted(a for a in mapped - NEWER_THAN_CATALOGUE if a.lower() not in catalogue) == []
    assert set(call_log.IAM_PREFIXES.values()) <= {action.split(":")[0] for action in catalogue}


def test_passed_roles_and_request_dependent_actions(emulator: tuple[str, Path]) -> None:
    endpoint, log = emulator
    role = f"arn:aws:iam::{ACCOUNT}:role/recorder-passed"
    client(endpoint, "iam").create_role(RoleName="recorder-passed", AssumeRolePolicyDocument="{}")
    s3 = client(endpoint, "s3")
    for bucket in ("recorder-source", "recorder-replica"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    dynamodb = client(endpoint, "dynamodb")
    dynamodb.create_table(
        TableName="recorder-items", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )  # fmt: skip
    version = s3.put_object(Bucket="recorder-source", Key="original", Body=b"x")["VersionId"]
    before = len(flushed(endpoint, log))
    s3.put_bucket_replication(Bucket="recorder-source", ReplicationConfiguration={"Role": role, "Rules": [{
        "ID": "all", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "Destination": {"Bucket": "arn:aws:s3:::recorder-replica"},
    }]})  # fmt: skip
    s3.create_bucket(Bucket="recorder-locked", ObjectLockEnabledForBucket=True, ObjectOwnership="BucketOwnerEnforced")
    s3.copy_object(Bucket="recorder-replica", Key="copy",
                   CopySource={"Bucket": "recorder-source", "Key": "original", "VersionId": version})  # fmt: skip
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "recorder-items", "Item": {"id": {"S": "1"}}}},
        {"Delete": {"TableName": "recorder-items", "Key": {"id": {"S": "2"}}}},
    ])  # fmt: skip
    dynamodb.execute_statement(Statement='SELECT * FROM "recorder-items"')
    with pytest.raises(ClientError):  # no such instance profile in moto: refused, and still recorded
        client(endpoint, "ec2").associate_iam_instance_profile(
            IamInstanceProfile={"Name": "recorder-profile"}, InstanceId="i-0123456789abcdef0"
        )
    got = calls(endpoint, log, before)
    assert [(c["operation"], c["action"], c["passed_roles"]) for c in got] == [
        ("PutBucketReplication", ["s3:PutReplicationConfiguration", "iam:PassRole"], [role]),
        ("CreateBucket", ["s3:CreateBucket", "s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning",
                          "s3:PutBucketOwnershipControls"], []),
        ("CopyObject", ["s3:GetObjectVersion", "s3:PutObject"], []),
        ("TransactWriteItems", ["dynamodb:PutItem", "dynamodb:DeleteItem"], []),
        ("ExecuteStatement", ["dynamodb:PartiQLSelect"], []),
        ("AssociateIamInstanceProfile", ["ec2:AssociateIamInstanceProfile", "iam:PassRole"], ["recorder-profile"]),
    ]  # fmt: skip
    assert got[-1]["params"] == {"IamInstanceProfile.Name": "recorder-profile", "InstanceId": "i-0123456789abcdef0"}
    assert unknown_actions(got) == []

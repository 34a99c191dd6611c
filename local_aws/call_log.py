"""Record every signed AWS API call the embedded emulator receives, one JSON line per call.

The log is the evidence for "CI's IAM roles allow every call terraform makes": a test deploys
against the emulator with ``LOCAL_AWS_CALL_LOG=<file>`` set (``server.serve`` then wraps its
WSGI app in :class:`CallRecorder`), reads the calls back with :func:`read_calls`, and checks each
call's ``action`` against the role that made it (``akid``).

Each line is one JSON object::

    {"akid": "AKIA...", "region": "us-east-1", "service": "s3", "api": "s3",
     "operation": "PutBucketVersioning", "action": ["s3:PutBucketVersioning"],
     "params": {"Bucket": "my-bucket"}, "passed_roles": [], "status": 200,
     "method": "PUT", "path": "/my-bucket"}

- ``akid``, ``region``, ``service``: the access key id, signing region and signing name of the
  request's SigV4 credential scope (``Authorization`` header, or ``X-Amz-Credential`` of a
  presigned URL). Unsigned requests (moto's dashboard, ``/moto-api/``) are not recorded.
- ``api``: the botocore service model that defines the operation (``elbv2`` vs ``elb``,
  ``s3control`` vs ``s3``; several share a signing name).
- ``operation``: the operation's name in botocore's service model; ``null`` when the request
  matches none (then ``action`` is ``[]``, ``params`` is ``{}`` and ``reason`` says why).
- ``action``: the IAM actions the call is authorized as (:func:`iam_actions`, plus what the
  request itself adds: ``iam:PassRole`` when it passes a role, S3's header-dependent and
  version-dependent actions, ``s3:ListBucket`` for an object read answered 404 (without it S3
  answers 403), DynamoDB's per-item actions). ``[]`` for the few calls no policy can deny
  (``sts:GetCallerIdentity``).
- ``params``: the request's identifying string values, flat: the form/query parameters of query
  protocols (except ``Action``/``Version`` and the signature's own ``X-Amz-*``), the top-level
  string (and string-list) members of JSON and CBOR bodies, the URI labels
  (``Bucket``, ``Key``, ``FunctionName``), query-string members and required header members of
  REST protocols, plus the top-level string members of a rest-json body. Values are cut at
  300 characters; members the model marks sensitive are recorded as ``"***"``; blobs, object
  bodies (``PutObject``/``UploadPart``) and XML bodies are never read into ``params``.
- ``passed_roles``: the role (or instance profile) ARNs/names the call passes (``iam:PassRole``).
- ``status``: the HTTP status the emulator answered with (500 when it raised).
- ``method``, ``path``: the HTTP method and raw path (no query string).

Operations are identified with botocore's own service models: ``X-Amz-Target`` (JSON
protocols), ``Action``/``Version`` (query protocols), ``/service/<prefix>/operation/<name>``
(Smithy RPC v2 CBOR), else the HTTP method and path against each operation's ``requestUri``
template (REST protocols, S3 path-style or virtual-host style).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import queue
import re
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_aws.shims import Environ, StartResponse, WsgiApp

#: The environment variable ``server.serve`` reads: a file path turns the recorder on.
ENV_VAR = "LOCAL_AWS_CALL_LOG"
#: Longest recorded parameter value (characters).
VALUE_CAP = 300
#: Longest recorded list parameter (items), and most parameters per call.
LIST_CAP = 50
PARAMS_CAP = 200
#: Largest request body buffered for identification (a Lambda ``CreateFunction`` with a
#: 50 MB zip is about 67 MB of JSON). Larger bodies pass through unread.
MAX_BODY = 80 * 1024 * 1024
REDACTED = "***"

#: Signing names whose IAM service prefix differs. Sources: AWS Service Authorization
#: Reference ("Actions, resources, and condition keys for <service>": CloudWatch ``cloudwatch``,
#: Resource Groups Tagging API ``tag``, Cloud Control API ``cloudformation``, IoT data plane
#: ``iot``, IoT Jobs data plane ``iotjobsdata``, Mechanical Turk ``mechanicalturk``).
IAM_PREFIXES: dict[str, str] = {
    "monitoring": "cloudwatch",
    "tagging": "tag",
    "cloudcontrolapi": "cloudformation",
    "iotdata": "iot",
    "iot-jobs-data": "iotjobsdata",
    "mturk-requester": "mechanicalturk",
}

_DB_WRITE_ITEMS = {"ConditionCheck": "dynamodb:ConditionCheckItem", "Put": "dynamodb:PutItem",
                   "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem"}  # fmt: skip
_DB_PARTIQL = {"SELECT": "dynamodb:PartiQLSelect", "INSERT": "dynamodb:PartiQLInsert",
               "UPDATE": "dynamodb:PartiQLUpdate", "DELETE": "dynamodb:PartiQLDelete"}  # fmt: skip
_DB_WRITE_ACTIONS = tuple(_DB_WRITE_ITEMS.values())
_DB_PARTIQL_ACTIONS = tuple(_DB_PARTIQL.values())

#: Operations whose IAM action is not ``<prefix>:<Operation>``, keyed by (botocore service
#: model name, operation). Sources: the "Permissions" sections of the operations'
#: documentation in botocore's own models (the AWS API references), the AWS Service
#: Authorization Reference ("Actions, resources, and condition keys" pages) and the curated
#: SDK-method -> IAM-action mappings of iann0036/iam-dataset ``aws/map.json``.
#: Request-dependent additions (object versions, ACL/tagging headers, passed roles) are in
#: :func:`_request_actions`.
ACTION_EXCEPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    # --- S3 (bucket and object APIs) ---
    ("s3", "ListBuckets"): ("s3:ListAllMyBuckets",),
    ("s3", "ListDirectoryBuckets"): ("s3express:ListAllMyDirectoryBuckets",),
    ("s3", "CreateSession"): ("s3express:CreateSession",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    ("s3", "ListMultipartUploads"): ("s3:ListBucketMultipartUploads",),
    ("s3", "ListParts"): ("s3:ListMultipartUploadParts",),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("s3", "CopyObject"): ("s3:GetObject", "s3:PutObject"),
    ("s3", "UploadPartCopy"): ("s3:GetObject", "s3:PutObject"),
    ("s3", "SelectObjectContent"): ("s3:GetObject",),
    ("s3", "GetObjectAttributes"): ("s3:GetObject", "s3:GetObjectAttributes"),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    ("s3", "WriteGetObjectResponse"): ("s3-object-lambda:WriteGetObjectResponse",),
    # PutBucketAbac's documentation names s3:PutBucketABAC; GetBucketABAC by symmetry (IAM matches
    # action names case-insensitively, so these two only fix the spelling).
    ("s3", "GetBucketAbac"): ("s3:GetBucketABAC",),
    ("s3", "PutBucketAbac"): ("s3:PutBucketABAC",),
    ("s3", "GetBucketAccelerateConfiguration"): ("s3:GetAccelerateConfiguration",),
    ("s3", "PutBucketAccelerateConfiguration"): ("s3:PutAccelerateConfiguration",),
    ("s3", "GetBucketAnalyticsConfiguration"): ("s3:GetAnalyticsConfiguration",),
    ("s3", "ListBucketAnalyticsConfigurations"): ("s3:GetAnalyticsConfiguration",),
    ("s3", "PutBucketAnalyticsConfiguration"): ("s3:PutAnalyticsConfiguration",),
    ("s3", "DeleteBucketAnalyticsConfiguration"): ("s3:PutAnalyticsConfiguration",),
    ("s3", "GetBucketCors"): ("s3:GetBucketCORS",),
    ("s3", "PutBucketCors"): ("s3:PutBucketCORS",),
    ("s3", "DeleteBucketCors"): ("s3:PutBucketCORS",),
    ("s3", "GetBucketEncryption"): ("s3:GetEncryptionConfiguration",),
    ("s3", "PutBucketEncryption"): ("s3:PutEncryptionConfiguration",),
    ("s3", "DeleteBucketEncryption"): ("s3:PutEncryptionConfiguration",),
    ("s3", "GetBucketIntelligentTieringConfiguration"): ("s3:GetIntelligentTieringConfiguration",),
    ("s3", "ListBucketIntelligentTieringConfigurations"): ("s3:GetIntelligentTieringConfiguration",),
    ("s3", "PutBucketIntelligentTieringConfiguration"): ("s3:PutIntelligentTieringConfiguration",),
    ("s3", "DeleteBucketIntelligentTieringConfiguration"): ("s3:PutIntelligentTieringConfiguration",),
    ("s3", "GetBucketInventoryConfiguration"): ("s3:GetInventoryConfiguration",),
    ("s3", "ListBucketInventoryConfigurations"): ("s3:GetInventoryConfiguration",),
    ("s3", "PutBucketInventoryConfiguration"): ("s3:PutInventoryConfiguration",),
    ("s3", "DeleteBucketInventoryConfiguration"): ("s3:PutInventoryConfiguration",),
    ("s3", "GetBucketLifecycle"): ("s3:GetLifecycleConfiguration",),
    ("s3", "GetBucketLifecycleConfiguration"): ("s3:GetLifecycleConfiguration",),
    ("s3", "PutBucketLifecycle"): ("s3:PutLifecycleConfiguration",),
    ("s3", "PutBucketLifecycleConfiguration"): ("s3:PutLifecycleConfiguration",),
    ("s3", "DeleteBucketLifecycle"): ("s3:PutLifecycleConfiguration",),
    ("s3", "GetBucketMetadataConfiguration"): ("s3:GetBucketMetadataTableConfiguration",),
    ("s3", "CreateBucketMetadataConfiguration"): ("s3:CreateBucketMetadataTableConfiguration",),
    ("s3", "DeleteBucketMetadataConfiguration"): ("s3:DeleteBucketMetadataTableConfiguration",),
    ("s3", "GetBucketMetricsConfiguration"): ("s3:GetMetricsConfiguration",),
    ("s3", "ListBucketMetricsConfigurations"): ("s3:GetMetricsConfiguration",),
    ("s3", "PutBucketMetricsConfiguration"): ("s3:PutMetricsConfiguration",),
    ("s3", "DeleteBucketMetricsConfiguration"): ("s3:PutMetricsConfiguration",),
    ("s3", "GetBucketNotificationConfiguration"): ("s3:GetBucketNotification",),
    ("s3", "PutBucketNotificationConfiguration"): ("s3:PutBucketNotification",),
    ("s3", "DeleteBucketOwnershipControls"): ("s3:PutBucketOwnershipControls",),
    ("s3", "GetBucketReplication"): ("s3:GetReplicationConfiguration",),
    ("s3", "PutBucketReplication"): ("s3:PutReplicationConfiguration",),
    ("s3", "DeleteBucketReplication"): ("s3:PutReplicationConfiguration",),
    ("s3", "DeleteBucketTagging"): ("s3:PutBucketTagging",),
    ("s3", "GetObjectLockConfiguration"): ("s3:GetBucketObjectLockConfiguration",),
    ("s3", "PutObjectLockConfiguration"): ("s3:PutBucketObjectLockConfiguration",),
    ("s3", "GetPublicAccessBlock"): ("s3:GetBucketPublicAccessBlock",),
    ("s3", "PutPublicAccessBlock"): ("s3:PutBucketPublicAccessBlock",),
    ("s3", "DeletePublicAccessBlock"): ("s3:PutBucketPublicAccessBlock",),
    # --- S3 Control: the account-level public access block ---
    ("s3control", "GetPublicAccessBlock"): ("s3:GetAccountPublicAccessBlock",),
    ("s3control", "PutPublicAccessBlock"): ("s3:PutAccountPublicAccessBlock",),
    ("s3control", "DeletePublicAccessBlock"): ("s3:PutAccountPublicAccessBlock",),
    # --- Lambda ---
    ("lambda", "Invoke"): ("lambda:InvokeFunction",),
    ("lambda", "InvokeWithResponseStream"): ("lambda:InvokeFunction",),
    ("lambda", "GetLayerVersionByArn"): ("lambda:GetLayerVersion",),
    # --- SQS / SNS batch APIs are authorized as their single-message action ---
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
    ("sqs", "DeleteMessageBatch"): ("sqs:DeleteMessage",),
    ("sqs", "ChangeMessageVisibilityBatch"): ("sqs:ChangeMessageVisibility",),
    ("sns", "PublishBatch"): ("sns:Publish",),
    # --- KMS ---
    ("kms", "ReEncrypt"): ("kms:ReEncryptFrom", "kms:ReEncryptTo"),
    # --- DynamoDB: every candidate here; _request_actions narrows them to what the body does ---
    ("dynamodb", "TransactGetItems"): ("dynamodb:GetItem",),
    ("dynamodb", "TransactWriteItems"): _DB_WRITE_ACTIONS,
    ("dynamodb", "ExecuteStatement"): _DB_PARTIQL_ACTIONS,
    ("dynamodb", "BatchExecuteStatement"): _DB_PARTIQL_ACTIONS,
    ("dynamodb", "ExecuteTransaction"): _DB_PARTIQL_ACTIONS,
    # --- CloudFront ---
    ("cloudfront", "CreateDistributionWithTags"): ("cloudfront:CreateDistribution", "cloudfront:TagResource"),
    ("cloudfront", "CreateStreamingDistributionWithTags"): (
        "cloudfront:CreateStreamingDistribution",
        "cloudfront:TagResource",
    ),
    # --- API Gateway management API (WebSocket connections) ---
    ("apigatewaymanagementapi", "PostToConnection"): ("execute-api:ManageConnections",),
    ("apigatewaymanagementapi", "GetConnection"): ("execute-api:ManageConnections",),
    ("apigatewaymanagementapi", "DeleteConnection"): ("execute-api:ManageConnections",),
    # --- AWS Budgets (iam-dataset map.json) ---
    ("budgets", "CreateBudget"): ("budgets:ModifyBudget",),
    ("budgets", "CreateNotification"): ("budgets:ModifyBudget",),
    ("budgets", "CreateSubscriber"): ("budgets:ModifyBudget",),
    ("budgets", "DeleteBudget"): ("budgets:ModifyBudget",),
    ("budgets", "DeleteNotification"): ("budgets:ModifyBudget",),
    ("budgets", "DeleteSubscriber"): ("budgets:ModifyBudget",),
    ("budgets", "UpdateBudget"): ("budgets:ModifyBudget",),
    ("budgets", "UpdateNotification"): ("budgets:ModifyBudget",),
    ("budgets", "UpdateSubscriber"): ("budgets:ModifyBudget",),
    ("budgets", "DescribeBudget"): ("budgets:ViewBudget",),
    ("budgets", "DescribeBudgets"): ("budgets:ViewBudget",),
    ("budgets", "DescribeBudgetPerformanceHistory"): ("budgets:ViewBudget",),
    ("budgets", "DescribeNotificationsForBudget"): ("budgets:ViewBudget",),
    ("budgets", "DescribeSubscribersForNotification"): ("budgets:ViewBudget",),
    # --- calls no IAM policy can deny (map.json "sdk_permissionless_actions") ---
    ("sts", "GetCallerIdentity"): (),
    ("sts", "GetSessionToken"): (),
    ("dynamodb", "DescribeEndpoints"): (),
}

#: API Gateway's management APIs are authorized by HTTP method (``apigateway:GET`` ...).
METHOD_AUTHORIZED_APIS = frozenset({"apigateway", "apigatewayv2"})

#: S3 object operations authorized as a ``...Version...`` action when the request names a
#: version (``versionId``); from the operations' documentation.
S3_VERSIONED_ACTIONS: dict[str, dict[str, str]] = {
    "GetObject": {"s3:GetObject": "s3:GetObjectVersion"},
    "HeadObject": {"s3:GetObject": "s3:GetObjectVersion"},
    "DeleteObject": {"s3:DeleteObject": "s3:DeleteObjectVersion"},
    "GetObjectAcl": {"s3:GetObjectAcl": "s3:GetObjectVersionAcl"},
    "PutObjectAcl": {"s3:PutObjectAcl": "s3:PutObjectVersionAcl"},
    "GetObjectTagging": {"s3:GetObjectTagging": "s3:GetObjectVersionTagging"},
    "PutObjectTagging": {"s3:PutObjectTagging": "s3:PutObjectVersionTagging"},
    "DeleteObjectTagging": {"s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging"},
    "GetObjectAttributes": {
        "s3:GetObject": "s3:GetObjectVersion",
        "s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
    },
}

#: Where a request passes an IAM role (``iam:PassRole``), by (service model, operation):
#: dotted paths into the request (``[]`` walks a list; query protocols use the flattened
#: parameter name). Sources: the operations' API references and the ``iam:PassRole`` entries
#: of iann0036/iam-dataset ``aws/map.json``.
PASSED_ROLE_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("lambda", "CreateFunction"): ("Role",),
    ("lambda", "UpdateFunctionConfiguration"): ("Role",),
    ("ecs", "RegisterTaskDefinition"): ("taskRoleArn", "executionRoleArn"),
    ("ecs", "CreateService"): ("role",),
    ("ecs", "RunTask"): ("overrides.taskRoleArn", "overrides.executionRoleArn"),
    ("ecs", "StartTask"): ("overrides.taskRoleArn", "overrides.executionRoleArn"),
    ("codebuild", "CreateProject"): ("serviceRole",),
    ("codebuild", "UpdateProject"): ("serviceRole",),
    ("codepipeline", "CreatePipeline"): ("pipeline.roleArn",),
    ("codepipeline", "UpdatePipeline"): ("pipeline.roleArn",),
    ("codedeploy", "CreateDeploymentGroup"): ("serviceRoleArn",),
    ("codedeploy", "UpdateDeploymentGroup"): ("serviceRoleArn",),
    ("events", "PutRule"): ("RoleArn",),
    ("events", "PutTargets"): ("Targets[].RoleArn",),
    ("scheduler", "CreateSchedule"): ("Target.RoleArn",),
    ("scheduler", "UpdateSchedule"): ("Target.RoleArn",),
    ("pipes", "CreatePipe"): ("RoleArn",),
    ("pipes", "UpdatePipe"): ("RoleArn",),
    ("logs", "PutSubscriptionFilter"): ("roleArn",),
    ("logs", "PutDestination"): ("roleArn",),
    ("stepfunctions", "CreateStateMachine"): ("roleArn",),
    ("stepfunctions", "UpdateStateMachine"): ("roleArn",),
    ("cloudformation", "CreateStack"): ("RoleARN",),
    ("cloudformation", "UpdateStack"): ("RoleARN",),
    ("cloudtrail", "CreateTrail"): ("CloudWatchLogsRoleArn",),
    ("cloudtrail", "UpdateTrail"): ("CloudWatchLogsRoleArn",),
    ("config", "PutConfigurationRecorder"): ("ConfigurationRecorder.roleARN",),
    ("eks", "CreateCluster"): ("roleArn",),
    ("eks", "CreateNodegroup"): ("nodeRole",),
    ("batch", "CreateComputeEnvironment"): ("serviceRole",),
    ("glue", "CreateJob"): ("Role",),
    ("glue", "CreateCrawler"): ("Role",),
    ("backup", "CreateBackupSelection"): ("BackupSelection.IamRoleArn",),
    ("backup", "StartBackupJob"): ("IamRoleArn",),
    ("application-autoscaling", "RegisterScalableTarget"): ("RoleARN",),
    ("rds", "CreateDBInstance"): ("MonitoringRoleArn",),
    ("rds", "ModifyDBInstance"): ("MonitoringRoleArn",),
    ("ec2", "RunInstances"): ("IamInstanceProfile.Arn", "IamInstanceProfile.Name"),
    ("ec2", "AssociateIamInstanceProfile"): ("IamInstanceProfile.Arn", "IamInstanceProfile.Name"),
    ("ec2", "ReplaceIamInstanceProfileAssociation"): ("IamInstanceProfile.Arn", "IamInstanceProfile.Name"),
    ("ec2", "CreateFlowLogs"): ("DeliverLogsPermissionArn",),
    ("autoscaling", "CreateLaunchConfiguration"): ("IamInstanceProfile",),
    ("autoscaling", "CreateAutoScalingGroup"): ("ServiceLinkedRoleARN",),
    ("s3", "PutBucketReplication"): ("Role",),  # read from the XML body (_s3_replication_role)
}

#: S3 request headers that add an action to an object or bucket write (operations' docs).
_S3_OBJECT_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})

_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
_S3_VIRTUAL_HOST = re.compile(r"^(?P<bucket>[^:/\[\]]+?)\.s3[.-]")
_DB_STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_REST = frozenset({"rest-json", "rest-xml"})


# --- botocore's service models --------------------------------------------------


@dataclass(frozen=True)
class _Route:
    """One operation's ``http.requestUri`` template, compiled."""

    operation: str
    method: str
    regex: re.Pattern[str]
    labels: tuple[str, ...]  #: member names, in regex group order
    query: tuple[tuple[str, str | None], ...]  #: required query keys (and value, when fixed)
    headers: tuple[str, ...]  #: required header names, lower case
    literals: int
    deprecated: bool
    x_id: str | None  #: the template's ``x-id`` (optional on the wire; an exact match counts)
    order: int

    def score(self, query: Mapping[str, list[str]], headers: Mapping[str, str]) -> tuple[int, ...] | None:
        """None when the request cannot be this operation; else larger is a better match."""
        for key, value in self.query:
            if key not in query or (value is not None and value not in query[key]):
                return None
        if any(name not in headers for name in self.headers):
            return None
        x_id = query.get("x-id")
        if x_id and self.x_id and self.x_id not in x_id:
            return None
        exact = int(bool(x_id and self.x_id))
        return (exact, len(self.query), len(self.headers), self.literals, int(not self.deprecated), -self.order)


def _compile_route(order: int, name: str, op: Mapping[str, Any], shapes: Mapping[str, Any]) -> _Route:
    http = op.get("http", {})
    path, _, query_part = str(http.get("requestUri", "/")).partition("?")
    labels: list[str] = []
    pattern = ""
    literals = 0
    for segment in filter(None, path.split("/")):
        pattern += "/"
        literals += "{" not in segment
        pos = 0
        for match in re.finditer(r"\{([^}]+)\}", segment):
            label = match.group(1)
            labels.append(label.rstrip("+"))
            pattern += re.escape(segment[pos : match.start()])
            pattern += f"(?P<g{len(labels) - 1}>{'.+' if label.endswith('+') else '[^/]+'})"
            pos = match.end()
        pattern += re.escape(segment[pos:])
    if not path.rstrip("/").endswith("+}"):
        pattern += "/?"  # a trailing slash is optional (``/functions/`` is sent as ``/functions``)
    query: list[tuple[str, str | None]] = []
    x_id = None
    for item in filter(None, query_part.split("&")):
        key, eq, value = item.partition("=")
        if key == "x-id":
            x_id = value
        else:
            query.append((key, value if eq else None))
    headers: list[str] = []
    input_shape = shapes.get(op.get("input", {}).get("shape", ""), {})
    required = set(input_shape.get("required", ()))
    for member_name, member in input_shape.get("members", {}).items():
        if member_name not in required:
            continue
        where = member.get("location")
        wire = str(member.get("locationName", member_name))
        if where == "querystring" and all(key != wire for key, _ in query):
            query.append((wire, None))
        elif where == "header":
            headers.append(wire.lower())
    return _Route(
        operation=name,
        method=str(http.get("method", "POST")).upper(),
        regex=re.compile(f"^{pattern}$"),
        labels=tuple(labels),
        query=tuple(query),
        headers=tuple(headers),
        literals=literals,
        deprecated=bool(op.get("deprecated")),
        x_id=x_id,
        order=order,
    )


@dataclass
class _Api:
    """One botocore service model, as the recorder needs it."""

    name: str
    model: Mapping[str, Any]
    _routes: list[_Route] | None = field(default=None, repr=False)

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self.model["metadata"]  # type: ignore[no-any-return]

    @property
    def signing_name(self) -> str:
        return str(self.metadata.get("signingName") or self.metadata.get("endpointPrefix", self.name))

    @property
    def protocols(self) -> tuple[str, ...]:
        return (str(self.metadata.get("protocol", "")), *map(str, self.metadata.get("protocols", ())))

    @property
    def operations(self) -> Mapping[str, Any]:
        return self.model["operations"]  # type: ignore[no-any-return]

    @property
    def shapes(self) -> Mapping[str, Any]:
        return self.model["shapes"]  # type: ignore[no-any-return]

    @property
    def routes(self) -> list[_Route]:
        if self._routes is None:
            self._routes = [
                _compile_route(i, name, op, self.shapes) for i, (name, op) in enumerate(self.operations.items())
            ]
        return self._routes

    def input_shape(self, operation: str) -> Mapping[str, Any]:
        shape_name = self.operations[operation].get("input", {}).get("shape", "")
        return self.shapes.get(shape_name, {})  # type: ignore[no-any-return]

    def member_shape(self, member: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.shapes.get(member.get("shape", ""), {})  # type: ignore[no-any-return]


class _Catalog:
    """botocore's service models, indexed once per process (lazily, thread-safe).

    The index of every model's metadata reads only the head of each model file (where the
    metadata is), so building it costs milliseconds; a model is loaded in full (with
    botocore's loader) the first time a request names its signing name or target prefix.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._loader: Any = None
        self._metadata: dict[str, dict[str, Any]] | None = None
        self._signing: dict[str, list[str]] = {}
        self._target: dict[str, list[str]] = {}
        self._apis: dict[str, _Api] = {}

    def loader(self) -> Any:
        with self._lock:
            if self._loader is None:
                import botocore.loaders

                self._loader = botocore.loaders.create_loader()
            return self._loader

    def _head_metadata(self, name: str) -> dict[str, Any]:
        loader = self.loader()
        version = loader.determine_latest_version(name, "service-2")
        for base in loader.search_paths:
            stem = os.path.join(base, name, version, "service-2.json")
            for path, opener in ((stem, open), (stem + ".gz", gzip.open)):
                if os.path.isfile(path):
                    with opener(path, "rb") as fh:
                        head = fh.read(16384).decode("utf-8", "replace")
                    try:
                        start = head.index("{", head.index('"metadata"'))
                        metadata, _ = json.JSONDecoder().raw_decode(head, start)
                        return dict(metadata)
                    except ValueError:  # metadata not in the head: read the whole model
                        return dict(self.api(name).metadata)
        return dict(self.api(name).metadata)

    def metadata(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            if self._metadata is None:
                names = self.loader().list_available_services("service-2")
                metadata = {name: self._head_metadata(name) for name in names}
                for name, md in metadata.items():
                    signing = str(md.get("signingName") or md.get("endpointPrefix") or name)
                    self._signing.setdefault(signing, []).append(name)
                    if md.get("targetPrefix"):
                        self._target.setdefault(str(md["targetPrefix"]), []).append(name)
                self._metadata = metadata
            return self._metadata

    def api(self, name: str) -> _Api:
        with self._lock:
            if name not in self._apis:
                self._apis[name] = _Api(name, self.loader().load_service_model(name, "service-2"))
            return self._apis[name]

    def names(self) -> Iterable[str]:
        return self.metadata().keys()

    def by_signing_name(self, signing: str) -> list[_Api]:
        self.metadata()
        return [self.api(name) for name in self._signing.get(signing, ())]

    def by_target_prefix(self, prefix: str) -> list[_Api]:
        self.metadata()
        return [self.api(name) for name in self._target.get(prefix, ())]


_CATALOG = _Catalog()


# --- IAM actions ----------------------------------------------------------------


def _api_for(service: str, operation: str) -> _Api | None:
    """The model for ``service`` (a botocore model name, else a signing name) with ``operation``."""
    if service in _CATALOG.names():
        api = _CATALOG.api(service)
        if operation in api.operations:
            return api
    for api in _CATALOG.by_signing_name(service):
        if operation in api.operations:
            return api
    return None


def iam_prefix(signing_name: str) -> str:
    """The IAM service prefix for a SigV4 signing name (usually the same)."""
    return IAM_PREFIXES.get(signing_name, signing_name)


def iam_actions(service: str, operation: str, params: Mapping[str, Any] | None = None) -> list[str]:
    """The IAM actions ``operation`` is authorized as.

    ``service`` is a botocore service model name (``s3``, ``elbv2``, ``cloudwatch``) or a SigV4
    signing name (``monitoring``: the first model of that signing name with ``operation``).
    ``<prefix>:<Operation>`` unless :data:`ACTION_EXCEPTIONS` says otherwise; with ``params``
    (as recorded) an S3 object operation that names a ``VersionId`` becomes its ``...Version...``
    action. ``[]`` when no IAM policy can deny the call.
    """
    api = _api_for(service, operation)
    name = api.name if api else service
    signing = api.signing_name if api else service
    if (name, operation) in ACTION_EXCEPTIONS:
        actions = list(ACTION_EXCEPTIONS[name, operation])
    elif api is not None and name in METHOD_AUTHORIZED_APIS:
        actions = [f"apigateway:{api.operations[operation].get('http', {}).get('method', 'POST').upper()}"]
    else:
        actions = [f"{iam_prefix(signing)}:{operation}"]
    if name == "s3" and params and params.get("VersionId") and operation in S3_VERSIONED_ACTIONS:
        swap = S3_VERSIONED_ACTIONS[operation]
        actions = [swap.get(action, action) for action in actions]
    return actions


def _walk(value: Any, path: str) -> list[Any]:
    """Values at a dotted path (``a.b``, ``a[].b``) of parsed JSON."""
    values = [value]
    for part in path.split("."):
        many = part.endswith("[]")
        key = part[:-2] if many else part
        found: list[Any] = []
        for item in values:
            child = item.get(key) if isinstance(item, dict) else None
            if many and isinstance(child, list):
                found.extend(child)
            elif child is not None and not many:
                found.append(child)
        values = found
    return values


def _request_actions(name: str, operation: str, call: _Call) -> tuple[list[str], list[str]]:
    """:func:`iam_actions` of (model ``name``, ``operation``) plus what this request adds,
    and the roles it passes."""
    request = call.request
    actions = iam_actions(name, operation, call.params)
    headers = request.headers
    if name == "s3":
        if operation in _S3_OBJECT_WRITES:
            if "x-amz-tagging" in headers:
                actions.append("s3:PutObjectTagging")
            if "x-amz-acl" in headers or any(h.startswith("x-amz-grant-") for h in headers):
                actions.append("s3:PutObjectAcl")
            if "x-amz-object-lock-mode" in headers or "x-amz-object-lock-retain-until-date" in headers:
                actions.append("s3:PutObjectRetention")
            if "x-amz-object-lock-legal-hold" in headers:
                actions.append("s3:PutObjectLegalHold")
        if operation in ("CopyObject", "UploadPartCopy") and "versionId=" in headers.get("x-amz-copy-source", ""):
            actions = ["s3:GetObjectVersion" if a == "s3:GetObject" else a for a in actions]
        if operation == "CreateBucket":
            if headers.get("x-amz-bucket-object-lock-enabled", "").lower() == "true":
                actions += ["s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"]
            if headers.get("x-amz-acl", "private") != "private" or any(h.startswith("x-amz-grant-") for h in headers):
                actions.append("s3:PutBucketAcl")
            if "x-amz-object-ownership" in headers:
                actions.append("s3:PutBucketOwnershipControls")
        if operation == "DeleteObjects" and request.body:
            versions = request.body.count(b"<VersionId>")
            actions = (["s3:DeleteObject"] if request.body.count(b"<Object>") > versions else []) + (
                ["s3:DeleteObjectVersion"] if versions else []
            )
        # Without s3:ListBucket a missing object answers 403 instead of the 404 callers expect.
        if operation in ("GetObject", "HeadObject", "GetObjectAttributes") and call.status == 404:
            actions.append("s3:ListBucket")
    if name == "dynamodb" and isinstance(call.document, dict):
        narrowed: list[str] = []
        if operation == "TransactWriteItems":
            for item in _walk(call.document, "TransactItems[]"):
                narrowed += [_DB_WRITE_ITEMS[k] for k in item if k in _DB_WRITE_ITEMS] if isinstance(item, dict) else []
        elif operation in ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"):
            statements = _walk(call.document, "Statement") + _walk(call.document, "Statements[].Statement")
            for statement in statements + _walk(call.document, "TransactStatements[].Statement"):
                if isinstance(statement, str) and (match := _DB_STATEMENT.match(statement)):
                    narrowed.append(_DB_PARTIQL[match.group(1).upper()])
        actions = narrowed or actions
    roles: list[str] = []
    for path in PASSED_ROLE_PATHS.get((name, operation), ()):
        if call.document is not None:
            roles += [str(v) for v in _walk(call.document, path) if isinstance(v, str) and v]
        elif path in call.query_params:
            roles += [v for v in call.query_params[path] if v]
    if name == "s3" and operation == "PutBucketReplication" and request.body:
        roles += re.findall(r"<Role>\s*([^<\s]+)\s*</Role>", request.body.decode("utf-8", "replace"))
    if roles:
        actions.append("iam:PassRole")
    return list(dict.fromkeys(actions)), list(dict.fromkeys(roles))


# --- one request ----------------------------------------------------------------


@dataclass
class _Request:
    """What the recorder keeps of a request before the emulator answers it."""

    akid: str
    region: str
    service: str
    method: str
    path: str  #: raw (percent-encoded) path, no query
    query: list[tuple[str, str]]
    headers: dict[str, str]  #: lower-case names
    body: bytes | None  #: None when not read (S3 objects, streams, too large)


@dataclass
class _Call:
    request: _Request
    status: int = 0
    api: _Api | None = None
    operation: str | None = None
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    document: Any = None  #: the parsed JSON/CBOR body, when there is one
    query_params: dict[str, list[str]] = field(default_factory=dict)


def _cap(value: Any) -> Any:
    if isinstance(value, str):
        return value[:VALUE_CAP]
    if isinstance(value, list):
        return [_cap(v) for v in value[:LIST_CAP]]
    return value


def _signature(environ: Environ) -> tuple[str, str, str] | None:
    """(akid, region, signing name) of a SigV4-signed request, else None."""
    match = _SCOPE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    if match is None and "X-Amz-Credential" in str(environ.get("QUERY_STRING", "")):
        credential = dict(urllib.parse.parse_qsl(str(environ["QUERY_STRING"]))).get("X-Amz-Credential", "")
        match = _SCOPE.search(f"Credential={credential}")
    return (match.group(1), match.group(2), match.group(3)) if match else None


def _raw_path(environ: Environ) -> str:
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if raw.startswith(("http://", "https://")):
        raw = urllib.parse.urlsplit(raw).path
    raw = raw.partition("?")[0]
    if not raw:
        path_info = str(environ.get("PATH_INFO", "/")).encode("latin-1").decode("utf-8", "replace")
        raw = urllib.parse.quote(path_info, safe="/~!$&'()*+,;=:@")
    return raw or "/"


def _wants_body(service: str, query: list[tuple[str, str]], environ: Environ) -> bool:
    """Read the body? Never an S3 object's (only the small XML of DeleteObjects and
    PutBucketReplication), never a streamed/chunked one, never beyond MAX_BODY."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    if not 0 < length <= MAX_BODY:
        return False
    if str(environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")).startswith("STREAMING-"):
        return False
    if "aws-chunked" in str(environ.get("HTTP_CONTENT_ENCODING", "")):
        return False
    if service == "s3":
        keys = {key for key, _ in query}
        return bool(keys & {"delete", "replication"})
    return True


def _capture(environ: Environ) -> _Request | None:
    """Snapshot a signed request (buffering its body for the emulator to read again)."""
    signature = _signature(environ)
    if signature is None:
        return None
    akid, region, service = signature
    query = urllib.parse.parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    headers = {
        key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    body = None
    if _wants_body(service, query, environ):
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        environ["wsgi.input"] = io.BytesIO(body)
        environ.pop("werkzeug.request", None)  # as shims.read_body: no parsed request on a drained stream
    return _Request(
        akid=akid,
        region=region,
        service=service,
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        path=_raw_path(environ),
        query=query,
        headers=headers,
        body=body,
    )


def _form(request: _Request) -> list[tuple[str, str]]:
    if request.body and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return urllib.parse.parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    return []


def _identify(call: _Call) -> None:
    """Find the operation (botocore's models) and the request's parameters; else say why not."""
    request = call.request
    target = request.headers.get("x-amz-target", "")
    if target:  # JSON protocols
        prefix, _, operation = target.rpartition(".")
        if not _identify_rpc(call, prefix, operation, _json_document):
            call.reason = f"no {request.service} model has X-Amz-Target {target!r}"
        return
    reasons: list[str] = []
    if request.method == "POST" and (cbor := _CBOR_PATH.match(request.path)):  # Smithy RPC v2 CBOR
        if _identify_rpc(call, cbor.group(1), cbor.group(2), _cbor_document):
            return
        reasons.append(f"no {request.service} model has RPC v2 operation {cbor.group(1)}.{cbor.group(2)}")
    flat: dict[str, list[str]] = {}
    for key, value in request.query + _form(request):
        flat.setdefault(key, []).append(value)
    apis = _CATALOG.by_signing_name(request.service)
    if "Action" in flat:  # query protocols
        if _identify_query(call, apis, flat):
            return
        reasons.append(f"no {request.service} model has Action={flat['Action'][0]}")
    if _identify_rest(call, [api for api in apis if set(api.protocols) & _REST], flat):
        return
    call.reason = "; ".join(reasons) or f"no {request.service} operation matches {request.method} {request.path}"


def _identify_rpc(call: _Call, prefix: str, operation: str, parse: Callable[[bytes | None], Any]) -> bool:
    """JSON and RPC v2 CBOR: the model with this target prefix (the signing name's first)."""
    apis = [a for a in _CATALOG.by_signing_name(call.request.service) if a.metadata.get("targetPrefix") == prefix]
    for api in apis or _CATALOG.by_target_prefix(prefix):
        if operation in api.operations:
            call.api, call.operation = api, operation
            call.document = parse(call.request.body)
            call.params = _document_params(api, operation, call.document)
            return True
    return False


def _identify_query(call: _Call, apis: Sequence[_Api], flat: dict[str, list[str]]) -> bool:
    """Query protocols: ``Action``, in the model whose ``apiVersion`` is ``Version`` if any."""
    operation = flat["Action"][0]
    version = (flat.get("Version") or [""])[0]
    candidates = sorted(
        (api for api in apis if operation in api.operations), key=lambda api: api.metadata.get("apiVersion") != version
    )
    if not candidates:
        return False
    api = call.api = candidates[0]
    call.operation = operation
    call.query_params = {k: v for k, v in flat.items() if k not in ("Action", "Version")}
    members = api.input_shape(operation).get("members", {})
    params: dict[str, Any] = {}
    for key, values in call.query_params.items():
        if key.startswith("X-Amz-") or len(params) >= PARAMS_CAP:
            continue
        member = members.get(key.split(".", 1)[0])
        shape = api.member_shape(member) if member else {}
        if shape.get("type") == "blob":
            continue
        params[key] = REDACTED if shape.get("sensitive") else _cap(values[0] if len(values) == 1 else values)
    call.params = params
    return True


def _s3_virtual_host(request: _Request) -> str:
    """An S3 virtual-host-style request's path as path-style (``bucket.s3.host/key`` -> ``/bucket/key``)."""
    host = request.headers.get("host", "")
    match = _S3_VIRTUAL_HOST.match(host)
    if request.service != "s3" or match is None or "s3-control" in host:
        return request.path
    return "/" + urllib.parse.quote(match.group("bucket")) + (request.path if request.path != "/" else "")


def _identify_rest(call: _Call, apis: Sequence[_Api], flat: dict[str, list[str]]) -> bool:
    """REST protocols: the method and path against each operation's ``requestUri`` template;
    of several matches, the one with most required query keys, then most literal segments."""
    request = call.request
    path = _s3_virtual_host(request)
    best: tuple[tuple[int, ...], _Api, _Route, re.Match[str]] | None = None
    for api in apis:
        for route in api.routes:
            if route.method != request.method or (match := route.regex.match(path)) is None:
                continue
            score = route.score(flat, request.headers)
            if score is not None and (best is None or score > best[0]):
                best = (score, api, route, match)
    if best is None:
        return False
    _, api, route, match = best
    call.api, call.operation = api, route.operation
    params: dict[str, Any] = {
        label: _cap(urllib.parse.unquote(match.group(f"g{i}"))) for i, label in enumerate(route.labels)
    }
    shape = api.input_shape(route.operation)
    members: Mapping[str, Any] = shape.get("members", {})
    required = set(shape.get("required", ()))
    for name, member in members.items():
        where, wire = member.get("location"), str(member.get("locationName", name))
        member_shape = api.member_shape(member)
        if where == "querystring" and wire in flat and member_shape.get("type") in ("string", "list"):
            value = flat[wire][0] if member_shape.get("type") == "string" else flat[wire]
            params.setdefault(name, REDACTED if member_shape.get("sensitive") else _cap(value))
        elif where == "header" and name in required and wire.lower() in request.headers:
            params.setdefault(name, _cap(request.headers[wire.lower()]))
    if "rest-json" in api.protocols and request.body:
        payload = shape.get("payload")
        payload_shape = api.member_shape(members[payload]) if payload else shape
        if payload_shape.get("type") == "structure":
            call.document = _json_document(request.body)
            body_params = _document_params(api, route.operation, call.document, payload_shape)
            params.update({k: v for k, v in body_params.items() if k not in params})
    call.params = params
    return True


def _json_document(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _cbor_document(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        from botocore.parsers import RpcV2CBORParser

        parser = RpcV2CBORParser()
        return parser.parse_data_item(parser.get_peekable_stream_from_bytes(body))
    except Exception:  # anything botocore's decoder refuses: no params
        return None


def _document_params(
    api: _Api, operation: str, document: Any, shape: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The top-level string and string-list members of a JSON/CBOR body, per the model."""
    if not isinstance(document, dict):
        return {}
    members: Mapping[str, Any] = (shape or api.input_shape(operation)).get("members", {})
    params: dict[str, Any] = {}
    for name, member in members.items():
        wire = str(member.get("locationName", name))
        if member.get("location") or wire not in document:
            continue
        value = document[wire]
        member_shape = api.member_shape(member)
        kind = member_shape.get("type")
        if kind == "list":
            item_shape = api.member_shape(member_shape.get("member", {}))
            if item_shape.get("type") != "string" or not isinstance(value, list):
                continue
            value = [v for v in value if isinstance(v, str)]
            sensitive = bool(item_shape.get("sensitive") or member_shape.get("sensitive"))
        elif kind == "string" and isinstance(value, str):
            sensitive = bool(member_shape.get("sensitive"))
        else:
            continue
        params[name] = REDACTED if sensitive else _cap(value)
        if len(params) >= PARAMS_CAP:
            break
    return params


def _record(call: _Call) -> dict[str, Any]:
    request = call.request
    line: dict[str, Any] = {
        "akid": request.akid,
        "region": request.region,
        "service": request.service,
        "api": call.api.name if call.api else None,
        "operation": call.operation,
        "action": [],
        "params": call.params,
        "passed_roles": [],
        "status": call.status,
        "method": request.method,
        "path": request.path[:VALUE_CAP],
    }
    if call.api is not None and call.operation is not None:
        line["action"], line["passed_roles"] = _request_actions(call.api.name, call.operation, call)
    else:
        line["reason"] = call.reason
    return line


# --- the middleware -----------------------------------------------------------------


#: An unsigned GET of this path waits until every call answered so far is written (the tests
#: that read the log between two commands ask for it: :func:`flush`).
FLUSH_PATH = "/_local_aws/call-log/flush"


def flush(endpoint: str, timeout: float = 60.0) -> bool:
    """Wait until the emulator at ``endpoint`` has written every call it answered; False when
    no emulator answers there (or it records nothing)."""
    import urllib.error
    import urllib.request

    if not endpoint.startswith("http://"):
        return False  # the emulator serves plain HTTP on loopback, nothing else
    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}{FLUSH_PATH}", timeout=timeout) as resp:  # noqa: S310
            return bool(resp.status == 200 and resp.read() == b"flushed")
    except (urllib.error.URLError, OSError):
        return False


class CallRecorder:
    """WSGI middleware: after the wrapped app answers a signed request, append one JSON line
    describing the call to ``path`` (see the module docstring). Thread-safe; never lets a
    failure of its own reach the request."""

    def __init__(self, app: WsgiApp, path: Path | str, *, background: bool = False) -> None:
        self.app = app
        self.path = Path(path)
        self._lock = threading.Lock()
        #: ``background``: identify and write each call on a thread of its own, so a response
        #: never waits for the recorder (a loaded emulator answering slowly makes SDKs retry a
        #: create they already made); :data:`FLUSH_PATH` waits until every call is written.
        self._queue: queue.Queue[_Call] | None = queue.Queue() if background else None
        if self._queue is not None:
            threading.Thread(target=self._drain, name="call-log", daemon=True).start()

    def _drain(self) -> None:
        assert self._queue is not None
        while True:
            call = self._queue.get()
            try:
                self._write(call)
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        """Return once every call answered so far is in the log."""
        if self._queue is not None:
            self._queue.join()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == FLUSH_PATH:
            self.flush()
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "7")])
            return [b"flushed"]
        try:
            request = _capture(environ)
        except Exception as err:  # a request the recorder cannot read is still served
            self._complain(err)
            request = None
        if request is None:
            return self.app(environ, start_response)
        call = _Call(request)

        def recording_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            call.status = int(status.split(" ", 1)[0]) if status[:3].isdigit() else 0
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, recording_start_response)
        except BaseException:
            call.status = call.status or 500
            self._log(call)
            raise
        if call.status:
            self._log(call)
            return body
        return _LogWhenStarted(body, call, self)  # the app calls start_response lazily

    def _log(self, call: _Call) -> None:
        if self._queue is not None:
            self._queue.put(call)
        else:
            self._write(call)

    def _write(self, call: _Call) -> None:
        """Identify the call and append its line; any failure is reported, never raised."""
        try:
            try:
                _identify(call)
                record = _record(call)
            except Exception as err:
                call.api, call.operation, call.params = None, None, {}
                call.reason = f"identification failed: {type(err).__name__}: {err}"
                record = _record(call)
            line = json.dumps(record, default=str) + "\n"
            with self._lock:  # opened per line: a log moved or removed meanwhile starts afresh
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as log:
                    log.write(line)
                    log.flush()
        except Exception as err:
            self._complain(err)

    @staticmethod
    def _complain(err: BaseException) -> None:
        print(f"local_aws.call_log: not recorded: {type(err).__name__}: {err}", file=sys.stderr, flush=True)


class _LogWhenStarted:
    """The app's response iterable, logging the call once its status is known."""

    def __init__(self, body: Iterable[bytes], call: _Call, recorder: CallRecorder) -> None:
        self.body, self.call, self.recorder = body, call, recorder
        self.logged = False

    def _log(self) -> None:
        if not self.logged:
            self.logged = True
            self.recorder._log(self.call)

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self._log()
            yield chunk
        self._log()

    def close(self) -> None:
        try:
            close: Callable[[], None] | None = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self._log()


def read_calls(path: Path | str) -> list[dict[str, Any]]:
    """The calls recorded in ``path``, oldest first ([] when none was recorded yet).

    A last line still being written (no newline yet) is left out.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    lines = text.split("\n")
    return [json.loads(line) for line in lines[:-1] if line.strip()]

"""Small, documented shims for the gaps between moto's server and AWS.

Each shim fixes one moto limitation (moto 5.2) in the emulator process only:
in the WSGI request/response stream where possible, or (5, 9, 10) by a small
patch of the moto logic that is wrong. The production configuration never changes
to please the emulator. Remove a shim when moto closes its gap: tests/emulator
checks each shim against a real emulator process, and checks against moto's
own server without the shims that each gap is still there, so a moto upgrade
that closes one fails that test and says which shim can go.

1. X-Ray sampling rules: moto's X-Ray backend has no route for
   ``CreateSamplingRule`` / ``GetSamplingRules`` / ``UpdateSamplingRule`` /
   ``DeleteSamplingRule`` (404 HTML), nor X-Ray tagging. :class:`XRaySamplingRules`
   implements them in memory with AWS's request and response shapes.
2. CodeBuild ``CreateProject`` demands ``source.location`` and
   ``artifacts.location`` even for ``CODEPIPELINE`` sources and artifacts
   (AWS forbids a location there). The shim adds a marker location on the way
   in and removes it on the way out. moto has no ``UpdateProject`` at all
   ("not implemented"): the shim applies the update to the project moto keeps.
3. CodeBuild answers ``BatchGetProjects`` with ``alias/aws/s3`` instead of the
   customer-managed key it was given (a perpetual diff in ``terraform plan``).
   The shim remembers the requested key and reports it back. And
   ``DeleteProject`` ignores a project ARN (AWS accepts name or ARN; the
   provider sends the ARN), leaving the project behind: the shim passes the name.
4. Lambda ``GetFunction`` omits ``KMSKeyArn`` and ``DeadLetterConfig``
   although ``CreateFunction`` accepted them (drift on ``kms_key_arn`` and
   ``dead_letter_config``); the shim reports back the values given.
5. moto ignores the ``Bool`` condition operator, so the TLS-only bucket
   policy (Deny when ``aws:SecureTransport`` is false) denies every object
   request, the Terraform state included. The emulator only listens on
   loopback, where the production rule (no plaintext across a network) holds,
   so :func:`patch_secure_transport` evaluates that condition as for a TLS
   client: the Deny statement does not apply.
6. CodePipeline ``Get/Create/UpdatePipeline`` return ``metadata`` timestamps
   as ISO strings; the AWS JSON protocol (and the Go SDK in the provider)
   expects epoch seconds, so the provider fails to read the pipeline. The
   shim converts them.
7. ECS ``DescribeServices`` omits ``availabilityZoneRebalancing``,
   ``enableECSManagedTags``, ``healthCheckGracePeriodSeconds`` and
   ``deploymentConfiguration`` (circuit breaker) although
   ``CreateService`` accepted them (drift on every plan). The shim reports
   back the values the service was created or last updated with.
8. S3 ``GetBucketNotificationConfiguration`` omits ``EventBridgeConfiguration``
   although ``PutBucketNotificationConfiguration`` stored it (drift on
   ``eventbridge``). The shim adds it back for buckets that enabled it.
9. EC2 security-group rules that reference another group lose their
   description (moto reads it only from CIDR ranges). :func:`patch_rule_descriptions`
   reads it from the group pair too.
10. S3 ``PutBucketLogging`` fails with a 500 when the target bucket's policy
    has any statement whose ``Principal`` is the string ``"*"`` (moto assumes a
    mapping), as our TLS-only Deny does; and moto compares the log-delivery
    grant's ``Resource`` as a plain string, so ``<bucket>/s3/*`` does not admit
    the per-bucket prefix ``s3/<source bucket>/`` as IAM's wildcard does.
    :func:`patch_log_target_policy` reads the statements with a service
    principal and matches resources as IAM patterns.
11. ECR pull-through cache rules: moto's ECR backend has no
    ``CreatePullThroughCacheRule`` / ``DescribePullThroughCacheRules`` /
    ``UpdatePullThroughCacheRule`` / ``DeletePullThroughCacheRule`` (moto
    answers "not yet implemented"). :class:`EcrPullThroughCacheRules` keeps
    the rules in memory with AWS's request, response and error shapes. (The
    emulator runs no containers, so nothing is ever pulled through them.) The
    platform no longer creates one (images are mirrored); the upgrade test's
    last release does, and this release's apply deletes it.
12. Lambda invocation needs a Docker engine in moto, and none runs here (nor does
    the emulator reach the internet). :class:`ImageMirrorInvocations` answers an
    invocation of the platform's image mirror (recognised by its handler) by running
    the mirror's own code against the emulator's ECR, with an emulated upstream that
    serves a small deterministic image for the requested source: the repository gets
    the tag and a digest exactly as on AWS. Other functions are still moto's.
13. ACM issues a DNS-validated certificate once ``MOTO_ACM_VALIDATION_WAIT`` seconds
    (60 by default) have passed since the request, without looking at DNS; the emulator
    resolves no public DNS either. :func:`patch_acm_validation_wait` makes that wait zero,
    so ``aws_acm_certificate_validation`` returns at its first poll instead of a minute
    later (on AWS, validation waits for the record the stack writes to the hosted zone).
14. S3 replication: moto stores a bucket's replication configuration but never copies
    an object, and ``GetBucketReplication`` answers a fixed shape (no
    ``SourceSelectionCriteria``, ``DeleteMarkerReplication`` always disabled, an empty
    filter): a perpetual diff. :func:`patch_s3_replication` copies each object written to a
    bucket with an enabled rule (prefix filter) into the rule's destination bucket, encrypted
    with the rule's replica key, as S3 does asynchronously on AWS (like S3, it replicates
    neither objects written before the rule existed nor the delete of a version; a delete
    marker only where the rule enables ``DeleteMarkerReplication``), and reports each rule as
    it was stored.
15. CloudWatch Logs ``PutMetricFilter`` of an existing filter (same name and log group)
    adds a second filter instead of updating the first ("Creates or updates a metric
    filter"), so ``DescribeMetricFilters`` reports the old one and a changed filter shows
    as a perpetual diff. :func:`patch_metric_filter_update` replaces it.
16. S3 cannot delete the last version of a key whose history holds a delete marker: moto
    disposes of every version and a delete marker has no ``dispose`` (500,
    ``AttributeError``). Terraform's S3 lock file (``use_lockfile``) leaves such a history in
    the versioned state bucket on every locked run, so emptying the bucket (``force_destroy``)
    failed. :func:`patch_delete_marker_dispose` gives delete markers a no-op one (they hold
    no data to dispose of).
17. A retried request is executed again. AWS SDKs retry a request whose response they did
    not get (a transport error) with the same ``amz-sdk-invocation-id`` header and
    ``amz-sdk-request: attempt=N``; on this loopback server a response is occasionally not
    received although moto completed the request (seen: the S3 backend's DynamoDB
    ``PutItem`` at attempt 2 less than a second after attempt 1 answered 200; and deploys
    that failed with ``InvalidPermission.Duplicate`` on ``AuthorizeSecurityGroupIngress`` and
    ``InvalidSubnet.Conflict`` on ``CreateSubnet``, each on the retry of a call whose first
    attempt had created the rule or subnet). moto runs the retry as a new call, so a create
    fails on its own result and the resource exists outside terraform's state.
    :class:`RetryReplay` answers a later attempt of an invocation whose earlier attempt
    completed with a 2xx by replaying that response: the answer the client missed. A new
    invocation, a read (GET/HEAD), and a retry after an error are executed as usual.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from local_aws import EMULATOR_ACCOUNT_ID, FUNCTION_ACCESS_KEY_ID

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
#: moto's default account, used when neither MOTO_ACCOUNT_ID nor the header names another.
DEFAULT_ACCOUNT = EMULATOR_ACCOUNT_ID
CODEPIPELINE_LOCATION_MARKER = "local-aws-shim:codepipeline-source"


def signing_scope(environ: Environ) -> tuple[str, str]:
    """(region, service) from the SigV4 Authorization header."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return (match.group(1), match.group(2)) if match else ("us-east-1", "")


def account_of(environ: Environ) -> str:
    """The account moto serves this request from: the ``x-moto-account-id`` header,
    else ``MOTO_ACCOUNT_ID``, else moto's default (as moto itself decides)."""
    import os

    return str(environ.get("HTTP_X_MOTO_ACCOUNT_ID") or os.environ.get("MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT)


def read_body(environ: Environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)  # let the next app read it again
    # werkzeug caches a parsed request in the environ; it must not keep the drained stream.
    environ.pop("werkzeug.request", None)
    return body


def replace_body(environ: Environ, body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("werkzeug.request", None)  # see read_body


def json_response(start_response: StartResponse, status: int, payload: Any) -> list[bytes]:
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


class XRaySamplingRules:
    """In-memory X-Ray sampling rules and their tags (shim 1)."""

    PATHS = frozenset(
        {
            "/CreateSamplingRule",
            "/GetSamplingRules",
            "/UpdateSamplingRule",
            "/DeleteSamplingRule",
            "/TagResource",
            "/UntagResource",
            "/ListTagsForResource",
        }
    )
    REQUIRED = (
        "RuleName", "Priority", "FixedRate", "ReservoirSize", "ServiceName", "ServiceType",
        "Host", "HTTPMethod", "URLPath", "Version", "ResourceARN",
    )  # fmt: skip
    UPDATABLE = (
        "Priority", "FixedRate", "ReservoirSize", "ServiceName", "ServiceType", "Host",
        "HTTPMethod", "URLPath", "ResourceARN", "Attributes",
    )  # fmt: skip

    def __init__(self, account_id: str = "123456789012") -> None:
        self.account_id = account_id
        self.rules: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.lock = threading.Lock()

    def handles(self, environ: Environ) -> bool:
        return signing_scope(environ)[1] == "xray" and environ.get("PATH_INFO") in self.PATHS

    def __call__(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        region, _ = signing_scope(environ)
        request = json.loads(read_body(environ) or b"{}")
        action = environ["PATH_INFO"].lstrip("/")
        with self.lock:
            status, payload = getattr(self, f"_{action}")(request, region)
        return json_response(start_response, status, payload)

    def _record(self, rule: dict[str, Any]) -> dict[str, Any]:
        now = time.time()
        return {"SamplingRule": rule, "CreatedAt": now, "ModifiedAt": now}

    def _find(self, request: dict[str, Any]) -> str | None:
        name = request.get("RuleName")
        arn = request.get("RuleARN")
        for key, record in self.rules.items():
            rule = record["SamplingRule"]
            if name == rule["RuleName"] or arn == rule["RuleARN"]:
                return key
        return None

    def _CreateSamplingRule(self, request: dict[str, Any], region: str) -> tuple[int, Any]:
        rule = dict(request.get("SamplingRule") or {})
        name = rule.get("RuleName", "")
        missing = [f for f in self.REQUIRED if f not in rule]
        if missing:
            return 400, {"__type": "InvalidRequestException", "message": f"missing {', '.join(missing)}"}
        if name in self.rules:
            return 400, {"__type": "RuleLimitExceededException", "message": f"rule {name} already exists"}
        rule["RuleARN"] = f"arn:aws:xray:{region}:{self.account_id}:sampling-rule/{name}"
        rule.setdefault("Attributes", {})
        self.rules[name] = self._record(rule)
        self.tags[rule["RuleARN"]] = {t["Key"]: t["Value"] for t in request.get("Tags") or []}
        return 200, {"SamplingRuleRecord": self.rules[name]}

    def _GetSamplingRules(self, request: dict[str, Any], region: str) -> tuple[int, Any]:
        return 200, {"SamplingRuleRecords": list(self.rules.values())}

    def _UpdateSamplingRule(self, request: dict[str, Any], region: str) -> tuple[int, Any]:
        update = request.get("SamplingRuleUpdate") or {}
        key = self._find(update)
        if key is None:
            return 400, {"__type": "InvalidRequestException", "message": "sampling rule not found"}
        record = self.rules[key]
        record["SamplingRule"].update({k: v for k, v in update.items() if k in self.UPDATABLE})
        record["ModifiedAt"] = time.time()
        return 200, {"SamplingRuleRecord": record}

    def _DeleteSamplingRule(self, request: dict[str, Any], region: str) -> tuple[int, Any]:
        key = self._find(request)
        if key is None:
            return 400, {"__type": "InvalidRequestException", "message": "sampling rule not found"}
        record = self.rules.pop(key)
        self.tags.pop(record["SamplingRule"]["RuleARN"], None)
        return 200, {"SamplingRuleRecord": record}

    def _TagResource(self, request: dict[str, Any], region: str) -> tuple[int, Any]:
        tags = self.tags.setdefault(request["ResourceARN"], {})
        tags.update({t["Key"]: t["Value"] for t in request.get("Tags") or []})
        return 200, {}

    def _UntagResource(self, request: dict[str, Any], region: str) -> tuple[int, Any]:
        tags = self.tags.setdefault(request["ResourceARN"], {})
        for key in request.get("TagKeys") or []:
            tags.pop(key, None)
        return 200, {}

    def _ListTagsForResource(self, request: dict[str, Any], region: str) -> tuple[int, Any]:
        if request["ResourceARN"] not in self.tags:
            return 400, {"__type": "ResourceNotFoundException", "message": "resource not found"}
        tags = self.tags[request["ResourceARN"]]
        return 200, {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}


class ResponseRewriter:
    """Run the wrapped app, then let a function edit its successful response body."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def call_raw(
        self, environ: Environ, start_response: StartResponse, rewrite: Callable[[bytes], bytes]
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        body = b"".join(self.app(environ, capture))
        if captured["status"].startswith("200"):
            body = rewrite(body)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers)
        return [body]

    def call(self, environ: Environ, start_response: StartResponse, rewrite: Callable[[Any], Any]) -> Iterable[bytes]:
        def as_json(body: bytes) -> bytes:
            try:
                return json.dumps(rewrite(json.loads(body))).encode()
            except ValueError:  # not JSON: pass through untouched
                return body

        return self.call_raw(environ, start_response, as_json)


class CodeBuildProjects:
    """Shims 2 and 3: CODEPIPELINE source location and the project's KMS key."""

    def __init__(self, app: WsgiApp) -> None:
        self.rewriter = ResponseRewriter(app)
        self.app = app
        self.keys: dict[str, str] = {}

    @staticmethod
    def target(environ: Environ) -> str:
        return str(environ.get("HTTP_X_AMZ_TARGET", ""))

    def handles(self, environ: Environ) -> bool:
        return self.target(environ).startswith("CodeBuild_20161006.")

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        action = self.target(environ).split(".", 1)[1]
        if action == "CreateProject":
            request = json.loads(read_body(environ) or b"{}")
            for block in ("source", "artifacts"):
                part = request.get(block) or {}
                if part.get("type") == "CODEPIPELINE" and not part.get("location"):
                    part["location"] = CODEPIPELINE_LOCATION_MARKER
            if request.get("encryptionKey"):
                self.keys[request.get("name", "")] = request["encryptionKey"]
            replace_body(environ, json.dumps(request).encode())
            return self.rewriter.call(environ, start_response, self._restore_project)
        if action == "BatchGetProjects":
            return self.rewriter.call(environ, start_response, self._restore_projects)
        if action == "DeleteProject":
            request = json.loads(read_body(environ) or b"{}")
            name = str(request.get("name", "")).rsplit(":project/", 1)[-1]  # ARN or name
            self.keys.pop(name, None)
            replace_body(environ, json.dumps({**request, "name": name}).encode())
        if action == "UpdateProject":
            return self._update(environ, start_response)
        return self.app(environ, start_response)

    #: UpdateProject request fields moto keeps in a project's metadata under the same name.
    UPDATABLE = (
        "description", "source", "artifacts", "environment", "serviceRole", "timeoutInMinutes",
        "queuedTimeoutInMinutes", "encryptionKey", "logsConfig", "cache", "vpcConfig", "sourceVersion",
    )  # fmt: skip

    def _update(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        """moto has no UpdateProject: apply the request to the project moto keeps, as AWS does."""
        from moto.codebuild.models import codebuild_backends

        request = json.loads(read_body(environ) or b"{}")
        name = str(request.get("name", "")).rsplit(":project/", 1)[-1]
        region, _ = signing_scope(environ)
        projects = codebuild_backends[account_of(environ)][region].codebuild_projects
        if name not in projects:
            return json_response(start_response, 400, {"__type": "ResourceNotFoundException",
                                                       "message": f"Project {name} not found"})  # fmt: skip
        metadata = projects[name].project_metadata
        for block in ("source", "artifacts"):
            part = request.get(block) or {}
            if part.get("type") == "CODEPIPELINE" and not part.get("location"):
                part["location"] = CODEPIPELINE_LOCATION_MARKER
        metadata.update({k: request[k] for k in self.UPDATABLE if k in request})
        metadata["lastModifiedDate"] = time.time()
        if request.get("encryptionKey"):
            self.keys[name] = request["encryptionKey"]
        return json_response(start_response, 200, {"project": self._fix(json.loads(json.dumps(metadata)))})

    def _fix(self, project: dict[str, Any]) -> dict[str, Any]:
        for block in ("source", "artifacts"):
            part = project.get(block) or {}
            if part.get("location") == CODEPIPELINE_LOCATION_MARKER:
                del part["location"]
        if project.get("name") in self.keys:
            project["encryptionKey"] = self.keys[project["name"]]
        return project

    def _restore_project(self, payload: dict[str, Any]) -> dict[str, Any]:
        if "project" in payload:
            self._fix(payload["project"])
        return payload

    def _restore_projects(self, payload: dict[str, Any]) -> dict[str, Any]:
        for project in payload.get("projects") or []:
            self._fix(project)
        return payload


class LambdaKmsKey:
    """Shim 4: report back the KMS key and dead-letter config a function was given."""

    FIELDS = ("KMSKeyArn", "DeadLetterConfig")

    _FUNCTION = re.compile(r"^/2015-03-31/functions/([^/]+)(/configuration)?/?$")

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.rewriter = ResponseRewriter(app)
        self.keys: dict[str, dict[str, Any]] = {}

    def handles(self, environ: Environ) -> bool:
        return signing_scope(environ)[1] == "lambda" and environ.get("PATH_INFO", "").startswith(
            "/2015-03-31/functions"
        )

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "")
        if method == "POST" and path.rstrip("/") == "/2015-03-31/functions":
            request = json.loads(read_body(environ) or b"{}")
            self.keys[request["FunctionName"]] = {k: request[k] for k in self.FIELDS if request.get(k)}
            return self.rewriter.call(environ, start_response, self._restore)
        match = self._FUNCTION.match(path)
        if match and method == "GET":
            return self.rewriter.call(environ, start_response, self._restore)
        if match and method == "PUT" and match.group(2):
            request = json.loads(read_body(environ) or b"{}")
            self.keys.setdefault(match.group(1), {}).update({k: request[k] for k in self.FIELDS if k in request})
        return self.app(environ, start_response)

    def _restore(self, payload: dict[str, Any]) -> dict[str, Any]:
        config = payload.get("Configuration", payload)
        config.update(self.keys.get(config.get("FunctionName"), {}))
        return payload


#: Request context moto does not supply, as AWS would set it for a TLS client.
TLS_CONTEXT = {"aws:securetransport": "true"}


def patch_secure_transport() -> None:
    """Shim 5: a ``Bool`` condition on ``aws:SecureTransport`` is evaluated as for TLS."""
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    original = IAMPolicyStatement.is_action_permitted
    if getattr(original, "local_aws_shim", False):
        return

    def is_action_permitted(
        self: IAMPolicyStatement,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> PermissionResult:
        for key, expected in (self._statement.get("Condition") or {}).get("Bool", {}).items():
            actual = TLS_CONTEXT.get(key.lower())
            if actual is not None and str(expected).lower() != actual:
                return PermissionResult.NEUTRAL  # condition unmet: the statement does not apply
        return original(self, action, resource, principal, incoming_condition_values)

    is_action_permitted.local_aws_shim = True  # type: ignore[attr-defined]
    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]


class CodePipelineTimestamps:
    """Shim 6: epoch-seconds timestamps in CodePipeline pipeline metadata."""

    ACTIONS = frozenset({"GetPipeline", "CreatePipeline", "UpdatePipeline"})

    def __init__(self, app: WsgiApp) -> None:
        self.rewriter = ResponseRewriter(app)

    def handles(self, environ: Environ) -> bool:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        return target.startswith("CodePipeline_20150709.") and target.split(".", 1)[1] in self.ACTIONS

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        return self.rewriter.call(environ, start_response, self._epoch)

    @staticmethod
    def _epoch(payload: dict[str, Any]) -> dict[str, Any]:
        from datetime import datetime

        metadata = payload.get("metadata") or {}
        for key in ("created", "updated", "pollingDisabledAt"):
            value = metadata.get(key)
            if isinstance(value, str):
                metadata[key] = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        return payload


class EcsServiceFields:
    """Shim 7: echo service fields moto accepts but does not return."""

    PREFIX = "AmazonEC2ContainerServiceV20141113."
    FIELDS = (
        "availabilityZoneRebalancing",
        "enableECSManagedTags",
        "healthCheckGracePeriodSeconds",
        "deploymentConfiguration",
    )

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.rewriter = ResponseRewriter(app)
        self.fields: dict[str, dict[str, Any]] = {}

    def handles(self, environ: Environ) -> bool:
        return str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(self.PREFIX)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        action = str(environ["HTTP_X_AMZ_TARGET"])[len(self.PREFIX) :]
        if action in ("CreateService", "UpdateService"):
            request = json.loads(read_body(environ) or b"{}")
            name = str(request.get("serviceName") or request.get("service", "")).rsplit("/", 1)[-1]
            known = self.fields.setdefault(name, {})
            for k in (k for k in self.FIELDS if k in request):
                # UpdateService changes the deployment configuration's members it names and keeps
                # the others (the provider sends only what changed, e.g. just the alarms).
                merge = isinstance(request[k], dict) and isinstance(known.get(k), dict)
                known[k] = {**known[k], **request[k]} if merge else request[k]
            return self.rewriter.call(environ, start_response, self._restore)
        if action == "DescribeServices":
            return self.rewriter.call(environ, start_response, self._restore)
        return self.app(environ, start_response)

    def _restore(self, payload: dict[str, Any]) -> dict[str, Any]:
        services = payload.get("services") or ([payload["service"]] if "service" in payload else [])
        for service in services:
            service.update(self.fields.get(service.get("serviceName", ""), {}))
        return payload


class S3EventBridgeNotification:
    """Shim 8: report ``EventBridgeConfiguration`` for buckets that enabled it."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.rewriter = ResponseRewriter(app)
        self.enabled: set[str] = set()

    def handles(self, environ: Environ) -> bool:
        return signing_scope(environ)[1] == "s3" and "notification" in environ.get("QUERY_STRING", "").split("&")[0]

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        bucket = environ.get("PATH_INFO", "/").strip("/").split("/", 1)[0]
        if environ.get("REQUEST_METHOD") == "PUT":
            body = read_body(environ)
            if b"EventBridgeConfiguration" in body:
                self.enabled.add(bucket)
            else:
                self.enabled.discard(bucket)
            return self.app(environ, start_response)
        if bucket not in self.enabled:
            return self.app(environ, start_response)
        return self.rewriter.call_raw(environ, start_response, self._add_eventbridge)

    @staticmethod
    def _add_eventbridge(body: bytes) -> bytes:
        text = re.sub(
            r"<NotificationConfiguration([^>]*)/>",
            r"<NotificationConfiguration\1></NotificationConfiguration>",
            body.decode(),
        )
        return text.replace(
            "</NotificationConfiguration>", "<EventBridgeConfiguration/></NotificationConfiguration>"
        ).encode()


def patch_acm_validation_wait() -> None:
    """Shim 13: a DNS-validated certificate is issued at its first check."""
    from moto import settings

    settings.ACM_VALIDATION_WAIT = 0


def patch_delete_marker_dispose() -> None:
    """Shim 16: a delete marker, like a version, can be disposed of (it has nothing to free)."""
    from moto.s3.models import FakeDeleteMarker

    if not hasattr(FakeDeleteMarker, "dispose"):
        FakeDeleteMarker.dispose = lambda self, garbage=False: None  # type: ignore[attr-defined]


def patch_metric_filter_update() -> None:
    """Shim 15: PutMetricFilter of an existing filter replaces it."""
    from moto.logs.metric_filters import MetricFilters

    original = MetricFilters.add_filter
    if getattr(original, "_replacing", False):
        return

    def add_filter(self: Any, filter_name: str, filter_pattern: str, log_group_name: str, *args: Any) -> None:
        self.metric_filters = [
            f for f in self.metric_filters
            if (f["filterName"], f["logGroupName"]) != (filter_name, log_group_name)
        ]  # fmt: skip
        original(self, filter_name, filter_pattern, log_group_name, *args)

    add_filter._replacing = True  # type: ignore[attr-defined]
    MetricFilters.add_filter = add_filter  # type: ignore[method-assign,assignment]


def patch_s3_replication() -> None:
    """Shim 14: an object written to a bucket with an enabled replication rule is copied to
    the rule's destination (a new version there, encrypted with the replica key), and, where the
    rule replicates delete markers, a delete without a version id leaves a marker there too."""
    from moto.s3.models import S3Backend

    original = S3Backend.put_object
    if getattr(original, "_replicating", False):
        return

    def put_object(self: Any, bucket_name: str, key_name: str, value: bytes, *args: Any, **kwargs: Any) -> Any:
        key = original(self, bucket_name, key_name, value, *args, **kwargs)
        replication = getattr(self.get_bucket(bucket_name), "replication", None) or {}
        for rule in replication.get("Rule", []):
            prefix = (rule.get("Filter") or {}).get("Prefix") or rule.get("Prefix") or ""
            if rule.get("Status") != "Enabled" or not key_name.startswith(prefix):
                continue
            destination = rule["Destination"]
            replica_key = (destination.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
            original(
                self,
                destination["Bucket"].rsplit(":", 1)[-1],
                key_name,
                value,
                encryption="aws:kms" if replica_key else None,
                kms_key_id=replica_key,
                disable_notification=True,
            )
        return key

    put_object._replicating = True  # type: ignore[attr-defined]
    S3Backend.put_object = put_object  # type: ignore[method-assign]

    deleting = S3Backend.delete_object

    def delete_object(
        self: Any, bucket_name: str, key_name: str, version_id: str | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        # A delete without a version id leaves a delete marker; a rule with DeleteMarkerReplication
        # enabled copies the marker (AWS never replicates the delete of a version id).
        result = deleting(self, bucket_name, key_name, version_id, *args, **kwargs)
        replication = getattr(self.get_bucket(bucket_name), "replication", None) or {}
        for rule in replication.get("Rule", []) if version_id is None else []:
            prefix = (rule.get("Filter") or {}).get("Prefix") or rule.get("Prefix") or ""
            markers = (rule.get("DeleteMarkerReplication") or {}).get("Status") == "Enabled"
            if rule.get("Status") == "Enabled" and markers and key_name.startswith(prefix):
                deleting(self, rule["Destination"]["Bucket"].rsplit(":", 1)[-1], key_name)
        return result

    S3Backend.delete_object = delete_object  # type: ignore[method-assign]

    from moto.core.common_types import TYPE_RESPONSE
    from moto.s3.responses import S3Response

    reported = S3Response.get_bucket_replication

    def get_bucket_replication(self: Any) -> str | TYPE_RESPONSE:
        replication = self.backend.get_bucket_replication(self.bucket_name)
        if not replication:
            return reported(self)  # moto's own error
        fields = ("ID", "Priority", "Status", "Filter", "DeleteMarkerReplication", "SourceSelectionCriteria",
                  "Destination")  # fmt: skip
        # An empty <Filter><Prefix/></Filter> is stored as None: it is the empty prefix.
        rules = [{"Filter": {"Prefix": ""}, **{k: rule[k] for k in fields if rule.get(k) is not None}}
                 for rule in replication["Rule"]]  # fmt: skip
        from moto.core.responses import ActionResult

        self.data["Action"] = "GetBucketReplication"
        return self.serialized(  # type: ignore[no-any-return]
            ActionResult({"ReplicationConfiguration": {"Role": replication["Role"], "Rules": rules}})
        )

    S3Response.get_bucket_replication = get_bucket_replication  # type: ignore[method-assign]


def patch_rule_descriptions() -> None:
    """Shim 9: a group-referencing rule keeps its description."""
    from moto.ec2.models.security_groups import SecurityGroupRule

    if getattr(SecurityGroupRule, "local_aws_shim", False):
        return

    def description(self: SecurityGroupRule) -> str | None:
        return self.ip_range.get("Description") or (self.source_group or {}).get("Description")

    SecurityGroupRule.description = property(description)  # type: ignore[method-assign,assignment]
    SecurityGroupRule.local_aws_shim = True  # type: ignore[attr-defined]


def patch_log_target_policy() -> None:
    """Shim 10: moto's log-delivery permission check, with statements read as AWS reads them.

    moto's own check fails on a statement whose ``Principal`` is ``"*"`` (it assumes a mapping)
    and compares ``Resource`` as a plain string, so a grant of ``<bucket>/s3/*`` does not cover
    the prefix ``s3/<source bucket>/`` although IAM's wildcard does. Here only statements with a
    service principal are read, and each resource is matched as an IAM pattern.
    """
    from moto.s3.models import FakeBucket
    from moto.s3.utils import LOGGING_SERVICE_PRINCIPAL

    if getattr(FakeBucket, "local_aws_log_shim", False):
        return

    def checked(target_bucket: Any, target_prefix: str | None) -> bool:
        if not target_bucket.policy:
            return False
        wanted = f"arn:{target_bucket.partition}:s3:::{target_bucket.name}/{target_prefix or ''}x"
        for stmt in json.loads(target_bucket.policy.decode()).get("Statement", []):
            principal = stmt.get("Principal")
            if not isinstance(principal, dict) or LOGGING_SERVICE_PRINCIPAL not in _listed(principal.get("Service")):
                continue
            if stmt.get("Effect") != "Allow" or "s3:PutObject" not in _listed(stmt.get("Action")):
                continue
            if any(_iam_match(str(r), wanted) for r in _listed(stmt.get("Resource"))):
                return True
        return False

    FakeBucket._log_permissions_enabled_policy = staticmethod(checked)  # type: ignore[method-assign]
    FakeBucket.local_aws_log_shim = True  # type: ignore[attr-defined]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _iam_match(pattern: str, value: str) -> bool:
    """IAM's ARN wildcards: ``*`` any run of characters, ``?`` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


class EcrPullThroughCacheRules:
    """Shim 11: ECR pull-through cache rules, in memory per (account, region)."""

    PREFIX = "AmazonEC2ContainerRegistry_V20150921."
    ACTIONS = frozenset(
        {"CreatePullThroughCacheRule", "DescribePullThroughCacheRules", "UpdatePullThroughCacheRule",
         "DeletePullThroughCacheRule"}
    )  # fmt: skip
    #: Upstream registry URL -> the name AWS reports for it.
    UPSTREAMS: ClassVar[dict[str, str]] = {
        "public.ecr.aws": "ecr-public",
        "registry-1.docker.io": "docker-hub",
        "quay.io": "quay",
        "registry.k8s.io": "k8s",
        "ghcr.io": "github-container-registry",
    }
    UPDATABLE = ("credentialArn", "customRoleArn", "upstreamRepositoryPrefix")

    def __init__(self) -> None:
        self.rules: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self.lock = threading.Lock()

    def handles(self, environ: Environ) -> bool:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        return target.startswith(self.PREFIX) and target[len(self.PREFIX) :] in self.ACTIONS

    def __call__(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        region, _ = signing_scope(environ)
        action = str(environ["HTTP_X_AMZ_TARGET"])[len(self.PREFIX) :]
        request = json.loads(read_body(environ) or b"{}")
        account = str(request.get("registryId") or account_of(environ))
        with self.lock:
            rules = self.rules.setdefault((account, region), {})
            status, payload = getattr(self, f"_{action}")(rules, request, account)
        return json_response(start_response, status, payload)

    @staticmethod
    def _not_found(prefix: str, account: str) -> tuple[int, Any]:
        return 400, {
            "__type": "PullThroughCacheRuleNotFoundException",
            "message": f"The pull through cache rule with the repository prefix '{prefix}' does not exist in the "
            f"registry with id '{account}'",
        }

    def _CreatePullThroughCacheRule(
        self, rules: dict[str, dict[str, Any]], request: dict[str, Any], account: str
    ) -> tuple[int, Any]:
        prefix, url = request.get("ecrRepositoryPrefix", ""), request.get("upstreamRegistryUrl", "")
        if not prefix or not url:
            return 400, {"__type": "InvalidParameterException", "message": "ecrRepositoryPrefix and "
                         "upstreamRegistryUrl are required"}  # fmt: skip
        if prefix in rules:
            return 400, {
                "__type": "PullThroughCacheRuleAlreadyExistsException",
                "message": f"A pull through cache rule with the repository prefix '{prefix}' already exists",
            }
        now = time.time()
        rules[prefix] = {
            "ecrRepositoryPrefix": prefix,
            "upstreamRegistryUrl": url,
            "createdAt": now,
            "updatedAt": now,
            "registryId": account,
            "upstreamRegistry": request.get("upstreamRegistry") or self.UPSTREAMS.get(url, "ecr"),
            # Like AWS, only what the rule was given: an unasked-for upstreamRepositoryPrefix
            # reads as a change to the provider, which replaces the rule on every plan.
            **{k: request[k] for k in ("credentialArn", "customRoleArn", "upstreamRepositoryPrefix") if request.get(k)},
        }
        return 200, {k: v for k, v in rules[prefix].items() if k != "updatedAt"}

    def _DescribePullThroughCacheRules(
        self, rules: dict[str, dict[str, Any]], request: dict[str, Any], account: str
    ) -> tuple[int, Any]:
        wanted = request.get("ecrRepositoryPrefixes") or list(rules)
        for prefix in wanted:
            if prefix not in rules:
                return self._not_found(prefix, account)
        return 200, {"pullThroughCacheRules": [rules[p] for p in wanted]}

    def _UpdatePullThroughCacheRule(
        self, rules: dict[str, dict[str, Any]], request: dict[str, Any], account: str
    ) -> tuple[int, Any]:
        prefix = request.get("ecrRepositoryPrefix", "")
        if prefix not in rules:
            return self._not_found(prefix, account)
        rules[prefix].update({k: request[k] for k in self.UPDATABLE if k in request})
        rules[prefix]["updatedAt"] = time.time()
        return 200, rules[prefix]

    def _DeletePullThroughCacheRule(
        self, rules: dict[str, dict[str, Any]], request: dict[str, Any], account: str
    ) -> tuple[int, Any]:
        prefix = request.get("ecrRepositoryPrefix", "")
        if prefix not in rules:
            return self._not_found(prefix, account)
        return 200, rules.pop(prefix)


class EmulatedUpstream:
    """A registry serving one small, deterministic linux/amd64 image per source (shim 12)."""

    MANIFEST = "application/vnd.oci.image.manifest.v1+json"

    def __init__(self, path: str) -> None:
        self.path = path

    def manifest(self, reference: str) -> Any:
        from lambda_src.image_mirror.handler import Image

        config = json.dumps({"architecture": "amd64", "os": "linux", "emulated": f"{self.path}:{reference}"}).encode()
        layer = f"emulated layer of public.ecr.aws/{self.path}:{reference}".encode()
        self._blobs = {self._digest(b): b for b in (config, layer)}
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": self.MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": self._digest(config),
                       "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": self._digest(layer),
                        "size": len(layer)}],
        }, sort_keys=True).encode()  # fmt: skip
        return Image(manifest, self.MANIFEST, (self._digest(config), self._digest(layer)))

    def blob(self, digest: str) -> bytes:
        return self._blobs[digest]

    @staticmethod
    def _digest(data: bytes) -> str:
        import hashlib

        return "sha256:" + hashlib.sha256(data).hexdigest()


class ImageMirrorInvocations:
    """Shim 12: run the image mirror's code when it is invoked (moto would need Docker)."""

    _INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
    HANDLER = "image_mirror.handler.handler"

    def handles(self, environ: Environ) -> bool:
        match = self._INVOKE.match(environ.get("PATH_INFO", ""))
        if environ.get("REQUEST_METHOD") != "POST" or match is None:
            return False
        from urllib.parse import unquote

        from moto.awslambda.models import lambda_backends

        region, _ = signing_scope(environ)
        try:
            function = lambda_backends[account_of(environ)][region].get_function(unquote(match.group(1)))
        except Exception:  # not a function moto knows: moto answers
            return False
        return bool(function.handler == self.HANDLER)

    def __call__(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        import boto3

        from lambda_src.image_mirror.handler import MirrorError, mirror

        region, _ = signing_scope(environ)
        event = json.loads(read_body(environ) or b"{}")
        ecr = boto3.client(
            "ecr", region_name=region, endpoint_url=f"http://127.0.0.1:{environ['SERVER_PORT']}",
            # The function's own role, not the caller's: its key tells its calls apart (call_log.py).
            aws_access_key_id=FUNCTION_ACCESS_KEY_ID, aws_secret_access_key="test",  # noqa: S106 - a dummy
        )  # fmt: skip
        try:
            payload, headers = mirror(event, ecr, EmulatedUpstream), []
        except MirrorError as exc:
            payload, headers = (
                {"errorMessage": str(exc), "errorType": "MirrorError"},
                [("X-Amz-Function-Error", "Unhandled")],
            )
        body = json.dumps(payload).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                  ("X-Amz-Executed-Version", "$LATEST"), *headers])  # fmt: skip
        return [body]


_ATTEMPT = re.compile(r"attempt=(\d+)")


class RetryReplay:
    """Shim 17: a later attempt of a completed SDK invocation gets the response it missed."""

    #: Completed invocations remembered (oldest forgotten first): SDK retries follow their
    #: first attempt within seconds, while a deploy makes a few thousand calls in all.
    LIMIT = 4096

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.completed: OrderedDict[str, tuple[str, list[tuple[str, str]], bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        if not invocation or environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self.app(environ, start_response)  # reads change nothing; streamed bodies stay streamed
        attempt = _ATTEMPT.match(environ.get("HTTP_AMZ_SDK_REQUEST", ""))
        if attempt is not None and int(attempt.group(1)) > 1:
            with self.lock:
                done = self.completed.get(invocation)
            if done is not None:
                status, headers, body = done
                start_response(status, headers)
                return [body]
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer.update(status=status, headers=list(headers))
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if answer.get("status", "").startswith("2"):
            with self.lock:
                self.completed[invocation] = (answer["status"], answer["headers"], body)
                while len(self.completed) > self.LIMIT:
                    self.completed.popitem(last=False)
        return [body]


class ShimMiddleware:
    """Routes the few requests moto gets wrong to their shim; the rest to moto."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.retries = RetryReplay(self._route)
        self.xray = XRaySamplingRules()
        self.codebuild = CodeBuildProjects(app)
        self.lambda_kms = LambdaKmsKey(app)
        self.codepipeline = CodePipelineTimestamps(app)
        self.ecs = EcsServiceFields(app)
        self.s3_notifications = S3EventBridgeNotification(app)
        self.ecr_cache = EcrPullThroughCacheRules()
        self.mirror = ImageMirrorInvocations()
        # The mirror's invocations before shim 4, which sees every /functions request.
        self.shims = (
            self.xray, self.codebuild, self.mirror, self.lambda_kms, self.codepipeline, self.ecs,
            self.s3_notifications, self.ecr_cache,
        )  # fmt: skip

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        return self.retries(environ, start_response)

    def _route(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        for shim in self.shims:
            if shim.handles(environ):
                return shim(environ, start_response)
        return self.app(environ, start_response)

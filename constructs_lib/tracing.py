"""X-Ray: the environment's sampling rule, and the permissions to send traces."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.xray_sampling_rule import XraySamplingRule
from constructs import Construct

from constructs_lib import policies

#: Sending traces. Without these, Lambda's Active tracing silently drops every trace.
#: X-Ray has no resource-level permissions: "*" is the only resource.
SEND_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
#: What the X-Ray daemon sidecar does besides sending: it follows the sampling rules.
SAMPLING_ACTIONS = ("xray:GetSamplingRules", "xray:GetSamplingTargets")


def grant_send_traces(grantee: policies.Grantee, *, sid: str = "XRayTracing") -> None:
    """A Lambda function with Active tracing."""
    grantee.add_statements(policies.Statement(sid=sid, actions=SEND_ACTIONS, resources=["*"]))


def grant_daemon(grantee: policies.Grantee, *, sid: str = "XRayDaemon") -> None:
    """A task running the X-Ray daemon: send traces and read the sampling rules."""
    grantee.add_statements(policies.Statement(sid=sid, actions=(*SEND_ACTIONS, *SAMPLING_ACTIONS), resources=["*"]))


class Tracing(Construct):
    """Attributes: sampling_rule.

    Priority 1000 leaves room for more specific rules; reservoir 1 traces at
    least one request per second, then ``fixed_rate`` of the rest.
    https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html
    """

    def __init__(self, scope: Construct, id: str, *, rule_name: str, fixed_rate: float) -> None:
        super().__init__(scope, id)
        self.sampling_rule = XraySamplingRule(
            self,
            "this",
            rule_name=rule_name,
            priority=1000,
            version=1,
            reservoir_size=1,
            fixed_rate=fixed_rate,
            url_path="*",
            http_method="*",
            service_name="*",
            service_type="*",
            host="*",
            resource_arn="*",
        )

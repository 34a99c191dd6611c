"""X-Ray sampling rule for the environment."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.xray_sampling_rule import XraySamplingRule
from constructs import Construct


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

"""Where people hear about the platform: notices, pipeline history, alarms, dashboard.

One construct (its ID keeps every resource's terraform address) composed of
modules that each take only what they need:

- :mod:`.notices`: EventBridge rules -> readable messages on the topic;
- :mod:`.history`: every pipeline event in the pipeline log group, failures counted;
- :mod:`.alarms`: one alarm per failure a person must hear about;
- :mod:`.dashboard`: the same metrics, side by side.
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from constructs import Construct

from constructs_lib.context import PlatformContext
from constructs_lib.logs import EncryptedLogGroup
from constructs_lib.notifications import Notifications
from constructs_lib.observability import alarms, dashboard, history, notices
from constructs_lib.observability.alarms import Watched
from constructs_lib.observability.notices import RETRY_POLICY
from constructs_lib.settings import ObservabilitySettings

__all__ = ["RETRY_POLICY", "Observability", "Watched"]


class Observability(Construct):
    """Attributes: rules (id -> rule), targets (id -> target), alarms (id -> alarm), dashboard."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PlatformContext,
        settings: ObservabilitySettings,
        notifications: Notifications,
        events: notices.Watched,
        pipeline_log_group: EncryptedLogGroup,
        watched: Watched,
    ) -> None:
        super().__init__(scope, id)
        naming = ctx.naming
        rules, targets = notices.add_notices(self, naming, notifications, events)
        self.rules: dict[str, CloudwatchEventRule] = rules
        self.targets: dict[str, CloudwatchEventTarget] = targets
        self.rules["pipeline-history"], self.targets["pipeline-history"] = history.add_history(
            self,
            naming,
            pipeline_name=events.pipeline_name,
            group=pipeline_log_group,
            failed_executions=watched.failed_executions,
            dead_letter_queue_arn=notifications.dead_letter_queue_arn,
        )
        # After every rule exists: each one that dead-letters must be allowed to send.
        notices.allow_dead_letters(self, notifications, list(self.rules.values()))
        self.alarms = alarms.add_alarms(
            self, naming, alarms.alarm_specs(settings.alarms, watched), notifications.topic_arn
        )
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=naming.prefix,
            dashboard_body=json.dumps(dashboard.dashboard_body(ctx.aws.region, watched)),
        )

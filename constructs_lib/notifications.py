"""Where people hear about the platform: an encrypted SNS topic, e-mail
subscriptions, and the dead-letter queue for notifications EventBridge could
not deliver."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformIterator, Token
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from constructs_lib import policies
from constructs_lib.context import PlatformContext
from constructs_lib.metrics import Metric

#: Longest retention SQS allows: time to notice and replay lost notifications.
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


class Notifications(Construct):
    """Attributes: topic, dead_letter_queue; topic_arn and dead_letter_queue_arn read once."""

    def __init__(self, scope: Construct, id: str, *, ctx: PlatformContext, emails: Sequence[str]) -> None:
        super().__init__(scope, id)
        naming, key = ctx.naming, ctx.key
        self.topic = SnsTopic(self, "topic", name=naming.name("notifications"), kms_master_key_id=key.arn)
        self.topic_arn: str = self.topic.arn  # read once: every read is a round trip to jsii
        SnsTopicPolicy(
            self,
            "topic-policy",
            arn=self.topic_arn,
            policy=policies.document(
                # "You can't use Condition blocks in Amazon SNS topic policies for EventBridge."
                # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
                policies.Statement(
                    sid="AllowEventBridgePublish",
                    principals={"Service": ["events.amazonaws.com"]},
                    actions=["sns:Publish"],
                    resources=[self.topic_arn],
                ),
                # Only this environment's alarms (alarm names start with <project>-<suffix>-).
                # https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
                policies.Statement(
                    sid="AllowCloudWatchAlarmsPublish",
                    principals={"Service": ["cloudwatch.amazonaws.com"]},
                    actions=["sns:Publish"],
                    resources=[self.topic_arn],
                    conditions={"ArnLike": {"aws:SourceArn": ctx.aws.arn("cloudwatch", f"alarm:{naming.prefix}-*")}},
                ),
            ),
        )
        if emails:
            # for_each keyed by address: reordering the list replaces nothing.
            each = TerraformIterator.from_list(list(emails))
            SnsTopicSubscription(
                self,
                "email",
                for_each=each,
                topic_arn=self.topic_arn,
                protocol="email",
                endpoint=Token.as_string(each.value),
            )
        self.dead_letter_queue = SqsQueue(
            self,
            "dlq",
            name=naming.name("events-dlq"),
            kms_master_key_id=key.arn,
            kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
        )
        self.dead_letter_queue_arn: str = self.dead_letter_queue.arn

    def grant_publish(self, grantee: policies.Grantee, *, sid: str) -> None:
        grantee.add_statements(policies.Statement(sid=sid, actions=["sns:Publish"], resources=[self.topic_arn]))

    def grant_send_dead_letter(self, grantee: policies.Grantee, *, sid: str) -> None:
        grantee.add_statements(
            policies.Statement(sid=sid, actions=["sqs:SendMessage"], resources=[self.dead_letter_queue_arn])
        )

    def metric_dead_letters(self, name: str = "ApproximateNumberOfMessagesVisible") -> Metric:
        """An ``AWS/SQS`` metric of the dead-letter queue."""
        return Metric("AWS/SQS", name, (("QueueName", self.dead_letter_queue.name),))

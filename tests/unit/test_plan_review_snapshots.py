"""The plan review exactly as a reviewer reads it, pinned (syrupy).

The other plan-summary tests assert what a review must say (the cause of a
replacement, a data-loss flag, a masked value); this pins *all* of it for the
real plans of the emulator (tests/fixtures/plans) and the crafted plan with
every section, so a wrong word, heading, count, order or fold in the Markdown
the pull request shows fails a test. An intended change to the review:
`pipenv run pytest tests/unit/test_plan_review_snapshots.py --snapshot-update`,
and review the snapshot diff like code.
"""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.unit.test_plan_render import CONTEXT, NAMES, crafted, fixture
from tools.plan_summary import STEP_SUMMARY_LIMIT, bounded, drift_summary, summarize


@pytest.mark.parametrize("name", NAMES)
def test_the_review_of_each_real_plan(name: str, snapshot: SnapshotAssertion) -> None:
    plan = fixture(name)
    assert summarize(plan, "platform-dev", context=CONTEXT) == snapshot(name="summary")
    assert drift_summary(plan, "platform-dev") == snapshot(name="drift")


def test_the_review_of_a_plan_with_every_section(snapshot: SnapshotAssertion) -> None:
    assert summarize(crafted(), "platform-prod", context=CONTEXT) == snapshot


def test_a_review_cut_to_fit_a_comment(snapshot: SnapshotAssertion) -> None:
    text = summarize(crafted(), "platform-prod", context=CONTEXT)
    assert bounded(text, 2500, full_url=CONTEXT.run_url, artifact="plan-prod") == snapshot(name="comment")
    assert bounded(text, 2500) == snapshot(name="no-url")
    assert bounded(text, STEP_SUMMARY_LIMIT) == text


def test_the_drift_review_of_a_refresh_only_plan(snapshot: SnapshotAssertion) -> None:
    plan: dict[str, Any] = crafted()
    plan["resource_drift"].append(
        {
            "address": "aws_s3_bucket.logs",
            "mode": "managed",
            "type": "aws_s3_bucket",
            "name": "logs",
            "change": {"actions": ["update"], "before": {"tags": {"a": "1"}}, "after": {"tags": {"a": "2"}}},
        }
    )
    assert drift_summary(plan, "platform-prod") == snapshot

"""tools.plan_summary on small plans built by hand (the integration tests run it on real ones)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.plan_summary import classify, main, summarize


def change(address: str, actions: list[str], before: Any = None, after: Any = None, **extra: Any) -> dict[str, Any]:
    """A resource_changes entry; ``extra`` goes into its ``change`` (e.g. replace_paths)."""
    rtype = address.split(".")[0]
    return {
        "address": address,
        "type": rtype,
        "mode": "managed",
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}, **extra},
    }


@pytest.mark.parametrize(
    ("actions", "kind"),
    [
        (["create"], "create"),
        (["update"], "update"),
        (["delete", "create"], "replace"),
        (["create", "delete"], "replace"),
        (["delete"], "delete"),
        (["no-op"], None),
        (["read"], None),
    ],
)
def test_classify(actions: list[str], kind: str | None) -> None:
    assert classify(actions) == kind


def test_no_changes() -> None:
    plan = {"resource_changes": [change("aws_vpc.main", ["no-op"]), {**change("aws_x.d", ["read"]), "mode": "data"}]}
    assert "**No changes.**" in summarize(plan, "p")


def test_deleting_a_key_and_a_table_is_loud() -> None:
    plan = {
        "resource_changes": [
            change("aws_kms_key.k", ["delete"]),
            change("aws_dynamodb_table.t", ["delete", "create"], replace_paths=[["name"]]),
            change("aws_vpc.v", ["delete"]),
        ]
    }
    text = summarize(plan, "prod")
    assert "- **DELETE** `aws_kms_key.k`" in text
    assert "- **REPLACE** `aws_dynamodb_table.t` (forced by name)" in text
    assert "aws_vpc.v`" not in text.split("| resource type")[0]  # not critical
    assert "**0** to create · **0** to update · **1** to replace · **2** to delete" in text


def test_policy_change_is_a_readable_diff() -> None:
    old = {"Statement": [{"Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}
    new = {"Statement": [{"Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"}]}
    plan = {
        "resource_changes": [
            change("aws_iam_role_policy.p", ["update"], {"policy": json.dumps(old)}, {"policy": json.dumps(new)}),
            change("aws_iam_role_policy.n", ["create"], None, {"policy": json.dumps(new)}),
        ]
    }
    text = summarize(plan, "dev")
    assert "<code>aws_iam_role_policy.p</code> policy" in text
    assert '+        "s3:PutObject"' in text
    assert "aws_iam_role_policy.n</code>" not in text  # creations are counted, not diffed


def test_unknown_policy_after_apply() -> None:
    c = change("aws_kms_key.k", ["update"], {"policy": "{}"}, {})
    c["change"]["after_unknown"] = {"policy": True}
    assert "(known after apply)" in summarize({"resource_changes": [c]}, "x")


def test_non_json_policy_is_diffed_as_text() -> None:
    c = change("aws_sqs_queue_policy.q", ["update"], {"policy": "a\nb"}, {"policy": "a\nc"})
    text = summarize({"resource_changes": [c]}, "x")
    assert "-b" in text
    assert "+c" in text


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"resource_changes": [change("aws_s3_bucket.b", ["create"])]}))
    assert main([str(plan), "--title", "platform-dev"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### Terraform plan: platform-dev")
    assert "| `aws_s3_bucket` | 1 |" in out

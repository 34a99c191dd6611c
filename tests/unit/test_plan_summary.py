"""tools.plan_summary: on real plans of the emulator (saved fixtures) and on small hand-made ones.

The fixtures are `terraform show -json` of plans made against a deployed dev
platform on the emulator (tests/fixtures/plans/regenerate.py makes them again).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tools.plan_summary import (
    GITHUB_COMMENT_LIMIT,
    attribute_changes,
    bounded,
    classify,
    impact,
    main,
    replacements,
    root_causes,
    summarize,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "plans"


def fixture(name: str) -> dict[str, Any]:
    with gzip.open(FIXTURES / f"{name}.json.gz", "rt", encoding="utf-8") as f:
        return dict(json.load(f))


def change(address: str, actions: list[str], before: Any = None, after: Any = None, **extra: Any) -> dict[str, Any]:
    """A resource_changes entry; ``extra`` goes into its ``change`` (e.g. replace_paths)."""
    return {
        "address": address,
        "type": address.split(".")[0],
        "mode": "managed",
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}, **extra},
    }


# --- real plans from the emulator --------------------------------------------------


def test_vpc_cidr_change_names_the_cause_of_every_replacement() -> None:
    plan = fixture("vpc_cidr_and_retention")
    text = summarize(plan, "platform-dev")
    items = replacements(plan)
    (vpc,) = [a for a in items if a.startswith("aws_vpc.")]
    groups = root_causes(items)
    assert set(groups) == {vpc}, "every replacement traces back to the VPC"
    dependents = len(groups[vpc]) - 1
    assert dependents >= 10
    assert f'- `{vpc}`: forced by `cidr_block`: "10.10.0.0/16" → "10.11.0.0/16"' in text
    assert f"**{dependents} dependent(s)** replaced because of it" in text
    for address in groups[vpc][1:]:
        assert f"`{address}`" in text  # each replaced resource is listed
    # The service goes off the network while subnets, groups and the target group are rebuilt.
    interruption = impact(plan).interruption
    assert f"**REPLACE** `{vpc}`" in interruption
    assert any("aws_subnet." in i for i in interruption)
    assert any("aws_lb_target_group." in i for i in interruption)
    assert ":no_entry: **Service interruption**" in text


def test_retention_change_shows_each_log_group_before_and_after() -> None:
    plan = fixture("vpc_cidr_and_retention")
    text = summarize(plan, "platform-dev")
    groups = [rc for rc in plan["resource_changes"] if rc["type"] == "aws_cloudwatch_log_group"]
    assert len(groups) == 8  # every log group of the platform
    for rc in groups:
        assert classify(rc["change"]["actions"]) == "update"
        assert f"- `{rc['address']}`\n  - `retention_in_days`: 14 → 30" in text


def test_waf_action_and_iam_statement_are_security_changes_with_diffs() -> None:
    plan = fixture("waf_action_and_iam_statement")
    text = summarize(plan, "platform-dev")
    security = impact(plan).security
    assert any("aws_wafv2_web_acl." in s and "rule `rate-limit`: action block → count" in s for s in security)
    assert any("aws_iam_role_policy.service_execution-role_policy_" in s for s in security)
    assert ":closed_lock_with_key: **Security change** (2)" in text
    assert "#### IAM, KMS and resource policy changes" in text
    added = [line for line in text.splitlines() if line.startswith("+") and "secretsmanager:DescribeSecret" in line]
    assert len(added) == 1
    assert "- `policy`: changed (diff below)" in text
    assert "Data loss risk" not in text


def test_bucket_replacement_is_data_loss_with_the_attribute_that_forces_it() -> None:
    plan = fixture("bucket_replacement")
    text = summarize(plan, "platform-dev")
    (bucket,) = [a for a in impact(plan).data_loss if "aws_s3_bucket.artifacts_account-scoped_this_" in a]
    address = bucket.split("`")[1]
    assert bucket == f"**REPLACE** `{address}`"
    assert ":rotating_light: **Data loss risk**" in text
    assert (
        f'- `{address}`: forced by `bucket`: "cicd-artifacts-dev-123456789012-us-east-1" → '
        '"cicd-artifacts2-dev-123456789012-us-east-1"'
    ) in text
    # The bucket's configuration resources follow it (bucket id unknown until the new one exists).
    assert any(d.startswith("aws_s3_bucket_versioning.") for d in root_causes(replacements(plan))[address])


def test_no_change_plan_is_one_line() -> None:
    text = summarize(fixture("no_change"), "platform-dev")
    assert text == "### Terraform plan: platform-dev\n\n**No changes.** Infrastructure matches the configuration.\n"


# --- hand-made plans ----------------------------------------------------------------


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


def test_no_changes_ignores_reads_and_no_ops() -> None:
    plan = {"resource_changes": [change("aws_vpc.main", ["no-op"]), {**change("aws_x.d", ["read"]), "mode": "data"}]}
    assert "**No changes.**" in summarize(plan, "p")


def test_a_tag_edit_reads_as_nothing_risky_in_one_line() -> None:
    plan = {"resource_changes": [change("aws_sns_topic.t", ["update"], {"tags": {"a": "1"}}, {"tags": {"a": "2"}})]}
    text = summarize(plan, "p")
    assert ":white_check_mark: **Nothing risky**: no data loss, service interruption or security change." in text
    assert '- `aws_sns_topic.t`\n  - `tags.a`: "1" → "2"' in text
    assert "#### Impact" not in text


def test_deleting_a_key_and_replacing_a_table_is_data_loss() -> None:
    plan = {
        "resource_changes": [
            change("aws_kms_key.k", ["delete"]),
            change(
                "aws_dynamodb_table.t", ["delete", "create"], {"name": "a"}, {"name": "b"}, replace_paths=[["name"]]
            ),
        ]
    }
    found = impact(plan)
    assert found.data_loss == ["**DELETE** `aws_kms_key.k`", "**REPLACE** `aws_dynamodb_table.t`"]
    text = summarize(plan, "prod")
    assert '- `aws_dynamodb_table.t`: forced by `name`: "a" → "b"' in text
    assert "**0** to create · **0** to update · **1** to replace · **1** to delete" in text


def test_a_task_role_replacement_interrupts_the_service() -> None:
    trust = json.dumps({"Statement": [{"Principal": {"Service": "ecs-tasks.amazonaws.com"}}]})
    plan = {"resource_changes": [change("aws_iam_role.exec", ["delete", "create"], {"assume_role_policy": trust},
                                        {"assume_role_policy": trust}, replace_paths=[["name"]])]}  # fmt: skip
    assert impact(plan).interruption == ["**REPLACE** `aws_iam_role.exec`"]


def test_sensitive_values_never_appear() -> None:
    secret = "s3cr3t-value-that-must-not-leak"
    plan = {
        "resource_changes": [
            change(
                "aws_secretsmanager_secret_version.v",
                ["update"],
                {"secret_string": secret, "version_stages": ["AWSCURRENT"]},
                {"secret_string": secret + "-new", "version_stages": ["AWSCURRENT", "x"]},
                before_sensitive={"secret_string": True},
                after_sensitive={"secret_string": True},
            ),
            change(
                "aws_iam_role_policy.p",
                ["update"],
                {"policy": json.dumps({"Statement": [secret]})},
                {"policy": json.dumps({"Statement": [secret + "2"]})},
                before_sensitive={"policy": True},
                after_sensitive={"policy": True},
            ),
        ]
    }
    text = summarize(plan, "p")
    assert secret not in text
    assert "`secret_string`: (sensitive) → (sensitive)" in text
    assert "(sensitive: not shown)" in text


def test_unknown_values_read_known_after_apply_and_long_ones_are_shortened() -> None:
    plan = {
        "resource_changes": [
            change(
                "aws_lambda_function.f",
                ["update"],
                {"source_code_hash": "abc", "description": "x" * 300},
                {"source_code_hash": None, "description": "y" * 300},
                after_unknown={"source_code_hash": True},
            )
        ]
    }
    changes = dict((a, (o, n)) for a, o, n in attribute_changes(plan["resource_changes"][0]["change"]))
    assert changes["source_code_hash"] == ('"abc"', "(known after apply)")
    old, new = changes["description"]
    assert len(old) < 130
    assert old.endswith("(shortened, 302 characters)")
    assert new.startswith('"yyy')
    assert new.endswith("(shortened, 302 characters)")


def test_a_long_list_folds_into_details() -> None:
    plan = {"resource_changes": [change(f"aws_sns_topic.t{i}", ["create"], None, {"name": f"t{i}"}) for i in range(20)]}
    text = summarize(plan, "p")
    assert "<details><summary>20 resources</summary>" in text


def test_a_plan_too_big_for_one_comment_is_cut_cleanly_with_a_pointer() -> None:
    big = {
        "resource_changes": [
            change(f"aws_sns_topic.topic_number_{i}", ["update"], {"tags": {"k": f"v{i}"}}, {"tags": {"k": f"w{i}"}})
            for i in range(3000)
        ]
    }
    text = summarize(big, "platform-prod")
    assert len(text) > GITHUB_COMMENT_LIMIT
    comment = bounded(text, full_url="https://github.com/acme/platform/actions/runs/1")
    assert len(comment) <= GITHUB_COMMENT_LIMIT
    assert comment.endswith(
        "The full summary is on [the run's summary page](https://github.com/acme/platform/actions/runs/1) "
        "(and in `summary.md` of the plan artifact).\n"
    )
    assert comment.count("<details>") == comment.count("</details>"), "no fold left open"
    body = comment.split("\n\n---\n:scissors:")[0]
    assert body.splitlines()[-1] in text.splitlines(), "cut at a whole line"
    assert bounded("short", full_url=None) == "short"


def test_cli_summarizes_several_plans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "a.json"
    empty.write_text(json.dumps({"resource_changes": []}))
    assert main([str(empty), str(empty), "--title", "state-backend-dev", "--title", "platform-dev"]) == 0
    out = capsys.readouterr().out
    assert "### Terraform plan: state-backend-dev" in out
    assert "### Terraform plan: platform-dev" in out

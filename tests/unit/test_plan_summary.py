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
from syrupy.assertion import SnapshotAssertion

from tools.plan_summary import (
    GITHUB_COMMENT_LIMIT,
    STEP_SUMMARY_LIMIT,
    attribute_changes,
    bounded,
    classify,
    drift_summary,
    impact,
    main,
    policy_templates,
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
    assert "#### :rotating_light: Needs attention" in text
    assert (
        f"| :warning: warn | interruption | `{vpc}` | the aws_vpc (destroy first: an outage) | exists → replaced |"
        in text
    )


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
    assert "#### Security-relevant changes (2)" in text
    # Adding DescribeSecret on one secret is reviewed by the rules, and nothing fires.
    assert ":white_check_mark: **Nothing risky**: the `plan-risk/2` rules" in text
    assert "#### IAM, KMS and resource policy changes" in text
    added = [line for line in text.splitlines() if line.startswith("+") and "secretsmanager:DescribeSecret" in line]
    assert len(added) == 1
    assert "- `policy`: changed (diff below)" in text
    assert "Needs attention" not in text


def test_bucket_replacement_is_data_loss_with_the_attribute_that_forces_it() -> None:
    plan = fixture("bucket_replacement")
    text = summarize(plan, "platform-dev")
    (bucket,) = [a for a in impact(plan).data_loss if "aws_s3_bucket.artifacts_account-scoped_this_" in a]
    address = bucket.split("`")[1]
    assert bucket == f"**REPLACE** `{address}`"
    assert f"| :no_entry: deny | data loss | `{address}` | the aws_s3_bucket and its data | exists → replaced |" in text
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
    assert ":white_check_mark: **Nothing risky**: the `plan-risk/2` rules (8 rule groups" in text
    assert '- `aws_sns_topic.t`\n  - `tags.a`: "1" → "2"' in text
    assert "Needs attention" not in text


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


@pytest.mark.parametrize(
    ("before", "after", "interrupts"),
    [
        ("tasks", None, True),  # deleted: the role the running tasks use disappears
        (None, "tasks", True),  # (a create-before-destroy plan may only say what comes)
        ("lambda", "lambda", False),  # another service's role is not the service's
        ({"Service": "ecs-tasks.amazonaws.com"}, None, False),  # not a policy document: unknown
    ],
    ids=["task-role-deleted", "task-role-after", "lambda-role", "trust-not-json-text"],
)
def test_only_a_role_ecs_tasks_assume_interrupts_the_service(before: Any, after: Any, interrupts: bool) -> None:
    def trust(service: Any) -> Any:
        if service is None or not isinstance(service, str):
            return service
        return json.dumps(
            {
                "Statement": [
                    {"Principal": {"Service": f"{'ecs-tasks' if service == 'tasks' else service}.amazonaws.com"}}
                ]
            }
        )

    values = {
        side: None if v is None else {"assume_role_policy": trust(v)} for side, v in (("b", before), ("a", after))
    }
    plan = {"resource_changes": [change("aws_iam_role.r", ["delete"], values["b"], values["a"])]}
    assert impact(plan).interruption == (["**DELETE** `aws_iam_role.r`"] if interrupts else [])


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


@pytest.mark.parametrize("side", ["before_sensitive", "after_sensitive"])
def test_a_value_sensitive_on_one_side_only_is_hidden_on_both(side: str) -> None:
    # terraform marks each side on its own (the plan's before_sensitive and after_sensitive): a
    # value that stops being sensitive still had a secret before it, and one that becomes
    # sensitive is a secret from now on. Either mark alone hides the attribute.
    secret = "s3cr3t-value-that-must-not-leak"
    plan = {
        "resource_changes": [
            change(
                "aws_ssm_parameter.p", ["update"], {"value": secret}, {"value": secret + "-new"},
                **{side: {"value": True}},
            )
        ]
    }  # fmt: skip
    text = summarize(plan, "p")
    assert secret not in text
    assert "`value`: (sensitive) → (sensitive)" in text


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
    comment = bounded(text, full_url="https://github.com/acme/platform/actions/runs/1", artifact="plan-prod")
    assert len(comment) <= GITHUB_COMMENT_LIMIT
    assert comment.endswith(
        "The full summary is `summary.md` of the run's `plan-prod` artifact, on "
        "[the run's page](https://github.com/acme/platform/actions/runs/1).\n"
    )
    assert comment.count("<details>") == comment.count("</details>"), "no fold left open"
    body = comment.split("\n\n---\n:scissors:")[0]
    assert body.splitlines()[-1] in text.splitlines(), "cut at a whole line"
    assert bounded("short", full_url=None) == "short"
    # The run's summary page has its own budget (GitHub drops a step summary above 1 MiB).
    assert len(bounded(text * 20, STEP_SUMMARY_LIMIT, artifact="plan-prod")) <= STEP_SUMMARY_LIMIT < 1024 * 1024


def test_cli_summarizes_several_plans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "a.json"
    empty.write_text(json.dumps({"resource_changes": []}))
    assert main([str(empty), str(empty), "--title", "state-backend-dev", "--title", "platform-dev"]) == 0
    out = capsys.readouterr().out
    assert "### Terraform plan: state-backend-dev" in out
    assert "### Terraform plan: platform-dev" in out


# --- every part of a plan is shown ----------------------------------------------------------


def noop(address: str, **extra: Any) -> dict[str, Any]:
    rc = change(address, ["no-op"], {"id": "x"}, {"id": "x"})
    rc.update(extra)
    return rc


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        ({"resource_changes": [], "output_changes": {"url": {"actions": ["update"], "before": "a", "after": "b"}}},
         ["**1** to change output", "#### Outputs (1)", '- `url` (update): "a" → "b"']),
        ({"resource_changes": [noop("aws_s3_bucket.new", previous_address="aws_s3_bucket.old")]},
         ["**1** to move", "#### Moved (1)", "- `aws_s3_bucket.old` → `aws_s3_bucket.new`"]),
        ({"resource_changes": [change("aws_s3_bucket.b", ["no-op"], {"id": "b"}, {"id": "b"}, importing={"id": "b"})]},
         ["**1** to import", "#### Imported (1)", "- `aws_s3_bucket.b`: id `b`"]),
        ({"resource_changes": [change("aws_s3_bucket.b", ["forget"], {"id": "b"}, None)]},
         ["**1** to forget", "#### Forgotten (not destroyed) (1)",
          "- `aws_s3_bucket.b`: no longer managed by Terraform; the resource itself stays"]),
    ],
    ids=["outputs-only", "moved-only", "import-only", "forget-only"],
)  # fmt: skip
def test_plans_without_resource_changes_are_never_no_changes(plan: dict[str, Any], expected: list[str]) -> None:
    text = summarize(plan, "p")
    assert "No changes" not in text
    for line in expected:
        assert line in text


def test_a_sensitive_output_is_masked() -> None:
    plan = {"resource_changes": [], "output_changes": {"token": {"actions": ["update"], "before": "s3cr3t",
                                                                 "after": "n3w", "after_sensitive": True}}}  # fmt: skip
    text = summarize(plan, "p")
    assert "- `token` (update): (sensitive)" in text
    assert "s3cr3t" not in text
    assert "n3w" not in text


def test_delete_reasons_and_replace_order_are_said() -> None:
    gone = change("aws_sqs_queue.q", ["delete"], {"name": "q"}, None)
    gone["action_reason"] = "delete_because_no_resource_config"
    before_first = change("aws_lb.a", ["delete", "create"], {"name": "a"}, {"name": "b"}, replace_paths=[["name"]])
    create_first = change("aws_lb.c", ["create", "delete"], {"name": "c"}, {"name": "d"}, replace_paths=[["name"]])
    text = summarize({"resource_changes": [gone, before_first, create_first]}, "p")
    assert "- `aws_sqs_queue.q`: removed from the configuration" in text
    assert '- `aws_lb.a`: forced by `name`: "a" → "b" (destroy, then create: down in between)' in text
    assert '- `aws_lb.c`: forced by `name`: "c" → "d" (create before destroy)' in text


def test_a_pr_plan_shows_what_changed_outside_terraform() -> None:
    """A secret deleted by hand must not read as a plain creation."""
    secret = change("aws_secretsmanager_secret.app", ["create"], None, {"name": "cicd/dev/app"})
    gone = {"actions": ["delete"], "before": {"name": "cicd/dev/app"}, "after": None}
    drift = {"address": "aws_secretsmanager_secret.app", "mode": "managed", "type": "aws_secretsmanager_secret",
             "name": "app", "change": gone}  # fmt: skip
    text = summarize({"resource_changes": [secret], "resource_drift": [drift]}, "p")
    assert "#### Changed outside Terraform (1)" in text
    assert "- `aws_secretsmanager_secret.app`: deleted outside Terraform (this plan creates it again)" in text


def test_an_unknown_value_names_the_change_that_makes_it_unknown() -> None:
    bucket = change(
        "aws_s3_bucket.b", ["delete", "create"], {"bucket": "a"}, {"bucket": "b"}, replace_paths=[["bucket"]]
    )
    logging = change("aws_s3_bucket_logging.l", ["update"], {"target_bucket": "a"}, {"target_bucket": None},
                     after_unknown={"target_bucket": True})  # fmt: skip
    configuration = {"root_module": {"resources": [
        {"address": "aws_s3_bucket_logging.l", "expressions": {"target_bucket": {"references": ["aws_s3_bucket.b.id",
                                                                                              "aws_s3_bucket.b"]}}},
    ]}}  # fmt: skip
    text = summarize({"resource_changes": [bucket, logging], "configuration": configuration}, "p")
    assert '- `target_bucket`: "a" → (known after apply) (`aws_s3_bucket.b` is replaced)' in text


def test_a_policy_known_after_apply_is_reviewed_from_its_template() -> None:
    """The CDKTF configuration keeps the policy as a template: with the known values substituted a
    widened statement behind an unknown ARN is visible, and the rules read it."""
    old = json.dumps({"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
                                     "Resource": "arn:aws:s3:::old/*"}]})  # fmt: skip
    rc = change("aws_iam_role_policy.p", ["update"], {"policy": old, "role": "r"}, {"role": "r"},
                after_unknown={"policy": True})  # fmt: skip
    template = json.dumps({"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "*",
                                          "Resource": "${aws_s3_bucket.b.arn}/*"}]})  # fmt: skip
    stack = {"resource": {"aws_iam_role_policy": {"p": {"policy": template}}}}
    plan = {"resource_changes": [rc, change("aws_s3_bucket.b", ["create"], None, {"bucket": "b"},
                                            after_unknown={"arn": True})]}  # fmt: skip
    templates = policy_templates(plan, stack)
    assert templates == {"aws_iam_role_policy.p": {"policy": template.replace(
        "${aws_s3_bucket.b.arn}", "<aws_s3_bucket.b.arn: known after apply>")}}  # fmt: skip
    text = summarize(plan, "p", templates=templates)
    assert "| :no_entry: deny | security | `aws_iam_role_policy.p` | `Read`: Allow; actions *; on " in text
    assert '+      "Action": "*",' in text
    assert "the configured template with what is known substituted" in text


def test_drift_reports_a_console_added_rule_on_port_22() -> None:
    """The configuration sets no inline rules on the group, yet a rule nobody manages is drift."""
    sg = {"id": "sg-1", "ingress": [], "egress": []}
    added = {**sg, "ingress": [{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"],
                                "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": False},
                               {"protocol": "tcp", "from_port": 8080, "to_port": 8080, "cidr_blocks": [],
                                "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": ["sg-alb"],
                                "self": False}]}  # fmt: skip
    managed = {"type": "aws_vpc_security_group_ingress_rule", "address": "aws_vpc_security_group_ingress_rule.app",
               "values": {"security_group_id": "sg-1", "ip_protocol": "tcp", "from_port": 8080, "to_port": 8080,
                          "referenced_security_group_id": "sg-alb"}}  # fmt: skip
    plan = {
        "resource_drift": [{"address": "aws_security_group.svc", "mode": "managed", "type": "aws_security_group",
                            "name": "svc", "change": {"actions": ["update"], "before": sg, "after": added}}],
        "prior_state": {"values": {"root_module": {"resources": [managed]}}},
        "configuration": {"root_module": {"resources": [{"address": "aws_security_group.svc",
                                                         "expressions": {"name": {}, "vpc_id": {}}}]}},
    }  # fmt: skip
    text, found = drift_summary(plan, "platform-dev")
    assert found
    assert "- `aws_security_group.svc`\n  - `ingress`: (none) → tcp 22 from 0.0.0.0/0 (not managed)" in text
    assert "8080" not in text  # the managed sibling rule explains the other one


# --- the command, as the workflows run it ----------------------------------------------------


def test_the_commands_help_names_each_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, snapshot: SnapshotAssertion
) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == snapshot


@pytest.mark.parametrize(
    "extra",
    [["--title", "only-one"], ["--title", "a", "--title", "b", "--stack", "one.json"]],
    ids=["one-title-two-plans", "one-stack-two-plans"],
)
def test_the_command_refuses_titles_or_stacks_that_do_not_pair_with_the_plans(
    tmp_path: Path, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "a.json"
    plan.write_text(json.dumps({"resource_changes": []}))
    with pytest.raises(SystemExit) as exit_:
        main([str(plan), str(plan), *extra])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.endswith("error: give one --title (and one --stack, if any) per plan file\n")


def test_the_command_titles_each_plan_by_its_file_and_reads_each_stacks_templates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = json.dumps({"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "*", "Resource": "*"}]})
    rc = change("aws_iam_role_policy.p", ["update"], {"policy": "{}", "role": "r"}, {"role": "r"},
                after_unknown={"policy": True})  # fmt: skip
    (tmp_path / "platform-dev.json").write_text(json.dumps({"resource_changes": [rc]}))
    (tmp_path / "state-backend-dev.json").write_text(json.dumps({"resource_changes": []}))
    (tmp_path / "platform.tf.json").write_text(
        json.dumps({"resource": {"aws_iam_role_policy": {"p": {"policy": template}}}})
    )
    (tmp_path / "state.tf.json").write_text(json.dumps({"resource": {}}))
    plans = [str(tmp_path / "state-backend-dev.json"), str(tmp_path / "platform-dev.json")]
    stacks = ["--stack", str(tmp_path / "state.tf.json"), "--stack", str(tmp_path / "platform.tf.json")]
    assert main([*plans, *stacks]) == 0
    out = capsys.readouterr().out
    # Without --title, each plan is titled by its file name; the sections follow the files' order.
    assert out.index("### Terraform plan: state-backend-dev\n") < out.index("### Terraform plan: platform-dev\n")
    assert "**No changes.** Infrastructure matches the configuration.\n\n### Terraform plan: platform-dev" in out
    # The platform's own stack gave the template: the unknown policy is reviewed from it.
    assert "the configured template with what is known substituted" in out
    assert "| :no_entry: deny | security | `aws_iam_role_policy.p` | `Read`: Allow; actions *; on *" in out
    # Without --stack, there is no template to read.
    assert main(plans) == 0
    assert "the configured template" not in capsys.readouterr().out


def test_the_command_cuts_to_the_limit_with_a_pointer_to_the_full_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "platform-dev.json"
    plan.write_text(json.dumps(fixture("vpc_cidr_and_retention")))
    assert main([str(plan)]) == 0
    full = capsys.readouterr().out
    assert len(full) > 3000
    url = "https://github.com/acme/platform/actions/runs/42"
    assert main([str(plan), "--limit", "3000", "--full-url", url]) == 0
    cut = capsys.readouterr().out
    assert cut == bounded(full, 3000, url)
    assert len(cut) <= 3000
    assert f"on [the run's page]({url})" in cut


def test_a_policy_template_shows_every_value_the_plan_already_knows() -> None:
    """Planned values first, then what the state holds; anything else is named as unknown."""
    template = json.dumps({"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": [
        "${aws_s3_bucket.data.arn}/*", "${aws_s3_bucket.logs.arn}/*", "${aws_s3_bucket.new.arn}/*",
        "${aws_s3_bucket.data.tags}", "${aws_sqs_queue.q.max_message_size}",
    ]}]})  # fmt: skip
    rc = change("aws_iam_role_policy.p", ["update"], {"policy": "{}", "role": "r"}, {"role": "r"},
                after_unknown={"policy": True})  # fmt: skip
    plan = {
        "resource_changes": [rc, change("aws_iam_role_policy.known", ["update"], {"policy": "{}"}, {"policy": "{}"})],
        # `terraform show -json` of a plan: prior_state holds its own "values"; planned_values does not.
        "prior_state": {"values": {"root_module": {"resources": [
            {"address": "aws_s3_bucket.logs", "values": {"arn": "arn:aws:s3:::logs-old"}},
            {"address": "aws_s3_bucket.data", "values": {"arn": "arn:aws:s3:::data-old"}},
            {"address": "aws_sqs_queue.q", "values": {"max_message_size": 262144}},
        ]}}},
        "planned_values": {"root_module": {"resources": [
            {"address": "aws_s3_bucket.data", "values": {"arn": "arn:aws:s3:::data", "tags": {"a": "b"}}},
            {"address": "aws_iam_role.r", "values": None},
        ]}},
    }  # fmt: skip
    stack = {"resource": {"aws_iam_role_policy": {"p": {"policy": template}, "known": {"policy": template}}}}
    rendered = json.loads(policy_templates(plan, stack)["aws_iam_role_policy.p"]["policy"])
    assert rendered["Statement"][0]["Resource"] == [
        "arn:aws:s3:::data/*",  # planned wins over the state
        "arn:aws:s3:::logs-old/*",  # only the state knows it
        "<aws_s3_bucket.new.arn: known after apply>/*",
        "<aws_s3_bucket.data.tags: known after apply>",  # not a scalar: not substituted
        "262144",
    ]
    # A policy the plan shows itself needs no template.
    assert set(policy_templates(plan, stack)) == {"aws_iam_role_policy.p"}
    # A resource the stack does not configure (or configures without a policy string) has none.
    assert policy_templates(plan, {"resource": {}}) == {}
    assert policy_templates(plan, {"resource": {"aws_iam_role_policy": {"p": {"policy": {"a": 1}}}}}) == {}


def test_a_web_acl_update_names_each_rule_added_removed_or_changed() -> None:
    def rule(name: str, action: str = "block", priority: int = 1, override: bool = False) -> dict[str, Any]:
        key = "override_action" if override else "action"
        return {"name": name, "priority": priority, key: [{action: [{}]}]}

    before = {"rule": [rule("rate-limit"), rule("geo"), rule("common", "none", override=True), rule("ip")]}
    after = {
        "rule": [
            rule("rate-limit", "count"),  # its action changed
            rule("common", "count", override=True),  # a managed group overridden to count
            rule("ip", priority=5),  # changed, same action
            rule("bad-inputs"),  # added
        ]
    }  # "geo" removed
    plan = {"resource_changes": [change("aws_wafv2_web_acl.acl", ["update"], before, after)]}
    assert impact(plan).security == [
        "`aws_wafv2_web_acl.acl`: rule `bad-inputs` added; rule `common`: action none → count; "
        "rule `geo` removed; rule `ip` changed; rule `rate-limit`: action block → count"
    ]


# --- replacement reasons, causes and cells, on crafted changes --------------------------------


@pytest.mark.parametrize(
    ("action_reason", "said"),
    [
        ("replace_because_tainted", "tainted"),
        ("replace_by_request", "requested (-replace)"),
        ("replace_because_cannot_update", "because_cannot_update"),
        (None, "replaced"),
    ],
)
def test_a_replacement_without_a_forcing_attribute_says_terraforms_reason(action_reason: str | None, said: str) -> None:
    rc = change("aws_ecs_service.s", ["delete", "create"], {"name": "s"}, {"name": "s"})
    if action_reason:
        rc["action_reason"] = action_reason  # beside "change", as terraform writes it
    assert replacements({"resource_changes": [rc]})["aws_ecs_service.s"].reason() == said


def test_a_forcing_block_shows_three_of_its_changes_and_counts_the_rest() -> None:
    before = {"config": [{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}]}
    after = {"config": [{"a": 2, "b": 2, "c": 2, "d": 2, "e": 2}]}
    rc = change("aws_x.y", ["delete", "create"], before, after, replace_paths=[["config"]])
    reason = replacements({"resource_changes": [rc]})["aws_x.y"].reason()
    assert reason == "forced by `config[0].a`: 1 → 2; `config[0].b`: 1 → 2; `config[0].c`: 1 → 2 (+2 more)"
    three = change("aws_x.y", ["delete", "create"], {"config": [{"a": 1, "b": 1, "c": 1}]},
                   {"config": [{"a": 2, "b": 2, "c": 2}]}, replace_paths=[["config"]])  # fmt: skip
    assert "more" not in replacements({"resource_changes": [three]})["aws_x.y"].reason()
    # Two forcing attributes are listed one after the other.
    two = change("aws_x.y", ["delete", "create"], {"a": 1, "b": 1}, {"a": 2, "b": 2}, replace_paths=[["a"], ["b"]])
    assert replacements({"resource_changes": [two]})["aws_x.y"].reason() == "forced by `a`: 1 → 2; `b`: 1 → 2"


def test_a_replacement_forced_by_another_also_names_its_own_forcing_attributes() -> None:
    """A subnet replaced because its VPC is, and because its own CIDR changes too."""
    vpc = change("aws_vpc.v", ["delete", "create"], {"cidr_block": "10.0.0.0/16"}, {"cidr_block": "10.1.0.0/16"},
                 replace_paths=[["cidr_block"]])  # fmt: skip
    subnet = change("aws_subnet.s", ["delete", "create"], {"vpc_id": "vpc-1", "cidr_block": "10.0.0.0/24"},
                    {"cidr_block": "10.1.0.0/24"}, replace_paths=[["vpc_id"], ["cidr_block"]],
                    after_unknown={"vpc_id": True})  # fmt: skip
    configuration = {"root_module": {"resources": [
        {"address": "aws_subnet.s", "expressions": {"vpc_id": {"references": ["aws_vpc.v.id", "aws_vpc.v"]},
                                                     "cidr_block": {"constant_value": "10.1.0.0/24"}}},
    ]}}  # fmt: skip
    found = replacements({"resource_changes": [vpc, subnet], "configuration": configuration})
    assert found["aws_subnet.s"].reason(with_cause=True) == "`aws_vpc.v` is replaced; its own `cidr_block` too"
    assert root_causes(found) == {"aws_vpc.v": ["aws_vpc.v", "aws_subnet.s"]}


def test_root_causes_follow_chains_and_stop_at_cycles() -> None:
    from tools.plan_summary import Replacement

    items = {
        "aws_c.c": Replacement("aws_c.c", {}, forced_by="aws_b.b"),
        "aws_b.b": Replacement("aws_b.b", {}, forced_by="aws_a.a"),
        "aws_a.a": Replacement("aws_a.a", {}),
        "aws_x.x": Replacement("aws_x.x", {}, forced_by="aws_y.y"),
        "aws_y.y": Replacement("aws_y.y", {}, forced_by="aws_x.x"),
    }
    groups = root_causes(items)
    assert groups["aws_a.a"] == ["aws_a.a", "aws_b.b", "aws_c.c"]  # the root first, then the rest sorted
    assert sorted(groups["aws_x.x"] + groups.get("aws_y.y", [])) == ["aws_x.x", "aws_y.y"]


def test_an_unknown_value_names_a_data_source_or_a_keyed_instance_as_its_cause() -> None:
    from tools.plan_summary import _address_of, _expression_at, _instance, _references

    assert _address_of("data.aws_iam_policy_document.p.json") == "data.aws_iam_policy_document.p"
    assert _address_of("aws_s3_bucket.b.arn") == "aws_s3_bucket.b"
    assert _address_of("aws_s3_bucket.b") == "aws_s3_bucket.b"
    nested = {"references": ["aws_a.a.id"], "block": [{"references": ["aws_b.b.arn", "aws_b.b"]}, [], {"x": 1}]}
    assert _references(nested) == {"aws_a.a", "aws_b.b"}
    assert _references([]) == set()
    assert _references("aws_a.a.id") == set()
    assert _references({"references": ["aws_a.a.id"]}) == {"aws_a.a"}
    expressions = {"rule": [{"action": {"references": ["aws_a.a"]}}]}
    assert _expression_at(expressions, ("rule", 0, "action")) == {"references": ["aws_a.a"]}
    assert _expression_at(expressions, ("rule", 1, "action")) == [{"action": {"references": ["aws_a.a"]}}]
    assert _expression_at(expressions, ("rule", "0")) == expressions["rule"]
    assert _expression_at(expressions, ("nope", 0)) == expressions
    assert _instance("aws_s3_bucket.b", ["aws_s3_bucket.bb", 'aws_s3_bucket.b["x"]']) == 'aws_s3_bucket.b["x"]'
    assert _instance("aws_s3_bucket.b", ["aws_s3_bucket.bb"]) == "aws_s3_bucket.b"
    assert _instance("aws_s3_bucket.b", ["aws_s3_bucket.b", 'aws_s3_bucket.b["x"]']) == "aws_s3_bucket.b"


def test_a_table_cell_keeps_its_row() -> None:
    from tools.plan_summary import _cell

    assert _cell("a | b\nc") == "a \\| b c"


def test_an_attribute_known_only_after_apply_is_a_change_even_if_it_looks_equal() -> None:
    from tools.plan_summary import changed_attributes

    rc = {"before": {"arn": "x", "name": "n"}, "after": {"arn": None, "name": "n"}, "after_unknown": {"arn": True}}
    assert changed_attributes(rc) == ["arn"]
    assert changed_attributes({"before": {"a": None}, "after": {}, "after_unknown": {"a": False}}) == []


def drifted_plan(
    address: str, before: dict[str, Any], after: dict[str, Any], siblings: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A refresh-only plan in which one configured resource changed by hand; ``siblings`` are the
    resources the state holds beside it (rules, policies)."""
    rtype, name = address.split(".")
    item = {"address": address, "mode": "managed", "type": rtype, "name": name,
            "change": {"actions": ["update"], "before": before, "after": after}}  # fmt: skip
    return {
        "resource_drift": [item],
        "prior_state": {"values": {"root_module": {"resources": siblings or []}}},
        "configuration": {"root_module": {"resources": [{"address": address, "expressions": {}}]}},
    }


def test_drift_names_every_unmanaged_rule_by_protocol_ports_and_peer() -> None:
    sg = {"id": "sg-1", "ingress": [], "egress": [{"protocol": "tcp", "from_port": 443, "to_port": 443,
                                                  "cidr_blocks": ["0.0.0.0/0"]}]}  # fmt: skip
    after = {
        "id": "sg-1",
        "ingress": [
            {"protocol": "tcp", "from_port": 1024, "to_port": 2048, "ipv6_cidr_blocks": ["::/0"]},
            {"protocol": "udp", "from_port": 53, "to_port": 53, "prefix_list_ids": ["pl-123"]},
            {"protocol": "tcp", "from_port": 22, "to_port": 22, "self": True},
        ],
        "egress": [{"protocol": "-1", "from_port": 0, "to_port": 0, "security_groups": ["sg-9"]},
                   {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}],
    }  # fmt: skip
    text, found = drift_summary(drifted_plan("aws_security_group.svc", sg, after), "platform-dev")
    assert found
    assert text.splitlines()[4:] == [
        "- `aws_security_group.svc`",
        "  - `ingress`: (none) → tcp 1024-2048 from ::/0 (not managed)",
        "  - `ingress`: (none) → tcp 22 from self (not managed)",
        "  - `ingress`: (none) → udp 53 from pl-123 (not managed)",
        "  - `egress`: (none) → all traffic to sg-9 (not managed)",
    ]  # the egress rule that was there before is not new


def test_drift_names_policies_added_to_a_role_by_hand() -> None:
    role = {"name": "cicd-task-dev", "id": "AROAEXAMPLE", "inline_policy": [], "managed_policy_arns": []}
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    inline = [{"name": "ours", "policy": "{}"}, {"name": "extra", "policy": "{}"}, {"name": ""}]
    after = {**role, "inline_policy": inline, "managed_policy_arns": [admin, "arn:aws:iam::aws:policy/ReadOnlyAccess"]}
    siblings = [
        {"type": "aws_iam_role_policy", "address": "aws_iam_role_policy.ours",
         "values": {"role": "cicd-task-dev", "name": "ours"}},
        {"type": "aws_iam_role_policy_attachment", "address": "aws_iam_role_policy_attachment.ro",
         "values": {"role": "cicd-task-dev", "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
    ]  # fmt: skip
    text, found = drift_summary(drifted_plan("aws_iam_role.task", role, after, siblings), "platform-dev")
    assert found
    assert text.splitlines()[4:] == [
        "- `aws_iam_role.task`",
        "  - `inline_policy`: (none) → extra (not managed)",
        f"  - `managed_policy_arns`: (none) → {admin} (not managed)",
    ]


def test_an_unknown_value_names_the_resource_this_plan_creates() -> None:
    bucket = change("aws_s3_bucket.b", ["create"], None, {"bucket": "b"}, after_unknown={"id": True})
    read = {
        **change("data.aws_iam_policy_document.p", ["read"], None, {}, after_unknown={"json": True}),
        "mode": "data",
    }
    logging = change("aws_s3_bucket_logging.l", ["update"], {"target_bucket": "a", "target_prefix": "x"},
                     {"target_prefix": "x"}, after_unknown={"target_bucket": True, "target_prefix": False})  # fmt: skip
    expressions = {"target_bucket": {"references": ["aws_s3_bucket.b.id", "aws_s3_bucket.b"]},
                   "target_prefix": {"references": ["data.aws_iam_policy_document.p.json"]}}  # fmt: skip
    configuration = {"root_module": {"resources": [{"address": "aws_s3_bucket_logging.l", "expressions": expressions}]}}
    text = summarize({"resource_changes": [bucket, read, logging], "configuration": configuration}, "p")
    assert '- `target_bucket`: "a" → (known after apply) (`aws_s3_bucket.b` is created)' in text
    # An attribute without an expression, or whose reference is to nothing this plan renews, names no cause.
    assert "(known after apply) (`data." not in text


def test_each_review_flag_is_raised_by_its_own_change_and_by_nothing_else() -> None:
    # One plan, each change aimed at one flag; a data source read listed first hides nothing.
    ssh = {"cidr_ipv4": "0.0.0.0/0", "from_port": 22, "to_port": 22, "ip_protocol": "tcp", "security_group_id": "sg-1"}
    statement = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    waf = {"name": "acl", "description": "a", "rule": [], "tags": {}}
    plan = {
        "resource_changes": [
            {"address": "data.aws_iam_policy_document.d", "type": "aws_iam_policy_document", "mode": "data",
             "change": {"actions": ["read"], "before": None, "after": {}, "after_unknown": {}}},
            change("aws_cloudwatch_dashboard.board", ["delete"], {"dashboard_name": "d"}),
            change("aws_cloudwatch_log_group.logs", ["delete", "create"], {"name": "a"}, {"name": "b"},
                   replace_paths=[["name"]]),
            change("aws_iam_policy.gone", ["delete"], {"policy": statement}),
            change("aws_vpc_security_group_ingress_rule.ssh", ["delete"], ssh),
            change("aws_wafv2_web_acl.acl", ["update"], waf, dict(waf, description="b")),
            change("aws_ecs_service.svc", ["update"], {"desired_count": 1}, {"desired_count": 2}),
            change("aws_s3_bucket.artifacts", ["delete"], {"bucket": "b"}),
        ]
    }  # fmt: skip
    found = impact(plan)
    # A dashboard holds no data; a replaced log group loses its events (the audit trail).
    assert found.data_loss == ["**REPLACE** `aws_cloudwatch_log_group.logs`", "**DELETE** `aws_s3_bucket.artifacts`"]
    assert found.interruption == []  # an in-place service update does not stop it
    assert found.security == [
        "`aws_iam_policy.gone`: deleted: its grants go",
        "`aws_vpc_security_group_ingress_rule.ssh`: delete: ingress tcp 22 from 0.0.0.0/0",
        "`aws_wafv2_web_acl.acl`: web ACL changed",
    ]


def test_a_pr_plan_names_the_attributes_changed_outside_terraform_three_at_most() -> None:
    def drifted(address: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        rtype, name = address.split(".")
        return {"address": address, "mode": "managed", "type": rtype, "name": name,
                "change": {"actions": ["update"], "before": before, "after": after}}  # fmt: skip

    def configured(address: str, values: dict[str, Any]) -> dict[str, Any]:
        return {"address": address, "expressions": {k: {"constant_value": v} for k, v in values.items()}}

    logs = {"retention_in_days": 30, "kms_key_id": "k1", "skip_destroy": False}
    by_hand = dict(logs, retention_in_days=7, kms_key_id="", skip_destroy=True)
    fn = {"timeout": 30, "memory_size": 128, "handler": "a.h", "runtime": "python3.11"}
    fn_by_hand = {"timeout": 3, "memory_size": 512, "handler": "b.h", "runtime": "python3.12"}
    plan = {
        "resource_changes": [change("aws_cloudwatch_log_group.app", ["update"], by_hand, logs)],
        "resource_drift": [drifted("aws_cloudwatch_log_group.app", logs, by_hand),
                           drifted("aws_lambda_function.fn", fn, fn_by_hand)],
        "configuration": {"root_module": {"resources": [configured("aws_cloudwatch_log_group.app", logs),
                                                        configured("aws_lambda_function.fn", fn)]}},
    }  # fmt: skip
    lines = summarize(plan, "p").splitlines()
    start = lines.index("#### Changed outside Terraform (2)")
    assert lines[start + 1 : start + 5] == [
        "",
        '- `aws_cloudwatch_log_group.app`: `kms_key_id`: "k1" → ""; `retention_in_days`: 30 → 7; '
        "`skip_destroy`: false → true",
        '- `aws_lambda_function.fn`: `handler`: "a.h" → "b.h"; `memory_size`: 128 → 512; '
        '`runtime`: "python3.11" → "python3.12" …',
        "",
    ]

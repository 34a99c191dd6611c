"""The plan review as GitHub shows it: every summary rendered by cmark-gfm, GitHub's own
Markdown parser (through the ``cmarkgfm`` binding), must show no Markdown literally.

GitHub renders a comment with cmark-gfm (raw HTML allowed, then sanitised). An HTML block
such as ``<details>`` runs until the next blank line, so Markdown written right after
``</details>`` is passed through as HTML text: a reader sees ``### Security`` and
``- **...**`` as characters. The checker below renders, drops code (where ``#``, ``*`` and
``|`` are content), and looks for list, heading, emphasis, table and code syntax left in
the text a reader sees. It is shown to catch the old fold bug (no blank line after
``</details>``) on the real VPC-CIDR fixture.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from tests.helpers import ROOT
from tests.integration.upgrade import LAST_RELEASE
from tools.plan_summary import (
    STEP_SUMMARY_LIMIT,
    Context,
    bounded,
    drift_summary,
    policy_templates,
    summarize,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "plans"
NAMES = sorted(p.name.removesuffix(".json.gz") for p in FIXTURES.glob("*.json.gz"))

#: Markdown a reader must never see as characters (outside code).
LEAKS = {
    "heading": re.compile(r"^\s*#{1,6}\s"),
    "list item": re.compile(r"^\s*[-+]\s+\S"),
    "emphasis": re.compile(r"\*\*\S|\S\*\*"),
    "table row": re.compile(r"^\s*\|.*\|\s*$"),
    "table rule": re.compile(r"^\s*\|?\s*:?-{3,}:?\s*\|"),
    "code span": re.compile(r"`"),
    "link": re.compile(r"\]\((?:https?://|#)"),
}


def render(markdown: str) -> str:
    """HTML as GitHub makes it: GFM with its extensions, raw HTML kept (GitHub sanitises it
    afterwards but keeps ``<details>`` and ``<summary>``)."""
    return str(cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE))


class _VisibleText(HTMLParser):
    """Text a reader sees, code excluded, one entry per text node."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.code = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("code", "pre"):
            self.code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "pre"):
            self.code -= 1

    def handle_data(self, data: str) -> None:
        if not self.code:
            self.texts.append(data)


def leaks(markdown: str) -> list[str]:
    """Each line of visible text that still carries Markdown syntax, named by kind."""
    parser = _VisibleText()
    parser.feed(render(markdown))
    found = []
    for text in parser.texts:
        for line in text.splitlines():
            found += [f"{kind}: {line.strip()[:120]}" for kind, pattern in LEAKS.items() if pattern.search(line)]
    return found


def fixture(name: str) -> dict[str, Any]:
    with gzip.open(FIXTURES / f"{name}.json.gz", "rt", encoding="utf-8") as f:
        return dict(json.load(f))


CONTEXT = Context(
    commit="0123456789abcdef0123456789abcdef01234567",
    run_url="https://github.com/acme/platform/actions/runs/42",
    planned_at="2026-12-01T10:00:00Z",
)


# --- the checker itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "kind"),
    [
        ("<details><summary>x</summary>\n\n- a\n\n</details>\n### Security\n", "heading"),
        ("<details><summary>x</summary>\n\n- a\n\n</details>\n- **role** changed\n", "list item"),
        ("<div>\n**bold** and `code`\n</div>\n", "emphasis"),
        ("<div>\n| a | b |\n|---|---|\n</div>\n", "table row"),
    ],
)
def test_the_checker_sees_markdown_left_in_html_blocks(markdown: str, kind: str) -> None:
    assert any(leak.startswith(kind) for leak in leaks(markdown)), leaks(markdown)


def test_the_checker_passes_markdown_github_renders() -> None:
    text = (
        "### Plan\n\n- **1** to `create`: `s3:*` | `a|b`\n\n"
        "| a | b |\n|---|---:|\n| `x` | 1 |\n\n"
        "```\n# code\n- x\n```\n"
    )
    assert leaks(text) == []


# --- every real plan, as comment, run summary and full summary ----------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_fixture_renders_without_leaked_markdown(name: str) -> None:
    plan = fixture(name)
    text = summarize(plan, "platform-dev", context=CONTEXT)
    assert leaks(text) == [], name
    assert leaks(bounded(text, 4000, full_url=CONTEXT.run_url, artifact="plan-dev")) == [], "a cut comment"
    assert leaks(bounded(text, STEP_SUMMARY_LIMIT, artifact="plan-dev")) == []
    assert leaks(drift_summary(plan, "platform-dev")[0]) == []


def test_a_fixture_with_policy_templates_renders() -> None:
    plan = fixture("waf_action_and_iam_statement")
    stack: dict[str, Any] = {"resource": {}}  # no templates: the known-after-apply path still renders
    assert leaks(summarize(plan, "platform-dev", templates=policy_templates(plan, stack))) == []


# --- crafted plans: every section the summary can print -----------------------------------


def _change(address: str, actions: list[str], before: Any, after: Any, **extra: Any) -> dict[str, Any]:
    rtype, name = address.split(".", 1)
    return {"address": address, "type": rtype, "name": name, "mode": "managed",
            "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}, **extra}}  # fmt: skip


ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def crafted() -> dict[str, Any]:
    """One plan with a finding of every kind and every section: attention table, security,
    drift, replacements, updates, deletions, creations (folded), moved/imported/forgotten, outputs."""
    admin = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    open_rule = {
        **{"cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": ["::/0"], "from_port": 1024, "to_port": 65535},
        **{"protocol": "tcp", "description": "x", "prefix_list_ids": [], "security_groups": [], "self": False},
    }
    changes = [
        _change("aws_lb.alb", ["update"], {"enable_deletion_protection": True}, {"enable_deletion_protection": False}),
        _change("aws_iam_role_policy.p", ["create"], None, {"name": "p", "role": "r", "policy": admin}),
        _change("aws_iam_role_policy_attachment.a", ["create"], None, {"role": "r", "policy_arn": ADMIN_ARN}),
        _change("aws_security_group.sg", ["update"], {"ingress": []}, {"ingress": [open_rule]}),
        _change("aws_s3_bucket.b", ["delete", "create"], {"bucket": "a"}, {"bucket": "b"}, replace_paths=[["bucket"]]),
        _change("aws_sqs_queue.q", ["delete"], {"name": "q"}, None, action_reason="delete_because_no_resource_config"),
        *[_change(f"aws_sns_topic.t{i}", ["create"], None, {"name": f"t{i}"}) for i in range(12)],
        _change("aws_kms_key.k", ["no-op"], {"id": "k"}, {"id": "k"}, importing={"id": "k"}),
        {
            **_change("aws_s3_bucket.new", ["no-op"], {"bucket": "n"}, {"bucket": "n"}),
            "previous_address": "aws_s3_bucket.old",
        },
        _change("aws_s3_bucket.gone", ["forget"], {"bucket": "g"}, None),
    ]
    drift = [_change("aws_secretsmanager_secret.s", ["delete"], {"name": "s"}, None)]
    outputs = {"url": {"actions": ["update"], "before": "a", "after": "b", "after_unknown": False,
                       "before_sensitive": False, "after_sensitive": False},
               "token": {"actions": ["create"], "before": None, "after": "x", "after_unknown": False,
                         "before_sensitive": False, "after_sensitive": True}}  # fmt: skip
    return {"resource_changes": changes, "resource_drift": drift, "output_changes": outputs}


def test_a_plan_with_every_section_renders_without_leaked_markdown() -> None:
    text = summarize(crafted(), "platform-prod", context=CONTEXT)
    for heading in ("Needs attention", "Changed outside Terraform", "Outputs", "<details>"):
        assert heading in text, f"the crafted plan exercises {heading!r}"
    assert leaks(text) == []


def test_a_plan_too_big_for_a_comment_renders_after_the_cut() -> None:
    many = [
        _change(f"aws_sns_topic.t{i}", ["update"], {"tags": {"k": "a"}}, {"tags": {"k": f"b{i}"}}) for i in range(3000)
    ]
    text = summarize({"resource_changes": many}, "platform-prod", context=CONTEXT)
    comment = bounded(text, full_url=CONTEXT.run_url, artifact="plan-prod")
    assert comment != text
    assert leaks(comment) == []


# --- the old fold bug is caught ------------------------------------------------------------


def old_release_summarize(into: Path) -> Callable[..., str]:
    """``summarize`` as the last release shipped it (from this repository's history), whose
    folds ended at ``</details>`` with the next line right after it."""
    source = subprocess.run(
        ["git", "show", f"{LAST_RELEASE}:tools/plan_summary.py"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert source.returncode == 0, f"the render test needs the repository's history: {source.stderr}"
    path = into / "plan_summary_last_release.py"
    path.write_text(source.stdout)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[path.stem]
    return cast(Callable[..., str], module.summarize)


def test_the_render_check_fails_on_the_old_fold_bug(tmp_path: Path) -> None:
    old = old_release_summarize(tmp_path)(fixture("vpc_cidr_and_retention"), "platform-dev")
    found = leaks(old)
    assert any(leak.startswith(("heading", "list item", "emphasis")) for leak in found), found
    assert leaks(summarize(fixture("vpc_cidr_and_retention"), "platform-dev")) == []

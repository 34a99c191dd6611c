"""README's plan-review excerpt is real: what tools.plan_summary prints for the fixture it names."""

from __future__ import annotations

import gzip
import json
import re

from tests.helpers import ROOT
from tools.plan_summary import Context, summarize


def test_the_readme_excerpt_is_the_summarys_own_text() -> None:
    readme = (ROOT / "README.md").read_text()
    (excerpt,) = re.findall(r"````markdown\n(### Terraform plan: platform-dev\n.*?)````", readme, re.S)
    with gzip.open(ROOT / "tests" / "fixtures" / "plans" / "bucket_replacement.json.gz", "rt") as f:
        plan = json.load(f)
    context = Context(commit="0123456789abcdef", run_url="https://github.com/acme/platform/actions/runs/123",
                      planned_at="2026-12-01 23:40 UTC")  # fmt: skip
    text = summarize(plan, "platform-dev", context=context)
    head, rest = excerpt.split("#### Replacements", 1)
    assert text.startswith(head.split("#### :rotating_light:")[0])
    assert head.split("\n#### :rotating_light:", 1)[1] in text
    assert ("#### Replacements" + rest).rstrip("\n") in text

"""The plan review's machine-readable verdict, and the gate a pull request passes or fails.

``make plan`` writes ``verdict.json`` beside ``summary.md`` (schema: ``docs/plan-verdict.schema.json``,
generated from :class:`Verdict`). The pull-request workflow sets the labels it names and, with

    python -m tools.plan_verdict gate build/plans/*/verdict.json [--override]

fails the check when any finding is ``deny`` unless the override (the ``plan:override``
label, which a maintainer adds after reading the plan) is given. Exit 0 passes, 1 blocks.

    python -m tools.plan_verdict schema --write    # regenerate docs/plan-verdict.schema.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tools import plan_risk

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "docs" / "plan-verdict.schema.json"
SCHEMA_ID: Literal["cicd-plan-verdict/1"] = "cicd-plan-verdict/1"
#: The label a maintainer adds to pass a deny-level plan on purpose.
OVERRIDE_LABEL = "plan:override"


class FindingModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    stack: str
    """The stack whose plan holds the change (e.g. platform-prod)."""
    severity: Literal["deny", "warn"]
    """deny fails the check unless overridden; warn asks for a look."""
    category: Literal["data loss", "interruption", "security", "exposure"]
    rule: str
    """The rule that fired (tools/plan_risk.py)."""
    address: str
    what: str
    """The attribute, statement or rule the finding is about."""
    before: str
    after: str


class StackModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    stack: str
    changes: dict[str, int]
    """Resource changes by kind: create, update, replace, delete."""


class Verdict(BaseModel):
    """What the plans of one environment mean for the pull request."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    schema_id: Literal["cicd-plan-verdict/1"] = SCHEMA_ID
    environment: str
    verdict: Literal["deny", "warn", "pass"]
    """deny: at least one deny finding; warn: findings, none deny; pass: the rule set found nothing."""
    ruleset: str
    labels: list[str]
    """The pull request's plan:* labels for this environment."""
    stacks: list[StackModel]
    findings: list[FindingModel]
    commit: str | None = None
    run_url: str | None = None


def build(environment: str, plans: Sequence[tuple[str, Mapping[str, Any], Sequence[plan_risk.Finding]]],
          commit: str | None = None, run_url: str | None = None) -> Verdict:  # fmt: skip
    findings = [FindingModel(stack=title, **f.as_dict()) for title, _, found in plans for f in found]
    labels = sorted({label for _, plan, found in plans for label in plan_risk.labels(plan, found)})
    if len(labels) > 1 and "plan:no-changes" in labels:
        labels.remove("plan:no-changes")  # one stack without changes does not make the environment changeless
    stacks = []
    for title, plan, _ in plans:
        kinds = [plan_risk.classify(rc["change"]["actions"]) for rc in plan.get("resource_changes") or []
                 if rc.get("mode") != "data"]  # fmt: skip
        stacks.append(StackModel(stack=title, changes={k: kinds.count(k) for k in ("create", "update", "replace",
                                                                                    "delete")}))  # fmt: skip
    severities = {f.severity for f in findings}
    verdict = "deny" if "deny" in severities else "warn" if severities else "pass"
    return Verdict(environment=environment, verdict=verdict, ruleset=plan_risk.RULESET, labels=labels, stacks=stacks,
                   findings=findings, commit=commit, run_url=run_url)  # fmt: skip


def gate(verdicts: Iterable[Verdict], override: bool) -> tuple[int, list[str], list[str]]:
    """(exit status, labels of every environment, one line per blocking finding)."""
    verdicts = list(verdicts)
    labels = sorted({label for v in verdicts for label in v.labels})
    if len(labels) > 1 and "plan:no-changes" in labels:
        labels.remove("plan:no-changes")
    blocking = [f"{v.environment}: {f.stack} `{f.address}`: {f.what} ({f.rule})" for v in verdicts
                for f in v.findings if f.severity == "deny"]  # fmt: skip
    if override and blocking:
        labels.append(OVERRIDE_LABEL)
    return (1 if blocking and not override else 0), labels, blocking


def schema() -> str:
    return json.dumps(Verdict.model_json_schema(), indent=2) + "\n"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan_verdict", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gate_p = sub.add_parser("gate", help="labels, then pass or block on deny findings")
    gate_p.add_argument("verdicts", nargs="+", type=Path)
    gate_p.add_argument("--override", action="store_true", help=f"the {OVERRIDE_LABEL} label is on the pull request")
    gate_p.add_argument("--labels-out", type=Path, help="write the labels here, one per line")
    schema_p = sub.add_parser("schema")
    schema_p.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "schema":
        if args.write:
            SCHEMA_FILE.write_text(schema())
        else:
            sys.stdout.write(schema())
        return 0
    verdicts = [Verdict.model_validate_json(p.read_text()) for p in args.verdicts]
    code, labels, blocking = gate(verdicts, args.override)
    if args.labels_out:
        args.labels_out.write_text("".join(f"{label}\n" for label in labels))
    print("labels: " + ", ".join(labels))
    for line in blocking:
        print(f"{'overridden' if args.override else 'BLOCKING'}: {line}")
    if code:
        print(f"The plan has deny-level findings. After reading them, a maintainer may add the {OVERRIDE_LABEL} label.")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

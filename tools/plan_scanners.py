"""The scanners' word on a pull request's plan: checkov and the IAM lint on the resources the
plan changes, and every suppression the pull request adds or widens.

    python -m tools.plan_scanners build/plans/<env> --stacks cdktf.out/stacks --base origin/main \\
        --append build/plans/<env>/comment.md

``<env>`` holds ``make plan``'s ``<stack>.json`` (``terraform show -json``); ``--stacks`` the
synthesized stacks they were made from. The section lists each finding on a created, updated
or replaced resource (suppressed ones marked, with the suppression's reason), and each
suppression entry of ``tools/checkov/suppressions.toml`` and ``tools/parliament/suppressions.toml``
that is new or wider than on ``--base``: a reviewer sees an exception being made, not only its
effect.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tools import checkov_gate, iam_lint
from tools.plan_risk import classify
from tools.plan_summary import STEP_SUMMARY_LIMIT, bounded

ROOT = Path(__file__).resolve().parent.parent
SUPPRESSION_FILES = ("tools/checkov/suppressions.toml", "tools/parliament/suppressions.toml")


def changed_addresses(plan: Mapping[str, Any]) -> set[str]:
    return {
        rc["address"]
        for rc in plan.get("resource_changes") or []
        if rc.get("mode") != "data" and classify(rc["change"]["actions"]) in ("create", "update", "replace")
    }


def checkov_lines(plan_file: Path, stack: str, changed: set[str]) -> list[str]:
    suppressions = checkov_gate.load_suppressions()
    out = []
    for finding in checkov_gate.scan(plan_file, "terraform_plan", stack):
        if finding.resource not in changed:
            continue
        why = next((s.justification for s in suppressions if s.matches(finding)), None)
        mark = f"suppressed: {why[:120]}…" if why else "**not suppressed**"
        out.append(f"- checkov `{finding.check_id}` on `{finding.resource}`: {finding.name} ({mark})")
    return out


def iam_lint_lines(synthesized: Mapping[str, Any], stack: str, changed: set[str]) -> list[str]:
    suppressions = iam_lint.load_suppressions()
    out = []
    for finding in iam_lint.lint(synthesized, stack):
        if finding.resource not in changed:
            continue
        suppressed = any(s.matches(finding) for s in suppressions)
        out.append(f"- IAM lint `{finding.issue}` on `{finding.resource}` ({finding.kind} policy): "
                   f"{finding.detail[:160]} ({'suppressed' if suppressed else '**not suppressed**'})")  # fmt: skip
    return out


def _entries(text: str) -> list[dict[str, Any]]:
    return list(tomllib.loads(text).get("suppression", [])) if text.strip() else []


def _identity(entry: Mapping[str, Any]) -> str:
    return str(entry.get("check_id") or entry.get("issue"))


def suppression_changes(base: Mapping[str, str], head: Mapping[str, str]) -> list[str]:
    """Entries new in ``head`` or wider than the one they replace (file -> TOML text)."""
    out = []
    for path in sorted(head):
        old = _entries(base.get(path, ""))
        for entry in _entries(head[path]):
            if entry in old:
                continue
            same = [o for o in old if _identity(o) == _identity(entry)]
            what = "widened" if same else "added"
            scope = ", ".join(f"{k} `{entry[k]}`" for k in ("resource", "stacks", "kind", "detail") if k in entry)
            why = str(entry.get("justification", ""))[:160]
            out.append(f"- suppression {what} in `{path}`: `{_identity(entry)}` ({scope}): {why}")
    return out


def _git_show(ref: str, path: str) -> str:
    proc = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=ROOT, capture_output=True, text=True, check=False)
    return proc.stdout if proc.returncode == 0 else ""


def section(plans: Iterable[tuple[str, Path]], stacks: Path, base: str | None) -> str:
    lines: list[str] = []
    for stack, plan_file in plans:
        plan = json.loads(plan_file.read_text())
        changed = changed_addresses(plan)
        if not changed:
            continue
        lines += checkov_lines(plan_file, stack, changed)
        synthesized = stacks / stack / "cdk.tf.json"
        if synthesized.exists():
            lines += iam_lint_lines(json.loads(synthesized.read_text()), stack, changed)
    if base:
        head = {p: (ROOT / p).read_text() for p in SUPPRESSION_FILES}
        lines += suppression_changes({p: _git_show(base, p) for p in SUPPRESSION_FILES}, head)
    body = lines or ["Nothing: no finding on the changed resources, no suppression added or widened."]
    return "\n".join(["#### Scanners on the changed resources", "", *body, ""]) + "\n"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan_scanners", description=__doc__.splitlines()[0])
    parser.add_argument("plan_dir", type=Path, help="make plan's --out folder (<stack>.json files)")
    parser.add_argument("--stacks", type=Path, default=ROOT / "cdktf.out" / "stacks")
    parser.add_argument("--base", help="git ref of the pull request's base, for suppression changes")
    parser.add_argument("--artifact", help="with --update: the artifact the full summary is uploaded as")
    parser.add_argument("--run-url", help="with --update: the run's page")
    parser.add_argument(
        "--update", action="store_true", help="append to summary.md and cut comment.md and step-summary.md again"
    )
    args = parser.parse_args(argv)
    plans = [(p.stem, p) for p in sorted(args.plan_dir.glob("*.json")) if p.name != "verdict.json"]
    text = section(plans, args.stacks, args.base)
    if args.update:
        summary = args.plan_dir / "summary.md"
        full = summary.read_text() + "\n" + text
        summary.write_text(full)
        comment = bounded(full, full_url=args.run_url, artifact=args.artifact)
        (args.plan_dir / "comment.md").write_text(comment)
        (args.plan_dir / "step-summary.md").write_text(bounded(full, STEP_SUMMARY_LIMIT, artifact=args.artifact))
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

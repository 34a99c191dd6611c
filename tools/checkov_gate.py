"""Security gate: checkov over synthesized stacks and plan JSON, with a
reviewed suppression file.

    python -m tools.checkov_gate cdktf.out/stacks            # terraform_json
    python -m tools.checkov_gate --plan plan.json            # terraform_plan

checkov pins an older boto3 than the app, so it lives in its own virtualenv,
``build/checkov-venv``, created here on first use with the pinned version.
Every failed check must match an entry in ``tools/checkov/suppressions.toml``
(check id + resource pattern + stack pattern + justification); anything else
fails the gate. In-JSON skip comments are not read by checkov's terraform_json
framework, which is why suppressions live in that file.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import tomllib
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHECKOV_VERSION = "3.3.30"
VENV = ROOT / "build" / "checkov-venv"
SUPPRESSIONS = ROOT / "tools" / "checkov" / "suppressions.toml"


@dataclass(frozen=True)
class Finding:
    check_id: str
    resource: str
    stack: str
    name: str

    def __str__(self) -> str:
        return f"{self.check_id} {self.stack}:{self.resource} ({self.name})"


@dataclass(frozen=True)
class Suppression:
    check_id: str
    resource: str
    stacks: tuple[str, ...]
    justification: str
    #: Only the plan scan can see this finding (values resolved at plan time).
    plan_only: bool = False

    def matches(self, finding: Finding) -> bool:
        return (
            finding.check_id == self.check_id
            and fnmatch.fnmatchcase(finding.resource, self.resource)
            and any(fnmatch.fnmatchcase(finding.stack, pattern) for pattern in self.stacks)
        )


def load_suppressions(path: Path = SUPPRESSIONS) -> list[Suppression]:
    entries = tomllib.loads(path.read_text())["suppression"]
    out = []
    for entry in entries:
        if len(entry.get("justification", "")) < 40:
            raise ValueError(f"suppression {entry.get('check_id')} needs a real justification")
        stacks = entry.get("stacks", ["*"])
        out.append(
            Suppression(
                entry["check_id"],
                entry["resource"],
                tuple([stacks] if isinstance(stacks, str) else stacks),
                entry["justification"],
                bool(entry.get("plan_only", False)),
            )
        )
    return out


def checkov_binary() -> Path:
    binary = VENV / "bin" / "checkov"
    marker = VENV / f".checkov-{CHECKOV_VERSION}"
    if not marker.exists():
        print(f"installing checkov {CHECKOV_VERSION} into {VENV} (isolated from the app's boto3) ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        log = VENV / "pip-install.log"
        with log.open("w") as out:
            done = subprocess.run(
                [str(VENV / "bin" / "pip"), "install", "--quiet", f"checkov=={CHECKOV_VERSION}"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if done.returncode != 0:
            raise RuntimeError(f"installing checkov failed; see {log}")
        marker.touch()
    return binary


def _results(raw: str) -> list[dict[str, Any]]:
    data = json.loads(raw) if raw.strip() else []
    return data if isinstance(data, list) else [data]


def scan(target: Path, framework: str, stack: str | None = None) -> list[Finding]:
    """Failed checks for one stack directory (terraform_json) or plan file (terraform_plan)."""
    return run_checkov(target, framework, stack)[0]


def run_checkov(target: Path, framework: str, stack: str | None = None) -> tuple[list[Finding], set[str]]:
    """(failed checks, ids of checks that passed) for a stack directory or plan file."""
    flag = "-d" if target.is_dir() else "-f"
    proc = subprocess.run(
        [
            str(checkov_binary()),
            flag,
            str(target),
            "--framework",
            framework,
            "--skip-download",
            "--compact",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({proc.returncode}): {proc.stderr[-2000:]}")
    types = _resource_types(target / "cdk.tf.json") if target.is_dir() else {}
    findings = []
    passed: set[str] = set()
    for result in _results(proc.stdout):
        passed |= {p["check_id"] for p in result.get("results", {}).get("passed_checks", [])}
        for failed in result.get("results", {}).get("failed_checks", []):
            resource = str(failed["resource"]).removeprefix("resource.")
            if resource in types:  # some checks report the bare name: make it "type.name"
                resource = f"{types[resource]}.{resource}"
            findings.append(Finding(failed["check_id"], resource, stack or target.name, failed["check_name"]))
    return findings, passed


def _resource_types(stack_json: Path) -> dict[str, str]:
    doc = json.loads(stack_json.read_text()) if stack_json.exists() else {}
    return {name: rtype for rtype, items in doc.get("resource", {}).items() for name in items}


def unsuppressed(findings: list[Finding], suppressions: list[Suppression]) -> list[Finding]:
    return [f for f in findings if not any(s.matches(f) for s in suppressions)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.checkov_gate", description=__doc__.splitlines()[0])
    parser.add_argument("stacks_dir", nargs="?", type=Path, default=ROOT / "cdktf.out" / "stacks")
    parser.add_argument("--plan", type=Path, help="a `terraform show -json` plan file")
    parser.add_argument("--stack", default="platform-local", help="stack name for --plan findings")
    args = parser.parse_args(argv)
    suppressions = load_suppressions()
    if args.plan:
        findings = scan(args.plan, "terraform_plan", args.stack)
    else:
        findings = [f for d in sorted(args.stacks_dir.iterdir()) if d.is_dir() for f in scan(d, "terraform_json")]
    failing = unsuppressed(findings, suppressions)
    print(f"checkov: {len(findings)} failed checks, {len(findings) - len(failing)} suppressed, {len(failing)} failing")
    for finding in failing:
        print(f"  FAIL {finding}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

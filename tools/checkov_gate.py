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

Beside checkov's own checks, every scan runs the project's custom checks of AWS's
service-side rules (``tools/checkov/aws_rules``, ids ``CKV_CICD_*``; docs/aws-rules.md),
which nothing else checks before AWS refuses an apply. A folder of stack folders is
scanned in one checkov run (its start-up costs seconds).
"""

from __future__ import annotations

import argparse
import fcntl
import fnmatch
import json
import subprocess
import sys
import tempfile
import tomllib
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHECKOV_VERSION = "3.3.30"
VENV = ROOT / "build" / "checkov-venv"
SUPPRESSIONS = ROOT / "tools" / "checkov" / "suppressions.toml"
#: The project's custom checks: AWS's service-side rules (docs/aws-rules.md).
AWS_RULES = ROOT / "tools" / "checkov" / "aws_rules"


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
    if marker.exists():
        return binary
    # Several test workers (and the plan scanners) may ask at once: one creates the virtualenv while
    # the others wait, instead of each clearing the folder under the others' feet.
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with (VENV.parent / ".checkov-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            _install(marker)
    return binary


def _install(marker: Path) -> None:
    """Create the virtualenv and install the pinned checkov; the marker says it is complete."""
    print(f"installing checkov {CHECKOV_VERSION} into {VENV} (isolated from the app's boto3) ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    log = VENV / "pip-install.log"
    with log.open("w") as out:
        done = subprocess.run(
            # No bytecode for all of botocore and the rest up front: the scans import a
            # fraction of it, compiled on first import (CI time is CPU time on two cores).
            [
                str(VENV / "bin" / "pip"),
                "install",
                "--quiet",
                "--no-compile",
                "--disable-pip-version-check",
                f"checkov=={CHECKOV_VERSION}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if done.returncode != 0:
        raise RuntimeError(f"installing checkov failed; see {log}")
    marker.touch()


def _results(raw: str) -> list[dict[str, Any]]:
    data = json.loads(raw) if raw.strip() else []
    return data if isinstance(data, list) else [data]


def scan(target: Path, framework: str, stack: str | None = None) -> list[Finding]:
    """Failed checks for one stack directory (terraform_json) or plan file (terraform_plan)."""
    return run_checkov(target, framework, stack)[0]


def scannable_copy(target: Path, into: Path) -> Path:
    """A copy of a stack folder (or a folder of them) without ``removed`` blocks.

    checkov 3.3.30's terraform_json parser fails on a ``removed`` block list (objects with two
    keys, ``from`` and ``lifecycle``: "this method receives only dicts") and then skips the whole
    file. The blocks hold no resource, so nothing checkov checks is lost without them.
    """
    for source in sorted(target.rglob("*.tf.json")) if target.is_dir() else []:
        doc = json.loads(source.read_text())
        doc.pop("removed", None)
        dest = into / source.relative_to(target)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(doc))
    return into


def run_checkov(target: Path, framework: str, stack: str | None = None) -> tuple[list[Finding], set[str]]:
    """(failed checks, ids of checks that passed) for a stack directory, a directory of stack
    directories, or a plan file. A finding's stack is its file's folder (or ``stack``).

    A file checkov cannot parse fails the run: an unparsed stack would pass every check."""
    if target.is_dir():
        with tempfile.TemporaryDirectory(prefix="checkov-") as tmp:
            return _run_checkov(scannable_copy(target, Path(tmp) / target.name), framework, stack)
    return _run_checkov(target, framework, stack)


def _run_checkov(target: Path, framework: str, stack: str | None) -> tuple[list[Finding], set[str]]:
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
            # The AWS rules read the synthesized configuration (depends_on, literal names); a plan's
            # planned values do not carry all of it.
            *(["--external-checks-dir", str(AWS_RULES)] if framework == "terraform_json" else []),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({proc.returncode}): {proc.stderr[-2000:]}")
    findings = []
    passed: set[str] = set()
    for result in _results(proc.stdout):
        if result.get("summary", {}).get("parsing_errors"):
            raise RuntimeError(f"checkov could not parse {result['summary']['parsing_errors']} file(s) under {target}")
        passed |= {p["check_id"] for p in result.get("results", {}).get("passed_checks", [])}
        for failed in result.get("results", {}).get("failed_checks", []):
            where = _stack_file(target, str(failed.get("file_abs_path") or failed["file_path"]))
            resource = str(failed["resource"]).removeprefix("resource.")
            types = _resource_types(where) if where is not None else {}
            if resource in types:  # some checks report the bare name: make it "type.name"
                resource = f"{types[resource]}.{resource}"
            owner = stack or (where.parent.name if where is not None else target.name)
            findings.append(Finding(failed["check_id"], resource, owner, failed["check_name"]))
    return findings, passed


def _stack_file(target: Path, reported: str) -> Path | None:
    """The cdk.tf.json a finding is in (checkov reports paths relative to the scanned folder)."""
    if not target.is_dir():
        return None
    path = Path(reported)
    for candidate in (path, target / reported.lstrip("/"), target.parent / reported.lstrip("/")):
        if candidate.is_file():
            return candidate.resolve()
    return None


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
    findings = scan(args.plan, "terraform_plan", args.stack) if args.plan else scan(args.stacks_dir, "terraform_json")
    failing = unsuppressed(findings, suppressions)
    print(f"checkov: {len(findings)} failed checks, {len(findings) - len(failing)} suppressed, {len(failing)} failing")
    for finding in failing:
        print(f"  FAIL {finding}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

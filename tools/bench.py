"""Benchmarks, measured side by side in one run, written to docs/benchmarks.md.

    python -m tools.bench [--rounds 3] [--skip-deploy]

(a) baseline every cdktf-Python project pays: a fresh process imports the
    provider the usual way and synthesizes an empty stack;
(b) the whole app (every environment), as ``make synth`` runs it uncached;
(c) the unit + snapshot test suite;
(d) peak RSS of (a) and (b);
(e) a full local deploy into a fresh emulator and a no-change re-plan.
Runs of (a), (b) and the fast/normal pair alternate, so machine noise hits all.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks.md"

BASELINE = """
import sys
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
app = App(outdir=sys.argv[1])
stack = TerraformStack(app, "empty")
AwsProvider(stack, "aws", region="us-east-1")
app.synth()
"""


@dataclass
class Series:
    seconds: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mb(self) -> float:
        return max(self.rss_mb) if self.rss_mb else 0.0


def measure(cmd: Sequence[str], env: dict[str, str], series: Series) -> None:
    """Wall time and peak RSS (the process and the children it waited for, i.e. jsii's node)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    series.seconds.append(time.perf_counter() - started)
    series.rss_mb.append(usage.ru_maxrss / 1024)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")


def run(rounds: int, deploy: bool) -> dict[str, Series | float | str]:
    results: dict[str, Series | float | str] = {}
    a, b, slow = Series(), Series(), Series()
    with tempfile.TemporaryDirectory() as tmp:
        base_env = {k: v for k, v in os.environ.items() if k not in ("ENVIRONMENT", "CONFIG_FILE")}
        for i in range(rounds):
            measure([sys.executable, "-c", BASELINE, f"{tmp}/a{i}"], base_env, a)
            measure([sys.executable, "main.py"], dict(base_env, CDKTF_OUTDIR=f"{tmp}/b{i}"), b)
            measure(
                [sys.executable, "main.py"],
                dict(base_env, CDKTF_OUTDIR=f"{tmp}/s{i}", FAST_PROVIDER_LOADING="0"),
                slow,
            )
            print(
                f"round {i + 1}: a={a.seconds[-1]:.1f}s b={b.seconds[-1]:.1f}s normal={slow.seconds[-1]:.1f}s",
                flush=True,
            )
        results.update(a=a, b=b, slow=slow)
        c = Series()
        measure(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit", "tests/snapshot"],
            base_env,
            c,
        )
        results["c"] = c
        print(f"unit + snapshot suite: {c.median:.1f}s", flush=True)
        if deploy:
            work = Path(tmp) / "deploy"
            opts = ["--environment", "dev", "--target", "local", "--work-dir", str(work)]
            tool = [sys.executable, "-m", "tools.deploy"]
            started = time.perf_counter()
            done = subprocess.run([*tool, "deploy", *opts], cwd=ROOT, capture_output=True, text=True)
            results["deploy"] = time.perf_counter() - started
            results["deploy_summary"] = next(
                (ln for ln in done.stdout.splitlines() if ln.startswith("Deployed ")), done.stderr[-300:]
            )
            started = time.perf_counter()
            plan = subprocess.run([*tool, "plan", *opts], cwd=ROOT, capture_output=True, text=True)
            results["replan"] = time.perf_counter() - started
            results["replan_exit"] = str(plan.returncode)
            subprocess.run([*tool, "destroy", *opts], cwd=ROOT, capture_output=True, text=True)
    return results


def report(r: dict[str, Series | float | str]) -> str:
    a, b, c, slow = (r[k] for k in ("a", "b", "c", "slow"))
    if not all(isinstance(s, Series) for s in (a, b, c, slow)):
        raise TypeError("measurements missing")
    assert isinstance(a, Series)
    assert isinstance(b, Series)
    assert isinstance(c, Series)
    assert isinstance(slow, Series)

    def row(name: str, s: Series, target: str, ok: bool | None) -> str:
        verdict = "" if ok is None else ("met" if ok else "**missed**")
        runs = ", ".join(f"{x:.1f}" for x in s.seconds)
        return f"| {name} | {runs} | {s.median:.1f} | {s.median / a.median:.2f} | {target} {verdict} |"

    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` (`python -m tools.bench`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on",
        f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()},",
        f"Python {platform.python_version()}). Runs alternate between variants so machine noise hits",
        "them alike; compare ratios, not absolutes.",
        "",
        "| measurement | runs (s) | median (s) | ratio to (a) | target |",
        "|---|---|---:|---:|---|",
        row("(a) baseline: usual provider import + empty stack", a, "", None),
        row("(b) whole app, all environments (fast provider path)", b, "≤ 0.35 ×", b.median <= 0.35 * a.median),
        row("whole app with the usual import (`FAST_PROVIDER_LOADING=0`)", slow, "", None),
        row("(c) unit + snapshot test suite", c, "≤ 1.5 ×", c.median <= 1.5 * a.median),
        "",
        "| peak RSS (process + jsii node) | MB | ratio to (a) | target |",
        "|---|---:|---:|---|",
        f"| (a) baseline | {a.peak_mb:.0f} | 1.00 | |",
        f"| (b) whole app | {b.peak_mb:.0f} | {b.peak_mb / a.peak_mb:.2f} | ≤ 1.10 × "
        f"{'met' if b.peak_mb <= 1.10 * a.peak_mb else '**missed**'} |",
    ]
    if "deploy" in r:
        deploy, replan = float(str(r["deploy"])), float(str(r["replan"]))
        lines += [
            "",
            "## Local deploy (e)",
            "",
            f"- full deploy of dev into a fresh emulator: **{deploy:.0f} s** "
            f"(budget 180 s: {'met' if deploy <= 180 else '**missed**'}); {r['deploy_summary']}",
            f"- no-change re-plan (`tools.deploy plan`, synth reused, exit {r['replan_exit']}): **{replan:.0f} s** "
            f"(target ≤ 30 s: {'met' if replan <= 30 else '**missed**'})",
        ]
    lines += [
        "",
        "## Where the time goes",
        "",
        "- (a) vs (b): importing `cdktf_cdktf_provider_aws` the usual way runs its `__init__`, which imports "
        "all ~2,135 resource modules; `constructs_lib/fast_provider.py` skips that and loads only the "
        "modules the app uses. What remains in (b) is Python + jsii (node) start-up and loading the "
        "provider's jsii assembly.",
        "- (c): the suite synthesizes each configuration once per session (one jsii start-up), then "
        "spends most of its time in tests that start fresh processes on purpose: main.py run as a user "
        "runs it (bad-input exits), and the fast/normal equivalence test, which pays the usual import twice.",
        "- (e): most of a deploy is the AWS provider's own pacing: S3 lifecycle configurations are polled "
        "until read back identical 3 times at least 10 s apart (~55 s, state and platform stacks), an "
        "ALB until active (~60 s), an SQS policy until propagated (~25 s). Both stacks run them in parallel.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-deploy", action="store_true")
    args = parser.parse_args(argv)
    REPORT.write_text(report(run(args.rounds, not args.skip_deploy)))
    print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

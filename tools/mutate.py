"""Mutation testing of the modules where a wrong line is a security or availability defect.

mutmut (``[tool.mutmut]`` in pyproject.toml) mutates the listed modules one change at a
time and runs the tests that reach each changed function; a mutant the tests accept is a
wrong line the tests would let through. mutmut reports counts for the whole tree and has
no threshold, no per-module score, no list of equivalent mutants and no "changed lines
only" mode; this wrapper adds those four things and nothing else (mutation, test
selection, forking and caching stay mutmut's):

    python -m tools.mutate                        # every listed module (make mutate, nightly)
    python -m tools.mutate --changed-since REF    # only mutants on lines changed since REF (pull requests)

Score = killed / (killed + survived), a timeout or crashed test run counted as killed,
a mutant no test reaches counted as survived, listed equivalents left out. Every listed
module must reach ``score_threshold``; with ``--changed-since`` the mutants on changed
lines must, together. Exit 0 when they do, 1 when not, 2 when the run or the settings
are broken. The report goes to stdout, ``build/mutation/report.md`` and ``report.json``,
and GitHub's job summary when there is one.

Equivalent mutants (a change that cannot alter behaviour) are listed in
``[tool.mutmut] equivalent`` with the mutated line and a reason; an entry whose mutant no
longer makes that change, or that the tests now kill, fails the run so the list stays true.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import functools
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MUTANTS = Path("mutants")
REPORT_DIR = Path("build/mutation")
#: mutmut's exit codes (mutmut/stats.py status_by_exit_code) folded into what the score needs.
#: 3 = pytest internal error, 36/24/152/255/-24 = timeout, -9/-11 = the test run crashed.
KILLED_CODES = {1, 3, 36, 24, 152, 255, -24, -9, -11}
SURVIVED_CODES = {0}
NO_TESTS_CODES = {5, 33}
SKIPPED_CODES = {34}
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


class MutateError(Exception):
    """A broken run or setting: exit 2 with this one line."""


@dataclass(frozen=True)
class Equivalent:
    mutant: str
    mutation: str
    reason: str


@dataclass(frozen=True)
class Settings:
    modules: list[str]
    threshold: float
    equivalents: dict[str, Equivalent]
    fingerprint: str


def load_settings(pyproject: Path = Path("pyproject.toml")) -> Settings:
    config = tomllib.loads(pyproject.read_text())["tool"]["mutmut"]
    equivalents: dict[str, Equivalent] = {}
    for i, entry in enumerate(config.get("equivalent", [])):
        missing = {"mutant", "mutation", "reason"} - set(entry)
        if missing or not str(entry.get("reason", "")).strip():
            raise MutateError(
                f"[tool.mutmut] equivalent[{i}]: every entry needs mutant, mutation and a non-empty reason "
                f"(missing: {', '.join(sorted(missing)) or 'reason text'})"
            )
        if entry["mutant"] in equivalents:  # a second entry would silently replace the first's reason
            raise MutateError(f"[tool.mutmut] equivalent[{i}]: {entry['mutant']} is listed twice")
        equivalents[entry["mutant"]] = Equivalent(entry["mutant"], entry["mutation"].strip(), entry["reason"])
    threshold = float(config.get("score_threshold", 90))
    if not 0 < threshold <= 100:
        raise MutateError(f"[tool.mutmut] score_threshold = {threshold}: must be a percentage in (0, 100]")
    # What decides which mutants exist and which tests run: mutmut keeps its mutants/ tree
    # across runs and does not notice these changing, so a change starts from scratch.
    decisive = {k: config.get(k) for k in ("source_paths", "only_mutate", "do_not_mutate", "also_copy")}
    decisive["pytest"] = [config.get("pytest_add_cli_args"), config.get("pytest_add_cli_args_test_selection")]
    fingerprint = hashlib.sha256(json.dumps(decisive, sort_keys=True).encode()).hexdigest()
    return Settings(list(config["only_mutate"]), threshold, equivalents, fingerprint)


def module_of(path: str, patterns: Sequence[str]) -> str | None:
    """The listed module (its only_mutate pattern) a source path belongs to."""
    return next((p for p in patterns if fnmatch.fnmatch(path, p)), None)


# --- which lines a mutant changes -------------------------------------------------------


def _def_start(tree: ast.Module, qualified: Sequence[str]) -> int | None:
    """First line (decorators included) of the function ``a.b`` in a parsed module."""
    body: Sequence[ast.stmt] = tree.body
    node: ast.stmt | None = None
    for name in qualified:
        node = next(
            (
                n
                for n in body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name == name
            ),
            None,
        )
        if node is None:
            return None
        body = node.body
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    return _first_line(node)


def _first_line(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> int:
    """Where a definition starts in its file: its first decorator, else its ``def``."""
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


@functools.lru_cache(maxsize=64)
def _parsed(path: str) -> ast.Module:
    """A source file's tree, parsed once per run (every mutant of the file needs it)."""
    return ast.parse(Path(path).read_text())


def function_of(mutant: str) -> tuple[str, list[str]]:
    """``tools.x.xǁClassǁmethod__mutmut_3`` -> (``tools.x``, [``Class``, ``method``])."""
    head, _, _ = mutant.rpartition("__mutmut_")
    module, _, mangled = head.rpartition(".")
    if mangled.startswith("xǁ"):
        return module, mangled[2:].split("ǁ")
    if mangled.startswith("x_"):
        return module, [mangled[2:]]
    raise MutateError(f"cannot read mutmut's mutant name {mutant!r}")


def mangled_glob(module: str, qualified: Sequence[str]) -> str:
    """The mutmut name pattern of every mutant of one function."""
    mangled = "xǁ" + "ǁ".join(qualified) if len(qualified) > 1 else "x_" + qualified[0]
    return f"{module}.{mangled}__mutmut_*"


def mutant_change(mutant: str, path: str) -> tuple[int, str]:
    """(line in the original file, the mutated text) of one mutant.

    mutmut keeps the original and the mutated function side by side in mutants/<path>;
    these are the same reads its own ``mutmut show`` diff makes (mutmut.mutation.diff_apply).
    """
    from mutmut.mutation.diff_apply import (  # mutmut's internals: needed only here
        read_functions_from_index,
        read_mutant_function,
        read_mutants_module,
        read_original_function,
    )

    functions = read_functions_from_index(mutant, path)
    if functions is None:
        module_tree = read_mutants_module(path)
        functions = (read_original_function(module_tree, mutant), read_mutant_function(module_tree, mutant))
    orig, new = (_cst_code(f).split("\n") for f in functions)
    changes = [op for op in difflib.SequenceMatcher(a=orig, b=new, autojunk=False).get_opcodes() if op[0] != "equal"]
    if not changes:
        return 0, ""
    _, i1, _, j1, j2 = changes[0]
    # The function's text starts with its leading comments; ast says where its def (or first
    # decorator) is in the file.
    _, qualified = function_of(mutant)
    start = _def_start(_parsed(str(Path(path).resolve())), qualified) or 1
    def_index = next((k for k, text in enumerate(orig) if re.match(r"\s*(@|def |async def )", text)), 0)
    return start + i1 - def_index, " ".join(s.strip() for s in new[j1:j2]).strip()


def _cst_code(function: Any) -> str:
    import libcst as cst  # mutmut's parser: needed only here

    return str(cst.Module([function]).code.strip())


# --- changed lines ----------------------------------------------------------------------


def changed_lines(base: str, paths: Iterable[str]) -> dict[str, set[int]]:
    """Lines added or changed since ``base`` (merge base with HEAD), per file."""
    out = subprocess.run(
        ["git", "diff", "-U0", "--no-color", "--no-ext-diff", f"{base}...HEAD", "--", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise MutateError(f"git diff against {base!r} failed: {out.stderr.strip()} (fetch the base branch first)")
    result: dict[str, set[int]] = {}
    current = ""
    for line in out.stdout.splitlines():
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else ""
        elif (hunk := _HUNK.match(line)) and current:
            start, count = int(hunk.group(1)), int(hunk.group(2) or 1)
            result.setdefault(current, set()).update(range(start, start + count))
    return {path: lines for path, lines in result.items() if lines}


def functions_on_lines(path: str, lines: set[int]) -> list[list[str]]:
    """Qualified names of the functions (methods as Class.method) that hold any of ``lines``."""
    tree = ast.parse(Path(path).read_text())
    found: list[list[str]] = []

    def visit(body: Sequence[ast.stmt], prefix: list[str]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, [*prefix, node.name])
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and lines & set(
                range(_first_line(node), (node.end_lineno or node.lineno) + 1)
            ):
                found.append([*prefix, node.name])

    visit(tree.body, [])
    return found


# --- results ----------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    path: str
    code: int | None
    line: int = 0
    mutation: str = ""

    @property
    def status(self) -> str:
        if self.code in KILLED_CODES:
            return "killed"
        if self.code in SURVIVED_CODES:
            return "survived"
        if self.code in NO_TESTS_CODES:
            return "no tests"
        if self.code in SKIPPED_CODES:
            return "skipped"
        if self.code is None:
            return "not checked"
        return "suspicious"


#: What --retest-survivors runs again: mutants that ran and were not killed. Not the ones never
#: checked (an interrupted run's rest: that is --resume, hours for a constructs module) nor the
#: ones mutmut skips.
RETESTED = ("survived", "no tests", "suspicious")
#: What --resume runs: the mutants an interrupted run never reached. mutmut itself resumes only
#: when given no names; given names (the globs of --module) it runs every one of them again.
RESUMED = ("not checked",)


def with_status(
    outcomes: Sequence[Outcome], sources: Sequence[str], names: Sequence[str], statuses: Collection[str] = RETESTED
) -> list[str]:
    """The mutants of ``sources`` (and of ``names``' globs, when given) whose status is one of
    ``statuses``: by default the survivors, to test again."""
    return [
        o.name
        for o in outcomes
        if o.path in sources and o.status in statuses and (not names or any(fnmatch.fnmatch(o.name, n) for n in names))
    ]


def read_outcomes() -> list[Outcome]:
    outcomes: list[Outcome] = []
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        path = str(meta.relative_to(MUTANTS))[: -len(".meta")]
        data = json.loads(meta.read_text())
        outcomes.extend(Outcome(name, path, code) for name, code in data["exit_code_by_key"].items())
    return outcomes


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def killed(self) -> int:
        return self.counts["killed"]

    @property
    def survived(self) -> int:
        # A mutant no test reaches, or whose run ended oddly, is a wrong line the tests let through.
        return self.counts["survived"] + self.counts["no tests"] + self.counts["suspicious"]

    @property
    def score(self) -> float:
        judged = self.killed + self.survived
        return 100.0 if judged == 0 else 100.0 * self.killed / judged


@dataclass
class Report:
    mode: str
    threshold: float
    tallies: dict[str, Tally]
    survivors: list[Outcome]
    problems: list[str]

    @property
    def failing(self) -> list[str]:
        return [m for m, t in self.tallies.items() if t.score < self.threshold]

    def markdown(self) -> str:
        lines = [
            f"## Mutation score ({self.mode})",
            "",
            "| module | killed | survived | equivalent | not checked | score |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for module, t in sorted(self.tallies.items()):
            mark = "" if t.score >= self.threshold else " ❌"
            score = f"{t.score:.1f} %{mark}" if t.killed + t.survived else "—"
            counts = f"{t.killed} | {t.survived} | {t.counts['equivalent']} | {t.counts['not checked']}"
            lines.append(f"| `{module}` | {counts} | {score} |")
        lines += ["", f"Threshold: {self.threshold:g} % per module (timeouts count as killed)."]
        if self.survivors:
            lines += ["", f"### Surviving mutants ({len(self.survivors)})", ""]
            lines += [
                f"- `{o.path}:{o.line}` `{o.name}` ({o.status}): `{o.mutation}` — `mutmut show {o.name}`"
                for o in self.survivors
            ]
        if self.problems:
            lines += ["", "### Problems", "", *(f"- {p}" for p in self.problems)]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "threshold": self.threshold,
            "modules": {
                m: {"killed": t.killed, "survived": t.survived, "equivalent": t.counts["equivalent"], "score": t.score}
                for m, t in self.tallies.items()
            },
            "survivors": [
                {"mutant": o.name, "path": o.path, "line": o.line, "mutation": o.mutation} for o in self.survivors
            ],
            "problems": self.problems,
        }


def assess(
    outcomes: Sequence[Outcome],
    settings: Settings,
    *,
    mode: str,
    keep: Mapping[str, set[int]] | None = None,
    complete: bool = True,
) -> Report:
    """Tally the outcomes per listed module; ``keep`` limits them to changed lines."""
    tallies: dict[str, Tally] = {}
    survivors: list[Outcome] = []
    problems: list[str] = []
    seen_equivalents: set[str] = set()
    for o in outcomes:
        module = module_of(o.path, settings.modules)
        if module is None:
            continue
        if o.status == "not checked":
            tallies.setdefault(module if keep is None else "changed lines", Tally()).counts["not checked"] += 1
            continue
        needs_line = keep is not None or o.status != "killed" or o.name in settings.equivalents
        if needs_line:
            o.line, o.mutation = mutant_change(o.name, o.path)
        if keep is not None and o.line not in keep.get(o.path, set()):
            continue
        tally = tallies.setdefault(module if keep is None else "changed lines", Tally())
        if o.status == "skipped":
            continue
        equivalent = settings.equivalents.get(o.name)
        if equivalent is not None:
            seen_equivalents.add(o.name)
            if equivalent.mutation != o.mutation:
                problems.append(
                    f"equivalent entry {o.name} says it changes to {equivalent.mutation!r}, but it now changes "
                    f"{o.path}:{o.line} to {o.mutation!r}: review the entry"
                )
            elif o.status == "killed":
                problems.append(f"equivalent entry {o.name} is killed by the tests: remove the entry")
            else:
                tally.counts["equivalent"] += 1
                continue
        tally.counts[o.status] += 1
        if o.status != "killed":
            survivors.append(o)
    problems += [
        f"{module}: {t.counts['not checked']} mutant(s) not checked (an interrupted run); run again"
        for module, t in sorted(tallies.items())
        if t.counts["not checked"]
    ]
    if keep is None and complete:
        problems += [
            f"equivalent entry {name} names no mutant of the listed modules: remove or correct it"
            for name in sorted(set(settings.equivalents) - seen_equivalents)
        ]
    return Report(mode, settings.threshold, tallies, survivors, problems)


# --- running mutmut ---------------------------------------------------------------------


def run_mutmut(names: Sequence[str], max_children: int, settings: Settings) -> None:
    stamp = MUTANTS / ".tools-mutate-fingerprint"
    if MUTANTS.exists() and (not stamp.exists() or stamp.read_text() != settings.fingerprint):
        print("mutmut settings changed since the last run: starting from a fresh mutants/ tree", flush=True)
        shutil.rmtree(MUTANTS)
    MUTANTS.mkdir(exist_ok=True)
    stamp.write_text(settings.fingerprint)
    mutmut = Path(sys.executable).with_name("mutmut")
    command = [str(mutmut if mutmut.exists() else "mutmut"), "run", "--max-children", str(max_children), *names]
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise MutateError(f"mutmut run exited {result.returncode} (its output is above)")


BENCHMARKS = Path("docs/benchmarks.md")
SECTION = "## Mutation score"
_ROW = re.compile(r"^\| `(?P<module>[^`]+)` \|")


def record(report: Report, command: str, when: str, path: Path = BENCHMARKS, skip: Collection[str] = ()) -> None:
    """Put each module's score in docs/benchmarks.md's mutation section, with the command and
    date that measured it; modules this run did not measure (or ``skip``: measured in part)
    keep their earlier row."""
    text = path.read_text() if path.exists() else ""
    start = text.find(SECTION)
    end = text.find("\n## ", start + 1) if start >= 0 else -1
    old = text[start : end if end >= 0 else len(text)] if start >= 0 else ""
    rows = {m.group("module"): line for line in old.splitlines() if (m := _ROW.match(line))}
    for module, t in report.tallies.items():
        if t.counts["not checked"] or module in skip:
            continue  # a partial run measures nothing: the module keeps its earlier row
        cells = [f"`{module}`", t.killed, t.survived, t.counts["equivalent"], f"{t.score:.1f} %", when, f"`{command}`"]
        rows[module] = "| " + " | ".join(map(str, cells)) + " |"
    section = "\n".join(
        [
            SECTION,
            "",
            "mutmut against the fast tests (`tests/unit`, `tests/config`, `tests/lambda`), scored by",
            "`tools/mutate.py`: killed / (killed + survived), timeouts killed, listed equivalents",
            f"left out; threshold {report.threshold:g} % per module. Each row is the run that measured it",
            "(`--report-only` scores what earlier runs left: mutmut keeps a mutant's result until its",
            "function or the tests change). A listed module without a row is not measured completely yet.",
            "",
            "| module | killed | survived | equivalent | score | measured | command |",
            "|---|---:|---:|---:|---:|---|---|",
            *(rows[m] for m in sorted(rows)),
            "",
        ]
    )
    if start >= 0:
        text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    path.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--changed-since", metavar="REF", help="score only mutants on lines changed since REF")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2, help="parallel mutants")
    parser.add_argument("--report-only", action="store_true", help="read the last run's results, run nothing")
    parser.add_argument("--record", action="store_true", help=f"write the scores into {BENCHMARKS}'s mutation section")
    parser.add_argument(
        "--retest-survivors",
        action="store_true",
        help="run again only the mutants that survived the last run (after adding tests; mutmut keeps other results)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="run only the mutants the last run left unchecked (an interrupted run's rest; "
        "after a listed function changed, run its module again instead)",
    )
    parser.add_argument(
        "--module",
        action="append",
        default=[],
        metavar="GLOB",
        help="only the listed modules whose path matches (repeatable; the nightly job runs one shard per set)",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        listed = [p for p in _tracked_python() if module_of(p, settings.modules)]
        sources = list(listed)
        if args.module:
            sources = [p for p in sources if any(fnmatch.fnmatch(p, g) for g in args.module)]
            if not sources:
                raise MutateError(
                    f"--module {' '.join(args.module)} matches no listed module: see [tool.mutmut] only_mutate"
                )
        keep: dict[str, set[int]] | None = None
        names: list[str] = [f"{_dotted(p)}.x*" for p in sources] if args.module else []
        if args.changed_since:
            keep = changed_lines(args.changed_since, sources)
            names = [
                mangled_glob(_dotted(path), qualified)
                for path, lines in sorted(keep.items())
                for qualified in functions_on_lines(path, lines)
            ]
            if not names:
                print(f"No function of a listed module changed since {args.changed_since}: nothing to mutate.")
                return 0
        if args.retest_survivors or args.resume:
            statuses = (RETESTED if args.retest_survivors else ()) + (RESUMED if args.resume else ())
            names = with_status(read_outcomes(), sources, names, statuses)
            if not names:
                print("No mutant to run: the last run (mutants/) left none surviving or unchecked, as asked.")
                return 0
        if not args.report_only:
            run_mutmut(names, args.max_children, settings)
        outcomes = read_outcomes()
        if names:
            outcomes = [o for o in outcomes if o.path in sources and any(fnmatch.fnmatch(o.name, n) for n in names)]
        mode = f"lines changed since {args.changed_since}" if args.changed_since else "every listed module"
        if args.module:
            mode += f" matching {' '.join(args.module)}"
        report = assess(outcomes, settings, mode=mode, keep=keep, complete=not args.module)
    except MutateError as exc:
        print(f"tools.mutate: {exc}", file=sys.stderr)
        return 2
    text = report.markdown()
    print(text)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "report.md").write_text(text)
    (REPORT_DIR / "report.json").write_text(json.dumps(report.as_json(), indent=2) + "\n")
    if args.record and not args.changed_since:
        shown = " ".join(
            ["python -m tools.mutate", *(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))]
        )
        # A glob that picks some files of a listed package measures only part of it: no row.
        partial = {module_of(p, settings.modules) for p in listed if p not in sources} & {
            module_of(p, settings.modules) for p in sources
        }
        for module in sorted(m for m in partial if m):
            print(f"not recorded: {module} (only some of its files were measured)")
        record(report, shown, datetime.now(UTC).strftime("%Y-%m-%d"), skip={m for m in partial if m})
    if summary := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(summary, "a") as f:
            f.write(text)
    if report.problems:
        print(f"tools.mutate: {len(report.problems)} problem(s) listed above", file=sys.stderr)
        return 2
    if report.failing:
        print(
            f"tools.mutate: below {settings.threshold:g} %: {', '.join(report.failing)}; kill the surviving mutants "
            "above with a test of behaviour, or list a true equivalent in [tool.mutmut] equivalent",
            file=sys.stderr,
        )
        return 1
    return 0


def _tracked_python() -> list[str]:
    out = subprocess.run(["git", "ls-files", "*.py"], capture_output=True, text=True, check=True)
    return out.stdout.split()


def _dotted(path: str) -> str:
    return path[: -len(".py")].replace("/", ".").removesuffix(".__init__")


if __name__ == "__main__":
    sys.exit(main())

"""tools/mutate.py: the per-module mutation score, its equivalents list, and the
pull-request mode that fails on a surviving mutant in a changed line.

The end-to-end tests run real mutmut (a real git history, a real pytest run per
mutant) on a small project laid out like this one, so they take seconds; the
whole platform's run is `make mutate` (minutes to hours, nightly).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from local_aws.server import MEASUREMENT_VARIABLES
from tests.helpers import ROOT
from tools import mutate
from tools.mutate import Equivalent, Outcome, Settings, Tally

GUARD = '''\
"""Which ports a security group may open to the internet."""

ALLOWED = (80, 443)


def may_open(port: int, cidr: str) -> bool:
    if cidr != "0.0.0.0/0":
        return True
    return port in ALLOWED
'''

GUARD_TEST = """\
from pkg.guard import may_open


def test_only_web_ports_face_the_internet() -> None:
    assert may_open(443, "0.0.0.0/0")
    assert may_open(80, "0.0.0.0/0")
    assert not may_open(22, "0.0.0.0/0")
    assert may_open(22, "10.0.0.0/8")
"""

PYPROJECT = """\
[tool.mutmut]
source_paths = ["pkg"]
only_mutate = ["pkg/guard.py"]
pytest_add_cli_args = ["-p", "no:cacheprovider"]
pytest_add_cli_args_test_selection = ["tests"]
score_threshold = 90
"""


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git repository with one listed module, its test, and a base commit."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "guard.py").write_text(GUARD)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_guard.py").write_text(GUARD_TEST)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "branch", "base")
    return tmp_path


def run_pr_job(project: Path) -> subprocess.CompletedProcess[str]:
    """What the pull-request job runs (make mutate MUTATE_SINCE=...), in the project."""
    # As CI's job runs it: no step summary, and untraced by this run's coverage (the variables
    # pytest-cov hands every Python process; nothing the job runs is code coverage measures).
    env = {k: v for k, v in os.environ.items() if k not in MEASUREMENT_VARIABLES} | {"PYTHONPATH": str(ROOT)}
    env.pop("GITHUB_STEP_SUMMARY", None)
    command = [sys.executable, "-m", "tools.mutate", "--changed-since", "base", "--max-children", "1"]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=600)


def change(project: Path, old: str, new: str) -> None:
    path = project / "pkg" / "guard.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    git(project, "commit", "-q", "-am", "change")


def test_the_pr_job_fails_on_a_surviving_mutant_in_a_changed_line(project: Path) -> None:
    # A new rule the tests never look at: any mutant of it survives.
    change(
        project,
        "    return port in ALLOWED\n",
        '    if port == 8443 and cidr.endswith("/0"):\n        return False\n    return port in ALLOWED\n',
    )
    proc = run_pr_job(project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((project / "build" / "mutation" / "report.json").read_text())
    assert report["modules"]["changed lines"]["survived"] >= 1
    # Only the changed lines are judged, and each survivor names its line.
    assert {s["line"] for s in report["survivors"]} <= {9, 10}
    assert "below 90 %" in proc.stderr


def test_the_pr_job_passes_when_the_tests_kill_every_mutant_of_the_changed_lines(project: Path) -> None:
    change(project, "ALLOWED = (80, 443)", "ALLOWED = (80, 443)  # web only")
    change(project, 'if cidr != "0.0.0.0/0":', 'if not cidr.endswith("/0"):')
    proc = run_pr_job(project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((project / "build" / "mutation" / "report.json").read_text())
    assert report["survivors"] == []
    assert report["modules"]["changed lines"]["killed"] >= 1


def test_a_pull_request_that_changes_no_listed_function_mutates_nothing(project: Path) -> None:
    (project / "README.md").write_text("docs\n")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "docs")
    proc = run_pr_job(project)
    assert proc.returncode == 0
    assert "nothing to mutate" in proc.stdout
    assert not (project / "mutants").exists()


# --- the score and the equivalents list ---------------------------------------------------


def settings(**equivalents: Equivalent) -> Settings:
    return Settings(["tools/a.py", "tools/b.py"], 90.0, dict(equivalents), "x")


def outcomes(path: str, codes: Sequence[int | None]) -> list[Outcome]:
    return [Outcome(f"tools.{path[6:-3]}.x_f__mutmut_{i}", path, code) for i, code in enumerate(codes, 1)]


@pytest.fixture(autouse=False)
def no_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tally tests judge exit codes; the mutated line is read from mutmut's tree elsewhere."""
    monkeypatch.setattr(mutate, "mutant_change", lambda name, path: (int(name.rsplit("_", 1)[1]), f"line {name}"))


@pytest.mark.usefixtures("no_diff")
def test_timeouts_and_crashes_are_kills_and_untested_mutants_are_survivors() -> None:
    # 1 killed, 36 timeout, -9 crashed test run, 0 survived, 33 no test reaches it.
    report = mutate.assess(outcomes("tools/a.py", [1, 36, -9, 0, 33]), settings(), mode="m")
    tally = report.tallies["tools/a.py"]
    assert (tally.killed, tally.survived) == (3, 2)
    assert tally.score == pytest.approx(60.0)
    assert report.failing == ["tools/a.py"]
    assert [o.name for o in report.survivors] == ["tools.a.x_f__mutmut_4", "tools.a.x_f__mutmut_5"]


@pytest.mark.usefixtures("no_diff")
def test_each_module_must_reach_the_threshold_on_its_own() -> None:
    # 10 killed of 10 in a, 8 of 9 in b: together 94 %, b alone 88.9 %.
    found = outcomes("tools/a.py", [1] * 10) + outcomes("tools/b.py", [1] * 8 + [0])
    report = mutate.assess(found, settings(), mode="m")
    assert report.failing == ["tools/b.py"]
    assert report.tallies["tools/b.py"].score == pytest.approx(800 / 9)


@pytest.mark.usefixtures("no_diff")
def test_a_listed_equivalent_is_left_out_of_the_score() -> None:
    name = "tools.a.x_f__mutmut_2"
    eq = Equivalent(name, f"line {name}", "same behaviour")
    report = mutate.assess(outcomes("tools/a.py", [1, 0]), settings(**{name: eq}), mode="m")
    assert report.tallies["tools/a.py"].score == 100.0
    assert report.tallies["tools/a.py"].counts["equivalent"] == 1
    assert report.problems == []


@pytest.mark.usefixtures("no_diff")
def test_an_equivalent_entry_that_no_longer_matches_its_mutant_is_a_problem() -> None:
    name = "tools.a.x_f__mutmut_2"
    stale = Equivalent(name, "some other change", "was equivalent once")
    report = mutate.assess(outcomes("tools/a.py", [1, 0]), settings(**{name: stale}), mode="m")
    (problem,) = report.problems
    assert name in problem
    assert "review the entry" in problem
    # ... and its mutant is counted as what it is: a survivor.
    assert report.tallies["tools/a.py"].survived == 1


@pytest.mark.usefixtures("no_diff")
def test_an_equivalent_the_tests_kill_or_that_names_nothing_is_a_problem() -> None:
    killed = "tools.a.x_f__mutmut_1"
    gone = "tools.a.x_gone__mutmut_1"
    eqs = {killed: Equivalent(killed, f"line {killed}", "r"), gone: Equivalent(gone, "x", "r")}
    report = mutate.assess(outcomes("tools/a.py", [1]), settings(**eqs), mode="m")
    assert any("is killed by the tests" in p for p in report.problems)
    assert any(gone in p and "names no mutant" in p for p in report.problems)


@pytest.mark.usefixtures("no_diff")
def test_only_mutants_on_changed_lines_count_in_the_pull_request_mode() -> None:
    # mutants 1..4 sit on lines 1..4 (no_diff); lines 3 and 4 changed.
    report = mutate.assess(outcomes("tools/a.py", [0, 0, 1, 0]), settings(), mode="m", keep={"tools/a.py": {3, 4}})
    assert set(report.tallies) == {"changed lines"}
    assert (report.tallies["changed lines"].killed, report.tallies["changed lines"].survived) == (1, 1)


def test_an_interrupted_run_is_reported_not_scored(no_diff: None) -> None:
    report = mutate.assess(outcomes("tools/a.py", [None, None, 1]), settings(), mode="m")
    assert report.problems == ["tools/a.py: 2 mutant(s) not checked (an interrupted run); run again"]


def test_a_module_without_judged_mutants_scores_full() -> None:
    assert Tally(Counter()).score == 100.0


# --- settings, names and lines -------------------------------------------------------------


def test_the_repository_settings_list_every_module_the_issue_names() -> None:
    listed = mutate.load_settings(ROOT / "pyproject.toml").modules
    for module in (
        "constructs_lib/policies.py",
        "constructs_lib/encryption.py",
        "constructs_lib/settings.py",
        "constructs_lib/registry.py",
        "constructs_lib/service.py",
        "constructs_lib/network.py",
        "constructs_lib/observability/alarms.py",
        "lambda_src/deploy_orchestrator/handler.py",
        "tools/destroy_guard.py",
        "tools/state_lock.py",
        "tools/aws_target.py",
        "tools/reachability.py",
        "tools/plan_summary.py",
    ):
        assert mutate.module_of(module, listed), module


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('{ mutant = "m", mutation = "x" }', "missing: reason"),
        ('{ mutant = "m", mutation = "x", reason = "  " }', "non-empty reason"),
        (
            '{ mutant = "m", mutation = "x", reason = "r" }, { mutant = "m", mutation = "y", reason = "s" }',
            r"equivalent\[1\]: m is listed twice",
        ),
    ],
)
def test_an_equivalent_without_a_reason_or_listed_twice_is_refused(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[tool.mutmut]\nonly_mutate = ["a.py"]\nequivalent = [{entry}]\n')
    with pytest.raises(mutate.MutateError, match=message):
        mutate.load_settings(path)


def test_a_threshold_outside_a_percentage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.mutmut]\nonly_mutate = ["a.py"]\nscore_threshold = 900\n')
    with pytest.raises(mutate.MutateError, match="score_threshold = 900"):
        mutate.load_settings(path)


@pytest.mark.parametrize(
    ("name", "module", "qualified"),
    [
        ("tools.state_lock.x_lock_error__mutmut_8", "tools.state_lock", ["lock_error"]),
        ("tools.state_lock.xǁLockInfoǁdescribe__mutmut_3", "tools.state_lock", ["LockInfo", "describe"]),
    ],
)
def test_mutmut_names_map_to_functions_and_back(name: str, module: str, qualified: list[str]) -> None:
    assert mutate.function_of(name) == (module, qualified)
    assert mutate.mangled_glob(module, qualified) == name.rsplit("_", 1)[0] + "_*"


def test_changed_lines_and_the_functions_that_hold_them(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    change(project, "    return port in ALLOWED\n", "    return port in ALLOWED or port == 8080\n")
    monkeypatch.chdir(project)
    lines = mutate.changed_lines("base", ["pkg/guard.py"])
    assert lines == {"pkg/guard.py": {9}}
    assert mutate.functions_on_lines("pkg/guard.py", {9}) == [["may_open"]]
    assert mutate.functions_on_lines("pkg/guard.py", {3}) == []  # module level: mutmut mutates functions only
    with pytest.raises(mutate.MutateError, match="fetch the base branch"):
        mutate.changed_lines("no-such-ref", ["pkg/guard.py"])


def test_the_report_names_each_survivor_with_the_command_to_see_it(no_diff: None) -> None:
    report = mutate.assess(outcomes("tools/a.py", [0]), settings(), mode="every listed module")
    text = report.markdown()
    assert "| `tools/a.py` | 0 | 1 | 0 | 0 | 0.0 % ❌ |" in text
    unchecked = mutate.assess(outcomes("tools/b.py", [None]), settings(), mode="m").markdown()
    assert "| `tools/b.py` | 0 | 0 | 0 | 1 | — |" in unchecked
    assert "`mutmut show tools.a.x_f__mutmut_1`" in text
    assert json.loads(json.dumps(report.as_json()))["survivors"][0]["line"] == 1


def test_dotted_names_of_modules_and_packages() -> None:
    assert mutate._dotted("tools/state_lock.py") == "tools.state_lock"
    assert mutate._dotted("constructs_lib/observability/__init__.py") == "constructs_lib.observability"


def test_the_guard_module_text_is_what_the_line_numbers_above_assume() -> None:
    assert textwrap.dedent(GUARD).splitlines()[8] == "    return port in ALLOWED"


def test_a_shard_scores_only_the_modules_it_names(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "pkg" / "other.py").write_text("def f() -> int:\n    return 1\n")
    (project / "pyproject.toml").write_text(PYPROJECT.replace('["pkg/guard.py"]', '["pkg/guard.py", "pkg/other.py"]'))
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "other")
    # Results of an earlier run, as mutmut leaves them: every mutant killed.
    for module, names in {
        "guard": ["x_may_open__mutmut_1", "x_may_open__mutmut_2"],
        "other": ["x_f__mutmut_1"],
    }.items():
        meta = project / "mutants" / "pkg" / f"{module}.py.meta"
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps({"exit_code_by_key": {f"pkg.{module}.{n}": 1 for n in names}}))
    monkeypatch.chdir(project)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert mutate.main(["--report-only", "--module", "pkg/other.py"]) == 0
    report = json.loads((project / "build" / "mutation" / "report.json").read_text())
    assert report["modules"] == {"pkg/other.py": {"killed": 1, "survived": 0, "equivalent": 0, "score": 100.0}}
    assert mutate.main(["--report-only"]) == 0
    report = json.loads((project / "build" / "mutation" / "report.json").read_text())
    assert set(report["modules"]) == {"pkg/guard.py", "pkg/other.py"}


def test_a_shard_that_names_no_listed_module_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    assert mutate.main(["--report-only", "--module", "pkg/nothing*.py"]) == 2
    assert "matches no listed module" in capsys.readouterr().err


def test_recorded_scores_replace_their_modules_rows_and_keep_the_rest(tmp_path: Path) -> None:
    bench = tmp_path / "benchmarks.md"
    bench.write_text("# Benchmarks\n\n## Local deploy\n\n- 119 s\n")
    first = mutate.Report("m", 90.0, {"tools/a.py": Tally(Counter(killed=9, survived=1))}, [], [])
    mutate.record(first, "python -m tools.mutate --module 'tools/a.py'", "2026-12-01", bench)
    second = mutate.Report("m", 90.0, {"tools/b.py": Tally(Counter(killed=3, survived=1, equivalent=2))}, [], [])
    mutate.record(second, "python -m tools.mutate --module 'tools/b.py'", "2026-12-02", bench)
    text = bench.read_text()
    assert text.startswith("# Benchmarks\n\n## Local deploy\n\n- 119 s\n\n## Mutation score\n")
    assert "| `tools/a.py` | 9 | 1 | 0 | 90.0 % | 2026-12-01 | `python -m tools.mutate --module 'tools/a.py'` |" in text
    assert "| `tools/b.py` | 3 | 1 | 2 | 75.0 % | 2026-12-02 | `python -m tools.mutate --module 'tools/b.py'` |" in text
    # Measuring a module again replaces its row, in place; a section after it stays.
    bench.write_text(text + "\n## Later\n\nkept\n")
    third = mutate.Report("m", 90.0, {"tools/a.py": Tally(Counter(killed=10))}, [], [])
    mutate.record(third, "python -m tools.mutate", "2026-12-03", bench)
    text = bench.read_text()
    assert text.count("`tools/a.py`") == 1
    assert "| `tools/a.py` | 10 | 0 | 0 | 100.0 % | 2026-12-03 | `python -m tools.mutate` |" in text
    assert text.endswith(
        "| `tools/b.py` | 3 | 1 | 2 | 75.0 % | 2026-12-02 | `python -m tools.mutate --module 'tools/b.py'` |\n"
        "\n## Later\n\nkept\n"  # the table, a blank line, the next section
    )


def test_a_module_measured_only_in_part_is_not_recorded(tmp_path: Path) -> None:
    bench = tmp_path / "benchmarks.md"
    partial = mutate.Report("m", 90.0, {"tools/a.py": Tally(Counter({"killed": 9, "not checked": 5}))}, [], [])
    mutate.record(partial, "python -m tools.mutate", "2026-12-02", bench)
    assert "tools/a.py" not in bench.read_text()


def test_a_shard_of_some_files_of_a_listed_package_records_no_row_for_it(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # pkg/* is one listed module; a shard of pkg/guard.py alone measures part of it.
    (project / "pkg" / "other.py").write_text("def f() -> int:\n    return 1\n")
    (project / "pyproject.toml").write_text(PYPROJECT.replace('["pkg/guard.py"]', '["pkg/*"]'))
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "package")
    meta = project / "mutants" / "pkg" / "guard.py.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"exit_code_by_key": {"pkg.guard.x_may_open__mutmut_1": 1}}))
    bench = project / "docs" / "benchmarks.md"  # BENCHMARKS, relative to the project
    bench.parent.mkdir(exist_ok=True)
    bench.write_text("# Benchmarks\n")
    monkeypatch.chdir(project)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert mutate.main(["--report-only", "--record", "--module", "pkg/guard.py"]) == 0
    assert "not recorded: pkg/* (only some of its files were measured)" in capsys.readouterr().out
    assert "pkg/" not in bench.read_text()


def test_retesting_survivors_runs_only_mutants_that_ran_and_lived() -> None:
    """--retest-survivors after new tests: what survived (or had no test) runs again; what was
    killed, what an interrupted run never reached (hours of constructs mutants) and what mutmut
    skips do not; other modules and other functions' globs neither."""
    path, other = "constructs_lib/observability/dashboard.py", "constructs_lib/observability/alarms.py"
    outcomes = [
        Outcome("constructs_lib.observability.dashboard.x_widget__mutmut_1", path, 0),  # survived
        Outcome("constructs_lib.observability.dashboard.x_widget__mutmut_2", path, 1),  # killed
        Outcome("constructs_lib.observability.dashboard.x_widget__mutmut_3", path, None),  # not checked
        Outcome("constructs_lib.observability.dashboard.x_widget__mutmut_4", path, 33),  # no tests
        Outcome("constructs_lib.observability.dashboard.x_widget__mutmut_5", path, 34),  # skipped
        Outcome("constructs_lib.observability.dashboard.x_widget__mutmut_6", path, 36),  # timeout: killed
        Outcome("constructs_lib.observability.dashboard.x_dashboard_body__mutmut_1", path, 0),
        Outcome("constructs_lib.observability.alarms.x_alarm_name__mutmut_1", other, 0),
    ]
    assert mutate.with_status(outcomes, [path], []) == [
        "constructs_lib.observability.dashboard.x_widget__mutmut_1",
        "constructs_lib.observability.dashboard.x_widget__mutmut_4",
        "constructs_lib.observability.dashboard.x_dashboard_body__mutmut_1",
    ]
    assert mutate.with_status(outcomes, [path], ["constructs_lib.observability.dashboard.x_widget*"]) == [
        "constructs_lib.observability.dashboard.x_widget__mutmut_1",
        "constructs_lib.observability.dashboard.x_widget__mutmut_4",
    ]


def test_resuming_runs_only_what_an_interrupted_run_never_reached() -> None:
    """--resume: mutmut given names (the --module globs) runs every one again, so a stopped run of
    a constructs module would start over; resuming names only the unchecked, with the survivors too
    when both are asked for."""
    path = "constructs_lib/observability/notices.py"
    outcomes = [
        Outcome("constructs_lib.observability.notices.x_notices__mutmut_1", path, 1),  # killed
        Outcome("constructs_lib.observability.notices.x_notices__mutmut_2", path, 0),  # survived
        Outcome("constructs_lib.observability.notices.x_notices__mutmut_3", path, None),  # not checked
        Outcome("constructs_lib.observability.notices.x_notices__mutmut_4", path, 34),  # skipped
        Outcome(
            "constructs_lib.observability.alarms.x_alarm_name__mutmut_1", "constructs_lib/observability/alarms.py", None
        ),
    ]
    assert mutate.with_status(outcomes, [path], [], mutate.RESUMED) == [
        "constructs_lib.observability.notices.x_notices__mutmut_3"
    ]
    assert mutate.with_status(outcomes, [path], [], mutate.RETESTED + mutate.RESUMED) == [
        "constructs_lib.observability.notices.x_notices__mutmut_2",
        "constructs_lib.observability.notices.x_notices__mutmut_3",
    ]


def test_resuming_a_finished_run_runs_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    meta = project / "mutants" / "pkg" / "guard.py.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"exit_code_by_key": {"pkg.guard.x_may_open__mutmut_1": 1}}))
    ran: list[Sequence[str]] = []
    monkeypatch.setattr(mutate, "run_mutmut", lambda names, *_: ran.append(names))
    monkeypatch.chdir(project)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert mutate.main(["--resume", "--module", "pkg/guard.py"]) == 0
    assert ran == []
    assert "left none surviving or unchecked" in capsys.readouterr().out
    meta.write_text(json.dumps({"exit_code_by_key": {"pkg.guard.x_may_open__mutmut_1": None}}))
    mutate.main(["--resume", "--module", "pkg/guard.py"])  # the unchecked mutant stays unchecked here
    assert ran == [["pkg.guard.x_may_open__mutmut_1"]]


def test_a_mutants_tests_run_cheapest_module_first_each_module_in_its_files_order() -> None:
    # mutmut passes a mutant's tests in set order and stops at the first failure: the conftest
    # hook puts whole modules in the order of their recorded cost, each in its file's order.
    from tests.conftest import cheapest_modules_first

    tests = [
        ("tests/unit/test_slow.py::test_b", 20),
        ("tests/unit/test_cheap.py::test_second", 30),
        ("tests/config/test_props.py::test_validate_what_the_first_drew", 90),
        ("tests/unit/test_cheap.py::test_first", 10),
        ("tests/config/test_props.py::test_draw", 40),
        ("tests/unit/test_slow.py::test_a", 10),
        ("tests/unit/test_unrecorded.py::test_new", 5),
    ]
    recorded = {
        "tests/unit/test_slow.py::test_a": 9.0,
        "tests/unit/test_slow.py::test_b": 0.1,
        "tests/unit/test_cheap.py::test_first": 2.0,
        "tests/unit/test_cheap.py::test_second": 0.01,
        "tests/config/test_props.py::test_draw": 3.0,
        "tests/config/test_props.py::test_validate_what_the_first_drew": 1.0,
    }
    assert [tests[i][0] for i in cheapest_modules_first(tests, recorded)] == [
        "tests/unit/test_unrecorded.py::test_new",
        "tests/unit/test_cheap.py::test_first",
        "tests/unit/test_cheap.py::test_second",
        "tests/config/test_props.py::test_draw",
        "tests/config/test_props.py::test_validate_what_the_first_drew",
        "tests/unit/test_slow.py::test_a",
        "tests/unit/test_slow.py::test_b",
    ]

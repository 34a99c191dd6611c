"""Session fixtures: jsii starts once per process, each configuration synthesizes once."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "16,18,20")
# mutmut (make mutate, tools/mutate.py) first runs the tests with MUTANT_UNDER_TEST=stats to
# learn which tests reach which function; in that mode its trampolines read mutmut's settings
# from the working directory, so a child process a test starts elsewhere (the deploy tool
# under a stand-in terraform, the CLI in a temporary folder) would fail on import. The tests'
# own process keeps recording (mutmut also holds the mode in-process); children run the
# original code. With a mutant active, children inherit it and run the mutant.
if os.environ.get("MUTANT_UNDER_TEST") == "stats":
    del os.environ["MUTANT_UNDER_TEST"]

from constructs_lib import fast_provider  # noqa: E402

# The provider bindings load (and Node starts) at the first import that needs them, not here:
# tests of the tools, the orchestrator and the settings never start Node, which matters where
# each run is a fresh process (make mutate: a process per mutant, tools/mutate.py).
fast_provider.install_on_first_import()

from constructs_lib.settings import Settings  # noqa: E402
from tests.helpers import make_settings  # noqa: E402

Synth = dict[str, dict[str, Any]]

#: Folder -> markers every test in it gets.
FOLDER_MARKERS: dict[str, tuple[str, ...]] = {
    "integration": ("integration", "emulator", "terraform"),
    "emulator": ("emulator",),
    "validate": ("terraform",),
}
#: Module -> xdist group: tests sharing an expensive session resource stay on one
#: worker (`make test` runs five). Each worker that runs integration tests deploys
#: its own platform into its own emulator, so the three integration groups (each in
#: the order it needs, teardown last) run side by side, mostly waiting on the
#: provider's own pacing.
GROUPS: dict[str, str] = {
    "test_account_guard.py": "integration-a",
    "test_day_two.py": "integration-a",
    "test_deployed.py": "integration-a",
    # After day two's plan, drift and apply-plan: the evidence behind CI's roles.
    "test_least_privilege.py": "integration-a",
    # Last in its group (it holds and releases the platform's lock, changing nothing): beside
    # day two, so the three groups take about as long (the interrupted group was the longest).
    "test_reliability.py": "integration-a",
    # The protected deployment's destroy refusals first; the interrupted deploy's re-run then
    # deploys protection off, the operator's step before the teardown (one deploy fewer).
    "test_destroy_refusals.py": "integration-b",
    "test_interrupted_deploys.py": "integration-b",
    "test_teardown.py": "integration-b",
    # The last release deployed and upgraded to this code; the security plan reads it.
    "test_upgrade.py": "integration-c",
    "test_security_plan.py": "integration-c",
    "test_recovery.py": "integration-c",
    # A second environment's access stack beside the upgraded deployment's.
    "test_shared_provider.py": "integration-c",
    # checkov installs its own virtualenv on first use: one worker, so two never race.
    "test_checkov.py": "checkov",
    "test_compliance_doc.py": "checkov",
    # the property test's terraform half validates what its first half drew.
    "test_settings_properties.py": "settings-properties",
}


#: The module that reads its group's deployment as first deployed (protected), before any
#: other changes it, and the module that tears it down.
RUNS_FIRST = "test_destroy_refusals.py"
RUNS_LAST = "test_teardown.py"
#: Groups that take longest start first (collection order is scheduling order).
FIRST = ("integration-a", "integration-b", "integration-c", "checkov", "settings-properties")
#: Then the modules whose tests each run a process for tens of CPU-seconds (a synthesis with the
#: usual import, terraform validate, checkov, mutmut), longest first: started last, one of them
#: ran alone on one core for the last minute of a clean clone's run (a /proc sampler: one core
#: busy from 870 s to 930 s, in `main.py`) while the other idled.
HEAVY = (
    "test_fast_provider.py",
    "test_terraform_validate.py",
    "test_edge_cases.py",
    "test_aws_rules.py",
    "test_mutate.py",
    "test_plan_scanners.py",
)


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].rsplit("/", 1)[-1]


def _group(nodeid: str) -> str | None:
    return GROUPS.get(_module(nodeid))


def _start_rank(nodeid: str) -> int:
    """Scheduling rank: the FIRST groups, then the HEAVY modules, then the rest (stable)."""
    if (group := _group(nodeid)) in FIRST:
        return FIRST.index(group)
    if (module := _module(nodeid)) in HEAVY:
        return len(FIRST) + HEAVY.index(module)
    return len(FIRST) + len(HEAVY)


def _in_group_rank(nodeid: str) -> int:
    module = _module(nodeid)
    return 0 if module == RUNS_FIRST else 2 if module == RUNS_LAST else 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        for name in FOLDER_MARKERS.get(parts[0], ()):
            item.add_marker(getattr(pytest.mark, name))
        if parts[-1] in ("test_checkov.py", "test_compliance_doc.py"):
            item.add_marker(pytest.mark.checkov)
        if parts[0] == "integration" and _group(item.nodeid) is None:
            raise pytest.UsageError(f"{parts[-1]}: give every integration module a group in tests/conftest.py GROUPS")
    # Stable: within a group, tests keep their order, except that the refusals run first and
    # teardown last.
    items.sort(key=lambda item: (_start_rank(item.nodeid), _in_group_rank(item.nodeid)))
    if "__mutmut_" in _mutant_under_test():
        _cheapest_modules_first(items)


def _cheapest_modules_first(items: list[pytest.Item]) -> None:
    """make mutate: a mutant's test modules in the order of what they cost, cheapest first.

    mutmut hands a mutant's tests over as a set (any order) and stops at the first failure
    (``-x``), so a killed mutant costs the tests run before the one that kills it. A constructs
    mutant's tests re-synthesize every configuration they read; run in set order, a mutant the
    dashboard's test kills first went through a random half of 280 tests and their syntheses.
    Cheapest first (the summed durations of mutmut's learning run, its mutmut-stats.json) puts
    the tests reading the one cached synthesis ahead of those that synthesize their own.
    """
    try:
        recorded: dict[str, float] = json.loads((ROOT / "mutmut-stats.json").read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return  # not under mutmut's tree: the order stays
    order = cheapest_modules_first([(item.nodeid, item.location[1] or 0) for item in items], recorded)
    items[:] = [items[i] for i in order]


def cheapest_modules_first(tests: list[tuple[str, int]], recorded: dict[str, float]) -> list[int]:
    """Indices of ``tests`` (node id, line) ordered by their module's summed recorded duration.

    Whole modules move, each in its file's order (mutmut's set order scrambles that too), so a
    test that reads what an earlier test of its module left (the settings property's terraform
    half) still runs after it. A test without a record costs nothing.
    """
    module = [nodeid.split("::", 1)[0] for nodeid, _ in tests]
    cost: dict[str, float] = {}
    for (nodeid, _), name in zip(tests, module, strict=True):
        cost[name] = cost.get(name, 0.0) + recorded.get(nodeid, 0.0)
    return sorted(range(len(tests)), key=lambda i: (cost[module[i]], module[i], tests[i][1]))


#: How much lower a worker's priority goes once it runs anything but an integration
#: group. Those groups are the critical path of `make test` and mostly wait on the
#: provider's pacing, but their deploys need the CPU when they run; the CPU-bound rest
#: (checkov, synths, terraform validate) fills the gaps instead of competing. Only
#: the order in which the kernel hands out CPU changes, never what runs.
BACKGROUND_NICENESS = 10
_backgrounded: list[bool] = []


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A worker only ever gets an integration group first (the largest scopes are
    # scheduled first), so lowering its priority afterwards never slows one down.
    integration = (_group(item.nodeid) or "").startswith("integration-")
    if os.environ.get("PYTEST_XDIST_WORKER") and not _backgrounded and not integration:
        os.nice(BACKGROUND_NICENESS)
        _backgrounded.append(True)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Each group's tests go to one worker, in order; every other test is its own unit.

    (xdist's own ``--dist loadgroup`` rewrites node ids, which pytest 9 no longer
    honours, so it splits groups; scheduling by scope is xdist's supported hook.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid) or nodeid

    return GroupScheduling(config, log)


def _synth(settings: Settings, outdir: Path) -> Synth:
    from cdktf import Testing

    from constructs_lib.app import build_app
    from constructs_lib.stacks.access import access_stack_name
    from constructs_lib.stacks.platform import platform_stack_name
    from constructs_lib.stacks.state_backend import state_backend_stack_name

    # An outdir of the session's: without one, Testing.app() makes a temporary folder per app
    # that nothing removes (thousands per run under make mutate).
    app = Testing.app(outdir=str(outdir))
    build_app(app, [settings])
    out = {}
    names = {"state": state_backend_stack_name(settings), "platform": platform_stack_name(settings)}
    if settings.ci_on:
        names["access"] = access_stack_name(settings)
    for kind, stack_id in names.items():
        out[kind] = json.loads(Testing.synth(app.node.find_child(stack_id)))  # type: ignore[arg-type]
    return out


class _MutmutStats:
    """mutmut's record of the functions the running test reached (make mutate, tools/mutate.py).

    While mutmut learns which tests reach which function, it files each function a test calls
    under that test. A synthesis cached for the session runs the constructs once, inside the
    first test that asks for it; every later test reading the same cached output depends on the
    same constructs, so each gets the functions the synthesis reached filed under it as well
    (without this, a mutant of a construct runs only the first test and survives the rest).
    """

    def __init__(self, state: Any) -> None:
        self.state = state

    def swap(self, reached: set[str]) -> set[str]:
        before: set[str] = self.state._stats
        self.state._stats = reached
        return before

    def add(self, reached: set[str]) -> None:
        self.state._stats |= reached


def _mutant_under_test() -> str:
    """The mutant mutmut activated in this process (make mutate), else ""."""
    trampoline = sys.modules.get("mutmut.mutation.trampoline")
    return str(trampoline.get_mutant_under_test()) if trampoline else ""


def _mutmut_learning() -> _MutmutStats | None:
    if _mutant_under_test() != "stats":
        return None
    from mutmut.state import state

    return _MutmutStats(state())


def _mutant_outside_the_constructs() -> bool:
    """A mutant of the tools or the orchestrator is active (make mutate): it cannot change a
    synthesized stack (nothing in constructs_lib imports them; the orchestrator's source is the
    same file whichever of its mutants runs), so the stacks one such process synthesizes serve
    every other, and most mutants of the tools never start Node. (mutmut's own phases, "stats"
    and the rest, and mutants of constructs_lib synthesize for themselves.)"""
    mutant = _mutant_under_test()
    return mutant.startswith(("tools.", "lambda_src.")) and "__mutmut_" in mutant


#: Per synthesized configuration, the constructs' functions its synthesis reached (make mutate,
#: while mutmut learns which tests reach which function).
_REACHED: dict[str, set[str]] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Credit every test that reads a synthesis with what the syntheses reached (make mutate).

    A session fixture built on ``synth`` (``dev``, ``prod``, ``shipped``, ...) runs once; the tests
    that receive its value later never call ``synth`` themselves, so without this a construct's
    mutant ran only against the first test of each (test_encryption's key rotation check never
    ran against a mutant that dropped the rotation). Every synthesis so far is credited: a test
    runs against a few more mutants than it strictly reads, never against fewer.
    """
    stats = _mutmut_learning()
    if stats is not None and "synth" in getattr(item, "fixturenames", ()):
        for reached in _REACHED.values():
            stats.add(reached)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Settings], Synth]:
    """Synthesize a configuration once per session: {"platform": doc, "state": doc}.

    Once per session across xdist's workers too: each synthesized configuration is also written
    to a folder the workers share (the parent of their own temp folders), and a worker that
    finds it there reads it instead of synthesizing again; every worker would otherwise spend
    seconds of CPU on each shipped environment. The file appears atomically (written aside,
    then renamed), so a reader never sees half of one; two workers that miss at once both
    synthesize, which is only what each did before. The folder belongs to this session only.
    """
    cache: dict[str, Synth] = {}
    # Under xdist each worker's temp folder sits in the session's; alone, the session's is our own.
    session = tmp_path_factory.getbasetemp()
    shared = (session.parent if os.environ.get("PYTEST_XDIST_WORKER") else session) / "synth-cache"
    if _mutant_outside_the_constructs():
        shared = ROOT / ".synth-cache"
    shared.mkdir(exist_ok=True)

    def get(settings: Settings) -> Synth:
        key = settings.model_dump_json()
        stats = _mutmut_learning()
        if key not in cache:
            path = shared / f"{hashlib.sha256(key.encode()).hexdigest()}.json"
            if path.exists():
                cache[key] = json.loads(path.read_text())
            else:
                outer = stats.swap(set()) if stats else set()
                try:
                    cache[key] = _synth(settings, session / "cdktf.out")
                finally:
                    if stats:
                        _REACHED[key] = stats.swap(outer) | set()
                        stats.add(_REACHED[key])
                aside = path.with_name(f".{path.name}.{os.getpid()}")
                aside.write_text(json.dumps(cache[key]))
                aside.replace(path)
        # (a later read of a cached synthesis is credited by pytest_runtest_call)
        return cache[key]

    return get


@pytest.fixture(scope="session", params=["dev", "staging", "prod"])
def shipped(request: pytest.FixtureRequest, synth: Callable[[Settings], Synth]) -> tuple[Settings, Synth]:
    settings = make_settings(request.param)
    return settings, synth(settings)


@pytest.fixture(scope="session")
def dev(synth: Callable[[Settings], Synth]) -> Synth:
    return synth(make_settings("dev"))


@pytest.fixture(scope="session")
def prod(synth: Callable[[Settings], Synth]) -> Synth:
    return synth(make_settings("prod"))

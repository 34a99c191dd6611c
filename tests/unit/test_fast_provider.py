"""The fast provider path produces byte-identical output to the normal import,
and falls back to the normal import whenever it cannot be used.

The equivalence runs the whole app once with the usual import, in a fresh
process (it is the expensive one: about the cost of every cdktf-Python synth),
reached through the real fallback, and compares it with the fast path's output.
The fallback's branches are also checked in-process on a stand-in package.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from constructs_lib import fast_provider
from local_aws.server import MEASUREMENT_VARIABLES
from tests.helpers import ROOT

#: Falls back to the usual import (as on a jsii too old for the fast path), then
#: synthesizes the environment exactly as `main.py` does.
USUAL_IMPORT_APP = textwrap.dedent(
    """\
    import runpy, sys
    sys.path.insert(0, {root!r})
    import constructs_lib.fast_provider as f
    f.MIN_JSII = (99, 0)
    assert f.install() is False
    import cdktf_cdktf_provider_aws as p
    assert not getattr(p, "__fast_provider__", False) and hasattr(p, "wafv2_web_acl"), "the full package is imported"
    sys.argv = ["main.py"]
    try:
        runpy.run_path({main!r}, run_name="__main__")
    except SystemExit as exc:
        sys.exit(exc.code)
    """
)


#: The environment both imports synthesize: prod has every resource type the shipped
#: environments use (NAT, HTTPS on a domain, the lot), so a type the fast path loads wrongly
#: shows there; synthesizing the other two as well tripled the cost (two full synths per
#: environment, one of them with the slow usual import) and covered no other type.
ENVIRONMENT = "prod"


def app_env(outdir: Path, fast: bool) -> dict[str, str]:
    """The app's environment. The usual import's runs untraced by a coverage run: it runs no
    measured line the fast one does not (the fallback's branches are checked here on a stand-in),
    and traced, it imports all ~2,135 binding modules under the tracer (this test: 52 and 51
    CPU-seconds with both runs traced, 42 and 41 with the usual one untraced, alternated on
    2026-12-03). The fast one, as a user runs main.py, stays measured (it covers app.summarize)."""
    env = dict(os.environ) if fast else {k: v for k, v in os.environ.items() if k not in MEASUREMENT_VARIABLES}
    env.update(CDKTF_OUTDIR=str(outdir), FAST_PROVIDER_LOADING="1" if fast else "0")
    env["ENVIRONMENT"] = ENVIRONMENT
    env.pop("CONFIG_FILE", None)
    return env


def test_fast_and_usual_import_synthesize_identical_json(tmp_path: Path) -> None:
    fast = subprocess.run(
        [sys.executable, str(ROOT / "main.py")], env=app_env(tmp_path / "fast", True), capture_output=True, text=True
    )
    assert fast.returncode == 0, fast.stderr
    code = USUAL_IMPORT_APP.format(root=str(ROOT), main=str(ROOT / "main.py"))
    usual = subprocess.run(
        [sys.executable, "-c", code], env=app_env(tmp_path / "usual", False), capture_output=True, text=True
    )
    assert usual.returncode == 0, usual.stderr
    stacks = sorted(p.name for p in (tmp_path / "fast" / "stacks").iterdir())
    assert stacks == sorted(p.name for p in (tmp_path / "usual" / "stacks").iterdir())
    assert stacks == [f"access-{ENVIRONMENT}", f"platform-{ENVIRONMENT}", f"state-backend-{ENVIRONMENT}"]
    for stack in stacks:
        a = (tmp_path / "fast" / "stacks" / stack / "cdk.tf.json").read_bytes()
        b = (tmp_path / "usual" / "stacks" / stack / "cdk.tf.json").read_bytes()
        assert a == b, stack
    assert fast.stdout.count("resources ->") == usual.stdout.count("resources ->") == 3


def test_fast_path_is_active_in_this_process() -> None:
    # conftest deferred it to the first import of the bindings; importing them takes the fast path
    # and a later call reports the same without re-importing.
    importlib.import_module(f"{fast_provider.PACKAGE}.vpc")
    assert fast_provider.install() is True
    assert getattr(sys.modules[fast_provider.PACKAGE], "__fast_provider__", False)


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A package shaped like the bindings: an eager ``__init__`` and a ``_jsii`` submodule."""
    name = "standin_provider_bindings"
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("EAGER = True  # the usual import runs this\n")
    (package / "_jsii.py").write_text(
        "import os\nif os.environ.get('STANDIN_BROKEN'): raise ImportError('no assembly')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def test_fast_path_skips_the_eager_init(standin: str) -> None:
    assert fast_provider.install(standin) is True
    assert not hasattr(sys.modules[standin], "EAGER")
    assert f"{standin}._jsii" in sys.modules


def test_a_jsii_too_old_falls_back_to_the_usual_import(standin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_provider, "MIN_JSII", (99, 0))
    assert fast_provider.install(standin) is False
    assert sys.modules[standin].EAGER is True


def test_an_assembly_that_cannot_load_is_cleaned_up_then_imported_usually(
    standin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_BROKEN", "1")
    assert fast_provider.install(standin) is False
    assert sys.modules[standin].EAGER is True  # the half-registered module was replaced by a real import
    assert not getattr(sys.modules[standin], "__fast_provider__", False)


def test_deferred_install_takes_the_fast_path_at_the_first_import(standin: str) -> None:
    fast_provider.install_on_first_import(standin)
    fast_provider.install_on_first_import(standin)  # idempotent: one finder
    finders = [f for f in sys.meta_path if getattr(f, "package", None) == standin]
    assert len(finders) == 1
    assert standin not in sys.modules  # nothing loaded (no Node) until someone imports it
    module = importlib.import_module(standin)
    assert getattr(module, "__fast_provider__", False)
    assert not hasattr(module, "EAGER")
    assert f"{standin}._jsii" in sys.modules
    assert sys.modules[standin] is module
    assert module.__spec__ is not None
    assert module.__spec__.origin == str(Path(module.__path__[0]) / "__init__.py")  # its own spec, restored
    assert not [f for f in sys.meta_path if getattr(f, "package", None) == standin]  # the finder removed itself
    importlib.import_module(f"{standin}._jsii")  # submodules import through its __path__


def test_deferred_install_of_an_imported_package_changes_nothing(standin: str) -> None:
    importlib.import_module(standin)
    fast_provider.install_on_first_import(standin)
    assert not [f for f in sys.meta_path if getattr(f, "package", None) == standin]
    assert sys.modules[standin].EAGER is True


def test_deferred_install_falls_back_like_install(standin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANDIN_BROKEN", "1")
    fast_provider.install_on_first_import(standin)
    module = importlib.import_module(standin)
    assert module.EAGER is True
    assert module.__spec__ is not None
    assert module.__spec__.origin is not None


def test_the_deferred_finder_ignores_every_other_import(standin: str) -> None:
    fast_provider.install_on_first_import(standin)
    (finder,) = [f for f in sys.meta_path if getattr(f, "package", None) == standin]
    assert finder.find_spec(f"{standin}_other") is None  # type: ignore[call-arg]
    assert finder.find_spec("json") is None  # type: ignore[call-arg]
    assert standin not in sys.modules
    assert finder in sys.meta_path
    sys.meta_path.remove(finder)

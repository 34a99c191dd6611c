"""Load the prebuilt AWS provider bindings without importing all 2,135 submodules.

Why this exists: ``cdktf_cdktf_provider_aws/__init__.py`` ends with
``from . import <every resource>``, so importing *any* resource module first
imports all ~2,135 of them (about 10 s of the ~15 s each synth pays on a
2-core machine; ``python -X importtime -c "import cdktf_cdktf_provider_aws.provider"``
shows it). No maintained library offers a lazy import for a jsii package, so
this is written by hand and kept small.

How: register the package in ``sys.modules`` as an *unexecuted* module with
the right ``__path__``, then import ``._jsii`` (which loads the jsii assembly)
and let Python import each submodule on first use. jsii 1.142 (pinned in the
Pipfile) resolves types from submodules not yet imported on demand, so objects
returned by the runtime still get their Python classes. The test
``tests/unit/test_fast_provider.py`` synthesizes with and without this path and
asserts byte-identical output.

If anything here fails (a new package layout, another jsii), :func:`install`
falls back to the normal import, so the app is slower but never broken.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from importlib.metadata import version
from types import ModuleType

PACKAGE = "cdktf_cdktf_provider_aws"
#: Oldest jsii that resolves types from not-yet-imported submodules.
MIN_JSII = (1, 142)


def _jsii_supported() -> bool:
    parts = version("jsii").split(".")
    return (int(parts[0]), int(parts[1])) >= MIN_JSII


def install(package: str = PACKAGE) -> bool:
    """Make ``<package>.<submodule>`` imports cheap (``package``: the provider bindings).

    Returns True when the fast path is active, False when the normal (full)
    import was used instead. Safe to call more than once.
    """
    existing = sys.modules.get(package)
    if existing is not None:
        return bool(getattr(existing, "__fast_provider__", False))
    try:
        if not _jsii_supported():
            raise ImportError("jsii too old for on-demand submodule resolution")
        spec = importlib.util.find_spec(package)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]  # not executed: no eager imports
        module.__fast_provider__ = True  # type: ignore[attr-defined]
        sys.modules[package] = module
        importlib.import_module(f"{package}._jsii")  # loads the jsii assembly
        return True
    except Exception:
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
        importlib.import_module(package)
        return False


class _OnFirstImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A ``sys.meta_path`` finder that runs :func:`install` when ``package`` is first imported.

    For processes that may never synthesize: installing loads the jsii assembly, which starts
    Node. The test suite's fast tests (tools, the orchestrator, settings) and each process
    mutation testing forks (make mutate) then only start Node when a test needs it.
    """

    def __init__(self, package: str) -> None:
        self.package = package
        self.spec: importlib.machinery.ModuleSpec | None = None

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != self.package:
            return None
        sys.meta_path.remove(self)
        install(self.package)
        # The import system now finds the module install() registered and would load it again
        # from its own spec (running the eager __init__). It gets a spec whose loader is this
        # object instead: create_module hands back that module, exec_module restores its spec.
        module = sys.modules[name]
        self.spec = module.__spec__
        module.__spec__ = importlib.util.spec_from_loader(name, self)
        return module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return sys.modules[spec.name]

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.spec


def install_on_first_import(package: str = PACKAGE) -> None:
    """Like :func:`install`, deferred to the first ``import <package>`` (no-op once imported)."""
    if package in sys.modules or any(isinstance(f, _OnFirstImport) and f.package == package for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _OnFirstImport(package))

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
import importlib.util
import sys
from importlib.metadata import version

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

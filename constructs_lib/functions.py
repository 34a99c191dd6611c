"""What every Lambda function of the platform shares: its runtime and how its code is packaged."""

from __future__ import annotations

from pathlib import Path

from constructs_lib.staging import content_folder

#: Where each function's code lives, one package per function.
LAMBDA_SOURCES = Path(__file__).resolve().parent.parent / "lambda_src"
RUNTIME = "python3.12"


def package_source(source: Path) -> Path:
    """A folder holding only a function's ``.py`` files under ``<package>/`` for the zip (the
    package is the source folder's name), reused while they do not change.

    The asset must not pick up ``__pycache__`` written by tests or editors: it
    would bloat the package and make its hash differ between machines.
    """
    files = {f"{source.name}/{path.name}": path.read_bytes() for path in sorted(source.glob("*.py"))}
    return content_folder(f"{source.name}-src", files)

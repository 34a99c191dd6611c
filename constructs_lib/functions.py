"""What every Lambda function of the platform shares: its runtime and how its code is packaged."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

#: Where each function's code lives, one package per function.
LAMBDA_SOURCES = Path(__file__).resolve().parent.parent / "lambda_src"
RUNTIME = "python3.12"


def package_source(source: Path) -> Path:
    """Copy only a function's ``.py`` files into ``<fresh folder>/<package>/`` for the zip
    (the package is the source folder's name).

    The asset must not pick up ``__pycache__`` written by tests or editors: it
    would bloat the package and make its hash differ between machines.
    """
    staging = Path(tempfile.mkdtemp(prefix=f"{source.name}-src-"))
    (staging / source.name).mkdir()
    for path in sorted(source.glob("*.py")):
        shutil.copy2(path, staging / source.name / path.name)
    return staging

"""Folders of files that become a Lambda or sample-app asset, one per distinct content.

cdktf copies an asset's folder when the stack synthesizes; the folder only has to exist
until then. A fresh temporary folder per synthesis (what ``tempfile.mkdtemp`` gives) is
never removed, so every synthesis leaked one per asset: hundreds per test run, and under
mutation testing (make mutate) a copy of the instrumented source per mutant, gigabytes.
The folder is named by its content instead, so a synthesis of the same sources reuses it.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path


def content_folder(prefix: str, files: Mapping[str, bytes]) -> Path:
    """A folder holding exactly ``files`` (relative path -> bytes), shared by every caller
    (and process) asking for the same content. Made aside and renamed into place, so no one
    ever sees it half written; when another process got there first, its folder is kept."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    folder = Path(tempfile.gettempdir()) / f"{prefix}-{digest.hexdigest()[:20]}"
    if folder.is_dir():
        if _holds_exactly(folder, files):
            return folder
        # Something wrote into it (a Python import leaves __pycache__ beside the sources): the
        # asset would carry that. Stage privately instead, as before this module existed.
        return _write(Path(tempfile.mkdtemp(prefix=f"{prefix}-")), files)
    aside = _write(Path(tempfile.mkdtemp(prefix=f"{prefix}-partial-")), files)
    try:
        aside.rename(folder)
    except OSError:  # the same content was staged meanwhile (rename refuses a non-empty target)
        shutil.rmtree(aside)
    return folder


def _write(folder: Path, files: Mapping[str, bytes]) -> Path:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


def _holds_exactly(folder: Path, files: Mapping[str, bytes]) -> bool:
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    return found == set(files) and all((folder / name).read_bytes() == content for name, content in files.items())

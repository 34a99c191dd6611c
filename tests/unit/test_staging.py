"""constructs_lib/staging.py: asset folders named by their content, never leaked per synthesis."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from constructs_lib import staging
from constructs_lib.first_source import package_sample_app
from constructs_lib.orchestrator import SOURCE_DIR, package_source


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_the_same_content_is_one_folder_however_often_it_is_staged(private_tmp: Path) -> None:
    files = {"pkg/a.py": b"A = 1\n", "pkg/b.py": b"B = 2\n"}
    first = staging.content_folder("fn-src", files)
    assert staging.content_folder("fn-src", dict(reversed(files.items()))) == first
    assert sorted(p.relative_to(first).as_posix() for p in first.rglob("*")) == ["pkg", "pkg/a.py", "pkg/b.py"]
    assert (first / "pkg" / "a.py").read_bytes() == b"A = 1\n"
    assert [p.name for p in private_tmp.iterdir()] == [first.name]  # nothing left beside it


@pytest.mark.parametrize(
    "other",
    [{"pkg/a.py": b"A = 2\n", "pkg/b.py": b"B = 2\n"}, {"pkg/a.py": b"A = 1\n", "pkg/c.py": b"B = 2\n"}],
    ids=["content", "name"],
)
def test_other_content_is_another_folder(other: dict[str, bytes]) -> None:
    files = {"pkg/a.py": b"A = 1\n", "pkg/b.py": b"B = 2\n"}
    assert staging.content_folder("fn-src", files) != staging.content_folder("fn-src", other)


def test_a_folder_another_process_staged_first_is_kept(private_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"a.py": b"A = 1\n"}
    target = staging.content_folder("fn-src", files)
    (target / "marker").write_text("theirs")
    # The other process renamed its folder into place between our check and our rename.
    real_is_dir = Path.is_dir
    monkeypatch.setattr(Path, "is_dir", lambda self: False if self == target else real_is_dir(self))
    assert staging.content_folder("fn-src", files) == target
    monkeypatch.undo()
    assert (target / "marker").read_text() == "theirs"
    assert [p.name for p in private_tmp.iterdir()] == [target.name]  # ours was removed


def test_packages_hold_exactly_their_files() -> None:
    source = package_source(SOURCE_DIR)
    assert sorted(p.name for p in (source / SOURCE_DIR.name).iterdir()) == ["__init__.py", "contract.py", "handler.py"]
    assert package_source(SOURCE_DIR) == source
    sample = package_sample_app(8080)
    assert sorted(p.name for p in sample.iterdir()) == ["Dockerfile", "app.py"]
    assert "EXPOSE 8080" in (sample / "Dockerfile").read_text()
    assert package_sample_app(9090) != sample  # the port is in the Dockerfile


def test_a_shared_folder_something_wrote_into_is_not_handed_out(private_tmp: Path) -> None:
    """Importing a staged package writes __pycache__ into it; an asset must never carry that."""
    files = {"pkg/__init__.py": b"", "pkg/a.py": b"A = 1\n"}
    shared = staging.content_folder("fn-src", files)
    (shared / "pkg" / "__pycache__").mkdir()
    (shared / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\x00")
    fresh = staging.content_folder("fn-src", files)
    assert fresh != shared
    assert sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*")) == ["pkg", "pkg/__init__.py", "pkg/a.py"]
    # A file whose bytes changed under the same name is not reused either.
    (shared / "pkg" / "__pycache__" / "a.cpython-311.pyc").unlink()
    (shared / "pkg" / "__pycache__").rmdir()
    (shared / "pkg" / "a.py").write_bytes(b"A = 2\n")
    assert staging.content_folder("fn-src", files) not in (shared, fresh)

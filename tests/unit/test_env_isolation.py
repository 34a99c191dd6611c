"""Only main.py reads the process environment: library constructs take settings,
so the same settings always synthesize the same JSON (README: Settings)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

FORBIDDEN_CALLS = {("os", "getenv"), ("os", "getenvb"), ("os", "putenv")}
FORBIDDEN_ATTRS = {("os", "environ"), ("os", "environb")}


def env_reads(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in FORBIDDEN_ATTRS | FORBIDDEN_CALLS
        ) or (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in {"environ", "getenv", "environb"} for alias in node.names)
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_detector_finds_each_form() -> None:
    code = "import os\nos.environ['A']\nos.getenv('B')\nfrom os import environ\n"
    assert env_reads(code) == [2, 3, 4]


def test_constructs_lib_never_reads_environment() -> None:
    offenders = {
        str(p.relative_to(ROOT)): env_reads(p.read_text()) for p in sorted((ROOT / "constructs_lib").rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_main_is_the_reader() -> None:
    assert env_reads((ROOT / "main.py").read_text()) != []


def test_lib_files_are_scanned() -> None:
    assert len(list(Path(ROOT / "constructs_lib").rglob("*.py"))) >= 10

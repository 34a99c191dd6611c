"""The shape of constructs_lib, checked on its syntax tree: what review alone lets slip.

- No function over 60 lines (long constructors are split into named steps).
- Each permission set and the ARN format are spelled in exactly one module, so a
  fix (or a partition) reaches every construct at once.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "constructs_lib"
MAX_LINES = 60


def modules() -> list[Path]:
    return sorted(LIB.rglob("*.py"))


def string_parts(tree: ast.AST) -> Iterator[str]:
    """Every literal string, including the literal parts of f-strings."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def test_no_function_in_constructs_lib_is_longer_than_60_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_LINES
    ]
    assert long == []


#: A literal -> the one module allowed to spell it.
SPELLED_ONCE = {
    "arn:": "context.py",  # the ARN helper; the partition comes from a data source
    "logs:PutLogEvents": "logs.py",  # the write-logs statement
    "kms:GenerateDataKey*": "policies.py",  # the KMS use action sets
    "kms:Decrypt": "policies.py",
    "s3:GetObject": "storage.py",  # bucket read/write grants
    "ecr:BatchGetImage": "registry.py",  # pull/push grants
}


@pytest.mark.parametrize("literal", sorted(SPELLED_ONCE))
def test_each_permission_and_the_arn_format_are_spelled_in_one_module(literal: str) -> None:
    found = sorted(
        path.name
        for path in modules()
        if any(
            s.startswith(literal) if literal == "arn:" else s == literal
            for s in string_parts(ast.parse(path.read_text()))
        )
    )
    assert found == [SPELLED_ONCE[literal]]


def test_no_partition_is_hard_coded() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {s!r}"
        for path in modules()
        for s in string_parts(ast.parse(path.read_text()))
        if s.startswith(("arn:aws", "aws-us-gov", "aws-cn"))
    ]
    assert offenders == []

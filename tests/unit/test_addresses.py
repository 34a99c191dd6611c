"""Terraform addresses recomputed from construct paths (constructs_lib/addresses.py)."""

from __future__ import annotations

import json
from typing import Any

import cdktf
import pytest
from cdktf import TerraformElement, TerraformStack

from constructs_lib import addresses
from constructs_lib.app import build_app
from constructs_lib.stacks.platform import platform_stack_name
from tests.helpers import make_settings


def test_the_port_gives_every_element_of_a_real_stack_the_id_cdktf_gives_it() -> None:
    """Checked against cdktf itself, element by element, on the whole platform stack."""
    app = cdktf.Testing.app()
    settings = make_settings("dev")
    build_app(app, [settings])
    stack = app.node.find_child(platform_stack_name(settings))
    assert isinstance(stack, TerraformStack)
    compared = 0
    for node in stack.node.find_all():
        if node is stack or not TerraformElement.is_terraform_element(node):
            continue
        element: Any = node
        below_stack = node.node.path.split("/")[1:]
        assert addresses.logical_id(below_stack) == element.friendly_unique_id, node.node.path
        compared += 1
    assert compared > 150


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (["only"], "only"),  # a top-level element keeps its name
        (["we!rd"], "werd"),  # characters terraform refuses are dropped
        (["Default", "solo"], "solo"),  # "Default" is hidden completely
        (["bucket", "bucket", "this"], "bucket_this_"),  # a repeated term shows once (the hash keeps both)
        (["bucket", "Resource"], "bucket_"),  # "Resource" is hidden from the human part only
    ],
)
def test_cdktf_naming_rules(path: list[str], expected: str) -> None:
    assert addresses.logical_id(path).startswith(expected)
    if len([p for p in path if p != "Default"]) > 1:
        assert len(addresses.logical_id(path)) == len(expected) + 8


def test_an_empty_path_has_no_id() -> None:
    with pytest.raises(ValueError, match="at least one path component"):
        addresses.logical_id(["Default"])


def test_forget_writes_removed_blocks_and_nothing_when_there_is_nothing_to_forget() -> None:
    app = cdktf.Testing.app()
    empty, full = TerraformStack(app, "empty"), TerraformStack(app, "full")
    addresses.forget(empty, [])
    addresses.forget(full, ["aws_s3_bucket.a_this_12345678"])
    assert json.loads(cdktf.Testing.synth(full))["removed"] == [
        {"from": "aws_s3_bucket.a_this_12345678", "lifecycle": {"destroy": False}}
    ]
    assert "removed" not in json.loads(cdktf.Testing.synth(empty))

"""The deploy tool reads a stack's state once (``terraform state pull``, which starts no provider)
where it ran ``terraform output -json`` and ``terraform state list`` (the deploy summary: two more
terraform runs per stack on every deploy) or ``terraform show -json`` (destroy's guard: the
provider started for its schema). Oracle: those commands, run by real terraform on a real state
that has what the stacks' states have (count and for_each instances, a data source, sensitive and
nested outputs). Only terraform's built-in provider: no download, no AWS provider start."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tools.deploy import managed_instances, state_as_shown, state_outputs
from tools.terraform import terraform_env

CONFIG = {
    "data": {
        "terraform_remote_state": {
            "other": {"backend": "local", "config": {"path": "other.tfstate"}, "defaults": {"x": 1}},
        }
    },
    "resource": {
        "terraform_data": {
            "one": {"input": "a"},
            "counted": {"count": 2, "input": "${count.index}"},
            "each": {"for_each": {"k1": 1, "k2": 2, "k3": 3}, "input": "${each.value}"},
            "none": {"count": 0, "input": "never"},
        }
    },
    "output": {
        "plain": {"value": "${terraform_data.one.output}"},
        "secret": {"value": "s3cr3t", "sensitive": True},
        "nested": {"value": {"list": [1, 2], "map": {"a": "b"}}},
        "from_data": {"value": "${data.terraform_remote_state.other.outputs.x}"},
    },
}


def terraform(folder: Path, *args: str) -> str:
    proc = subprocess.run(
        ["terraform", *args], cwd=folder, env=terraform_env(), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def managed_listed(folder: Path) -> list[str]:
    """``terraform state list`` without its data sources: the resource instances it lists."""
    return [line for line in terraform(folder, "state", "list").splitlines() if line and not line.startswith("data.")]


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("state")
    (folder / "main.tf.json").write_text(json.dumps(CONFIG))
    empty = {"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "x", "outputs": {}, "resources": []}
    (folder / "other.tfstate").write_text(json.dumps(empty))
    terraform(folder, "init", "-input=false", "-no-color")
    terraform(folder, "apply", "-auto-approve", "-input=false", "-no-color")
    return folder


def test_the_pulled_state_gives_what_output_and_state_list_give(applied: Path) -> None:
    state = json.loads(terraform(applied, "state", "pull"))
    outputs = {name: item["value"] for name, item in json.loads(terraform(applied, "output", "-json")).items()}
    listed = [line for line in terraform(applied, "state", "list").splitlines() if line]

    assert state_outputs(state) == outputs
    assert outputs["secret"] == "s3cr3t"  # sensitive values are in both, as the outputs file needs them
    assert managed_instances(state) == len(managed_listed(applied)) == 6
    assert any(a.startswith("data.") for a in listed)  # the data source is in the state, not counted


def test_the_pulled_state_gives_the_resources_show_gives(applied: Path) -> None:
    """Destroy's guard reads addresses, types and attribute values (tools/destroy_guard.py).

    Values are compared on the attributes of a concrete type: the state keeps a dynamically typed
    one (terraform_data's input and output) with its type beside it, where show gives the value
    alone. Nothing the guard reads is dynamic (booleans and names of aws_lb, aws_dynamodb_table,
    aws_s3_bucket, aws_ecr_repository); on those, the integration group's destroy refusals name
    exactly the deployed protections, read this way (tests/integration/test_destroy_refusals.py)."""
    shown = json.loads(terraform(applied, "show", "-json", "-no-color"))["values"]["root_module"]["resources"]
    converted = state_as_shown(json.loads(terraform(applied, "state", "pull")))["values"]["root_module"]["resources"]
    dynamic = {"input", "output", "triggers_replace"}  # terraform_data's schema: the rest is `id`, a string

    def by_address(resources: list[dict[str, Any]]) -> dict[str, tuple[str, str, dict[str, Any]]]:
        return {
            r["address"]: (r["type"], r["name"], {k: v for k, v in r["values"].items() if k not in dynamic})
            for r in resources
            if r["mode"] == "managed"
        }

    assert by_address(converted) == by_address(shown)
    assert all(values["id"] for _, _, values in by_address(shown).values())
    assert len(converted) == 6  # managed instances only: the data source is not destroy's
    assert {'terraform_data.each["k2"]', "terraform_data.counted[1]", "terraform_data.one"} <= set(by_address(shown))


def test_a_deposed_object_is_not_an_instance_state_list_lists(applied: Path, tmp_path: Path) -> None:
    """What a failed create_before_destroy leaves: the old object deposed beside the new one."""
    folder = Path(shutil.copytree(applied, tmp_path / "copy"))  # the module's state stays as applied
    state = json.loads(terraform(folder, "state", "pull"))
    (one,) = [r for r in state["resources"] if r["mode"] == "managed" and r["name"] == "one"]
    one["instances"].append({**one["instances"][0], "deposed": "00000001"})
    state["serial"] += 1
    pushed = tmp_path / "deposed.tfstate"
    pushed.write_text(json.dumps(state))
    terraform(folder, "state", "push", str(pushed))
    assert managed_instances(json.loads(terraform(folder, "state", "pull"))) == len(managed_listed(folder)) == 6


def test_no_state_yet_has_no_outputs_and_no_resources(tmp_path: Path) -> None:
    """A stack never applied: ``state pull`` prints nothing and ``show -json`` no values."""
    (tmp_path / "main.tf.json").write_text(json.dumps({"resource": {"terraform_data": {"one": {"input": "a"}}}}))
    terraform(tmp_path, "init", "-input=false", "-no-color")
    assert terraform(tmp_path, "state", "pull").strip() == ""
    assert "values" not in json.loads(terraform(tmp_path, "show", "-json", "-no-color"))
    assert state_outputs({}) == {}
    assert managed_instances({}) == 0
    assert state_as_shown({}) == {}

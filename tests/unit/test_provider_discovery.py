"""One provider discovery for .ci/run and every verb: TF_PROVIDER_MIRROR wins, then
terraform's implied mirror folders and the known location, then the registry;
with none of them, one short line instead of terraform's registry error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tools import terraform
from tools.terraform import PROVIDER, PROVIDER_VERSION, ProviderUnavailable, find_mirror, implied_mirrors

#: Nothing listens on 443 here: the registry is unreachable at once.
NO_REGISTRY = "127.0.0.1"


def fake_mirror(root: Path) -> Path:
    plugin = (
        root
        / PROVIDER
        / PROVIDER_VERSION
        / terraform._platform_dir()
        / f"terraform-provider-aws_v{PROVIDER_VERSION}_x5"
    )
    plugin.parent.mkdir(parents=True)
    plugin.write_text("")
    return root


def test_the_explicit_mirror_wins(tmp_path: Path) -> None:
    explicit, implied = fake_mirror(tmp_path / "explicit"), fake_mirror(tmp_path / "implied")
    env = {"TF_PROVIDER_MIRROR": str(explicit), "TF_MIRROR_SEARCH_PATH": str(implied)}
    assert find_mirror(env) == explicit.resolve()


def test_an_implied_mirror_folder_is_found(tmp_path: Path) -> None:
    mirror = fake_mirror(tmp_path / "share" / "terraform" / "plugins")
    assert find_mirror({"HOME": str(tmp_path / "home"), "XDG_DATA_DIRS": str(tmp_path / "share")}) == mirror.resolve()


def test_implied_folders_are_terraforms_then_the_known_location(tmp_path: Path) -> None:
    found = implied_mirrors({"HOME": "/home/u"})
    assert found[:4] == [
        Path("/home/u/.terraform.d/plugins"),
        Path("/home/u/.local/share/terraform/plugins"),
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
    ]
    assert found[-1] == Path("/opt/tf-plugins")


def test_an_explicit_mirror_without_the_provider_is_named(tmp_path: Path) -> None:
    with pytest.raises(
        ProviderUnavailable, match=r"TF_PROVIDER_MIRROR=.* holds no registry\.terraform\.io/hashicorp/aws"
    ):
        find_mirror({"TF_PROVIDER_MIRROR": str(tmp_path)})


def test_a_mirror_found_is_written_into_the_cli_config(tmp_path: Path) -> None:
    mirror = fake_mirror(tmp_path / "m")
    env = terraform.terraform_env({"TF_MIRROR_SEARCH_PATH": str(mirror), "HOME": str(tmp_path)})
    rc = Path(env["TF_CLI_CONFIG_FILE"]).read_text()
    assert f'path    = "{mirror.resolve()}"' in rc
    assert 'include = ["registry.terraform.io/hashicorp/aws"]' in rc
    assert "plugin_cache_dir" not in rc  # unpacked: linked as it is, no cache to race on


def test_a_packed_mirror_gets_a_plugin_cache(tmp_path: Path) -> None:
    base = tmp_path / "m" / terraform.PROVIDER
    base.mkdir(parents=True)
    (base / f"terraform-provider-aws_{terraform.PROVIDER_VERSION}_{terraform._platform_dir()}.zip").write_bytes(b"")
    assert f'plugin_cache_dir = "{terraform.BUILD / "plugin-cache"}"' in terraform.cli_config(tmp_path / "m")


def test_no_mirror_and_no_registry_stops_make_deploy_with_one_line(tmp_path: Path) -> None:
    env = dict(os.environ, TF_MIRROR_SEARCH_PATH=str(tmp_path / "empty"), TF_REGISTRY_HOST=NO_REGISTRY)
    env.pop("TF_PROVIDER_MIRROR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "tools.deploy", "deploy", "--environment", "dev", "--target", "local",
         "--work-dir", str(tmp_path / "ws")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: terraform cannot install registry.terraform.io/hashicorp/aws 5.100.0")
    assert "Set TF_PROVIDER_MIRROR" in line
    assert "(README: Offline machines)" in line
    assert "Failed to query available provider packages" not in proc.stdout + proc.stderr
    assert not (tmp_path / "ws" / "emulator").exists(), "stopped before starting anything"


def test_terraform_and_its_provider_collect_garbage_less_often_unless_told_otherwise(tmp_path: Path) -> None:
    # Every terraform command starts the AWS provider, which builds its whole schema at start;
    # GOGC=400 saves about a third of that CPU (tools/terraform.py: GO_GC_TARGET, measured there).
    base = {"TF_MIRROR_SEARCH_PATH": str(fake_mirror(tmp_path / "m")), "HOME": str(tmp_path)}
    assert terraform.terraform_env(base)["GOGC"] == "400"
    assert terraform.terraform_env(dict(base, GOGC="150"))["GOGC"] == "150"


def test_another_mirror_never_rewrites_the_config_a_running_terraform_reads(tmp_path: Path) -> None:
    # Parallel workers (and checkouts) discover different mirrors; a shared build/terraform.rc let
    # a stand-in mirror's empty provider reach another worker's `terraform init` in CI
    # ("fork/exec ... terraform-provider-aws_v5.100.0_x5: permission denied").
    first = terraform.terraform_env({"TF_MIRROR_SEARCH_PATH": str(fake_mirror(tmp_path / "a")), "HOME": str(tmp_path)})
    second = terraform.terraform_env({"TF_MIRROR_SEARCH_PATH": str(fake_mirror(tmp_path / "b")), "HOME": str(tmp_path)})
    assert first["TF_CLI_CONFIG_FILE"] != second["TF_CLI_CONFIG_FILE"]
    assert f'path    = "{(tmp_path / "a").resolve()}"' in Path(first["TF_CLI_CONFIG_FILE"]).read_text()
    again = terraform.terraform_env({"TF_MIRROR_SEARCH_PATH": str(tmp_path / "a"), "HOME": str(tmp_path)})
    assert again["TF_CLI_CONFIG_FILE"] == first["TF_CLI_CONFIG_FILE"], "one mirror, one file, reused"

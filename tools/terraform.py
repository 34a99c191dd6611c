"""Run terraform for this project's stacks: provider discovery, one runner.

Provider discovery (one place, used by ``.ci/run`` through ``make test`` and
by every make verb that runs terraform): ``TF_PROVIDER_MIRROR`` wins;
otherwise terraform's implied local mirror folders and the machine's known
mirror location are searched for hashicorp/aws 5.100.0. A mirror found is
written into ``build/terraform-<hash>.rc`` (a ``filesystem_mirror`` for hashicorp/aws,
plus a plugin cache when the mirror is packed) and ``TF_CLI_CONFIG_FILE`` points at it, for our own
subprocesses only. With no mirror, terraform uses the public registry; with
neither, :class:`ProviderUnavailable` says what to set instead of terraform's
twenty-line registry error.

The runner (:class:`Terraform`) starts terraform in its own process group, so
a Ctrl-C in a terminal reaches only the calling tool, which forwards exactly
one SIGINT (terraform treats a second one as "exit immediately", losing state).

Usage: python -m tools.terraform validate [stack-dir ...]
       python -m tools.terraform mirror          # print the mirror in use, if any
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
PROVIDER = "registry.terraform.io/hashicorp/aws"
#: The version the prebuilt bindings (cdktf-cdktf-provider-aws 20.1.0) are generated for.
PROVIDER_VERSION = "5.100.0"
#: Where this project's machines keep their offline mirror (not a terraform default).
KNOWN_MIRRORS = (Path("/opt/tf-plugins"),)
REGISTRY_HOST = "registry.terraform.io"
#: Go's garbage-collector target for terraform and the provider it starts (go-plugin passes the
#: environment on). Every terraform command starts the AWS provider (a 700 MB binary that builds
#: its whole schema at start) one to four times, and at Go's default (100) much of that start is
#: collection. Measured side by side on one stack (`terraform validate`, CPU seconds, peak RSS):
#: GOGC=100 5.5 s / 316 MB, 200 4.4 s / 346 MB, 400 3.7 s / 443 MB, 800 3.5 s / 672 MB, off
#: 3.0 s / 2.2 GB. 400 takes most of the saving for about 130 MB per provider process. A GOGC
#: set by the caller wins.
GO_GC_TARGET = "400"

_PROGRESS = re.compile(r"^(\S+): (Creation|Modifications|Destruction) complete after (\S+)")


class ProviderUnavailable(RuntimeError):
    """Neither the registry nor a local mirror can supply the AWS provider."""


def _platform_dir() -> str:
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{sys.platform}_{machine}"


def implied_mirrors(env: Mapping[str, str]) -> list[Path]:
    """Terraform's implied local mirror directories, then the known location.
    https://developer.hashicorp.com/terraform/cli/config/config-file#implied-local-mirror-directories
    ``TF_MIRROR_SEARCH_PATH`` (os.pathsep-separated) replaces the whole list.
    """
    if "TF_MIRROR_SEARCH_PATH" in env:
        return [Path(p) for p in env["TF_MIRROR_SEARCH_PATH"].split(os.pathsep) if p]
    home = Path(env.get("HOME", str(Path.home())))
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    data_dirs = (env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")
    return [
        home / ".terraform.d" / "plugins",
        data_home / "terraform" / "plugins",
        *(Path(d) / "terraform" / "plugins" for d in data_dirs if d),
        *KNOWN_MIRRORS,
    ]


def has_provider(root: Path) -> bool:
    """Does ``root`` hold hashicorp/aws at our version (unpacked or packed layout)?"""
    base = root / PROVIDER
    unpacked = base / PROVIDER_VERSION / _platform_dir()
    packed = base / f"terraform-provider-aws_{PROVIDER_VERSION}_{_platform_dir()}.zip"
    return packed.is_file() or (unpacked.is_dir() and any(unpacked.glob("terraform-provider-aws_*")))


def find_mirror(env: Mapping[str, str]) -> Path | None:
    explicit = env.get("TF_PROVIDER_MIRROR")
    if explicit:
        path = Path(explicit).resolve()
        if not has_provider(path):
            raise ProviderUnavailable(
                f"TF_PROVIDER_MIRROR={explicit} holds no {PROVIDER}/{PROVIDER_VERSION}/{_platform_dir()}/ "
                "(it must be the folder that contains registry.terraform.io/)"
            )
        return path
    return next((p.resolve() for p in implied_mirrors(env) if has_provider(p)), None)


@functools.lru_cache(maxsize=4)
def registry_reachable(host: str = REGISTRY_HOST, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def packed(root: Path) -> bool:
    """Is the provider in ``root`` a zip archive (extracted by every ``init``)?"""
    return (root / PROVIDER / f"terraform-provider-aws_{PROVIDER_VERSION}_{_platform_dir()}.zip").is_file()


def cli_config(mirror: Path) -> str:
    # A plugin cache only for a packed mirror: it saves extracting ~700 MB per stack. An
    # unpacked mirror is linked from each stack as it is, and a cache in between would be
    # re-linked by every `init` (remove, then link), a window in which another process's
    # terraform finds "no package for registry.terraform.io/hashicorp/aws cached in
    # .terraform/providers" (seen with parallel test workers; terraform documents the
    # cache as not safe for concurrent use).
    cache = f'plugin_cache_dir = "{BUILD / "plugin-cache"}"\n' if packed(mirror) else ""
    return f"""# Written by tools/terraform.py (provider mirror discovery); do not edit.
provider_installation {{
  filesystem_mirror {{
    path    = "{mirror}"
    include = ["{PROVIDER}"]
  }}
  direct {{
    exclude = ["{PROVIDER}"]
  }}
}}
{cache}"""


def terraform_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for terraform subprocesses, with the provider source settled."""
    env = dict(os.environ if base is None else base)
    env.setdefault("TF_IN_AUTOMATION", "1")
    env.setdefault("CHECKPOINT_DISABLE", "1")
    env.setdefault("GOGC", GO_GC_TARGET)
    mirror = find_mirror(env)
    if mirror is not None:
        (BUILD / "plugin-cache").mkdir(parents=True, exist_ok=True)
        text = cli_config(mirror)
        # One file per configuration, named by its content: processes that found different
        # mirrors (another checkout's TF_PROVIDER_MIRROR, a test's stand-in mirror) never
        # rewrite the file a running terraform reads. With one shared file, a test's empty
        # stand-in provider was linked by a parallel worker's `init` ("fork/exec ...
        # terraform-provider-aws_v5.100.0_x5: permission denied").
        rc = BUILD / f"terraform-{hashlib.sha256(text.encode()).hexdigest()[:12]}.rc"
        if not rc.exists() or rc.read_text() != text:
            tmp = rc.with_name(f".{rc.name}.{os.getpid()}")
            tmp.write_text(text)
            tmp.replace(rc)  # atomic: parallel test workers read a whole file
        env["TF_CLI_CONFIG_FILE"] = str(rc)
        return env
    if env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        del env["TF_CLI_CONFIG_FILE"]  # a missing config only produces warnings
    if not registry_reachable(env.get("TF_REGISTRY_HOST", REGISTRY_HOST)):
        searched = ", ".join(str(p) for p in implied_mirrors(env))
        raise ProviderUnavailable(
            f"terraform cannot install {PROVIDER} {PROVIDER_VERSION}: the registry is unreachable and no provider "
            f"mirror was found (searched {searched}). Set TF_PROVIDER_MIRROR to the folder that holds "
            "registry.terraform.io/ (README: Offline machines)."
        )
    return env


def run(
    args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["terraform", *args], cwd=cwd, env=dict(env or terraform_env()), capture_output=True, text=True
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"terraform {' '.join(args)} failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")
    return proc


class Terraform:
    """terraform in one stack directory: its own process group, one progress line
    per resource, and at most one forwarded SIGINT per run."""

    def __init__(self, stack_dir: Path, env: Mapping[str, str], log: Callable[[str], None] = print) -> None:
        self.dir = stack_dir
        self.env = dict(env)
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self._interrupted = False

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # ``terraform init`` costs seconds (the provider and backend are set up again);
    # it is skipped when nothing it depends on changed since the last one here.
    STAMP = ".terraform/.init-fingerprint"

    def _init_fingerprint(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(self.dir.glob("*.tf.json")):  # the stack and any override file
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        for var in ("AWS_ENDPOINT_URL", "TF_CLI_CONFIG_FILE"):
            digest.update(f"{var}={self.env.get(var, '')}".encode())
        rc = self.env.get("TF_CLI_CONFIG_FILE")
        if rc and Path(rc).exists():
            digest.update(Path(rc).read_bytes())
        return digest.hexdigest()

    def initialized(self) -> bool:
        stamp = self.dir / self.STAMP
        return stamp.exists() and stamp.read_text() == self._init_fingerprint()

    def mark_initialized(self) -> None:
        (self.dir / self.STAMP).write_text(self._init_fingerprint())

    def forget_init(self) -> None:
        (self.dir / self.STAMP).unlink(missing_ok=True)

    def run(self, *args: str, progress: bool = False, check: bool = True) -> tuple[int, str]:
        self._interrupted = False
        self.proc = subprocess.Popen(
            ["terraform", *args],
            cwd=self.dir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            # Its own session and process group: a terminal's Ctrl-C goes to the
            # tool's group only, and the tool decides what terraform receives.
            start_new_session=True,
        )
        lines = []
        done = 0
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            lines.append(line)
            match = _PROGRESS.match(line.strip())
            if progress and match:
                done += 1
                self.log(f"  [{done:3d}] {match.group(2).lower()} {match.group(1)} ({match.group(3)})")
        code = self.proc.wait()
        self.proc = None
        output = "".join(lines)
        if check and code != 0:
            raise RuntimeError(f"terraform {' '.join(args)} failed in {self.dir.name} (exit {code}):\n{output[-4000:]}")
        return code, output

    def interrupt(self) -> bool:
        """Ask terraform to stop gracefully (one SIGINT); True if this call sent it."""
        proc = self.proc
        if proc is None or proc.poll() is not None or self._interrupted:
            return False
        self._interrupted = True
        try:
            proc.send_signal(signal.SIGINT)
        except ProcessLookupError:  # exited between the check and the signal
            return False
        return True


def validate(stack_dir: Path, env: Mapping[str, str] | None = None) -> None:
    env = env or terraform_env()
    run(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, env)
    run(["validate", "-no-color"], stack_dir, env)


#: The root module validate_together writes beside the stacks it validates.
TOGETHER_ROOT = "validate-together.tf.json"


def validate_together(
    stacks: Mapping[str, Mapping[str, Any]], folder: Path, env: Mapping[str, str] | None = None
) -> None:
    """``terraform validate`` of several synthesized stacks in one terraform run: each is written
    to ``folder/<name>/cdk.tf.json`` and called as a module of a root module in ``folder``.

    Every terraform run loads the provider's whole schema (seconds of CPU, mostly the provider
    starting) before it validates anything; one run for all the stacks pays that once. Measured
    side by side on the nine shipped stacks: one run per stack 52 CPU-s, one run for all 18 CPU-s.
    terraform validates a called module as it validates a root module (every resource, data
    source, output and provider block, and ``moved``/``removed`` blocks; ``import`` blocks are
    root-only, and no stack has one). A module's backend block would be ignored with a warning;
    ``validate`` never checks it (``init -backend=false``), so it is left out. An error names the
    stack by its file, ``<name>/cdk.tf.json``.
    """
    for name, doc in stacks.items():
        if "import" in doc:  # root-only in terraform: this stack needs a run of its own
            raise ValueError(f"{name}: a stack with import blocks cannot be validated as a module")
    folder.mkdir(parents=True, exist_ok=True)
    modules: dict[str, dict[str, str]] = {}
    for name, doc in stacks.items():
        (folder / name).mkdir()
        # Without its backend block (ignored in a module, with a warning per stack); indented, so
        # terraform quotes the offending line, not the whole stack.
        block = {key: value for key, value in doc.get("terraform", {}).items() if key != "backend"}
        (folder / name / "cdk.tf.json").write_text(json.dumps({**doc, "terraform": block}, indent=1))
        # An identifier: letters, digits, "_" and "-", not starting with a digit.
        modules["stack_" + re.sub(r"[^A-Za-z0-9_-]", "_", name)] = {"source": f"./{name}"}
    (folder / TOGETHER_ROOT).write_text(json.dumps({"module": modules}))
    validate(folder, env)


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] not in ("validate", "mirror"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        env = terraform_env()
    except ProviderUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if argv[0] == "mirror":
        print(env.get("TF_CLI_CONFIG_FILE", "none: terraform uses the public registry"))
        return 0
    dirs = [Path(d) for d in argv[1:]] or sorted((ROOT / "cdktf.out" / "stacks").iterdir())
    for d in dirs:
        print(f"terraform validate {d.name} ...", flush=True)
        validate(d, env)
        print(f"terraform validate {d.name}: ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

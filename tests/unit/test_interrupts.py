"""terraform receives exactly one SIGINT however the deploy tool is interrupted.

A stand-in ``terraform`` (first on PATH) counts the SIGINTs it receives. The
deploy tool's own signal handling runs in a real child process: a terminal's
Ctrl-C goes to the whole foreground process group (``os.killpg``), possibly
twice; CI cancels with SIGTERM to the tool alone. terraform treats a second
SIGINT as "exit immediately" (state may be lost), so one is the only right count.
The same run against real terraform and the emulator is in
tests/integration/test_day_two.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT

FAKE_TERRAFORM = textwrap.dedent(
    """\
    #!{python}
    # Stand-in terraform: records every SIGINT, stops 1.5 s after the first (as a
    # graceful shutdown would), or finishes after 30 s when never interrupted.
    import os, signal, sys, time
    record = os.environ["FAKE_TF_RECORD"]
    first = None
    def on_int(signum, frame):
        global first
        first = first or time.monotonic()
        with open(record, "a") as f:
            f.write("SIGINT\\n")
    signal.signal(signal.SIGINT, on_int)
    open(record + ".ready", "w").close()
    deadline = time.monotonic() + (30 if sys.argv[1:] == ["apply"] else 0)
    while time.monotonic() < deadline and not (first and time.monotonic() - first > 1.5):
        time.sleep(0.05)
    print("Interrupt received. Gracefully shutting down..." if first else "done")
    sys.exit(1 if first else 0)
    """
)

CHILD = textwrap.dedent(
    """\
    import signal, sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tools.deploy import Deployer, Interrupted
    from tools.terraform import Terraform
    deployer = Deployer("dev", "local")
    signal.signal(signal.SIGINT, deployer.on_signal)
    signal.signal(signal.SIGTERM, deployer.on_signal)
    try:
        deployer.tf(Terraform(Path("."), dict(__import__("os").environ)), "apply")
        deployer.tf(Terraform(Path("."), dict(__import__("os").environ)), "apply")  # never reached
    except Interrupted:
        print("stopped with 130", flush=True)
        sys.exit(130)
    """
)


@pytest.fixture
def fake(tmp_path: Path) -> tuple[dict[str, str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    terraform = bin_dir / "terraform"
    terraform.write_text(FAKE_TERRAFORM.format(python=sys.executable))
    terraform.chmod(0o755)
    record = tmp_path / "signals"
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", FAKE_TF_RECORD=str(record))
    return env, record


def start(env: dict[str, str], record: Path, tmp_path: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(root=str(ROOT))],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not Path(str(record) + ".ready").exists():
        assert time.monotonic() < deadline, "the stand-in terraform never started"
        time.sleep(0.05)
    return child


def received(record: Path) -> int:
    return record.read_text().count("SIGINT") if record.exists() else 0


def test_ctrl_c_to_the_process_group_reaches_terraform_once(fake: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, record = fake
    child = start(env, record, tmp_path)
    os.killpg(child.pid, signal.SIGINT)
    time.sleep(0.3)
    os.killpg(child.pid, signal.SIGINT)  # an impatient second Ctrl-C
    out, err = child.communicate(timeout=30)
    assert child.returncode == 130, out + err
    assert received(record) == 1
    assert "letting terraform finish its current operations" in out
    assert "still waiting for terraform to save its state" in out
    assert "stopped with 130" in out  # the second terraform run never started


def test_sigterm_to_the_tool_alone_reaches_terraform_once(fake: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, record = fake
    child = start(env, record, tmp_path)
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 130, out + err
    assert received(record) == 1


def test_without_an_interrupt_terraform_is_left_alone(fake: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, record = fake
    proc = subprocess.run(
        [sys.executable, "-c", "from tools.terraform import Terraform; from pathlib import Path; import os;"
         "print(Terraform(Path('.'), dict(os.environ)).run('version'))"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "(0, 'done\\n')" in proc.stdout
    assert received(record) == 0

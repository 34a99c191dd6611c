"""Run moto's server with the shims, and manage it as a background process.

    python -m local_aws start   # start (or reuse) on a free loopback port; prints the endpoint
    python -m local_aws status  # endpoint and pid, exit 1 when not running
    python -m local_aws stop    # clean stop
    python -m local_aws serve --port N   # foreground (what ``start`` runs)

State lives in ``build/emulator/`` (pid file, port file, log). moto keeps
everything in memory: stopping the emulator forgets every resource.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = ROOT / "build" / "emulator"
HOST = "127.0.0.1"
#: What a coverage run (pytest-cov, ``coverage run``) sets to measure every Python process it
#: starts. The emulator runs none of the code the tests measure (``[tool.coverage.run] source``:
#: constructs_lib, lambda_src), and traced it spent about 1.6 times the CPU on the same boto3
#: calls (side by side: 9.3-9.6 s against 5.7-5.9 s), a minute of every ``make test``: it runs untraced.
MEASUREMENT_VARIABLES = ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG")


@dataclass(frozen=True)
class Emulator:
    pid: int
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def healthy(port: int, timeout: float = 2.0) -> bool:
    """moto's dashboard page answers 200 once the server is serving.

    (Not ``/moto-api/data.json``: it fails with 500 once some resources exist.)
    """
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/moto-api/", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def alive(pid: int) -> bool:
    """Is process ``pid`` alive? It is, even when it is not ours to signal (PermissionError).

    The one liveness check: the emulator's pid file and the deploy lock's holder both use it.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running(state_dir: Path = STATE_DIR) -> Emulator | None:
    try:
        pid = int((state_dir / "pid").read_text())
        port = int((state_dir / "port").read_text())
    except (FileNotFoundError, ValueError):
        return None
    if alive(pid) and healthy(port):
        return Emulator(pid, port)
    return None


def start(state_dir: Path = STATE_DIR, timeout: float = 60.0, shims: bool = True) -> Emulator:
    """Start the emulator in the background, or return the one already running.

    ``shims=False`` runs moto's server alone (the tests that show each gap a shim covers).
    """
    current = running(state_dir)
    if current is not None:
        return current
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (state_dir / "server.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "local_aws", "serve", "--port", str(port), *([] if shims else ["--no-shims"])],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in MEASUREMENT_VARIABLES},
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # survives the shell that started it, until `stop`
    )
    (state_dir / "pid").write_text(str(proc.pid))
    (state_dir / "port").write_text(str(port))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"emulator exited with {proc.returncode}; see {state_dir / 'server.log'}")
        if healthy(port, timeout=1.0):
            return Emulator(proc.pid, port)
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"emulator did not answer on port {port} within {timeout:.0f}s")


def stop(state_dir: Path = STATE_DIR, timeout: float = 10.0) -> bool:
    """Stop the emulator; True if one was running."""
    try:
        pid = int((state_dir / "pid").read_text())
    except (FileNotFoundError, ValueError):
        return False
    was_running = alive(pid)
    if was_running:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
            with contextlib.suppress(ChildProcessError):  # reap if it is our child
                os.waitpid(pid, os.WNOHANG)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    for name in ("pid", "port"):
        (state_dir / name).unlink(missing_ok=True)
    return was_running


def serve(port: int, shims: bool = True) -> None:
    """Foreground server: moto's WSGI app wrapped by the shims (or moto alone)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from local_aws.shims import (
        ShimMiddleware,
        WsgiApp,
        patch_acm_validation_wait,
        patch_delete_marker_dispose,
        patch_log_target_policy,
        patch_metric_filter_update,
        patch_rule_descriptions,
        patch_s3_replication,
        patch_secure_transport,
    )

    moto: WsgiApp = DomainDispatcherApplication(create_backend_app)
    if shims:
        patch_secure_transport()
        patch_rule_descriptions()
        patch_log_target_policy()
        patch_acm_validation_wait()
        patch_s3_replication()
        patch_metric_filter_update()
        patch_delete_marker_dispose()
    app = ShimMiddleware(moto) if shims else moto
    if call_log := os.environ.get("LOCAL_AWS_CALL_LOG"):  # record every signed call (local_aws/call_log.py)
        from local_aws.call_log import CallRecorder

        app = CallRecorder(app, call_log, background=True)
    server = make_server(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)
    signal.signal(signal.SIGTERM, lambda *_: server.shutdown())
    print(f"local AWS emulator ({'moto + shims' if shims else 'moto alone'}) on http://{HOST}:{port}", flush=True)
    import threading

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    thread.join()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_aws", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("start")
    sub.add_parser("stop")
    sub.add_parser("status")
    serve_p = sub.add_parser("serve")
    serve_p.add_argument("--port", type=int, required=True)
    serve_p.add_argument("--no-shims", action="store_true", help="moto alone (to see the gaps the shims cover)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port, shims=not args.no_shims)
        return 0
    if args.command == "start":
        emu = start()
        print(emu.endpoint)
        return 0
    if args.command == "stop":
        print("emulator stopped" if stop() else "emulator was not running")
        return 0
    current = running()
    if current is None:
        print("emulator not running")
        return 1
    print(f"{current.endpoint} (pid {current.pid})")
    return 0

"""The sample application: the first source the pipeline builds and deploys.

Replace it with your own service by uploading your ``source.zip`` (README: "Your own
application"). It answers every GET with 200 and a small JSON body, so the load balancer's
health check passes whatever path the settings name; it listens on ``$PORT`` (the
container port from the settings, set in its Dockerfile) and writes nothing to disk, so it
runs as a non-root user on the read-only root filesystem the platform gives the container.
Standard library only.
"""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_PORT = 8080


class Handler(BaseHTTPRequestHandler):
    server_version = "sample-app"

    def do_GET(self) -> None:
        body = json.dumps({"service": "sample-app", "path": self.path, "status": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print(f"{self.address_string()} {format % args}", flush=True)  # one line per request, to awslogs


def server(port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:  # noqa: S104 - a container listens on all
    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    server(int(os.environ.get("PORT", DEFAULT_PORT))).serve_forever()


if __name__ == "__main__":
    main()

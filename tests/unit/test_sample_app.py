"""The sample application: the first source.zip, built by the pipeline's buildspec.

It answers the health-check path, and its Dockerfile builds the image the buildspec expects
(``docker build`` in the source root) under the platform's hardening: a base image pinned by
tag or digest, a non-root user, the container port from the settings. (No Docker engine
here: the Dockerfile is checked statically, instruction by instruction.)
"""

from __future__ import annotations

import io
import json
import re
import threading
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.first_source import SAMPLE_APP, SAMPLE_FILES, dockerfile
from constructs_lib.pipeline import BUILDSPEC_SHELL, SOURCE_OBJECT_KEY
from constructs_lib.settings import Settings
from sample_app import app
from tests.helpers import make_settings, resources

Synth = dict[str, dict[str, Any]]


@pytest.fixture
def running() -> Iterator[str]:
    server = app.server(0, host="127.0.0.1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("path", ["/", "/health", "/status/ok"])
def test_it_answers_the_health_check_path(running: str, path: str) -> None:
    with urllib.request.urlopen(f"{running}{path}", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"service": "sample-app", "path": path, "status": "ok"}


def test_it_listens_on_the_port_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def server(port: int) -> _Stub:
        seen.append(port)
        return _Stub()

    monkeypatch.setenv("PORT", "9137")
    monkeypatch.setattr(app, "server", server)
    app.main()
    assert seen == [9137]


class _Stub:
    def serve_forever(self) -> None:
        return None


def instructions(text: str) -> list[tuple[str, str]]:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


@pytest.mark.parametrize("port", [8080, 9000])
def test_the_dockerfile_builds_a_hardened_image_on_the_configured_port(port: int) -> None:
    steps = instructions(dockerfile(port))
    (base,) = [arg for op, arg in steps if op == "FROM"]
    image, _, tag = base.partition(":")
    assert image.startswith("public.ecr.aws/")  # CodeBuild pulls it without Docker Hub's rate limit
    assert "@sha256:" in base or re.fullmatch(r"\d+\.\d+\.\d+-alpine\d+\.\d+", tag), base  # pinned, not "latest"
    (user,) = [arg for op, arg in steps if op == "USER"]
    assert user.split(":")[0] not in ("root", "0")
    assert ("EXPOSE", str(port)) in steps
    assert any(op == "ENV" and f"PORT={port}" in arg for op, arg in steps)
    assert any(op == "ENV" and "PYTHONDONTWRITEBYTECODE=1" in arg for op, arg in steps)  # read-only root
    assert [arg for op, arg in steps if op == "COPY"] == ["app.py ."]
    assert steps[-1][0] == "CMD"
    assert [op for op, _ in steps].index("USER") > [op for op, _ in steps].index("COPY")  # runs as the user


def test_the_buildspec_builds_the_source_root_with_docker() -> None:
    assert 'docker build --tag "$REPOSITORY_URI:$IMAGE_TAG" .' in BUILDSPEC_SHELL


def test_the_first_source_is_the_sample_for_the_settings_port(synth: Callable[[Settings], Synth]) -> None:
    settings = make_settings("dev", service={"container_port": 9000})
    doc = synth(settings)["platform"]
    (obj,) = resources(doc, "aws_s3_object").values()
    assert obj["key"] == SOURCE_OBJECT_KEY
    assert obj["lifecycle"] == {"ignore_changes": "all"}
    assert obj["bucket"].startswith("${aws_s3_bucket.pipeline_source_")
    assert any(d.startswith("aws_s3_bucket_server_side_encryption_configuration.pipeline_source_")
               for d in obj["depends_on"])  # fmt: skip
    (pipeline,) = resources(doc, "aws_codepipeline")
    assert (
        f"aws_s3_object.{next(iter(resources(doc, 'aws_s3_object')))}"
        in doc["resource"]["aws_codepipeline"][pipeline]["depends_on"]
    )


def test_the_packaged_source_holds_only_the_sample(tmp_path: Path) -> None:
    from constructs_lib.first_source import package_sample_app

    folder = package_sample_app(9000)
    assert sorted(p.name for p in folder.iterdir()) == sorted(SAMPLE_FILES)
    assert "EXPOSE 9000" in (folder / "Dockerfile").read_text()
    assert (folder / "app.py").read_bytes() == (SAMPLE_APP / "app.py").read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:  # what the asset zip holds
        for p in folder.iterdir():
            archive.write(p, p.name)
    assert sorted(zipfile.ZipFile(buf).namelist()) == sorted(SAMPLE_FILES)


def test_a_github_source_gets_no_sample(synth: Callable[[Settings], Synth]) -> None:
    connection = "arn:aws:codestar-connections:us-east-1:123456789012:connection/0e8a5d3c-2f55-4b6f-9a56-8f3c7f1f7c11"
    doc = synth(make_settings("dev", pipeline={"codestar_connection_arn": connection, "github_repository": "a/b"}))
    assert resources(doc["platform"], "aws_s3_object") == {}


def test_a_dockerfile_without_its_port_lines_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\nEXPOSE 80\n")
    monkeypatch.setattr("constructs_lib.first_source.SAMPLE_APP", tmp_path)
    with pytest.raises(ValueError, match="expected one line matching"):
        dockerfile(8080)

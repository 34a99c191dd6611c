"""The image mirror against a real registry protocol on loopback and moto's ECR.

The upstream is an HTTP server speaking the OCI distribution API as ECR Public does: an
anonymous token, a multi-platform index, manifests, and blobs that redirect to a second host
(a CDN with signed URLs) which refuses a request carrying the registry's bearer token.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambda_src.image_mirror import handler as mirror

REPOSITORY = "cicd-mirror-test/xray/aws-xray-daemon"
SOURCE = "public.ecr.aws/xray/aws-xray-daemon:3.3.14"
OCI_MANIFEST, OCI_INDEX = mirror.MANIFEST_TYPES[0], mirror.INDEX_TYPES[0]


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Registry:
    blobs: dict[str, bytes]
    manifests: dict[str, tuple[bytes, str]]  # reference -> (body, media type)
    requests: list[str] = field(default_factory=list)
    corrupt: set[str] = field(default_factory=set)
    url: str = ""
    #: the CDN redirects to itself (a misbehaving upstream)
    loop: bool = False

    @property
    def amd64(self) -> bytes:
        return self.manifests["amd64"][0]


def make_registry() -> Registry:
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
    layers = [b"layer one " * 1000, b"layer two " * 3000]
    blobs = {digest(b): b for b in (config, *layers)}
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(b), "size": len(b)}
                   for b in layers],
    }).encode()  # fmt: skip
    arm = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"digest": "sha256:" + "0" * 64},
                      "layers": []}).encode()  # fmt: skip
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": digest(arm), "size": len(arm),
         "platform": {"os": "linux", "architecture": "arm64"}},
        {"mediaType": OCI_MANIFEST, "digest": digest(manifest), "size": len(manifest),
         "platform": {"os": "linux", "architecture": "amd64"}},
    ]}).encode()  # fmt: skip
    manifests = {
        "3.3.14": (index, OCI_INDEX),
        digest(manifest): (manifest, OCI_MANIFEST),
        digest(arm): (arm, OCI_MANIFEST),
        "amd64": (manifest, OCI_MANIFEST),
    }
    return Registry(blobs, manifests)


def serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def registry() -> Iterator[Registry]:
    reg = make_registry()

    class Cdn(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None: ...

        def do_GET(self) -> None:
            reg.requests.append(f"cdn {self.path}")
            if reg.loop:
                self.send_response(307)
                self.send_header("Location", self.path)
                self.end_headers()
                return
            if self.headers.get("Authorization"):
                self.send_response(400)  # as S3 does: "Only one auth mechanism allowed"
                self.end_headers()
                return
            blob = reg.blobs[self.path.split("/")[-1].split("?")[0]]
            if digest(blob) in reg.corrupt:
                blob = blob[:-1] + b"!"
            self.send_response(200)
            self.end_headers()
            self.wfile.write(blob)

    cdn, cdn_url = serve(Cdn)

    class Upstream(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None: ...

        def do_GET(self) -> None:
            reg.requests.append(f"registry {self.path}")
            if self.path.startswith("/token/"):
                assert "scope=repository%3Axray%2Faws-xray-daemon%3Apull" in self.path
                return self.answer(200, json.dumps({"token": "t0k"}).encode(), "application/json")
            if self.headers.get("Authorization") != "Bearer t0k":
                return self.answer(401, b"", "text/plain")
            _, _, path = self.path.partition("/v2/xray/aws-xray-daemon/")
            kind, _, reference = path.partition("/")
            if kind == "manifests" and reference in reg.manifests:
                body, media_type = reg.manifests[reference]
                return self.answer(200, body, media_type)
            if kind == "blobs" and reference in reg.blobs:
                self.send_response(307)
                self.send_header("Location", f"{cdn_url}/signed/{reference}?X-Amz-Signature=abc")
                self.end_headers()
                return None
            return self.answer(404, b"", "text/plain")

        def answer(self, status: int, body: bytes, media_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.end_headers()
            self.wfile.write(body)

    upstream, reg.url = serve(Upstream)
    yield reg
    upstream.shutdown()
    cdn.shutdown()


@pytest.fixture
def ecr() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(repositoryName=REPOSITORY, imageTagMutability="IMMUTABLE")
        yield client


def run(registry: Registry, ecr: Any, event: dict[str, Any] | None = None) -> dict[str, str]:
    event = event or {"source": SOURCE, "repository": REPOSITORY, "tag": "3.3.14"}
    return mirror.mirror(event, ecr, lambda path: mirror.Upstream(registry.url, path))


def test_copies_the_linux_amd64_image_by_its_digest(registry: Registry, ecr: Any) -> None:
    result = run(registry, ecr)
    assert result["digest"] == digest(registry.amd64)
    uri = ecr.describe_repositories(repositoryNames=[REPOSITORY])["repositories"][0]["repositoryUri"]
    assert result["image"] == f"{uri}@{digest(registry.amd64)}"
    (image,) = ecr.describe_images(repositoryName=REPOSITORY)["imageDetails"]
    assert (image["imageTags"], image["imageDigest"]) == (["3.3.14"], digest(registry.amd64))
    layers = ecr.batch_check_layer_availability(repositoryName=REPOSITORY, layerDigests=list(registry.blobs))
    assert {layer["layerAvailability"] for layer in layers["layers"]} == {"AVAILABLE"}
    # Every blob came from the CDN without the registry's token (the CDN refuses it).
    assert sorted(r for r in registry.requests if r.startswith("cdn")) == sorted(
        f"cdn /signed/{d}?X-Amz-Signature=abc" for d in registry.blobs
    )


def test_an_image_already_mirrored_is_answered_from_ecr_alone(registry: Registry, ecr: Any) -> None:
    first = run(registry, ecr)
    registry.requests.clear()
    assert run(registry, ecr) == first
    assert registry.requests == []  # a repeated deploy never contacts the upstream


def test_a_corrupted_blob_is_refused_and_nothing_is_tagged(registry: Registry, ecr: Any) -> None:
    layer = sorted(registry.blobs)[1]
    registry.corrupt.add(layer)
    with pytest.raises(mirror.MirrorError, match=f"blob {layer} arrived as sha256:"):
        run(registry, ecr)
    assert ecr.describe_images(repositoryName=REPOSITORY)["imageDetails"] == []


def test_a_pinned_digest_must_match_what_the_registry_serves(registry: Registry, ecr: Any) -> None:
    pinned = digest(registry.amd64)
    result = run(registry, ecr, {"source": f"public.ecr.aws/xray/aws-xray-daemon@{pinned}",
                                 "repository": REPOSITORY, "tag": "3.3.14"})  # fmt: skip
    assert result["digest"] == pinned
    registry.manifests[pinned] = (registry.amd64 + b" ", OCI_MANIFEST)
    ecr.batch_delete_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": "3.3.14"}])
    with pytest.raises(mirror.MirrorError, match="refusing a corrupted or substituted copy"):
        run(registry, ecr, {"source": f"public.ecr.aws/xray/aws-xray-daemon@{pinned}",
                            "repository": REPOSITORY, "tag": "3.3.14"})  # fmt: skip


@pytest.mark.parametrize(
    "event",
    [
        {"source": "docker.io/library/nginx:1", "repository": REPOSITORY, "tag": "1"},
        {"source": SOURCE, "repository": "", "tag": "3.3.14"},
        {"source": SOURCE, "repository": REPOSITORY},
    ],
)
def test_only_ecr_public_sources_with_a_repository_and_tag(event: dict[str, Any], ecr: Any) -> None:
    with pytest.raises(mirror.MirrorError, match="expected"):
        mirror.mirror(event, ecr, lambda path: pytest.fail("no upstream may be contacted"))


def test_an_image_without_linux_amd64_is_refused(registry: Registry, ecr: Any) -> None:
    index = json.loads(registry.manifests["3.3.14"][0])
    index["manifests"] = index["manifests"][:1]  # arm64 only
    registry.manifests["3.3.14"] = (json.dumps(index).encode(), OCI_INDEX)
    with pytest.raises(mirror.MirrorError, match="has no linux/amd64 image"):
        run(registry, ecr)


def test_layers_already_in_the_repository_are_not_uploaded_again(registry: Registry, ecr: Any) -> None:
    run(registry, ecr)
    registry.requests.clear()
    second = run(registry, ecr, {"source": SOURCE, "repository": REPOSITORY, "tag": "3.3"})
    assert second["digest"] == digest(registry.amd64)
    assert [r for r in registry.requests if r.startswith("cdn")] == []  # every blob was there already
    (image,) = ecr.describe_images(repositoryName=REPOSITORY)["imageDetails"]
    assert sorted(image["imageTags"]) == ["3.3", "3.3.14"]


def test_a_push_of_an_image_already_tagged_is_answered_with_its_digest(registry: Registry, ecr: Any) -> None:
    """Two copies racing (a retried apply): the second put finds the same manifest under the tag."""
    source = mirror.Upstream(registry.url, "xray/aws-xray-daemon")
    image = source.manifest("3.3.14")
    first = mirror.push(ecr, REPOSITORY, "3.3.14", image, source.blob)
    assert mirror.push(ecr, REPOSITORY, "3.3.14", image, source.blob) == first == image.digest


def test_an_unknown_tag_is_refused_with_the_registrys_answer(registry: Registry, ecr: Any) -> None:
    with pytest.raises(mirror.MirrorError, match=r"GET .*/v2/xray/aws-xray-daemon/manifests/9.9.9 answered 404"):
        run(registry, ecr, {"source": "public.ecr.aws/xray/aws-xray-daemon:9.9.9", "repository": REPOSITORY,
                            "tag": "9.9.9"})  # fmt: skip


def test_an_unsupported_manifest_type_is_refused(registry: Registry, ecr: Any) -> None:
    legacy = json.dumps({"schemaVersion": 1, "mediaType": "application/vnd.docker.distribution.manifest.v1+json"})
    registry.manifests["3.3.14"] = (legacy.encode(), "application/vnd.docker.distribution.manifest.v1+json")
    with pytest.raises(mirror.MirrorError, match="unsupported manifest type"):
        run(registry, ecr)


def test_a_redirect_loop_is_cut_short(registry: Registry, ecr: Any) -> None:
    registry.loop = True
    with pytest.raises(mirror.MirrorError, match="too many redirects"):
        run(registry, ecr)


def test_the_handler_reads_its_upstream_from_the_environment(
    registry: Registry, ecr: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(mirror.ENV_UPSTREAM, registry.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    result = mirror.handler({"source": SOURCE, "repository": REPOSITORY, "tag": "3.3.14"}, None)
    assert result["digest"] == digest(registry.amd64)

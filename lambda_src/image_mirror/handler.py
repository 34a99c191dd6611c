"""Copy a public image into this account's ECR before any task runs it: the image mirror.

Why: tasks in a NAT-less environment reach only this account's ECR (VPC endpoints), and a
pull-through cache cannot serve them: "When an image is pulled using a pull through cache
rule for the first time, if you've configured Amazon ECR to use an interface VPC endpoint
using AWS PrivateLink then you need to create a public subnet in the same VPC, with a NAT
gateway ... Subsequent image pulls don't require this."
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html)
So this function, which runs outside the VPC (Lambda's own internet access), copies each
pinned upstream image into a Terraform-managed repository (the environment's key, immutable
tags, scan on push, lifecycle) before the task definition that runs it is registered.

Invoked by Terraform (``aws_lambda_invocation``, again only when the input changes) with::

    {"source": "public.ecr.aws/xray/aws-xray-daemon:3.3.14",
     "repository": "cicd-mirror-dev/xray/aws-xray-daemon", "tag": "3.3.14"}

and answers ``{"digest": "sha256:...", "image": "<registry>/<repository>@sha256:..."}``: the
task definition runs the image by that digest, so it depends on this invocation and never
names an image that is not in the repository yet. An image already under that tag is
answered from ECR without contacting the upstream (tags are immutable: a repeated deploy is
a no-op). Only ECR Public is an upstream; the linux/amd64 image of a multi-platform index is
copied (the task definitions run X86_64). Every blob is checked against its digest.

Standard library and boto3 only (present in the Lambda runtime). The registry protocol is
the OCI distribution API; a maintained client (crane, skopeo) is a Go binary the Lambda
runtime does not have, and the copy needs only four GETs and ECR's layer-upload API.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import boto3

#: The one upstream this function copies from.
ECR_PUBLIC = "public.ecr.aws"
#: Where the upstream registry answers (a test points it at a loopback server).
ENV_UPSTREAM = "UPSTREAM_REGISTRY_URL"
DEFAULT_UPSTREAM = f"https://{ECR_PUBLIC}"

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
PLATFORM = {"os": "linux", "architecture": "amd64"}
TIMEOUT_SECONDS = 60


class MirrorError(Exception):
    """A failure with a message a person can act on (terraform shows it)."""


@dataclass(frozen=True)
class Request:
    path: str  # the repository path on ECR Public, e.g. xray/aws-xray-daemon
    reference: str  # a tag, or a sha256 digest when the source pins one
    repository: str
    tag: str

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> Request:
        source, repository, tag = (str(event.get(k, "")) for k in ("source", "repository", "tag"))
        host, _, rest = source.partition("/")
        if host != ECR_PUBLIC or not rest or not repository or not tag:
            raise MirrorError(
                f"expected {{source: {ECR_PUBLIC}/<path>:<tag>[@sha256:...], repository, tag}}, got {dict(event)!r}"
            )
        name, _, digest = rest.partition("@")
        path, _, source_tag = name.partition(":")
        return cls(path=path, reference=digest or source_tag or "latest", repository=repository, tag=tag)


@dataclass(frozen=True)
class Image:
    manifest: bytes
    media_type: str
    blobs: tuple[str, ...]  # config and layer digests, in the manifest's order

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.manifest).hexdigest()


class Source(Protocol):
    """Where an image is copied from: its manifest by reference, and each blob by digest."""

    def manifest(self, reference: str) -> Image: ...  # pragma: no cover - protocol

    def blob(self, digest: str) -> bytes: ...  # pragma: no cover - protocol


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # handled by Upstream._get: the bearer token must not follow a redirect


class Upstream:
    """A read-only client of ECR Public's registry API (anonymous bearer token)."""

    def __init__(self, base_url: str, path: str) -> None:
        self.base = base_url.rstrip("/")
        self.path = path
        self._opener = urllib.request.build_opener(_NoRedirect)
        scope = urllib.parse.quote(f"repository:{path}:pull", safe="")
        token = json.loads(self._get(f"{self.base}/token/?scope={scope}", auth=False)[0])
        self._token = str(token["token"])

    def _get(self, url: str, *, accept: tuple[str, ...] = (), auth: bool = True) -> tuple[bytes, str]:
        for _ in range(5):
            headers = {"Accept": ", ".join(accept)} if accept else {}
            if auth and url.startswith(self.base):
                headers["Authorization"] = f"Bearer {self._token}"
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 - https upstream or a test's loopback
            try:
                with self._opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                    return response.read(), str(response.headers.get("Content-Type", ""))
            except urllib.error.HTTPError as exc:
                if exc.code in (301, 302, 303, 307, 308) and exc.headers.get("Location"):
                    # Blobs redirect to a CDN with a signed URL; it refuses a second credential.
                    url = urllib.parse.urljoin(url, exc.headers["Location"])
                    continue
                raise MirrorError(f"{ECR_PUBLIC}/{self.path}: GET {url.split('?')[0]} answered {exc.code}") from None
        raise MirrorError(f"{ECR_PUBLIC}/{self.path}: too many redirects")

    def manifest(self, reference: str) -> Image:
        body, media_type = self._get(
            f"{self.base}/v2/{self.path}/manifests/{reference}", accept=(*MANIFEST_TYPES, *INDEX_TYPES)
        )
        doc = json.loads(body)
        media_type = str(doc.get("mediaType") or media_type.split(";")[0])
        if reference.startswith("sha256:"):
            _verify(body, reference, "manifest")
        if media_type in INDEX_TYPES:
            wanted = [m for m in doc.get("manifests", []) if all(m.get("platform", {}).get(k) == v
                                                                for k, v in PLATFORM.items())]  # fmt: skip
            if not wanted:
                raise MirrorError(f"{ECR_PUBLIC}/{self.path}:{reference} has no linux/amd64 image")
            return self.manifest(str(wanted[0]["digest"]))
        if media_type not in MANIFEST_TYPES:
            raise MirrorError(f"{ECR_PUBLIC}/{self.path}:{reference}: unsupported manifest type {media_type!r}")
        blobs = (str(doc["config"]["digest"]), *(str(layer["digest"]) for layer in doc["layers"]))
        return Image(body, media_type, blobs)

    def blob(self, digest: str) -> bytes:
        body, _ = self._get(f"{self.base}/v2/{self.path}/blobs/{digest}")
        _verify(body, digest, "blob")
        return body


def _verify(body: bytes, digest: str, what: str) -> None:
    actual = "sha256:" + hashlib.sha256(body).hexdigest()
    if actual != digest:
        raise MirrorError(f"{what} {digest} arrived as {actual}: refusing a corrupted or substituted copy")


def existing_digest(ecr: Any, repository: str, tag: str) -> str | None:
    try:
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"]
    except ecr.exceptions.ImageNotFoundException:
        return None
    return str(found[0]["imageDigest"]) if found else None


def push(ecr: Any, repository: str, tag: str, image: Image, blob: Callable[[str], bytes]) -> str:
    """Upload the blobs ECR does not have yet, then the manifest under ``tag``; its digest."""
    have = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=list(image.blobs))
    present = {
        layer["layerDigest"] for layer in have.get("layers", []) if layer.get("layerAvailability") == "AVAILABLE"
    }
    for digest in image.blobs:
        if digest in present:
            continue
        data = blob(digest)
        upload = ecr.initiate_layer_upload(repositoryName=repository)
        size = int(upload.get("partSize") or 10 * 1024 * 1024)
        for first in range(0, len(data), size):
            part = data[first : first + size]
            ecr.upload_layer_part(
                repositoryName=repository, uploadId=upload["uploadId"],
                partFirstByte=first, partLastByte=first + len(part) - 1, layerPartBlob=part,
            )  # fmt: skip
        ecr.complete_layer_upload(repositoryName=repository, uploadId=upload["uploadId"], layerDigests=[digest])
    try:
        put = ecr.put_image(
            repositoryName=repository, imageManifest=image.manifest.decode(),
            imageManifestMediaType=image.media_type, imageTag=tag, imageDigest=image.digest,
        )  # fmt: skip
        return str(put["image"]["imageId"]["imageDigest"])
    except ecr.exceptions.ImageAlreadyExistsException:
        return image.digest  # the same manifest under the same tag: pushed before


def mirror(event: Mapping[str, Any], ecr: Any, upstream: Callable[[str], Source]) -> dict[str, str]:
    request = Request.parse(event)
    digest = existing_digest(ecr, request.repository, request.tag)
    if digest is None:
        source = upstream(request.path)
        image = source.manifest(request.reference)
        digest = push(ecr, request.repository, request.tag, image, source.blob)
    registry = ecr.describe_repositories(repositoryNames=[request.repository])["repositories"][0]["repositoryUri"]
    return {"digest": digest, "image": f"{registry}@{digest}"}


def handler(event: Mapping[str, Any], context: Any) -> dict[str, str]:
    base = os.environ.get(ENV_UPSTREAM, DEFAULT_UPSTREAM)
    return mirror(event, boto3.client("ecr"), lambda path: Upstream(base, path))

"""Container image references, and which registry serves each one.

Why this matters: the service's tasks run in private subnets. Without a NAT
gateway their only ways out are the VPC endpoints, which serve *this account's
private ECR* in the stack's region (``ecr.api`` + ``ecr.dkr`` + the S3 gateway
for layers) and nothing else: not ECR Public, not Docker Hub. So every public
image the platform runs is pulled through an ECR pull-through cache rule for
ECR Public (:mod:`constructs_lib.registry`), and settings refuse images no
egress path can reach (:mod:`constructs_lib.settings`).
https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html

The grammar is Docker's reference grammar (distribution/reference), reduced to
what a task definition needs; no maintained Python library parses it without
pulling in a Docker client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: ECR Public's registry host: the upstream of the pull-through cache rule.
ECR_PUBLIC = "public.ecr.aws"
#: Docker Hub, where a reference without a registry host goes.
DOCKER_HUB = "docker.io"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    r"^(?:(?P<host>(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(?::\d+)?)/)?"
    rf"(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?P<tag>:[\w][\w.-]{0,127})?"
    r"(?P<digest>@sha256:[0-9a-f]{64})?$"
)
_PATH = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_PRIVATE_ECR = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com$")


@dataclass(frozen=True)
class ImageRef:
    """``registry/repository[:tag][@digest]``, with Docker Hub's defaults made explicit."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, image: str) -> ImageRef:
        """Raises ``ValueError`` for anything that is not an image reference."""
        match = _REFERENCE.match(image)
        host, path = (match.group("host"), match.group("path")) if match else (None, "")
        # The first component is a registry host only if it looks like one
        # (has a dot or a port, or is localhost); "nginx/nginx" is Docker Hub.
        if host is not None and not ("." in host or ":" in host or host == "localhost"):
            host, path = DOCKER_HUB, f"{host}/{path}"
        if match is None or not _PATH.match(path):
            raise ValueError(f"{image!r} is not a container image reference like public.ecr.aws/nginx/nginx:1.27")
        if host is None:
            host = DOCKER_HUB
        if host == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        tag = match.group("tag")
        digest = match.group("digest")
        return cls(host, path, tag[1:] if tag else None, digest[1:] if digest else None)

    @property
    def suffix(self) -> str:
        """``:tag``, ``@digest`` or both, as written after the repository."""
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    @property
    def is_ecr_public(self) -> bool:
        return self.registry == ECR_PUBLIC

    @property
    def private_ecr(self) -> tuple[str, str] | None:
        """(account, region) when the image is in a private ECR registry."""
        match = _PRIVATE_ECR.match(self.registry)
        return (match.group("account"), match.group("region")) if match else None

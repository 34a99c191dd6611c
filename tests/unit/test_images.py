"""Image references: which registry serves each image."""

from __future__ import annotations

import pytest

from constructs_lib.images import DOCKER_HUB, ECR_PUBLIC, ImageRef


@pytest.mark.parametrize(
    ("image", "registry", "repository", "suffix"),
    [
        ("nginx", DOCKER_HUB, "library/nginx", ""),
        ("nginx:1.27", DOCKER_HUB, "library/nginx", ":1.27"),
        ("bitnami/nginx:1.27", DOCKER_HUB, "bitnami/nginx", ":1.27"),
        ("docker.io/library/nginx:1.27", DOCKER_HUB, "library/nginx", ":1.27"),
        ("ghcr.io/acme/web:v1", "ghcr.io", "acme/web", ":v1"),
        ("localhost:5000/web:dev", "localhost:5000", "web", ":dev"),
        (
            "public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine",
            ECR_PUBLIC,
            "nginx/nginx-unprivileged",
            ":1.27-alpine",
        ),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web@sha256:" + "a" * 64,
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "team/web",
            "@sha256:" + "a" * 64,
        ),
    ],
)
def test_references_parse_with_docker_defaults(image: str, registry: str, repository: str, suffix: str) -> None:
    ref = ImageRef.parse(image)
    assert (ref.registry, ref.repository, ref.suffix) == (registry, repository, suffix)


@pytest.mark.parametrize("image", ["", "UPPER/case", "nginx:", "a b", "nginx@sha256:short", "/nginx"])
def test_non_references_refused(image: str) -> None:
    with pytest.raises(ValueError, match="not a container image reference"):
        ImageRef.parse(image)


def test_registry_kinds() -> None:
    assert ImageRef.parse("public.ecr.aws/xray/aws-xray-daemon:3.3.14").is_ecr_public
    assert not ImageRef.parse("nginx").is_ecr_public
    private = ImageRef.parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1")
    assert private.private_ecr == ("123456789012", "us-east-1")
    assert ImageRef.parse("ghcr.io/acme/web:v1").private_ecr is None

"""What protects an environment from ``destroy``, and what would stop one halfway.

Read before any change, from the stacks' state (in ``terraform show -json``'s shape:
tools/deploy.py ``state_as_shown``) and the target itself (boto3):

- protections: a load balancer or table with deletion protection, a bucket
  without ``force_destroy``, a repository without ``force_delete``. An
  environment with any of them (prod by default) is destroyed only with an
  explicit confirmation naming it.
- blockers: a protected bucket that still holds objects, a protected
  repository that still holds images. terraform would destroy everything else
  and then stop there, leaving the environment half torn down, so the tool
  refuses up front and names them instead.

The deploy tool's own state objects in the state bucket are not blockers: it
moves that state out and deletes them itself, last.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from constructs_lib.naming import COMPONENTS, NameKind
from tools.aws_target import AwsTarget

#: Every bucket the platform names (both stacks).
BUCKET_COMPONENTS = tuple(c for c, kind in COMPONENTS.items() if kind is NameKind.S3_BUCKET)


@dataclass(frozen=True)
class Protection:
    stack: str
    address: str
    kind: str
    name: str
    what: str
    #: (attribute, value) that lifts it before destroy, or None when an empty resource needs nothing
    lift: tuple[str, bool] | None

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.stack}): {self.what}"


def _resources(state: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    module = (state.get("values") or {}).get("root_module") or {}
    yield from module.get("resources") or []


def protections(stack: str, state: Mapping[str, Any]) -> list[Protection]:
    out = []
    for resource in _resources(state):
        values, address, rtype = resource.get("values") or {}, resource["address"], resource["type"]
        if rtype == "aws_lb" and values.get("enable_deletion_protection"):
            lift: tuple[str, bool] = ("enable_deletion_protection", False)
            out.append(Protection(stack, address, "load balancer", values["name"], "deletion protection on", lift))
        elif rtype == "aws_dynamodb_table" and values.get("deletion_protection_enabled"):
            lift = ("deletion_protection_enabled", False)
            out.append(Protection(stack, address, "table", values["name"], "deletion protection on", lift))
        elif rtype == "aws_s3_bucket" and values.get("force_destroy") is False:
            what = "kept unless empty (force_destroy off)"
            out.append(Protection(stack, address, "bucket", values["bucket"], what, None))
        elif rtype == "aws_ecr_repository" and values.get("force_delete") is False:
            what = "kept unless empty (force_delete off)"
            out.append(Protection(stack, address, "repository", values["name"], what, None))
    return out


def blockers(found: Iterable[Protection], aws: AwsTarget, own_objects: Mapping[str, set[str]]) -> list[str]:
    """Protected buckets and repositories that are not empty (ignoring ``own_objects``: bucket -> keys)."""
    out = []
    for p in found:
        if p.kind == "bucket":
            others = _object_keys(aws, p.name) - own_objects.get(p.name, set())
            if others:
                sample = ", ".join(sorted(others)[:3])
                out.append(f"bucket {p.name} holds {len(others)} object(s) (e.g. {sample}) and has force_destroy off")
        elif p.kind == "repository":
            pages = aws.client("ecr").get_paginator("list_images").paginate(repositoryName=p.name)
            images = sum(len(page["imageIds"]) for page in pages)
            if images:
                out.append(f"repository {p.name} holds {images} image(s) and has force_delete off")
    return out


def _object_keys(aws: AwsTarget, bucket: str) -> set[str]:
    """Every key with a version or delete marker (what keeps a versioned bucket from being deleted)."""
    keys: set[str] = set()
    for page in aws.client("s3").get_paginator("list_object_versions").paginate(Bucket=bucket):
        keys.update(v["Key"] for v in page.get("Versions", []))
        keys.update(m["Key"] for m in page.get("DeleteMarkers", []))
    return keys


def delete_every_version(aws: AwsTarget, bucket: str, keys: Iterable[str] | None) -> None:
    """Remove objects (every version and delete marker) from a bucket: those with ``keys``
    (the tool's own state objects in a protected state bucket), or all of them (``None``)."""
    s3 = aws.client("s3")
    wanted = None if keys is None else set(keys)
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            if wanted is None or v["Key"] in wanted
        ]
        if doomed:
            failed = s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True}).get("Errors", [])
            if failed:
                # The bucket could not be deleted after this: say which object refused, and why.
                first = failed[0]
                raise RuntimeError(
                    f"could not delete {len(failed)} object version(s) from {bucket}, e.g. {first.get('Key')} "
                    f"({first.get('Code')}: {first.get('Message')})"
                )


def lift_override(found: Iterable[Protection]) -> dict[str, Any]:
    """An override file turning the liftable protections off (terraform merges it over the stack)."""
    resources: dict[str, dict[str, dict[str, bool]]] = {}
    for p in found:
        if p.lift is not None:
            rtype, name = p.address.split(".", 1)
            resources.setdefault(rtype, {})[name] = {p.lift[0]: p.lift[1]}
    return {"resource": resources} if resources else {}

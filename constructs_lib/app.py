"""Builds every stack for a list of settings. No env reads, no printing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cdktf import App

from constructs_lib.iam import ServiceRole
from constructs_lib.settings import Settings
from constructs_lib.stacks.access import AccessStack, access_stack_name
from constructs_lib.stacks.platform import PlatformStack, platform_stack_name
from constructs_lib.stacks.state_backend import StateBackendStack, state_backend_stack_name


@dataclass(frozen=True)
class SynthResult:
    stack: str
    resources: int
    path: Path


def build_app(app: App, all_settings: Sequence[Settings]) -> None:
    for settings in all_settings:
        backend = StateBackendStack(app, state_backend_stack_name(settings), settings=settings)
        platform = PlatformStack(app, platform_stack_name(settings), settings=settings)
        if settings.ci_on:
            # The boundary caps the roles of both stacks at exactly what they are granted.
            roles = [
                node for stack in (backend, platform) for node in stack.node.find_all() if isinstance(node, ServiceRole)
            ]
            AccessStack(app, access_stack_name(settings), settings=settings, platform_roles=roles)


def summarize(outdir: Path) -> list[SynthResult]:
    """Per synthesized stack: resource count and output path."""
    results = []
    manifest = json.loads((outdir / "manifest.json").read_text())
    for name, stack in sorted(manifest["stacks"].items()):
        path = outdir / stack["synthesizedStackPath"]
        doc = json.loads(path.read_text())
        count = sum(len(v) for v in doc.get("resource", {}).values())
        results.append(SynthResult(name, count, path))
    return results

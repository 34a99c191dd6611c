"""Terraform addresses: what a construct path becomes, and forgetting retired ones.

A resource's terraform address is ``<type>.<logical id>``, and cdktf derives the
logical id from the construct path (``makeUniqueId`` in cdktf's
``lib/private/unique.ts``: the path's components joined by ``_`` plus the first
8 hex digits of the MD5 of the path). cdktf computes it only for constructs that
exist; a retired resource's address is recomputed here from the path it had, so
a ``removed`` block can name it. (Ported because cdktf exposes no function for a
path that no longer exists; ``tests/unit/test_addresses.py`` checks the port
against cdktf's own ids for every resource of a synthesized stack.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from cdktf import TerraformStack

_HIDDEN = "Default"
_HIDDEN_FROM_HUMAN = "Resource"
_DISALLOWED = re.compile(r"[^A-Za-z0-9_-]")


def logical_id(components: Sequence[str]) -> str:
    """The logical id cdktf gives the construct at ``components`` (the path below the stack)."""
    parts = [c for c in components if c != _HIDDEN]
    if not parts:
        raise ValueError("a logical id needs at least one path component")
    if len(parts) == 1 and len(_DISALLOWED.sub("", parts[0])) <= 255:
        return _DISALLOWED.sub("", parts[0])
    digest = hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    human: list[str] = []
    for part in parts:
        if not human or not human[-1].endswith(part):
            human.append(part)
    text = "_".join(_DISALLOWED.sub("", p) for p in human if p != _HIDDEN_FROM_HUMAN)[:240]
    return f"{text}_{digest}"


def forget(stack: TerraformStack, addresses: Sequence[str]) -> None:
    """``removed`` blocks with ``destroy = false``: terraform drops these addresses from its state
    and leaves the real resources alone (a plan shows them as "will no longer be managed").
    A block whose address is not in the state changes nothing, so a new deployment is unaffected.
    https://developer.hashicorp.com/terraform/language/resources/syntax#removing-resources
    """
    if addresses:
        stack.add_override("removed", [{"from": a, "lifecycle": {"destroy": False}} for a in addresses])

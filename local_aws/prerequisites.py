"""What a team's AWS account already has before the platform is deployed, stood up in the
emulator's empty account (the local target only).

- The public Route 53 hosted zone named in ``edge.hosted_zone``: the platform adds records to
  the team's zone and never creates or deletes the zone itself (a zone is the registrar's
  delegation; re-creating it changes its name servers). On AWS it must exist; here it is
  created once, as an account prerequisite, not as part of any stack.
"""

from __future__ import annotations

from typing import Any


def ensure_hosted_zone(route53: Any, name: str) -> str:
    """The id of the public hosted zone ``name``, created when the account has none."""
    wanted = name.rstrip(".") + "."
    for zone in route53.list_hosted_zones_by_name(DNSName=wanted)["HostedZones"]:
        if zone["Name"] == wanted and not zone.get("Config", {}).get("PrivateZone", False):
            return str(zone["Id"])
    created = route53.create_hosted_zone(
        Name=wanted,
        CallerReference=f"emulator-prerequisite-{wanted}",
        HostedZoneConfig={"Comment": "account prerequisite (emulator)", "PrivateZone": False},
    )
    return str(created["HostedZone"]["Id"])

"""What a team's AWS account already has before the platform is deployed, stood up in the
emulator's empty account (the local target only).

- The public Route 53 hosted zone named in ``edge.hosted_zone``: the platform adds records to
  the team's zone and never creates or deletes the zone itself (a zone is the registrar's
  delegation; re-creating it changes its name servers). On AWS it must exist; here it is
  created once, as an account prerequisite, not as part of any stack.
- GitHub's OIDC provider, when the settings say another environment of the account created it
  (``ci.oidc_provider = "existing"``): on AWS it is there; an environment deployed alone to a
  fresh emulator finds it here.
"""

from __future__ import annotations

from typing import Any

from local_aws import PREREQUISITE_CREDENTIALS


def ensure_hosted_zone(endpoint: str, region: str, name: str) -> str:
    """The id of the public hosted zone ``name`` in the emulator at ``endpoint``, created when the
    account has none (signed with the prerequisites' own key: no CI role makes these calls)."""
    import boto3

    route53: Any = boto3.client("route53", endpoint_url=endpoint, region_name=region, **PREREQUISITE_CREDENTIALS)
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


def ensure_oidc_provider(endpoint: str, region: str, url: str, audience: str) -> str:
    """The ARN of the account's OIDC provider for ``url``, created when the account has none."""
    import boto3

    iam: Any = boto3.client("iam", endpoint_url=endpoint, region_name=region, **PREREQUISITE_CREDENTIALS)
    host = url.removeprefix("https://")
    for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        if provider["Arn"].endswith(f":oidc-provider/{host}"):
            return str(provider["Arn"])
    return str(iam.create_open_id_connect_provider(Url=url, ClientIDList=[audience])["OpenIDConnectProviderArn"])

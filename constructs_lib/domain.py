"""The service's public name: a DNS-validated ACM certificate and an alias to the ALB.

The hosted zone is the team's (a public Route 53 zone that already exists; the platform
only adds records to it), looked up by name. The certificate is requested for exactly
``domain_name`` with DNS validation, its validation record written to the zone, and the
HTTPS listener waits for ``aws_acm_certificate_validation``, so a listener never serves a
certificate that is not issued yet. https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
"""

from __future__ import annotations

from cdktf import TerraformIterator, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct


class PublicDomain(Construct):
    """Attributes: zone (data source), certificate, validation, alias (once :meth:`point_at` ran);
    ``certificate_arn``: the validated certificate's ARN (the listener waits for validation)."""

    def __init__(self, scope: Construct, id: str, *, domain_name: str, hosted_zone: str, request_certificate: bool):
        super().__init__(scope, id)
        self.domain_name = domain_name
        # A public zone: ACM validates through public DNS, and clients resolve the alias there.
        self.zone = DataAwsRoute53Zone(self, "zone", name=hosted_zone, private_zone=False)
        self.zone_id: str = self.zone.zone_id
        self.certificate: AcmCertificate | None = None
        self.validation: AcmCertificateValidation | None = None
        self.certificate_arn: str | None = None
        if request_certificate:
            self._certificate()

    def _certificate(self) -> None:
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=self.domain_name,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            # A replacement (a new name) is issued before the listener lets go of the old one.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # One validation record per name on the certificate, keyed by name (the set's stable key).
        options = TerraformIterator.from_complex_list(self.certificate.domain_validation_options, "domain_name")
        records = Route53Record(
            self,
            "validation-record",
            for_each=options,
            zone_id=self.zone_id,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=60,
            # ACM gives the same record to a renewal and to a second certificate for the name.
            allow_overwrite=True,
        )
        self.validation = AcmCertificateValidation(
            self,
            "validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=Token.as_list(TerraformIterator.from_resources(records).pluck_property("fqdn")),
        )
        self.certificate_arn = self.validation.certificate_arn

    def point_at(self, lb: Lb) -> None:
        """The name resolves to the load balancer (an alias: no TTL, follows the ALB's addresses).

        IPv4 only (an A record): the ALB is not dual-stack, so an AAAA alias would resolve to nothing.
        """
        self.alias = Route53Record(
            self,
            "alias-a",
            zone_id=self.zone_id,
            name=self.domain_name,
            type="A",
            alias={"name": lb.dns_name, "zone_id": lb.zone_id, "evaluate_target_health": True},
        )

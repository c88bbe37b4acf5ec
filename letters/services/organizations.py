"""What an organization change means for signatures (registry.services calls this through registry.hooks)."""

from datetime import datetime

from letters.models import Signature, SignatureEvent, VerificationLevel
from letters.presentation import shown_organization_key
from letters.services.events import SignatureState, signature_event_record, signature_state
from letters.services.locking import signatures_lock
from letters.services.verification import signature_verify_by_domain
from registry.audit import Actor
from registry.models import Organization


class SignatureOrganizationLink:
    """registry.hooks.OrganizationLinkParticipant: a candidate linked to a reviewed organization moves its
    signatures, each change recorded as an event (counts by organization and the change feed follow it), and each
    signer's address is checked again against the organization's verified domains."""

    def lock(self, *, candidate: Organization) -> None:
        signatures_lock(Signature.objects.filter(organization=candidate))

    def link(self, *, candidate: Organization, organization: Organization, actor: Actor, at: datetime) -> None:
        for signature in Signature.objects.filter(organization=candidate).select_related("organization").order_by("pk"):
            before = signature_state(signature)
            signature.organization = organization
            signature.save(update_fields=["organization", "updated_at"])
            signature_event_record(
                signature=signature,
                kind=SignatureEvent.Kind.ORGANIZATION_CHANGED,
                before=before,
                actor=actor,
                at=at,
                audit_data={"from_candidate": candidate.pk, "to": organization.pk},
            )
            signature_verify_by_domain(signature=signature, at=at)


class SignatureOrganizationReview:
    """registry.hooks.OrganizationReviewParticipant: once a candidate is approved the public sees the organization on
    its visible signatures instead of the text each signer typed; each such change is an event, so counts by
    organization move from "text:<typed>" to "org:<slug>"."""

    def lock(self, *, organization: Organization) -> dict[int, SignatureState]:
        """Lock the visible signatures of the organization and take their state while it is still unreviewed."""
        signatures = signatures_lock(
            Signature.objects.visible().filter(organization_id=organization.pk).select_related("organization")
        )
        return {signature.pk: signature_state(signature) for signature in signatures}

    def organization_reviewed(
        self, *, organization: Organization, before: dict[int, SignatureState], actor: Actor, at: datetime
    ) -> None:
        for signature in Signature.objects.filter(pk__in=before).order_by("pk"):
            signature.organization = organization
            if shown_organization_key(signature) == before[signature.pk].organization:
                continue
            signature_event_record(
                signature=signature,
                kind=SignatureEvent.Kind.ORGANIZATION_CHANGED,
                before=before[signature.pk],
                actor=actor,
                at=at,
                audit_data={"organization_reviewed": organization.pk},
            )


class SignatureDomainProof:
    """registry.hooks.OrganizationDomainParticipant: a domain newly verified for an organization proves its
    confirmed signers at that domain (level `domain`, each with its verification record and event)."""

    def domain_verified(self, *, organization: Organization, domain: str, actor: Actor, at: datetime) -> None:
        signatures = signatures_lock(
            Signature.objects.filter(
                organization_id=organization.pk,
                status=Signature.Status.CONFIRMED,
                verification_level__in=[VerificationLevel.NONE, VerificationLevel.EMAIL],
                email_key__endswith="@" + domain,
            ).select_related("organization")
        )
        for signature in signatures:
            signature_verify_by_domain(signature=signature, at=at)

"""What an organization change means for signatures (registry.services calls this through registry.hooks)."""

from datetime import datetime
from typing import Any

from letters.models import Signature, SignatureEvent
from letters.services.events import signature_event_record, signature_state
from letters.services.locking import signatures_lock
from letters.services.verification import signature_verify_by_domain
from registry.models import Organization


class SignatureOrganizationLink:
    """registry.hooks.OrganizationLinkParticipant: a candidate linked to a reviewed organization moves its
    signatures, each change recorded as an event (counts by organization and the change feed follow it), and each
    signer's address is checked again against the organization's verified domains."""

    def lock(self, *, candidate: Organization) -> None:
        signatures_lock(Signature.objects.filter(organization=candidate))

    def link(self, *, candidate: Organization, organization: Organization, actor: Any, at: datetime) -> None:
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

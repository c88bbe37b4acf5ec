"""Verification of signatures: levels backed by records, holds, rejection.

Initial version: domain verification and the hold decision hook. The identity work extends this module.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from letters.models import Signature, SignatureEvent, VerificationLevel, VerificationRecord
from letters.services.events import signature_event_record, signature_state
from registry.models import OrganizationDomain


def signature_hold_reason(*, signature: Signature) -> str:
    """Why a signature being confirmed must stay out of public view until reviewed ("" when it need not).

    A hold decided earlier (e.g. rate limiting at signing time) is kept.
    """
    return signature.hold_reason


def email_domain(email_key: str) -> str:
    return email_key.rpartition("@")[2]


@transaction.atomic
def signature_verify_by_domain(*, signature: Signature, at: datetime | None = None) -> bool:
    """Raise a confirmed signature to `domain` when its address's domain is a verified domain of its organization."""
    if signature.status != Signature.Status.CONFIRMED or signature.organization_id is None:
        return False
    if signature.verification_level not in (VerificationLevel.NONE, VerificationLevel.EMAIL):
        return False
    domain = email_domain(signature.email_key)
    if not OrganizationDomain.objects.filter(
        organization_id=signature.organization_id, domain=domain, verified=True
    ).exists():
        return False
    at = at or timezone.now()
    _signature_level_set(
        signature=signature,
        level=VerificationLevel.DOMAIN,
        method=VerificationRecord.Method.DOMAIN,
        evidence=f"Confirmed address at {domain}, a verified domain of the organization.",
        at=at,
    )
    return True


def _signature_level_set(
    *,
    signature: Signature,
    level: str,
    method: str,
    evidence: str,
    evidence_url: str = "",
    verifier: Any = None,
    at: datetime,
) -> VerificationRecord:
    before = signature_state(signature)
    record = VerificationRecord.objects.create(
        signature=signature,
        level=level,
        method=method,
        evidence=evidence,
        evidence_url=evidence_url,
        verifier=verifier if getattr(verifier, "pk", None) else None,
        verified_at=at,
    )
    signature.verification_level = level
    signature.verification = record
    signature.save(update_fields=["verification_level", "verification", "updated_at"])
    signature_event_record(
        signature=signature,
        kind=SignatureEvent.Kind.VERIFIED,
        before=before,
        actor=verifier,
        at=at,
        data={"level": level, "method": method},
    )
    return record

"""A signature brought in by an organizer's invitation, signed with one click (importing.invitations).

Imports of many rows go through letters.services.bulk_import, set-based. Event times are the time of signing (the
public record says when a signature entered the list).
"""

from datetime import datetime
from typing import Any

from django.db import transaction

from letters.models import Letter, Signature, VerificationLevel, VerificationRecord
from letters.services.events import signature_state
from letters.services.signing import signature_confirm, signature_create
from letters.services.verification import _signature_level_set, signature_reject
from registry.emails import email_normalize

# Holds an organizer's word does not lift: a famous name or mixed scripts still wait for staff (letters of 2023
# collected fake signatures of famous people through exactly such lists). A senior title is what they vouch for.
HOLDS_KEPT_WHEN_VOUCHED = (Signature.HoldReason.PROTECTED_NAME, Signature.HoldReason.MIXED_SCRIPT)


@transaction.atomic
def signature_create_invited(
    *,
    letter: Letter,
    name: str,
    email: str,
    title: str = "",
    organization_name: str = "",
    evidence: str,
    verifier: Any = None,
    at: datetime,
) -> tuple[Signature, str]:
    """An invitee signed with one click: confirmed at once (the emailed link proved the address) at level `invited`,
    backed by a verification record (method invited, the organizer who invited, the invitation as evidence).

    Returns the signature and "created", or the confirmed one and "already_signed". Works under embargo.

    A pending signature with the address was never confirmed, so nothing proved who typed it (anyone may sign with
    anyone's address); this link does. The invitee's own signature replaces it: the pending one is rejected, so a name
    somebody else put on the address never reaches the list under the invitee's proof."""
    _, key = email_normalize(email)
    existing = Signature.objects.filter(letter=letter, email_key=key, status__in=Signature.LIVE_STATUSES).first()
    if existing is not None and existing.status != Signature.Status.PENDING:
        return existing, "already_signed"
    if existing is not None:
        signature_reject(
            signature=existing,
            reason="Replaced by the signature the invited address's owner made with their invitation link.",
            actor=verifier,
            at=at,
        )
    result = signature_create(
        letter=letter,
        name=name,
        email=email,
        title=title,
        organization_name=organization_name,
        source=Signature.Source.INVITATION,
        send_email=False,
        check_rate_limits=False,
        allow_embargoed=True,
        at=at,
    )
    signature = signature_confirm(signature=result.signature, at=at)
    before = signature_state(signature)
    if signature.hold_reason not in HOLDS_KEPT_WHEN_VOUCHED:
        signature.hold_reason = ""
    _signature_level_set(
        signature=signature,
        before=before,
        level=VerificationLevel.INVITED,
        method=VerificationRecord.Method.INVITED,
        evidence=evidence,
        verifier=verifier,
        at=at,
    )
    return signature, "created"

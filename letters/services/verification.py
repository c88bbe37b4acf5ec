"""Verification of signatures: levels backed by records, holds for notable names and unproven senior titles,
manual verification, rejection and release. Every change goes through signature_event_record."""

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from letters.models import Signature, SignatureEvent, VerificationLevel, VerificationRecord
from letters.services.events import SignatureState, signature_event_record, signature_state
from letters.services.locking import signature_lock
from registry.audit import Actor, audit_log
from registry.models import OrganizationDomain, ProtectedName
from registry.normalize import is_mixed_script, person_name, skeleton
from registry.protected import protected_name_match


class VerificationError(Exception):
    """The signature is not in a state where this action applies."""


def email_domain(email_key: str) -> str:
    return email_key.rpartition("@")[2]


def _domain_proves_organization(signature: Signature) -> bool:
    if signature.organization_id is None or not signature.email_key:
        return False
    return OrganizationDomain.objects.filter(
        organization_id=signature.organization_id, domain=email_domain(signature.email_key), verified=True
    ).exists()


def _claims_senior_title(title: str) -> bool:
    words = skeleton(title)
    return any(re.search(rf"\b{re.escape(w)}\b", words) for w in settings.SENIOR_TITLE_WORDS)


def signature_hold_reason(*, signature: Signature) -> str:
    """Why a signature being confirmed must stay out of public view until reviewed ("" when it need not).

    A hold decided earlier (rate limiting at signing time) is kept. The signer is told nothing different.
    """
    if signature.hold_reason:
        return signature.hold_reason
    if protected_name_match(signature.name) is not None:
        return Signature.HoldReason.PROTECTED_NAME
    if is_mixed_script(signature.name):
        return Signature.HoldReason.MIXED_SCRIPT
    if signature.title and _claims_senior_title(signature.title) and not _domain_proves_organization(signature):
        return Signature.HoldReason.SENIOR_TITLE
    return ""


def protected_name_hold_existing(*, protected: ProtectedName, actor: Actor = None, at: datetime | None = None) -> int:
    """Hold visible signatures whose name matches `protected` (levels email and domain: not yet checked by a person)."""
    surname = person_name(protected.name).surname
    if not surname:
        return 0
    suspects = (
        Signature.objects.visible()
        .filter(verification_level__in=[VerificationLevel.EMAIL, VerificationLevel.DOMAIN])
        .filter(person__name_key__contains=surname)
        .only("pk", "name")
        .order_by("pk")  # signature_hold locks each: ascending id, the lock order among signatures
    )
    held = 0
    for signature in suspects:
        if protected_name_match(signature.name) == protected:
            signature_hold(signature=signature, reason=Signature.HoldReason.PROTECTED_NAME, actor=actor, at=at)
            held += 1
    return held


class ProtectedNameHolds:
    """registry.hooks.ProtectedNameParticipant: a new or changed protected name holds the public signatures it
    matches."""

    def protected_name_saved(self, *, protected: ProtectedName, actor: Actor, at: datetime) -> int:
        return protected_name_hold_existing(protected=protected, actor=actor, at=at)


@transaction.atomic(savepoint=False)  # called inside a confirmation: no savepoint of its own
def signature_verify_by_domain(*, signature: Signature, at: datetime | None = None) -> bool:
    """Raise a confirmed signature to `domain` when its address's domain is a verified domain of its organization."""
    if signature.status != Signature.Status.CONFIRMED:
        return False
    if signature.verification_level not in (VerificationLevel.NONE, VerificationLevel.EMAIL):
        return False
    if not _domain_proves_organization(signature):
        return False
    domain = email_domain(signature.email_key)
    _signature_level_set(
        signature=signature,
        before=signature_state(signature),
        level=VerificationLevel.DOMAIN,
        method=VerificationRecord.Method.DOMAIN,
        evidence=f"Confirmed address at {domain}, a verified domain of the organization.",
        at=at or timezone.now(),
    )
    return True


@transaction.atomic
def signature_verify_manual(
    *,
    signature: Signature,
    evidence: str,
    evidence_url: str = "",
    method: str = VerificationRecord.Method.MANUAL,
    verifier: Any = None,
    at: datetime | None = None,
) -> Signature:
    """An admin verified the identity with evidence; a hold is released (the signature becomes public)."""
    at = at or timezone.now()
    signature = signature_lock(pk=signature.pk)
    if signature.status != Signature.Status.CONFIRMED:
        raise VerificationError("Only confirmed signatures can be verified.")
    if not evidence.strip():
        raise VerificationError("Evidence is required.")
    level = VerificationLevel.INVITED if method == VerificationRecord.Method.INVITED else VerificationLevel.MANUAL
    before = signature_state(signature)
    signature.hold_reason = ""
    _signature_level_set(
        signature=signature,
        before=before,
        level=level,
        method=method,
        evidence=evidence.strip(),
        evidence_url=evidence_url,
        verifier=verifier,
        at=at,
    )
    return signature


@transaction.atomic
def signature_reject(
    *, signature: Signature, reason: str, public_reason: str = "", actor: Actor = None, at: datetime | None = None
) -> Signature:
    """Remove a signature from public view for good; the reason is private, `public_reason` appears in history."""
    at = at or timezone.now()
    signature = signature_lock(pk=signature.pk)
    if signature.status not in Signature.LIVE_STATUSES:
        raise VerificationError("Only pending or confirmed signatures can be rejected.")
    if not reason.strip():
        raise VerificationError("A reason is required.")
    before = signature_state(signature)
    signature.status = Signature.Status.REJECTED
    signature.rejected_at = at
    signature.rejection_reason = reason.strip()
    signature.public_removal_reason = public_reason.strip()
    signature.save()
    signature_event_record(
        signature=signature,
        kind=SignatureEvent.Kind.REJECTED,
        before=before,
        actor=actor,
        at=at,
        data={"public_reason": signature.public_removal_reason} if signature.public_removal_reason else None,
        audit_data={"reason": signature.rejection_reason},
    )
    return signature


@transaction.atomic
def signature_hold(
    *, signature: Signature, reason: str = Signature.HoldReason.ADMIN, actor: Actor = None, at: datetime | None = None
) -> Signature:
    signature = signature_lock(pk=signature.pk)
    if signature.hold_reason or signature.status not in Signature.LIVE_STATUSES:
        return signature
    before = signature_state(signature)
    signature.hold_reason = reason
    signature.save(update_fields=["hold_reason", "updated_at"])
    signature_event_record(
        signature=signature,
        kind=SignatureEvent.Kind.HELD,
        before=before,
        actor=actor,
        at=at,
        audit_data={"hold_reason": reason},
    )
    return signature


# Holds for a possible impersonation end with a verification (evidence kept) or a rejection, never a bare release:
# the README's promise that famous-looking names stay held until verified.
RELEASED_ONLY_BY_VERIFYING = (Signature.HoldReason.PROTECTED_NAME, Signature.HoldReason.MIXED_SCRIPT)


@transaction.atomic
def signature_release(*, signature: Signature, actor: Actor = None, at: datetime | None = None) -> Signature:
    """Lift a hold without raising the level (e.g. a rate-limited signature reviewed as genuine).

    A hold for a name like a protected person's, or of mixed scripts, is refused (VerificationError): verify it with
    evidence or reject it. A rate-limit hold was decided at signing time, before the checks of the name and title at
    confirmation (signature_hold_reason keeps an earlier hold): releasing it runs those checks, and a signature they
    hold stays held for their reason (audited) instead of going public."""
    signature = signature_lock(pk=signature.pk)
    if not signature.hold_reason:
        return signature
    if signature.hold_reason in RELEASED_ONLY_BY_VERIFYING:
        raise VerificationError(
            "A name held as a possible impersonation is not released as it is: verify the signer (with evidence) or "
            "reject the signature."
        )
    before = signature_state(signature)
    released = signature.hold_reason
    signature.hold_reason = ""
    if released == Signature.HoldReason.RATE_LIMITED and signature.status == Signature.Status.CONFIRMED:
        still = signature_hold_reason(signature=signature)
        if still:
            signature.hold_reason = still
            signature.save(update_fields=["hold_reason", "updated_at"])
            audit_log(
                action="letters.signature.hold_changed",
                target=signature,
                actor=actor,
                at=at,
                data={"released": released, "held": still},
            )
            return signature
    signature.save(update_fields=["hold_reason", "updated_at"])
    signature_event_record(
        signature=signature,
        kind=SignatureEvent.Kind.RELEASED,
        before=before,
        actor=actor,
        at=at,
        audit_data={"released": released},
    )
    return signature


def _signature_level_set(
    *,
    signature: Signature,
    before: SignatureState,
    level: str,
    method: str,
    evidence: str,
    evidence_url: str = "",
    verifier: Any = None,
    at: datetime,
) -> VerificationRecord:
    """Create the record and raise the level in one step, so a level without its record cannot exist.

    `before` is the state captured before the caller changed anything (a released hold, say)."""
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
    signature.save(update_fields=["verification_level", "verification", "hold_reason", "updated_at"])
    signature_event_record(
        signature=signature,
        kind=SignatureEvent.Kind.VERIFIED,
        before=before,
        actor=verifier,
        at=at,
        data={"level": level, "method": method},
    )
    return record

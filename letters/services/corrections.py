"""Correcting what a signer typed (a typo fixed by an admin, or at the signer's request).

A correction is an event, not a rewrite of the past: the event keeps what the public saw before it, so as-of lists
and exports (letters.history) show the old text for instants before the correction. Whether a name is shown is the
signer's choice and is not corrected here.
"""

from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from letters.models import Signature, SignatureEvent
from letters.services.events import signature_event_record, signature_state
from letters.services.locking import signature_lock
from letters.typed_text import clean_line
from registry.audit import Actor
from registry.services import organization_link

CORRECTABLE = ("name", "title", "organization_name")


class CorrectionError(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def signature_correct(
    *, signature: Signature, changes: Mapping[str, str], reason: str, actor: Actor = None, at: datetime | None = None
) -> Signature:
    """Apply corrections to name, title or organization text; each is checked by the signing rules (letters.typed_text).

    Locks the signature (letters.services.locking). The event's public data holds only what the public could see
    before (a withheld name is never written there); the audit row holds the reason and the raw old values.
    """
    cleaned, errors = correction_errors(changes, reason)
    if errors:
        raise CorrectionError(errors)
    return _apply(signature=signature, cleaned=cleaned, reason=reason.strip(), actor=actor, at=at or timezone.now())


def correction_errors(changes: Mapping[str, str], reason: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The cleaned values and the errors per field (empty when the correction may be applied)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for field, value in changes.items():
        if field not in CORRECTABLE:
            errors[field] = ["This field cannot be corrected."]
            continue
        try:
            cleaned[field] = clean_line(value, required=field == "name")
        except ValidationError as exc:
            errors[field] = list(exc.messages)
    if not (reason or "").strip():
        errors["reason"] = ["Say why the signature is corrected."]
    return cleaned, errors


@transaction.atomic
def _apply(*, signature: Signature, cleaned: dict[str, str], reason: str, actor: Actor, at: datetime) -> Signature:
    signature = signature_lock(pk=signature.pk, related=("organization",))
    changed = {field: value for field, value in cleaned.items() if getattr(signature, field) != value}
    if not changed:
        return signature
    before = signature_state(signature)
    seen = {"organization_name": signature.organization_name}
    if signature.name_shown:
        seen.update(name=signature.name, title=signature.title)
    old = {field: getattr(signature, field) for field in changed}
    for field, value in changed.items():
        setattr(signature, field, value)
    fields = [*changed, "updated_at"]
    if "organization_name" in changed and signature.status == Signature.Status.CONFIRMED:
        signature.organization = (
            organization_link(name=signature.organization_name) if signature.organization_name else None
        )
        fields.append("organization")
    signature.save(update_fields=fields)
    signature_event_record(
        signature=signature,
        kind=SignatureEvent.Kind.CORRECTED,
        before=before,
        actor=actor,
        at=at,
        data={"before": seen},
        audit_data={"reason": reason, "from": old, "to": changed},
    )
    return signature

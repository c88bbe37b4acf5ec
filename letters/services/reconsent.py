"""Re-consent after a material version: ask every visible signer of an earlier version, bind those who agree.

- `reconsent_requests_send` (a task, after the version's commit) writes one outbox email per visible signature of
  an earlier version, in batches of `BATCH_SIZE` each in its own short transaction (never one transaction over
  every signer, which would hold their rows while people sign). It is safe to run twice: a signature that already
  has a request about this version is skipped. The per-signature email cap applies (`outbox_enqueue`); a capped
  signer is counted in the audit row and can still re-consent from any later email or withdraw.
  A newer material version supersedes the run: it stops and the newer version's run asks everyone.
- `signature_reconsent` binds the signature to the letter's current version (the text the re-consent page showed),
  with a history event and audit row; withdrawing goes through `signature_withdraw` as always.
- A signature confirmed after the material version but signed on an earlier one is asked when it is confirmed
  (`signature_reconsent_request_on_confirm`, called by `signature_confirm`).
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from letters.models import Letter, LetterVersion, OutboxMessage, Signature, SignatureEvent, SignatureToken
from letters.services.events import signature_event_record, signature_state
from letters.services.locking import signature_lock, signatures_lock
from letters.services.outbox import outbox_enqueue, outbox_message_build, outbox_send_after_commit
from letters.services.tokens import TokenInvalid, token_peek, token_use
from registry.audit import Actor, audit_log

BATCH_SIZE = 200


class ReconsentNotNeeded(TokenInvalid):
    """The signature behind a valid link is withdrawn, not confirmed, or already bound to the current version."""


def reconsent_requests_send(*, version_id: int, batch_size: int = BATCH_SIZE) -> int:
    """Write the re-consent emails of a material version, batch by batch; the number written by this call."""
    version = LetterVersion.objects.select_related("letter").filter(pk=version_id).first()
    if version is None or version.kind != LetterVersion.Kind.MATERIAL:
        return 0
    written, after_id = 0, 0
    while True:
        latest = Letter.objects.filter(pk=version.letter_id).values_list("material_version_number", flat=True).first()
        if latest != version.number:
            break  # superseded by a newer material version, whose own run asks everyone
        ids = list(
            _unasked(version=version).filter(pk__gt=after_id).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        written += _batch_send(version=version, ids=ids)
        after_id = ids[-1]
    return written


def _unasked(*, version: LetterVersion) -> QuerySet[Signature]:
    """Visible signatures of versions before `version` without a request about it."""
    earlier = LetterVersion.objects.filter(letter_id=version.letter_id, number__lt=version.number).values_list(
        "pk", flat=True
    )
    asked = OutboxMessage.objects.filter(signature=OuterRef("pk"), kind=OutboxMessage.Kind.RECONSENT, version=version)
    return (
        Signature.objects.visible()
        .filter(letter_id=version.letter_id, version_id__in=list(earlier))
        .filter(~Exists(asked))
    )


@transaction.atomic
def _batch_send(*, version: LetterVersion, ids: list[int]) -> int:
    """One batch: lock its signatures (ascending id), re-check them under the lock, and write their emails in two
    statements (the per-signature email count, then the outbox rows); audited. Signatures at the email cap are
    counted, not emailed (the same rule as outbox_enqueue, checked on the locked rows)."""
    locked = signatures_lock(_unasked(version=version).filter(pk__in=ids).only("pk", "email", "emails_sent"))
    room = [s for s in locked if s.emails_sent < settings.SIGNATURE_MAX_EMAILS]
    Signature.objects.filter(pk__in=[s.pk for s in room]).update(emails_sent=F("emails_sent") + 1)
    messages = []
    for signature in room:
        signature.emails_sent += 1
        message = outbox_message_build(signature=signature, kind=OutboxMessage.Kind.RECONSENT)
        message.version = version
        messages.append(message)
    OutboxMessage.objects.bulk_create(messages)
    for message in messages:
        outbox_send_after_commit(message.pk)
    written, capped = len(messages), len(locked) - len(messages)
    if locked:
        audit_log(
            action="letters.letter.reconsent_requested",
            target=version.letter,
            data={"version": version.number, "emails": written, "at_email_cap": capped, "first_id": locked[0].pk},
        )
    return written


def signature_reconsent_request_on_confirm(*, signature: Signature) -> OutboxMessage | None:
    """Ask a signature just confirmed on a version older than the letter's latest material one. Call inside the
    confirming transaction, holding the signature's lock, with `signature.letter` and `.version` loaded."""
    letter = signature.letter
    if not signature.is_visible or signature.version.number >= letter.material_version_number:
        return None
    version = LetterVersion.objects.filter(letter=letter, number=letter.material_version_number).first()
    if version is None:
        return None
    return outbox_enqueue(signature=signature, kind=OutboxMessage.Kind.RECONSENT, version=version)


@transaction.atomic
def signature_reconsent(*, signature: Signature, actor: Actor = None, at: datetime | None = None) -> Signature:
    """Bind a confirmed signature of an earlier version to the letter's current version. Locks the signature row.

    Raises ReconsentNotNeeded when it is not confirmed (withdrawn, rejected, merged, pending) or already current."""
    at = at or timezone.now()
    signature = signature_lock(pk=signature.pk, related=("letter", "version"))
    letter = signature.letter
    current = letter.current_version
    if (
        signature.status != Signature.Status.CONFIRMED
        or current is None
        or signature.version.number >= current.number
        or letter.status == Letter.Status.CLOSED
    ):
        raise ReconsentNotNeeded
    before = signature_state(signature)
    previous = signature.version.number
    signature.version = current
    signature.save(update_fields=["version", "updated_at"])
    signature_event_record(
        signature=signature,
        kind=SignatureEvent.Kind.RECONSENTED,
        before=before,
        actor=actor,
        at=at,
        data={"from_version": previous, "to_version": current.number},
    )
    return signature


@transaction.atomic
def signature_reconsent_by_token(*, token: str, at: datetime | None = None) -> Signature:
    """Re-consent from an email link; TokenInvalid (one message) for anything wrong."""
    used = token_use(token=token, purpose=SignatureToken.Purpose.RECONSENT, at=at)
    return signature_reconsent(signature=used.signature, at=at)


def reconsent_token_signature(*, token: str) -> Signature | None:
    """The signature a re-consent link is for, without using the link (the page shows what will be signed)."""
    return token_peek(token=token, purpose=SignatureToken.Purpose.RECONSENT)


def reconsent_requests_due() -> int:
    """Beat: run `reconsent_requests_send` for each letter's latest material version that still has signers to ask
    (the enqueue after commit was lost, or a run stopped midway); a run with nothing left writes nothing."""
    written = 0
    for letter in Letter.objects.filter(material_version_number__gt=1).exclude(status=Letter.Status.CLOSED):
        version = LetterVersion.objects.filter(letter=letter, number=letter.material_version_number).first()
        if version is not None and _unasked(version=version).exists():
            written += reconsent_requests_send(version_id=version.pk)
    return written

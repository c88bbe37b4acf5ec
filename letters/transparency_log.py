"""What letters writes to the transparency log, and the batch that writes it.

Database triggers (migration letters/0018) put a `LogQueue` row in the same transaction as every SignatureEvent that
touches the public list and every LetterVersion, so a late-committed change is never skipped: the batch takes the
queue in id order while holding the log's lock, appends one entry per public change and deletes the rows it logged.
Nothing of this runs on a request.

Entries are compact JSON (keys sorted), one of:
- `{"t":"version","letter":slug,"number":n,"sha256":hex,"at":iso}` — a version of the text was published;
- `{"t":"entered","letter":slug,"id":public id,"version":sha256 of its text,"level":..,"org":..,"withheld":bool,
  "name":hex SHA-256(salt ‖ name),"at":iso}` — a signature entered the public list;
- `{"t":"changed",…same fields as entered but version}` — its level, organization or name changed while public;
- `{"t":"left","letter":slug,"id":public id,"reason":code,"at":iso}` — it left the public list;
- `{"t":"invalidation","letter":slug,"id":invalidation id,"criteria":sha256 of its criteria,"count":n,"at":iso}` — a
  moderator's bulk invalidation finished, having removed n signatures (each also logged as `left`, reason
  `rejected`), and `{"t":"invalidation_undone",…,"count":n restored}` when it was undone (moderation.log writes
  these, through the same log).

`org` is the count key of the shown organization (letters.presentation.organization_key). Never an email, an IP or
a raw name: the name is a salted commitment whose salt (SignatureCommitment) is published with the public list and
deleted when the signer is erased.
"""

import base64
import hashlib
import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef

from letters.models import (
    Letter,
    LetterVersion,
    LogQueue,
    OutboxMessage,
    Signature,
    SignatureCommitment,
    SignatureEvent,
)
from transparency import services as log
from transparency.selectors import checkpoint_latest, entry_proof

BATCH = 2000
LEFT_REASONS = {
    SignatureEvent.Kind.WITHDRAWN: "withdrawn",
    SignatureEvent.Kind.REJECTED: "rejected",
    SignatureEvent.Kind.MERGED: "merged",
    SignatureEvent.Kind.HELD: "held",
}
UNLOGGED_COUNT_CAP = 10_000  # log_unlogged_changes counts up to this many (it means "at least" when it says so)


def entry_encode(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def name_commitment(salt: bytes, name: str) -> str:
    return hashlib.sha256(salt + name.encode()).hexdigest()


def entry_time(moment: datetime) -> str:
    """An entry's `at`: UTC, ISO 8601 with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _signature_entry(kind: str, event: SignatureEvent, salt: bytes | None) -> dict[str, Any]:
    signature = event.signature
    entry = {
        "t": kind,
        "letter": event.letter.slug,
        "id": signature.public_id,
        "level": event.level_after,
        "org": event.organization_after or "",
        "withheld": not signature.name_shown,
        "name": None if salt is None else name_commitment(salt, signature.name),
        "at": entry_time(event.at),
    }
    if kind == "entered":
        entry["version"] = signature.version.sha256
    return entry


def _event_entry(event: SignatureEvent, salts: dict[int, SignatureCommitment]) -> tuple[str, dict[str, Any]] | None:
    """The entry of a queued event (and its kind), or None when the public saw nothing change."""
    if event.visible_before and not event.visible_after:
        reason = LEFT_REASONS.get(event.kind, "removed")  # type: ignore[call-overload]
        return "left", {"t": "left", "letter": event.letter.slug, "id": event.signature.public_id, "reason": reason,
                        "at": entry_time(event.at)}  # fmt: skip
    commitment = salts[event.signature_id]
    # Erased before it was logged: the count still moves, but no commitment to the name is made.
    salt = None if commitment.salt is None else bytes(commitment.salt)
    if event.visible_after and not event.visible_before:
        return "entered", _signature_entry("entered", event, salt)
    if event.visible_before and event.visible_after:
        changed = (
            event.level_before != event.level_after
            or event.organization_before != event.organization_after
            or event.kind == SignatureEvent.Kind.CORRECTED
        )
        return ("changed", _signature_entry("changed", event, salt)) if changed else None
    return None


def _commitments(signature_ids: Iterable[int]) -> dict[int, SignatureCommitment]:
    ids = set(signature_ids)
    existing = {c.signature_id: c for c in SignatureCommitment.objects.filter(signature_id__in=ids)}
    missing = [SignatureCommitment(signature_id=i, salt=secrets.token_bytes(16)) for i in ids - existing.keys()]
    SignatureCommitment.objects.bulk_create(missing)
    return {**existing, **{c.signature_id: c for c in missing}}


@transaction.atomic
def transparency_log_append(*, limit: int = BATCH) -> int:
    """Log up to `limit` queued public changes in queue order; returns how many queue rows were consumed.

    Holds the log's lock (transparency.services.log_lock) before reading the queue, so two batches never log one
    change twice. Changes to letters not yet published wait in the queue.
    """
    log.log_lock()
    # Changes to letters not yet public (drafts, scheduled letters signed under embargo) wait for publication.
    unpublished = Letter.objects.exclude(pk__in=Letter.objects.published().values("pk")).values("pk")
    queued = list(
        LogQueue.objects.exclude(event_id__in=SignatureEvent.objects.filter(letter__in=unpublished).values("pk"))
        .exclude(version_id__in=LetterVersion.objects.filter(letter__in=unpublished).values("pk"))
        .order_by("id")[:limit]
    )
    if not queued:
        return 0
    events = {
        e.pk: e
        for e in SignatureEvent.objects.filter(pk__in=[q.event_id for q in queued if q.event_id]).select_related(
            "letter", "signature__version"
        )
    }
    versions = {
        v.pk: v
        for v in LetterVersion.objects.filter(pk__in=[q.version_id for q in queued if q.version_id]).select_related(
            "letter"
        )
    }
    salts = _commitments(e.signature_id for e in events.values() if e.visible_after)
    entries: list[bytes] = []
    entered: dict[int, int] = {}  # signature id → position in `entries`
    done: list[int] = []
    for row in queued:
        if row.version_id is not None:
            version = versions.get(row.version_id)
            if version is not None:
                entry = {"t": "version", "letter": version.letter.slug, "number": version.number,
                         "sha256": version.sha256, "at": entry_time(version.published_at)}  # fmt: skip
                entries.append(entry_encode(entry))
        elif (event := events.get(row.event_id or 0)) is not None and (made := _event_entry(event, salts)) is not None:
            kind, entry = made
            if kind == "entered":
                entered[event.signature_id] = len(entries)
            entries.append(entry_encode(entry))
        done.append(row.pk)
    first = log.entries_append(entries=entries) if entries else 0
    for signature_id, position in entered.items():
        SignatureCommitment.objects.filter(signature_id=signature_id).update(entered_index=first + position)
    LogQueue.objects.filter(pk__in=done).delete()
    return len(done)


def receipts_enqueue(old_size: int, new_size: int) -> None:
    """A checkpoint listener (transparency.hooks): in the transaction that stores the checkpoint first covering log
    entries `old_size`…`new_size - 1`, email each signer whose signature entered the public list there their receipt,
    once per signature (within the five emails a signature may get). Written with the checkpoint, the email always
    carries a proof that verifies against a published checkpoint."""
    from letters.services.outbox import outbox_enqueue

    entered = SignatureCommitment.objects.filter(entered_index__gte=old_size, entered_index__lt=new_size)
    signatures = (
        Signature.objects.filter(Signature.VISIBLE, pk__in=entered.values("signature_id"))  # not one removed since
        .exclude(email="")
        # NOT EXISTS, not NOT IN: an erased signer's rows keep a NULL signature, which would make NOT IN match nothing.
        .exclude(Exists(OutboxMessage.objects.filter(signature=OuterRef("pk"), kind=OutboxMessage.Kind.RECEIPT)))
        .order_by("pk")
    )
    for signature in signatures:
        outbox_enqueue(signature=signature, kind=OutboxMessage.Kind.RECEIPT)


def transparency_log_batch() -> int:
    """One batch: the producer letters registers with transparency.hooks."""
    return transparency_log_append()


def transparency_log_drain() -> int:
    """Drain the queue in batches, without checkpointing (tests, scripts)."""
    total = 0
    while consumed := transparency_log_append():
        total += consumed
        if consumed < BATCH:
            break
    return total


def signature_salt_erase(*, signature: Signature) -> None:
    """Forget the salt of `signature`'s name commitment: the logged leaf stays, the name can no longer be proved."""
    SignatureCommitment.objects.filter(signature=signature).update(salt=None)


def transparency_log_soon() -> None:
    """With TRANSPARENCY_SYNC_ON_COMMIT (development without beat: `make run`), log and checkpoint right after the
    caller's transaction commits; otherwise beat does it within TRANSPARENCY_CHECKPOINT_EVERY_SECONDS."""
    if settings.TRANSPARENCY_SYNC_ON_COMMIT:
        transaction.on_commit(log.log_sync)


def signature_receipt_context(*, signature: Signature) -> dict[str, Any]:
    """What the receipt email shows: the receipt's URL, the receipt itself once checkpointed, the salt."""
    salt = SignatureCommitment.objects.filter(signature=signature).values_list("salt", flat=True).first()
    return {
        "receipt_url": f"{settings.SITE_URL}/letters/{signature.letter.slug}/receipts/{signature.public_id}.tlog-proof",
        "receipt": signature_receipt(signature=signature) or "",
        "name_salt": bytes(salt).hex() if salt else "",
    }


def signature_receipt(*, signature: Signature) -> str | None:
    """The signer's receipt: a tlog-proof that the log holds the entry of `signature` entering the public list
    (None until that entry is logged and checkpointed)."""
    index = SignatureCommitment.objects.filter(signature=signature).values_list("entered_index", flat=True).first()
    return None if index is None else entry_proof(index=index)


def transparency_log_position(letter: Letter | None = None) -> dict[str, Any]:
    """Which checkpoint an answer corresponds to: the latest tree (size, base64 root) and how many public changes
    (of `letter`, when given: what its answer shows) were still waiting to be logged when it was read (0: everything
    the answer shows is in that tree), counted up to UNLOGGED_COUNT_CAP: every stats read and letter page asks, and
    a queue that grew while the log was stopped must not make each of them count a million rows. Another letter's
    changes, an unpublished one's above all, are neither counted nor hinted at."""
    checkpoint = checkpoint_latest()
    queued = LogQueue.objects.all()
    if letter is not None:
        queued = queued.filter(
            Exists(SignatureEvent.objects.filter(pk=OuterRef("event_id"), letter_id=letter.pk))
            | Exists(LetterVersion.objects.filter(pk=OuterRef("version_id"), letter_id=letter.pk))
        )
    return {
        "log_tree_size": checkpoint.size if checkpoint else None,
        "log_root_hash": base64.b64encode(bytes(checkpoint.root)).decode() if checkpoint else None,
        "log_unlogged_changes": queued[:UNLOGGED_COUNT_CAP].count(),
    }

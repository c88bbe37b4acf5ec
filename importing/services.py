"""Imports: upload and preview, mapping, start in a chosen mode, run in resumable batches, discard, undo.

Lock order (docs/architecture.md): the import's own row first, then what letters' services lock for each row (the
signature, its tokens and outbox rows, people, organizations). One batch is one transaction: its signatures, their
import rows and the import's watermark (`rows_done`) commit together, so a worker killed mid-batch leaves nothing
half-done and the next run starts again at the first row not committed. The unique (import, row number) and the
letter's one live signature per address make a second run of the same rows, or a second upload of the same file,
create nothing twice.
"""

import gc
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from importing.checked import CheckedRow, checked_encode, checked_lines, checked_parse, checked_summary
from importing.files import FileRefused, Limits, Table, table_read
from importing.invitations import signer_invitation_create
from importing.mapping import MappingInvalid, mapping_check, mapping_guess
from importing.models import SignatureImport, SignatureImportRow, SignerInvitation
from importing.pacing import Pacer
from importing.preview import Preview, RowStatus, preview_build, row_check
from letters.models import Letter, Signature
from letters.services.bulk_import import ImportedSigner, SignerPrepared, signatures_import_bulk, signers_prepare
from letters.services.signing import accepts_signatures, not_accepting_message
from letters.services.sweeps import signatures_reject_bulk
from registry.audit import Actor, actor_user, audit_log
from registry.bulk import values_insert
from registry.duplicate_scans import dedup_scan_start
from registry.protected import protected_name_matcher

BATCH_ROWS = 2500
UNDO_BATCH = 1000
UNDO_REASON = "The organizers undid the import this signature came from."


class ImportNotAllowed(Exception):
    """The import is not in a state where this applies; `message` says why (a 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Uploaded:
    signature_import: SignatureImport
    preview: Preview | None  # None while the mapping is incomplete
    mapping_errors: dict[str, list[str]]


# A stored file passed the limits when it was uploaded: limits lowered since must not make it unreadable (every view
# of the import, and its job, read it again).
STORED_FILE_LIMITS = Limits(
    max_bytes=sys.maxsize,
    max_rows=sys.maxsize,
    max_cell_chars=sys.maxsize,
    max_xlsx_uncompressed_bytes=sys.maxsize,
    max_columns=sys.maxsize,
)


def import_table(signature_import: SignatureImport) -> Table:
    """The import's stored file read again; ImportNotAllowed (a 409, not a 500) should the rules of reading have
    changed since so that it is refused now."""
    try:
        return table_read(
            data=bytes(signature_import.content), filename=signature_import.filename, limits=STORED_FILE_LIMITS
        )
    except FileRefused as exc:
        raise ImportNotAllowed(
            f"The file of this import can no longer be read ({exc.message}): discard it and upload it again."
        ) from exc


def _preview(signature_import: SignatureImport, table: Table) -> tuple[Preview | None, dict[str, list[str]]]:
    try:
        mapping = mapping_check(signature_import.mapping, table.headers)
    except MappingInvalid as exc:
        return None, exc.errors
    return preview_build(letter=signature_import.letter, table=table, mapping=mapping), {}


@transaction.atomic
def import_upload(
    *, letter: Letter, data: bytes, filename: str, actor: Actor, mapping: dict[str, int] | None = None
) -> Uploaded:
    """Read the file (refused with {"file": [...]} when it cannot be imported; nothing stored then), guess or check
    the mapping, and keep the upload as an import in preview, with the preview's counts. A guessed mapping may be
    incomplete (the organizer completes it); one given that cannot be used is refused, as by import_mapping_set."""
    try:
        table = table_read(data=data, filename=filename)
    except FileRefused as exc:
        raise ValidationError({"file": [exc.message]}) from exc
    if mapping is not None:
        try:
            mapping = mapping_check(mapping, table.headers)
        except MappingInvalid as exc:
            raise ValidationError(exc.errors) from exc
    signature_import = SignatureImport(
        letter=letter,
        created_by=actor_user(actor),
        filename=filename[:255] or "upload",
        sha256=table.sha256,
        size_bytes=len(data),
        content=data,
        mapping=mapping if mapping is not None else mapping_guess(table.headers),
        rows_total=len(table.rows),
    )
    preview, errors = _preview(signature_import, table)
    signature_import.summary = preview.summary if preview else {}
    signature_import.checked = checked_encode(preview.rows) if preview else b""
    signature_import.save(force_insert=True)
    audit_log(
        action="importing.import.uploaded",
        target=signature_import,
        actor=actor,
        data={
            "letter": letter.slug,
            "filename": signature_import.filename,
            "sha256": table.sha256,
            "rows": len(table.rows),
        },
    )
    return Uploaded(signature_import=signature_import, preview=preview, mapping_errors=errors)


def import_preview(*, signature_import: SignatureImport) -> Uploaded:
    """The preview as it stands now (the letter and registry may have changed since the upload). Reads only."""
    if not signature_import.content:
        return Uploaded(signature_import=signature_import, preview=None, mapping_errors={})
    preview, errors = _preview(signature_import, import_table(signature_import))
    return Uploaded(signature_import=signature_import, preview=preview, mapping_errors=errors)


def _lock(signature_import: SignatureImport) -> SignatureImport:
    return (
        SignatureImport.objects.select_for_update(of=("self",), no_key=True)
        .select_related("letter")
        .get(pk=signature_import.pk)
    )


@transaction.atomic
def import_mapping_set(*, signature_import: SignatureImport, mapping: dict[str, Any], actor: Actor) -> Uploaded:
    """Change the column mapping of an import still in preview; a bad mapping is refused with field errors."""
    signature_import = _lock(signature_import)
    if signature_import.status != SignatureImport.Status.PREVIEW:
        raise ImportNotAllowed("This import has started; its mapping can no longer change.")
    table = import_table(signature_import)
    try:
        checked = mapping_check(mapping, table.headers)
    except MappingInvalid as exc:
        raise ValidationError(exc.errors) from exc
    before = signature_import.mapping
    signature_import.mapping = checked
    preview, errors = _preview(signature_import, table)
    signature_import.summary = preview.summary if preview else {}
    signature_import.checked = checked_encode(preview.rows) if preview else b""
    signature_import.save(update_fields=["mapping", "summary", "checked"])
    audit_log(
        action="importing.import.mapping_changed",
        target=signature_import,
        actor=actor,
        data={"from": before, "to": checked},
    )
    return Uploaded(signature_import=signature_import, preview=preview, mapping_errors=errors)


@transaction.atomic
def import_start(
    *, signature_import: SignatureImport, mode: str, actor: Actor, at: datetime | None = None
) -> SignatureImport:
    """Queue the import in the mode the organizer chose explicitly; the job runs after commit."""
    at = at or timezone.now()
    if mode not in SignatureImport.Mode.values:
        raise ValidationError({"mode": ["Choose how the signers are confirmed: “confirm” (by email) or “vouched”."]})
    signature_import = _lock(signature_import)
    if signature_import.status != SignatureImport.Status.PREVIEW:
        raise ImportNotAllowed("This import has already started.")
    letter = signature_import.letter
    if not accepts_signatures(letter, allow_embargoed=True):  # as invited signers: open, or scheduled to open
        raise ImportNotAllowed(not_accepting_message(letter.status))
    if signature_import.checked:  # the rows as the upload checked them, with who has signed since looked up again
        summary = checked_summary(letter=signature_import.letter, lines=checked_lines(signature_import.checked))
    else:
        preview, errors = _preview(signature_import, import_table(signature_import))
        if preview is None:
            raise ValidationError(errors)
        summary = preview.summary
    if not summary[RowStatus.NEW]:
        raise ImportNotAllowed("No row of this file would add a signature.")
    signature_import.mode = mode
    signature_import.status = SignatureImport.Status.QUEUED
    signature_import.summary = summary
    signature_import.heartbeat_at = at
    signature_import.save(update_fields=["mode", "status", "summary", "heartbeat_at"])
    audit_log(
        action="importing.import.started",
        target=signature_import,
        actor=actor,
        at=at,
        data={"mode": mode, "summary": summary},
    )
    import_id = signature_import.pk
    transaction.on_commit(lambda: _enqueue(import_id))
    return signature_import


def _enqueue(import_id: int) -> None:
    from importing import tasks  # tasks import this module

    tasks.import_run.delay(import_id)


@transaction.atomic
def import_discard(*, signature_import: SignatureImport, actor: Actor) -> SignatureImport:
    """Drop an import still in preview (and its stored file)."""
    signature_import = _lock(signature_import)
    if signature_import.status != SignatureImport.Status.PREVIEW:
        raise ImportNotAllowed("Only an import in preview can be discarded.")
    signature_import.status = SignatureImport.Status.DISCARDED
    signature_import.content = b""
    signature_import.save(update_fields=["status", "content"])
    audit_log(action="importing.import.discarded", target=signature_import, actor=actor)
    return signature_import


def _evidence(signature_import: SignatureImport, number: int) -> str:
    return (
        f"Import {signature_import.public_id}: row {number} of “{signature_import.filename}” "
        f"(sha256 {signature_import.sha256}), vouched for by the organizer who ran it."
    )


def import_run_batch(
    *,
    signature_import_id: int,
    table: Table | None = None,
    lines: list[bytes] | None = None,
    batch_rows: int = BATCH_ROWS,
    at: datetime | None = None,
) -> bool:
    """Process the next batch of rows in one transaction. Returns True while rows remain.

    The rows are those the upload checked (importing.checked; `lines` when the caller has them decompressed), or for
    an import without them the file checked again (`table`). Safe to run twice or concurrently: the import row is
    locked for the batch, and rows already committed are skipped by the watermark (and by the unique import row,
    should the watermark ever lag)."""
    more, _ = _batch_run(
        signature_import_id=signature_import_id, table=table, lines=lines, batch_rows=batch_rows, at=at
    )
    return more


@dataclass
class _Prepared:
    """A batch's stored rows parsed and its signers prepared: Python that reads nothing from the database."""

    start: int
    rows: list[CheckedRow]
    signers: dict[int, ImportedSigner]  # by row number, the rows not invalid
    prepared: dict[int, SignerPrepared]


def _batch_prepare(
    *,
    signature_import: SignatureImport,
    lines: list[bytes],
    start: int,
    batch_rows: int,
    protected: Callable[[str], object] | None,
) -> _Prepared:
    """Touches only fields of `signature_import` already loaded (mode, public id, file name, sha256), so that it
    may run in another thread."""
    rows = checked_parse(lines[start : start + batch_rows])
    signers = {row.number: _signer(signature_import, row) for row in rows if row.status != RowStatus.INVALID}
    prepared = (
        {}
        if signature_import.mode == SignatureImport.Mode.INVITE
        else signers_prepare(
            signers=list(signers.values()),
            vouched=signature_import.mode == SignatureImport.Mode.VOUCHED,
            protected=protected,
        )
    )
    return _Prepared(start=start, rows=rows, signers=signers, prepared=prepared)


def _batch_run(
    *,
    signature_import_id: int,
    table: Table | None = None,
    lines: list[bytes] | None = None,
    batch_rows: int = BATCH_ROWS,
    at: datetime | None = None,
    ahead: "Future[_Prepared] | None" = None,
    pool: ThreadPoolExecutor | None = None,
) -> tuple[bool, "Future[_Prepared] | None"]:
    """`import_run_batch`, and with a `pool` the next batch's `_batch_prepare` submitted to it, to run while this
    batch waits on the database; `ahead` is this batch's, used when it starts where this one does (else redone)."""
    with transaction.atomic():
        signature_import = (
            SignatureImport.objects.select_for_update(of=("self",), no_key=True)
            .select_related("letter", "created_by")
            .defer("content", "checked")
            .get(pk=signature_import_id)
        )
        if signature_import.status not in (SignatureImport.Status.QUEUED, SignatureImport.Status.RUNNING):
            return False, None
        at = at or timezone.now()
        if signature_import.status == SignatureImport.Status.QUEUED:
            signature_import.status = SignatureImport.Status.RUNNING
            signature_import.started_at = at
        if lines is None and table is None:
            lines = (
                checked_lines(SignatureImport.objects.values_list("checked", flat=True).get(pk=signature_import_id))
                or None
            )
        start = signature_import.rows_done
        following: Future[_Prepared] | None = None
        prepared: _Prepared | None = None
        if lines is not None:
            total = len(lines)
            protected = protected_name_matcher() if signature_import.mode == SignatureImport.Mode.VOUCHED else None
            prepared = ahead.result() if ahead is not None else None
            if prepared is None or prepared.start != start:
                prepared = _batch_prepare(
                    signature_import=signature_import,
                    lines=lines,
                    start=start,
                    batch_rows=batch_rows,
                    protected=protected,
                )
            if pool is not None and start + batch_rows < total:
                following = pool.submit(
                    _batch_prepare,
                    signature_import=signature_import,
                    lines=lines,
                    start=start + batch_rows,
                    batch_rows=batch_rows,
                    protected=protected,
                )
            rows = prepared.rows
        else:
            table = table or import_table(signature_import)
            total = len(table.rows)
            rows = _rows_checked(table=table, start=start, count=batch_rows, mapping=signature_import.mapping, at=at)
        done_before = (  # numbers grow in file order: the batch's rows are those in its range
            set(
                SignatureImportRow.objects.filter(
                    signature_import=signature_import, number__gte=rows[0].number, number__lte=rows[-1].number
                ).values_list("number", flat=True)
            )
            if rows
            else set()
        )
        signers = []
        for row in rows:
            if row.number in done_before:
                continue
            if row.status == RowStatus.INVALID:
                signature_import.rows_skipped += 1
            else:
                signers.append(prepared.signers[row.number] if prepared else _signer(signature_import, row))
        outcomes = _rows_write(
            signature_import=signature_import,
            signers=signers,
            at=at,
            prepared=prepared.prepared if prepared else None,
        )
        made = [
            {
                "signature_import_id": signature_import.pk,
                "number": number,
                "signature_id": signature_id,
                "outcome": outcome,
            }
            for number, (signature_id, outcome) in outcomes.items()
        ]
        for _, outcome in outcomes.values():
            if outcome in (SignatureImportRow.Outcome.CREATED, SignatureImportRow.Outcome.INVITED):
                signature_import.rows_created += 1
            else:
                signature_import.rows_skipped += 1
        values_insert(SignatureImportRow, made)
        signature_import.rows_done = start + len(rows)
        signature_import.heartbeat_at = at
        changed = ["status", "started_at", "rows_done", "rows_created", "rows_skipped", "heartbeat_at"]
        more = signature_import.rows_done < total
        if not more:
            signature_import.status = SignatureImport.Status.DONE
            signature_import.finished_at = at
            signature_import.content = b""
            signature_import.checked = b""
            changed += ["finished_at", "content", "checked"]
            if signature_import.mode == SignatureImport.Mode.VOUCHED and signature_import.rows_created:
                # People were created without a confirmation (which checks each one): one registry scan finds their
                # duplicates, as every signer-by-signer check would.
                dedup_scan_start(actor=signature_import.created_by)
            audit_log(
                action="importing.import.finished",
                target=signature_import,
                actor=signature_import.created_by,
                at=at,
                data={"created": signature_import.rows_created, "skipped": signature_import.rows_skipped},
            )
        signature_import.save(update_fields=changed)  # not the file, read by every batch and written by none
        return more, following if more else None


def _rows_checked(*, table: Table, start: int, count: int, mapping: dict[str, int], at: datetime) -> list[CheckedRow]:
    """A slice of the file checked again, for an import stored without its checked rows."""
    rows = []
    for number, values in zip(table.numbers[start : start + count], table.rows[start : start + count], strict=True):
        check = row_check(number=number, row=values, mapping=mapping, now=at)
        if check.status == RowStatus.INVALID:
            rows.append(CheckedRow(number=number, status=check.status))
            continue
        cleaned = check.cleaned
        rows.append(
            CheckedRow(
                number=number,
                status=check.status,
                name=cleaned["name"],
                email=cleaned["email"],
                email_key=check.email_key,
                title=cleaned.get("title", ""),
                organization=cleaned.get("organization", ""),
                comment=cleaned.get("comment", ""),
                signed_at=check.signed_at,
            )
        )
    return rows


def _signer(signature_import: SignatureImport, row: CheckedRow) -> ImportedSigner:
    return ImportedSigner(
        number=row.number,
        name=row.name,
        email=row.email,
        email_key=row.email_key,
        title=row.title,
        organization_name=row.organization,
        comment=row.comment,
        signed_at=row.signed_at,
        evidence=_evidence(signature_import, row.number),
    )


def _rows_write(
    *,
    signature_import: SignatureImport,
    signers: list[ImportedSigner],
    at: datetime,
    prepared: dict[int, SignerPrepared] | None = None,
) -> dict[int, tuple[int | None, str]]:
    """{row number: (signature id, outcome)} for a batch's valid rows, written: invitations one by one (each its own
    email and link; no signature yet), signatures set-based."""
    if signature_import.mode == SignatureImport.Mode.INVITE:
        return {
            signer.number: _invite_row(signature_import=signature_import, signer=signer, at=at) for signer in signers
        }
    written = signatures_import_bulk(
        letter=signature_import.letter,
        signers=signers,
        vouched=signature_import.mode == SignatureImport.Mode.VOUCHED,
        verifier=signature_import.created_by,
        at=at,
        prepared=prepared,
    )
    return dict(written)


def _invite_row(*, signature_import: SignatureImport, signer: ImportedSigner, at: datetime) -> tuple[None, str]:
    try:
        signer_invitation_create(
            letter=signature_import.letter,
            name=signer.name,
            email=signer.email,
            title=signer.title,
            organization=signer.organization_name,
            actor=signature_import.created_by,
            signature_import=signature_import,
            at=at,
        )
    except ValidationError:
        return None, SignatureImportRow.Outcome.NOT_INVITED
    return None, SignatureImportRow.Outcome.INVITED


def import_run(*, signature_import_id: int, batch_rows: int = BATCH_ROWS) -> None:
    """Run the import to its end, batch after batch (its checked rows, or else the file, read once).

    Each batch still is its own transaction, taken in turn (import_run_batch); what changes is that one thread
    parses and prepares the next batch's rows (`_batch_prepare`, no query) while this one waits for the database to
    write and commit the current batch, so that the worker's Python and the database no longer take turns."""
    signature_import = SignatureImport.objects.get(pk=signature_import_id)
    if signature_import.status not in (SignatureImport.Status.QUEUED, SignatureImport.Status.RUNNING):
        return
    lines = checked_lines(signature_import.checked) or None
    table = None if lines else import_table(signature_import)
    del signature_import  # the file and its rows: a worker holds one copy, not three
    pacer = Pacer()  # yields to signers while they sign (importing.pacing)
    more = True
    ahead: Future[_Prepared] | None = None
    # Each batch leaves some 25,000 objects to the collector; its full collections walked every object the worker
    # had before the job too (Django's, the stored rows': about 150,000), a sixth of the job's Python time.
    gc.freeze()  # until the job ends (gc.unfreeze): they are collected as before afterwards
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-prepare") as pool:
            while more:
                started = time.perf_counter()
                more, ahead = _batch_run(
                    signature_import_id=signature_import_id,
                    table=table,
                    lines=lines,
                    batch_rows=batch_rows,
                    ahead=ahead,
                    pool=pool,
                )
                if more:
                    pacer.after_batch(time.perf_counter() - started)
    finally:
        gc.unfreeze()


@transaction.atomic
def import_undo(*, signature_import: SignatureImport, actor: Actor, at: datetime | None = None) -> int:
    """Take every signature this import created, and that is still live, off the letter (rejected with a public
    reason: events, audit and counts follow). Signatures from elsewhere, and the import's other rows, are untouched.
    Returns how many were removed."""
    at = at or timezone.now()
    signature_import = _lock(signature_import)
    if signature_import.status != SignatureImport.Status.DONE:
        raise ImportNotAllowed("Only a finished import can be undone.")
    made_here = SignatureImportRow.objects.filter(
        signature_import=signature_import, outcome=SignatureImportRow.Outcome.CREATED
    ).values("signature_id")
    invited_here = SignerInvitation.objects.filter(signature_import=signature_import)
    live = Signature.objects.filter(
        Q(pk__in=made_here) | Q(pk__in=invited_here.exclude(signature=None).values("signature_id")),
        status__in=Signature.LIVE_STATUSES,
    ).order_by("pk")
    revoked = invited_here.filter(signed_at=None, declined_at=None, revoked_at=None).update(
        revoked_at=at, revoked_by=actor_user(actor)
    )
    ids = list(live.values_list("pk", flat=True))
    removed = 0
    for start in range(0, len(ids), UNDO_BATCH):  # set-based, as a moderator's sweep (letters.services.sweeps)
        removed += len(
            signatures_reject_bulk(
                signature_ids=ids[start : start + UNDO_BATCH],
                reason=f"Import {signature_import.public_id} undone.",
                public_reason=UNDO_REASON,
                actor=actor,
                at=at,
                data={"import": signature_import.public_id},
            )
        )
    signature_import.status = SignatureImport.Status.UNDONE
    signature_import.undone_at = at
    signature_import.undone_by = actor_user(actor)
    signature_import.save(update_fields=["status", "undone_at", "undone_by"])
    audit_log(
        action="importing.import.undone",
        target=signature_import,
        actor=actor,
        at=at,
        data={"removed": removed, "invitations_revoked": revoked},
    )
    return removed

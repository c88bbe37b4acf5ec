"""Import jobs: an import's rows written in resumable batches, one transaction each, under the import's row lock.

Lock order (docs/architecture.md): the import's own row first, then what letters' services lock for each row (the
signature, its tokens and outbox rows, people, organizations). One batch is one transaction: its signatures, their
import rows and the import's watermark (`rows_done`) commit together, so a worker killed mid-batch leaves nothing
half-done and the next run starts again at the first row not committed. The unique (import, row number) and the
letter's one live signature per address make a second run of the same rows create nothing twice.

Each batch first asks whether the letter still takes signatures, as public signing does for each signer: while it
is paused the job stops without progress and beat's `imports_resume_stalled` tries again (the heartbeat is left as
it was); once it is closed (or back to draft) the import stops for good, failed with the reason, and what it wrote
can be undone.
"""

import gc
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from importing.checked import CheckedRow, checked_lines, checked_parse
from importing.files import Table
from importing.invitations import signer_invitation_create
from importing.models import SignatureImport, SignatureImportRow
from importing.pacing import Pacer
from importing.preview import RowStatus, row_check
from importing.services import ImportNotAllowed, import_table
from letters.models import Letter
from letters.services.bulk_import import ImportedSigner, SignerPrepared, signatures_import_bulk, signers_prepare
from letters.services.signing import accepts_signatures, not_accepting_message
from registry.audit import Actor, audit_log
from registry.bulk import values_insert
from registry.duplicate_scans import dedup_scan_start
from registry.protected import protected_name_matcher

BATCH_ROWS = 2500
WAITING_PAUSED = "Waiting at {done} of {total} rows: the letter is paused, and the import goes on when it reopens."


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
        if not accepts_signatures(signature_import.letter, allow_embargoed=True):  # as import_start asked
            _letter_stopped(signature_import, at=at)
            return False, None
        signature_import.error = ""  # a running import's error only ever says it waits for a paused letter
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
        changed = ["status", "started_at", "rows_done", "rows_created", "rows_skipped", "heartbeat_at", "error"]
        more = signature_import.rows_done < total
        if not more:
            signature_import.status = SignatureImport.Status.DONE
            signature_import.finished_at = at
            signature_import.content = b""
            signature_import.checked = b""
            changed += ["finished_at", "content", "checked"]
            _people_scan(signature_import)
            audit_log(
                action="importing.import.finished",
                target=signature_import,
                actor=signature_import.created_by,
                at=at,
                data={"created": signature_import.rows_created, "skipped": signature_import.rows_skipped},
            )
        signature_import.save(update_fields=changed)  # not the file, read by every batch and written by none
        return more, following if more else None


def _people_scan(signature_import: SignatureImport) -> None:
    if signature_import.mode == SignatureImport.Mode.VOUCHED and signature_import.rows_created:
        # People were created without a confirmation (which checks each one): one registry scan finds their
        # duplicates, as every signer-by-signer check would.
        dedup_scan_start(actor=signature_import.created_by)


def _letter_stopped(signature_import: SignatureImport, *, at: datetime) -> None:
    """The letter no longer takes signatures (checked each batch, as public signing checks each signer). Paused: the
    import waits, with nothing written and its heartbeat as it was, so that beat's `imports_resume_stalled` tries it
    again (a queued import's first heartbeat is set for that). Closed, or back to draft: it stops for good, failed
    with the reason; the rows it wrote stay, and can be undone."""
    letter = signature_import.letter
    if letter.status == Letter.Status.PAUSED:
        waiting = WAITING_PAUSED.format(done=signature_import.rows_done, total=signature_import.rows_total)
        if signature_import.error != waiting or signature_import.heartbeat_at is None:
            signature_import.error = waiting
            signature_import.heartbeat_at = signature_import.heartbeat_at or at
            signature_import.save(update_fields=["error", "heartbeat_at"])
        return
    _stopped(
        signature_import,
        at=at,
        why=not_accepting_message(letter.status),
        actor=None,
        data={"letter_status": letter.status},
    )


@transaction.atomic
def import_stop(*, signature_import: SignatureImport, actor: Actor, at: datetime | None = None) -> SignatureImport:
    """An organizer stops a queued or running import (a wrong file, the wrong mode): the batch being written commits
    first (the import's row lock waits for it), no other starts. What was written stays; undo takes it off."""
    at = at or timezone.now()
    signature_import = (
        SignatureImport.objects.select_for_update(of=("self",), no_key=True)
        .defer("content", "checked")
        .get(pk=signature_import.pk)
    )
    if signature_import.status not in (SignatureImport.Status.QUEUED, SignatureImport.Status.RUNNING):
        raise ImportNotAllowed("Only a queued or running import can be stopped.")
    _stopped(signature_import, at=at, why="stopped by the organizers", actor=actor, data={"by": "organizer"})
    return signature_import


def _stopped(signature_import: SignatureImport, *, at: datetime, why: str, actor: Actor, data: dict[str, Any]) -> None:
    """For good: failed with why; the file and its checked rows go; the rows written stay, and can be undone."""
    signature_import.status = SignatureImport.Status.FAILED
    signature_import.error = f"Stopped after {signature_import.rows_done} of {signature_import.rows_total} rows: {why}"
    signature_import.finished_at = at
    signature_import.content = b""
    signature_import.checked = b""
    signature_import.save(update_fields=["status", "error", "finished_at", "content", "checked"])
    _people_scan(signature_import)
    audit_log(
        action="importing.import.stopped",
        target=signature_import,
        actor=actor,
        at=at,
        data={**data, "rows_done": signature_import.rows_done},
    )


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
    except ValidationError as exc:
        codes = {error.code for errors in getattr(exc, "error_dict", {}).values() for error in errors}
        signed = "signed" in codes  # as the preview calls it; else declined before, or an invitation is open
        return None, SignatureImportRow.Outcome.ALREADY_SIGNED if signed else SignatureImportRow.Outcome.NOT_INVITED
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

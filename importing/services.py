"""Imports: upload and preview, mapping, start in a chosen mode, discard, undo (the job itself: importing.jobs).

Lock order (docs/architecture.md): the import's own row first, then what letters' services lock for each row. The
unique (import, row number) and the letter's one live signature per address make a second upload of the same file,
or overlapping rows, create nothing twice.
"""

import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from importing.checked import checked_encode, checked_lines, checked_summary
from importing.files import FileRefused, Limits, Table, table_read
from importing.mapping import MappingInvalid, mapping_check, mapping_guess
from importing.models import SignatureImport, SignatureImportRow, SignerInvitation
from importing.preview import Preview, RowStatus, preview_build
from letters.models import Letter, Signature
from letters.services.signing import accepts_signatures, not_accepting_message
from letters.services.sweeps import signatures_reject_bulk
from registry.audit import Actor, actor_user, audit_log

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
    table: Table | None = None  # the file as read for this answer (None: not read, or no longer stored)

    def file_table(self) -> Table | None:
        """The stored file as read (once per answer), or None once the import has let go of it."""
        if self.table is None and self.signature_import.content:
            self.table = import_table(self.signature_import)
        return self.table

    def headers(self) -> list[str]:
        table = self.file_table()
        return table.headers if table else []

    def read_as(self) -> dict[str, str] | None:
        """How the file was read, for the organizer to check before starting: a CSV read in the wrong code page shows
        here and in the names of the preview."""
        table = self.file_table()
        if table is None:
            return None
        return {"kind": table.kind, "encoding": table.encoding, "delimiter": table.delimiter}


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
    return Uploaded(signature_import=signature_import, preview=preview, mapping_errors=errors, table=table)


def import_preview(*, signature_import: SignatureImport) -> Uploaded:
    """The preview as it stands now (the letter and registry may have changed since the upload). Reads only."""
    if not signature_import.content:
        return Uploaded(signature_import=signature_import, preview=None, mapping_errors={})
    table = import_table(signature_import)
    preview, errors = _preview(signature_import, table)
    return Uploaded(signature_import=signature_import, preview=preview, mapping_errors=errors, table=table)


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
    return Uploaded(signature_import=signature_import, preview=preview, mapping_errors=errors, table=table)


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
    if mode == SignatureImport.Mode.CONFIRM and letter.status == Letter.Status.SCHEDULED:
        raise ImportNotAllowed(
            "Under embargo nobody can read the letter, so nobody can be asked to confirm it by email: vouch for "
            "these signers, invite them, or start this import once the letter is open."
        )
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
    _drop(signature_import)
    audit_log(action="importing.import.discarded", target=signature_import, actor=actor)
    return signature_import


def imports_previews_expire(*, at: datetime | None = None) -> int:
    """Beat: uploads left in preview longer than IMPORT_PREVIEW_TTL are discarded, so that the names and addresses
    of people who were never imported are not kept indefinitely. Returns how many."""
    now = at or timezone.now()
    stale = SignatureImport.objects.filter(
        status=SignatureImport.Status.PREVIEW, created_at__lt=now - settings.IMPORT_PREVIEW_TTL
    ).values_list("pk", flat=True)
    expired = 0
    for pk in stale:
        with transaction.atomic():
            signature_import = SignatureImport.objects.select_for_update(of=("self",), no_key=True).get(pk=pk)
            if signature_import.status != SignatureImport.Status.PREVIEW:  # started or discarded meanwhile
                continue
            _drop(signature_import)
            audit_log(
                action="importing.import.expired",
                target=signature_import,
                at=now,
                data={"uploaded_at": signature_import.created_at.isoformat()},
            )
            expired += 1
    return expired


def _drop(signature_import: SignatureImport) -> None:
    """Discarded: the stored file and the checked rows (names, addresses, notes) go; the summary's counts stay."""
    signature_import.status = SignatureImport.Status.DISCARDED
    signature_import.content = b""
    signature_import.checked = b""
    signature_import.save(update_fields=["status", "content", "checked"])


@transaction.atomic
def import_undo(*, signature_import: SignatureImport, actor: Actor, at: datetime | None = None) -> int:
    """Take every signature this import created, and that is still live, off the letter (rejected with a public
    reason: events, audit and counts follow). Signatures from elsewhere, and the import's other rows, are untouched.
    Returns how many were removed."""
    at = at or timezone.now()
    signature_import = _lock(signature_import)
    if signature_import.status not in (SignatureImport.Status.DONE, SignatureImport.Status.FAILED):
        raise ImportNotAllowed("Only a finished (or stopped) import can be undone.")
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

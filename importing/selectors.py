"""Reading imports: a letter's imports, one of them (404 when it is another letter's), progress, rejected rows."""

import csv
import io
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from importing.models import SignatureImport, SignatureImportRow, SignerInvitation
from importing.preview import Preview, RowStatus
from letters.models import Letter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def imports_of_letter(*, letter: Letter) -> QuerySet[SignatureImport]:
    return SignatureImport.objects.filter(letter=letter).select_related("created_by").defer("content", "checked")


def import_of_letter(*, letter: Letter, public_id: str) -> SignatureImport:
    """The import of `letter` with that id; Http404 for any other (another letter's import included)."""
    found = SignatureImport.objects.filter(letter=letter, public_id=public_id).select_related("letter").first()
    if found is None:
        raise Http404
    return found


def signatures_of_undone_imports(*, signature_ids: list[int]) -> set[int]:
    """Of these signatures, those an import brought in (a row's or an invitation's) whose undo took it out for good:
    nothing puts them back, a bulk invalidation's undo included. Locks those imports' rows (imports before signatures,
    the order of importing.services.import_undo), so that an undo committing meanwhile is seen, not raced."""
    by_row = SignatureImportRow.objects.filter(signature_id__in=signature_ids).values("signature_import_id")
    by_invitation = SignerInvitation.objects.filter(signature_id__in=signature_ids).values("signature_import_id")
    imports = SignatureImport.objects.filter(Q(pk__in=by_row) | Q(pk__in=by_invitation))
    undone = [
        i.pk
        for i in imports.select_for_update(no_key=True).only("pk", "status")
        if i.status == SignatureImport.Status.UNDONE
    ]
    if not undone:
        return set()
    rows = SignatureImportRow.objects.filter(signature_import_id__in=undone, signature_id__in=signature_ids)
    invited = SignerInvitation.objects.filter(signature_import_id__in=undone, signature_id__in=signature_ids)
    return set(rows.values_list("signature_id", flat=True)) | set(invited.values_list("signature_id", flat=True))


OUTCOME_KEYS = ("created", "held", "already_signed", "invited", "not_invited", "invalid")


def import_outcomes(signature_import: SignatureImport) -> dict[str, int] | None:
    """What became of the file's rows once the job has run (None before, and while it runs): signatures created (of
    which `held` wait for review: a protected name or mixed scripts an organizer's word does not lift), addresses that
    had signed (or came twice in the file), invitations sent, invitations not sent (declined before, or one open),
    and rows the checks refused."""
    finished = (SignatureImport.Status.DONE, SignatureImport.Status.FAILED, SignatureImport.Status.UNDONE)
    if signature_import.status not in finished:
        return None
    rows = SignatureImportRow.objects.filter(signature_import=signature_import)
    counted = dict(rows.order_by().values_list("outcome").annotate(n=Count("pk")))
    outcomes = dict.fromkeys(OUTCOME_KEYS, 0) | {key: counted.get(key, 0) for key in OUTCOME_KEYS[:5]}
    outcomes["held"] = (
        rows.filter(outcome=SignatureImportRow.Outcome.CREATED).exclude(signature__hold_reason="").count()
    )
    outcomes["invalid"] = max(signature_import.rows_done - sum(counted.values()), 0)
    return outcomes


@dataclass(frozen=True)
class Progress:
    rows_total: int
    rows_done: int
    percent: int
    rows_per_second: float | None
    seconds_left: int | None


def import_progress(signature_import: SignatureImport) -> Progress:
    total, done = signature_import.rows_total, signature_import.rows_done
    rate: float | None = None
    left: int | None = None
    if signature_import.started_at and done:
        end = signature_import.finished_at or signature_import.heartbeat_at or timezone.now()
        elapsed = (end - signature_import.started_at).total_seconds()
        # A batch is stamped with one time, so an import done in one batch has no clock to divide by: no rate.
        if elapsed >= 1:
            rate = round(done / elapsed, 1)
            left = 0 if done >= total else int((total - done) / (done / elapsed)) + 1
        elif done >= total:
            left = 0
    percent = 100 if total and done >= total else (done * 100 // total if total else 0)
    return Progress(rows_total=total, rows_done=done, percent=percent, rows_per_second=rate, seconds_left=left)


def _safe(cell: str) -> str:
    """A cell as written to a CSV a spreadsheet will open: formula-leading text is quoted with an apostrophe."""
    return f"'{cell}" if cell[:1] in FORMULA_START else cell


def rejected_rows_csv(*, headers: list[str], rows: list[list[str]], numbers: list[int], preview: Preview) -> str:
    """The rows that will not be imported, as the file had them, with their row number and why."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "problem", *(_safe(header) for header in headers)])  # headers come from the file too
    cells = dict(zip(numbers, rows, strict=True))
    for check in preview.rows:
        if check.status == RowStatus.NEW:
            continue
        writer.writerow([str(check.number), _safe(check.explanation), *(_safe(c) for c in cells[check.number])])
    return out.getvalue()


def invitation_of_letter(*, letter: Letter, public_id: str) -> SignerInvitation:
    """The signer invitation of `letter` with that id; Http404 for any other."""
    found = SignerInvitation.objects.filter(letter=letter, public_id=public_id).select_related("letter").first()
    if found is None:
        raise Http404
    return found


def invitation_counts(*, letter: Letter) -> dict[str, int]:
    """Invitations of the letter by state (every state named, zero included)."""
    counts = {state: 0 for state in SignerInvitation.State.values}
    for invitation in SignerInvitation.objects.filter(letter=letter).select_related("message"):
        counts[invitation.state] += 1
    return counts


def invitations_of_letter(*, letter: Letter) -> QuerySet[SignerInvitation]:
    return SignerInvitation.objects.filter(letter=letter).select_related("message", "invited_by")

"""Bulk invalidations in the transparency log: one entry when a run finishes (or is cancelled part-way) and one when
it is undone, so a reporter replaying the log sees not only that 4,000 signatures left the list with reason
`rejected` but that one moderator action removed them, by which criteria (their SHA-256: the criteria themselves,
an IP hash or a name pattern, stay private) and how many it put back.

Entries (letters.transparency_log encodes them like its own):
- `{"t":"invalidation","letter":slug,"id":invalidation id,"criteria":sha256,"count":removed,"at":finished}`
- `{"t":"invalidation_undone","letter":slug,"id":invalidation id,"criteria":sha256,"count":restored,"at":undone}`

A producer registered with transparency.hooks (moderation.apps) appends them in batches under the log's lock; the
row's `logged_index` / `undo_logged_index` say it is logged, so nothing is logged twice or skipped. Invalidations of
letters not yet published wait, as their signatures' entries do.
"""

from django.db import transaction
from django.db.models import Q

from letters.models import Letter
from letters.transparency_log import entry_encode, entry_time
from moderation.models import Invalidation
from transparency import services as log

BATCH = 200
Status = Invalidation.Status
FINISHED = (Status.DONE, Status.CANCELLED, Status.UNDOING, Status.UNDONE)


def invalidation_entry(invalidation: Invalidation, *, undone: bool = False) -> dict:
    at = invalidation.undone_at if undone else invalidation.finished_at
    assert at is not None
    return {
        "t": "invalidation_undone" if undone else "invalidation",
        "letter": invalidation.letter.slug,
        "id": invalidation.public_id,
        "criteria": invalidation.criteria_sha256,
        "count": invalidation.restored if undone else invalidation.removed,
        "at": entry_time(at),
    }


@transaction.atomic
def invalidations_log_batch(*, limit: int = BATCH) -> int:
    """Log up to `limit` finished or undone invalidations not logged yet; returns how many rows it logged."""
    log.log_lock()
    waiting = list(
        Invalidation.objects.filter(letter__in=Letter.objects.published())
        .filter(
            Q(status__in=FINISHED, finished_at__isnull=False, logged_index=None)
            | Q(status=Status.UNDONE, undo_logged_index=None)
        )
        .select_related("letter")
        .order_by("pk")[:limit]
    )
    entries: list[bytes] = []
    marks: list[tuple[Invalidation, str, int]] = []  # (row, field, position in entries)
    for invalidation in waiting:
        if invalidation.logged_index is None:
            marks.append((invalidation, "logged_index", len(entries)))
            entries.append(entry_encode(invalidation_entry(invalidation)))
        if invalidation.status == Status.UNDONE and invalidation.undo_logged_index is None:
            marks.append((invalidation, "undo_logged_index", len(entries)))
            entries.append(entry_encode(invalidation_entry(invalidation, undone=True)))
    if not entries:
        return 0
    first = log.entries_append(entries=entries)
    for invalidation, field, position in marks:
        Invalidation.objects.filter(pk=invalidation.pk).update(**{field: first + position})
    return len(waiting)

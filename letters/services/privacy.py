"""Raw client addresses leave after IP_RETENTION_DAYS: a beat task empties `ip_address` of older signatures.

The keyed hashes (letters.ipaddrs) stay. Rows are taken in ascending id order with SKIP LOCKED on PostgreSQL (a
signature someone is confirming or moderating right now is taken on the next run), in id windows so each batch uses
the primary key; every batch is one transaction with one audit row per letter it touched.
"""

from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from letters.models import Letter, Signature
from registry.audit import audit_log

WINDOW = 5000


def signatures_raw_ip_expire(*, now: datetime | None = None, window: int = WINDOW) -> int:
    """Empty the raw address of every signature signed more than IP_RETENTION_DAYS ago. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.IP_RETENTION_DAYS)
    top = Signature.objects.aggregate(top=Max("pk"))["top"] or 0
    dropped = 0
    start = 0
    while start < top:
        dropped += _window_expire(start=start, end=start + window, cutoff=cutoff, now=now)
        start += window
    return dropped


@transaction.atomic
def _window_expire(*, start: int, end: int, cutoff: datetime, now: datetime) -> int:
    rows = Signature.objects.filter(pk__gt=start, pk__lte=end, ip_address__isnull=False, signed_at__lt=cutoff)
    if connection.vendor == "postgresql":
        rows = rows.select_for_update(of=("self",), no_key=True, skip_locked=True)
    taken = list(rows.order_by("pk").values_list("pk", "letter_id"))
    if not taken:
        return 0
    Signature.objects.filter(pk__in=[pk for pk, _ in taken]).update(ip_address=None)
    for letter_id, count in Counter(letter_id for _, letter_id in taken).items():
        audit_log(
            action="letters.signatures.raw_ip_expired",
            target=Letter(pk=letter_id),
            at=now,
            data={"signatures": count, "retention_days": settings.IP_RETENTION_DAYS},
        )
    return len(taken)

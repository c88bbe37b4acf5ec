"""Signatures with real history, built through the signing services (factories make bare rows; these make the events,
audit rows and counts a signer would)."""

from datetime import datetime

from django.utils import timezone

from letters.counts import FOLD_MARGIN
from letters.models import Letter, Signature, SignatureEvent
from letters.services.signing import signature_confirm, signature_create


def signed(
    letter: Letter,
    *,
    name: str = "Ada Lovelace",
    email: str = "ada@example.org",
    confirm: bool = True,
    at: datetime | None = None,
    confirmed_at: datetime | None = None,
    **extra,
) -> Signature:
    """Sign `letter` as a signer would (no email sent, no rate limits), and confirm unless `confirm` is False.

    `extra` goes to signature_create (title, organization_name, name_shown, comment, source, ip_address)."""
    created = signature_create(
        letter=letter, name=name, email=email, send_email=False, check_rate_limits=False, at=at, **extra
    ).signature
    return signature_confirm(signature=created, at=confirmed_at or at) if confirm else created


def public_count(letter: Letter) -> int:
    """The public count replayed from events, checked against the rows' own `is_visible`."""
    from_events = sum(
        int(after) - int(before)
        for before, after in SignatureEvent.objects.filter(letter=letter).values_list("visible_before", "visible_after")
    )
    from_rows = sum(s.is_visible for s in Signature.objects.filter(letter=letter))
    assert from_events == from_rows
    return from_rows


def past_the_margin() -> datetime:
    """A time for a fold (letters.counts) to take in every event written so far: a fold at `now` leaves out the
    events of its last FOLD_MARGIN, which may not have committed yet."""
    return timezone.now() + FOLD_MARGIN

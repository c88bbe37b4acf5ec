"""Row locks for writes, in one order for every path (docs/architecture.md, "Locking policy").

Every write path locks only the rows it changes, with FOR NO KEY UPDATE of those rows alone, and in this order:

1. the letter row, only when the letter itself changes (status, current version);
2. signature rows, ascending id when there are several;
3. rows that hang off a signature: its tokens, its outbox messages, its verification records;
4. people (ascending id), then their emails and affiliations;
5. organizations.

FOR NO KEY UPDATE does not conflict with the FOR KEY SHARE that PostgreSQL's foreign-key checks take, so a new
signature (whose insert checks its letter and version) never waits for a confirmation, a withdrawal or a letter
being paused; and because every path goes down the list, two writers wait for each other at most, never in a circle.
A bare `select_for_update()` over a `select_related` join would lock the letter and version rows too (FOR UPDATE),
which is what made confirmations and new signatures deadlock. The count fold (letters.counts) locks only its own
aggregate rows, in its own transactions.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from letters.models import Letter, Signature


def letter_lock(*, pk: int) -> Letter:
    """The letter row, locked against other changes to the letter only. Call inside a transaction."""
    return Letter.objects.select_for_update(of=("self",), no_key=True).get(pk=pk)


def signature_lock(*, pk: int, related: Iterable[str] = ()) -> Signature:
    """One signature row, locked; `related` rows are read with it but not locked. Call inside a transaction."""
    return Signature.objects.select_for_update(of=("self",), no_key=True).select_related(*related).get(pk=pk)


def signatures_lock(queryset: QuerySet[Signature]) -> list[Signature]:
    """Several signature rows, locked in ascending id order (the policy's order among signatures)."""
    return list(queryset.select_for_update(of=("self",), no_key=True).order_by("pk"))

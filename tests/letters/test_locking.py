"""Launch day: confirmations, withdrawals and new signatures at once never deadlock and never wait on each other
more than the policy in letters/services/locking.py allows (PostgreSQL: SQLite serializes every write)."""

import re
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from letters.models import Signature, SignatureToken
from letters.services.lifecycle import letter_pause
from letters.services.signing import (
    signature_confirm,
    signature_confirm_by_token,
    signature_create,
    signature_withdraw,
    signature_withdraw_by_token,
)
from letters.services.tokens import TokenInvalid, token_issue
from letters.services.verification import signature_verify_manual
from registry.merge import person_merge
from tests.builders import signed
from tests.concurrency import run_together, second_waits_for_first
from tests.factories import LetterFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def pending(letter, n: int = 0) -> Signature:
    return signed(letter, name=f"Signer {n}", email=f"s{n}@example.org", confirm=False)


def sign_new(letter, n: int):
    return lambda: pending(letter, n)


def test_a_new_signature_does_not_wait_for_a_confirmation_in_progress():
    letter = LetterFactory()
    signature = pending(letter)
    assert not second_waits_for_first(lambda: signature_confirm(signature=signature), sign_new(letter, 1))
    assert Signature.objects.filter(letter=letter).count() == 2
    assert Signature.objects.get(pk=signature.pk).status == Signature.Status.CONFIRMED


def test_a_new_signature_does_not_wait_for_a_withdrawal_a_verification_or_a_reminder_in_progress(staff_user):
    letter = LetterFactory()
    confirmed = signature_confirm(signature=pending(letter, 0))
    leaving, reminded = pending(letter, 1), pending(letter, 2)
    holders = [
        lambda: signature_withdraw(signature=leaving),
        lambda: signature_verify_manual(signature=confirmed, evidence="Called the office.", verifier=staff_user),
        lambda: signature_create(letter=letter, name="Signer 2", email=reminded.email, check_rate_limits=False),
    ]
    for n, hold in enumerate(holders, start=10):
        assert not second_waits_for_first(hold, sign_new(letter, n))
    assert Signature.objects.filter(letter=letter).count() == 6


def test_a_new_signature_does_not_wait_for_the_letter_being_paused():
    letter = LetterFactory()
    assert not second_waits_for_first(lambda: letter_pause(letter=letter), sign_new(letter, 1))


def test_locks_name_only_the_signature_row():
    letter = LetterFactory()
    signature = pending(letter)
    with CaptureQueriesContext(connection) as queries:
        signature_confirm(signature=signature)
    locks = [q["sql"] for q in queries.captured_queries if "FOR " in q["sql"] and "UPDATE" in q["sql"]]
    assert locks and all(re.search(r'FOR NO KEY UPDATE OF "letters_signature"$', sql) for sql in locks), locks


def test_confirm_and_withdraw_of_one_signature_at_once_serialize_without_errors():
    """Twenty pairs, each started together: the signature ends confirmed-then-withdrawn or withdrawn, and the
    losing link is refused with the generic invalid-link error — never a deadlock."""
    letter = LetterFactory()
    pairs = []
    for n in range(20):
        signature = pending(letter, n)
        tokens = token_issue(signature=signature, purposes=[SignatureToken.Purpose.CONFIRM, "withdraw"])
        pairs.append((signature, tokens["confirm"], tokens["withdraw"]))
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(40)

    def run(action, token):
        try:
            barrier.wait(10)
            action(token=token)
            outcomes.append("ok")
        except TokenInvalid:
            outcomes.append("refused")
        except BaseException as exc:  # a deadlock or anything else is a failure of the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(action, token))
        for _signature, confirm, withdraw in pairs
        for action, token in ((signature_confirm_by_token, confirm), (signature_withdraw_by_token, withdraw))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(outcomes) == 40 and outcomes.count("ok") >= 20
    statuses = set(Signature.objects.filter(letter=letter).values_list("status", flat=True))
    assert statuses == {Signature.Status.WITHDRAWN}


def test_signers_and_confirmers_at_once_leave_every_row_and_no_deadlock():
    """16 threads sign new addresses while 16 confirm pending ones and 8 sign existing addresses again."""
    letter = LetterFactory()
    waiting = [pending(letter, n) for n in range(48)]

    def steps(*work):
        return lambda: [step() for step in work]

    def resign(signature):
        return lambda: signature_create(letter=letter, name="Again", email=signature.email, check_rate_limits=False)

    jobs = [steps(*(sign_new(letter, 1000 + 10 * t + i) for i in range(5))) for t in range(16)]
    jobs += [
        steps(*(lambda s=s: signature_confirm(signature=s) for s in waiting[t * 3 : t * 3 + 3])) for t in range(16)
    ]
    jobs += [steps(*(resign(s) for s in waiting[t::8][:4])) for t in range(8)]
    assert run_together(*jobs) == []
    assert Signature.objects.filter(letter=letter).count() == 48 + 80
    assert Signature.objects.filter(letter=letter, status=Signature.Status.CONFIRMED).count() == 48


def test_merges_and_confirmations_of_the_same_people_at_once_do_not_deadlock():
    """Each merge runs while a confirmation links a signature of the merged-away person: no deadlock, and the
    signature ends with the surviving person whichever commits first."""
    letters = [LetterFactory() for _ in range(3)]
    people, confirming = [], []
    for n in range(6):
        people.append(signature_confirm(signature=pending(letters[0], n)).person)
        confirming.append(pending(letters[2], n))  # same address as people[n]: confirms into that person
    pairs = zip(people[::2], people[1::2], strict=True)
    merges = [lambda a=a, b=b: person_merge(survivor=a, duplicate=b) for a, b in pairs]
    confirms = [lambda s=s: signature_confirm(signature=s) for s in confirming]
    assert run_together(*merges, *confirms) == []
    linked = Signature.objects.filter(letter=letters[2]).select_related("person")
    assert sorted((s.person_id, s.person.merged_into_id) for s in linked) == sorted(
        (survivor.pk, None) for survivor in people[::2] for _ in range(2)
    )


def test_a_new_signature_does_not_wait_for_the_count_fold():
    """Buckets order by letter: a bare FOR UPDATE over that join locked the letter row until the fold committed."""
    from datetime import timedelta

    from django.utils import timezone

    from letters.counts import letter_count_refresh

    letter = LetterFactory()
    signature_confirm(signature=pending(letter, 0))
    later = timezone.now() + timedelta(minutes=1)
    assert letter_count_refresh(letter_id=letter.pk, now=later) == 2  # the buckets of this minute exist now
    signature_confirm(signature=pending(letter, 1))
    assert not second_waits_for_first(lambda: letter_count_refresh(letter_id=letter.pk, now=later), sign_new(letter, 2))

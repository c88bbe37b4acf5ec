"""The duplicate check of confirmed people: requested in the confirmation's transaction, run by beat for everyone
asked for since the last run (registry.duplicate_scans.duplicates_check_requested)."""

import threading
from unittest import mock

import pytest
from django.db import connection, connections, transaction

from registry import duplicate_scans
from registry.duplicate_scans import CHECK_TURN_LOCK, duplicates_check_requested
from registry.models import DuplicateCandidate, DuplicateCheckRequest, PersonBlockKey
from tests.factories import LetterFactory

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """What a SIGKILL does to a run: nothing after it runs, no `except Exception` sees it."""


def pairs():
    return sorted(DuplicateCandidate.objects.values_list("person_a__display_name", "person_b__display_name"))


def requested():
    return list(DuplicateCheckRequest.objects.order_by("pk").values_list("person__display_name", flat=True))


def test_a_confirmation_writes_a_check_request_and_nothing_is_checked_before_the_run(sign):
    signature = sign("Katherine Moussouris", "katherine@lutasecurity.com", organization="Luta Security")
    assert list(DuplicateCheckRequest.objects.values_list("person_id", flat=True)) == [signature.person_id]
    assert PersonBlockKey.objects.filter(person_id=signature.person_id).count() == 0


def test_the_run_finds_the_duplicates_of_people_confirmed_since_the_last_run_and_none_twice(sign):
    sign("Katherine Moussouris", "katherine@lutasecurity.com", organization="Luta Security")
    assert duplicates_check_requested() == 1
    assert (pairs(), requested()) == ([], [])

    other_letter = LetterFactory(status="open")
    katie = sign("Katie Moussouris", "katie.m@gmail.com", organization="Luta Security Inc.")
    sign("Grace Hopper", "grace@navy.example", organization="US Navy")
    sign("Katie Moussouris", "katie.m@gmail.com", organization="Luta Security Inc.", letter=other_letter)
    assert requested() == ["Katie Moussouris", "Grace Hopper", "Katie Moussouris"]

    assert duplicates_check_requested() == 2  # Katie once, however often she confirmed
    assert pairs() == [("Katherine Moussouris", "Katie Moussouris")]
    assert requested() == []
    assert PersonBlockKey.objects.filter(person_id=katie.person_id).exists()

    assert duplicates_check_requested() == 0
    assert DuplicateCandidate.objects.count() == 1
    assert pairs() == [("Katherine Moussouris", "Katie Moussouris")]


def test_people_confirmed_together_are_checked_in_order_and_find_each_other_once(sign):
    first = sign("Katherine Moussouris", "katherine@lutasecurity.com", organization="Luta Security")
    second = sign("Katie Moussouris", "katie.m@gmail.com", organization="Luta Security Inc.")
    assert duplicates_check_requested() == 2
    candidate = DuplicateCandidate.objects.get()
    assert (candidate.person_a_id, candidate.person_b_id) == (first.person_id, second.person_id)
    assert requested() == []


def test_a_run_killed_mid_check_leaves_the_unchecked_people_for_the_next_run(sign):
    sign("Katherine Moussouris", "katherine@lutasecurity.com", organization="Luta Security")
    katie = sign("Katie Moussouris", "katie.m@gmail.com", organization="Luta Security Inc.")
    check = duplicate_scans.person_duplicates_check

    def killed_at_katie(*, person_id):
        found = check(person_id=person_id)  # the check's writes are made, then the worker dies before the commit
        if person_id == katie.person_id:
            raise WorkerKilled
        return found

    with mock.patch.object(duplicate_scans, "person_duplicates_check", killed_at_katie), pytest.raises(WorkerKilled):
        duplicates_check_requested()
    assert requested() == ["Katie Moussouris"]
    assert DuplicateCandidate.objects.count() == 0  # rolled back with the request's transaction
    assert PersonBlockKey.objects.filter(person_id=katie.person_id).count() == 0

    assert duplicates_check_requested() == 1
    assert pairs() == [("Katherine Moussouris", "Katie Moussouris")]
    assert requested() == []


def test_confirmations_made_while_the_workers_were_down_are_all_checked_by_the_first_run(sign):
    for n in range(5):
        sign("Katie Moussouris", f"katie{n}@example.org", organization="Luta Security")
    assert len(requested()) == 5
    assert duplicates_check_requested() == 5
    assert DuplicateCandidate.objects.count() == 10  # every pair of the five, each once
    assert requested() == []


def test_a_person_confirmed_again_while_being_checked_is_checked_again(sign):
    katie = sign("Katie Moussouris", "katie.m@gmail.com", organization="Luta Security Inc.")
    check = duplicate_scans.person_duplicates_check
    calls = []

    def confirmed_again_during_the_first_check(*, person_id):
        calls.append(person_id)
        found = check(person_id=person_id)
        if len(calls) == 1:  # a confirmation that commits while the check runs
            DuplicateCheckRequest.objects.create(person_id=person_id)
        return found

    with mock.patch.object(duplicate_scans, "person_duplicates_check", confirmed_again_during_the_first_check):
        assert duplicates_check_requested() == 2
    assert calls == [katie.person_id, katie.person_id]
    assert requested() == []


def test_a_person_the_check_fails_on_keeps_its_request_and_holds_up_nobody(sign):
    sign("Katherine Moussouris", "katherine@lutasecurity.com", organization="Luta Security")
    sign("Katie Moussouris", "katie.m@gmail.com", organization="Luta Security Inc.")
    grace = sign("Grace Hopper", "grace@navy.example", organization="US Navy")
    check = duplicate_scans.person_duplicates_check

    def failing_on_grace(*, person_id):
        if person_id == grace.person_id:
            raise ValueError("a bug in the matcher")
        return check(person_id=person_id)

    with mock.patch.object(duplicate_scans, "person_duplicates_check", failing_on_grace):
        assert duplicates_check_requested() == 2
    assert pairs() == [("Katherine Moussouris", "Katie Moussouris")]
    assert requested() == ["Grace Hopper"]


def test_the_old_per_person_task_only_files_a_request(sign):
    from registry import tasks

    katie = sign("Katie Moussouris", "katie.m@gmail.com", organization="Luta Security Inc.")
    DuplicateCheckRequest.objects.all().delete()
    assert tasks.person_duplicates_check.run(katie.person_id) == 0
    assert tasks.person_duplicates_check.run(10**9) == 0  # gone meanwhile
    assert tasks.person_duplicates_check.run(None) == 0
    assert requested() == ["Katie Moussouris"]
    assert PersonBlockKey.objects.filter(person_id=katie.person_id).count() == 0


@pytest.mark.postgres
def test_a_run_stops_while_another_run_holds_the_turn(sign):
    """Two runs at once (beat fired again, a redelivered message) never check one person twice at once."""
    sign("Katie Moussouris", "katie.m@gmail.com", organization="Luta Security Inc.")
    held, release = threading.Event(), threading.Event()

    def other_run() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHECK_TURN_LOCK])
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert held.wait(10)
        assert duplicates_check_requested() == 0
        assert requested() == ["Katie Moussouris"]
    finally:
        release.set()
        thread.join()
    assert duplicates_check_requested() == 1
    assert requested() == []

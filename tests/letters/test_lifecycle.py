"""A letter's lifecycle: draft → scheduled (embargo) → open ⇄ paused → closed, each move a service with an audit row,
one table of moves, beat opening due letters exactly once, and what the public sees at each stage."""

import threading
from datetime import timedelta
from itertools import product

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from letters.counts import letter_count_fresh, letter_count_refresh
from letters.models import Letter
from letters.selectors import letter_stats
from letters.services import lifecycle
from letters.services.letters import letter_status_set
from letters.services.lifecycle import (
    TRANSITIONS,
    TransitionRefused,
    letter_close,
    letter_open,
    letter_pause,
    letter_schedule,
    letters_open_due,
)
from letters.services.signing import LetterNotAccepting, signature_create, signature_withdraw
from registry.models import AuditEvent
from tests.builders import public_count, signed
from tests.factories import LetterFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

STATUSES = [s.value for s in Letter.Status]
SERVICES = {
    "scheduled": lambda letter, at: letter_schedule(letter=letter, publish_at=at + timedelta(hours=1), at=at),
    "open": lambda letter, at: letter_open(letter=letter, at=at),
    "paused": lambda letter, at: letter_pause(letter=letter, at=at),
    "closed": lambda letter, at: letter_close(letter=letter, at=at),
}


def status_changes(letter):
    return list(
        AuditEvent.objects.filter(action="letters.letter.status_changed", target_id=str(letter.pk))
        .order_by("id")
        .values_list("data", flat=True)
    )


@pytest.mark.parametrize(("current", "target"), list(product(STATUSES, SERVICES)))
def test_each_move_is_allowed_exactly_when_the_table_lists_it(current, target):
    letter = LetterFactory(status=current)
    now = timezone.now()
    if (current, target) in TRANSITIONS:
        moved = SERVICES[target](letter, now)
        assert Letter.objects.get(pk=letter.pk).status == target == moved.status
        assert [{k: v for k, v in d.items() if k != "publish_at"} for d in status_changes(letter)] == [
            {"from": current, "to": target}
        ]
    else:
        with pytest.raises(TransitionRefused) as refused:
            SERVICES[target](letter, now)
        assert refused.value.message
        assert Letter.objects.get(pk=letter.pk).status == current
        assert status_changes(letter) == []


def test_refusals_say_why():
    closed = LetterFactory(status="closed")
    with pytest.raises(TransitionRefused) as refused:
        letter_open(letter=closed)
    assert refused.value.message == "This letter is closed; a closed letter is final and cannot change status."
    draft = LetterFactory(status="draft")
    with pytest.raises(TransitionRefused) as refused:
        letter_pause(letter=draft)
    assert refused.value.message == "A letter that is draft cannot become paused."


def test_a_schedule_in_the_past_is_a_field_error_and_changes_nothing():
    letter = LetterFactory(status="draft")
    now = timezone.now()
    for publish_at, message in [
        (now - timedelta(minutes=1), "The publication time must be in the future."),
        (now, "The publication time must be in the future."),
        (now + timedelta(days=400), "The publication time must be within a year."),
        (now.replace(tzinfo=None) + timedelta(hours=1), "A publication time with its time zone is required."),
    ]:
        with pytest.raises(ValidationError) as raised:
            letter_schedule(letter=letter, publish_at=publish_at, at=now)
        assert raised.value.message_dict == {"publish_at": [message]}
    letter.refresh_from_db()
    assert (letter.status, letter.publish_at) == ("draft", None)
    assert status_changes(letter) == []


def test_scheduling_records_the_time_and_rescheduling_moves_it(staff_user):
    letter = LetterFactory(status="draft", opened_at=None)
    now = timezone.now()
    first, second = now + timedelta(hours=2), now + timedelta(hours=5)
    letter_schedule(letter=letter, publish_at=first, actor=staff_user, at=now)
    letter_schedule(letter=letter, publish_at=second, actor=staff_user, at=now)
    letter.refresh_from_db()
    assert (letter.status, letter.publish_at, letter.opened_at) == ("scheduled", second, None)
    assert status_changes(letter) == [
        {"from": "draft", "to": "scheduled", "publish_at": first.isoformat()},
        {"from": "scheduled", "to": "scheduled", "publish_at": second.isoformat()},
    ]
    assert AuditEvent.objects.filter(action="letters.letter.status_changed").first().actor == staff_user


def test_letter_status_set_goes_through_the_lifecycle():
    letter = LetterFactory(status="open")
    letter_status_set(letter=letter, status="paused")
    assert Letter.objects.get(pk=letter.pk).status == "paused"
    with pytest.raises(TransitionRefused):
        letter_status_set(letter=letter, status="draft")
    with pytest.raises(TransitionRefused):
        letter_status_set(letter=letter, status="scheduled")


def test_signing_under_embargo_is_only_for_trusted_callers():
    letter = LetterFactory(status="scheduled")
    with pytest.raises(LetterNotAccepting):
        signature_create(letter=letter, name="Ada Lovelace", email="ada@example.org", send_email=False)
    result = signature_create(
        letter=letter, name="Ada Lovelace", email="ada@example.org", send_email=False, allow_embargoed=True
    )
    assert result.outcome == "created" and result.signature.version_id == letter.current_version_id


def test_beat_opens_a_due_letter_once_at_its_minute_and_the_count_includes_embargoed_signers(
    django_capture_on_commit_callbacks, monkeypatch
):
    # Signed during the embargo, a few seconds before the launch's fold (which leaves events of its last second out).
    now = timezone.now() - timedelta(seconds=3)
    monkeypatch.setattr("letters.counts.STALE_AFTER", timedelta(minutes=5))  # no read refolds: only the launch does
    letter = LetterFactory(status="draft", opened_at=None)
    launch = now + timedelta(hours=1)
    letter = letter_schedule(letter=letter, publish_at=launch, at=now)
    for n in range(3):
        signed(letter, name=f"Early Signer {n}", email=f"early{n}@example.org", allow_embargoed=True, at=now)
    assert letters_open_due(now=launch - timedelta(seconds=1)) == 0
    assert Letter.objects.get(pk=letter.pk).status == "scheduled"
    letter_count_refresh(letter_id=letter.pk, now=now)  # folded before anyone signed (its horizon a second earlier)
    assert letter_count_fresh(letter=letter).public == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert letters_open_due(now=launch + timedelta(seconds=7)) == 1
    assert letters_open_due(now=launch + timedelta(seconds=22)) == 0
    letter.refresh_from_db()
    assert (letter.status, letter.opened_at) == ("open", launch)
    assert status_changes(letter)[-1] == {"from": "scheduled", "to": "open"}
    assert letter_count_fresh(letter=letter).public == 3
    assert letter_stats(letter=letter)["public"] == 3


def test_an_early_launch_or_a_new_time_is_not_opened_again_by_beat():
    now = timezone.now()
    letter = LetterFactory(status="scheduled", publish_at=now + timedelta(minutes=5))
    letter_open(letter=letter, at=now)
    assert letters_open_due(now=now + timedelta(minutes=6)) == 0
    assert len(status_changes(letter)) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_open_a_due_letter_once():
    now = timezone.now()
    letter = LetterFactory(status="scheduled", publish_at=now - timedelta(seconds=1))
    barrier, results = threading.Barrier(2), []
    original = lifecycle._open_due

    def slow_open(*, pk, now):
        barrier.wait(timeout=10)  # both beats listed the letter as due before either opened it
        return original(pk=pk, now=now)

    def beat():
        try:
            results.append(letters_open_due(now=now))
        finally:
            connection.close()

    lifecycle._open_due = slow_open
    try:
        threads = [threading.Thread(target=beat) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    finally:
        lifecycle._open_due = original
    assert sorted(results) == [0, 1]
    assert status_changes(letter) == [{"from": "scheduled", "to": "open"}]


def test_closing_freezes_a_citable_final_count():
    start = timezone.now() - timedelta(hours=2)
    letter = LetterFactory(status="open", opened_at=start)
    ada = signed(letter, name="Ada Lovelace", email="ada@example.org", at=start)
    signed(letter, name="Grace Hopper", email="grace@example.org", at=start + timedelta(minutes=1))
    closed_at = start + timedelta(hours=1)
    letter_close(letter=letter, at=closed_at)
    signature_withdraw(signature=ada, at=closed_at + timedelta(minutes=5))  # leaving stays possible after closing
    letter.refresh_from_db()
    assert (letter.status, letter.closed_at) == ("closed", closed_at)
    assert letter_stats(letter=letter, as_of=closed_at)["public"] == 2  # the final count, unchanged
    assert public_count(letter) == 1
    with pytest.raises(LetterNotAccepting) as refused:
        signature_create(letter=letter, name="Late Signer", email="late@example.org", send_email=False)
    assert refused.value.message == (
        "This letter is closed: it no longer accepts signatures, and its final count is frozen."
    )


def test_a_scheduled_letter_is_left_out_of_an_organizations_public_signatures(client):
    org = OrganizationFactory(name="Example Corp", slug="example-corp", status="reviewed")
    letter = LetterFactory(status="scheduled")
    signed(letter, organization_name="Example Corp", allow_embargoed=True)
    page = client.get("/api/v1/organizations/example-corp/").json()
    assert page["letters"] == [] and org.pk


ADMIN_INLINES = {
    "recipients-TOTAL_FORMS": "0", "recipients-INITIAL_FORMS": "0",
    "sponsorships-TOTAL_FORMS": "0", "sponsorships-INITIAL_FORMS": "0",
    "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
}  # fmt: skip


def admin_post(staff_client, letter, **fields):
    from django.urls import reverse

    data = {"title": letter.title, "summary": letter.summary, "body": letter.current_version.body, **fields}
    return staff_client.post(reverse("admin:letters_letter_change", args=[letter.pk]), {**data, **ADMIN_INLINES})


def test_admin_schedules_through_the_service_and_refuses_a_past_time_or_an_impossible_move(staff_client, staff_user):
    letter = LetterFactory(status="draft", opened_at=None)
    past = admin_post(staff_client, letter, status="scheduled", publish_at_0="2020-01-01", publish_at_1="10:00:00")
    assert past.status_code == 200 and "The publication time must be in the future." in past.content.decode()
    launch = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    local = timezone.localtime(launch)
    day, time = local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")
    assert admin_post(staff_client, letter, status="scheduled", publish_at_0=day, publish_at_1=time).status_code == 302
    letter.refresh_from_db()
    assert (letter.status, letter.publish_at) == ("scheduled", launch)
    audit = AuditEvent.objects.get(action="letters.letter.status_changed")
    assert (audit.actor, audit.data) == (
        staff_user,
        {"from": "draft", "to": "scheduled", "publish_at": launch.isoformat()},
    )
    closed = LetterFactory(status="closed")
    refused = admin_post(staff_client, closed, status="open")
    assert refused.status_code == 200 and "A closed letter cannot become open." in refused.content.decode()
    assert Letter.objects.get(pk=closed.pk).status == "closed"

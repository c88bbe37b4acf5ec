import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from letters.models import Letter
from registry.models import DuplicateCheckRequest
from tests.factories import LetterFactory, PersonFactory
from tests.ops.conftest import created_event, outbox_message

TOKEN = "metrics-token-0123456789abcdef"
NAMES = {
    "undersigned_signatures_created_total",
    "undersigned_signatures_created_last_minute",
    "undersigned_outbox_backlog",
    "undersigned_outbox_oldest_waiting_age_seconds",
    "undersigned_outbox_undeliverable_total",
    "undersigned_count_fold_lag_seconds",
    "undersigned_duplicate_check_lag_seconds",
}


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client, **headers) -> dict[str, float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=1.0.0; charset=utf-8"
    text = response.content.decode()
    assert "@" not in text
    assert TOKEN not in text
    return {sample.name: sample.value for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_answer_404_while_no_token_is_set(probe_client, settings, staff_client):
    settings.METRICS_TOKEN = ""

    assert probe_client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404
    assert staff_client.get("/metrics", HTTP_HOST="localhost").status_code == 404


@pytest.mark.parametrize(
    ("authorization", "www_authenticate"),
    [
        (None, 'Bearer realm="metrics"'),
        (f"Bearer {TOKEN}x", 'Bearer realm="metrics", error="invalid_token"'),
        ("Bearer metrics-token", 'Bearer realm="metrics", error="invalid_token"'),
        (f"Basic {TOKEN}", 'Bearer realm="metrics"'),
    ],
)
def test_metrics_refuse_a_missing_or_wrong_token(probe_client, metrics_token, db, authorization, www_authenticate):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = probe_client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == www_authenticate
    assert response.content == b"Unauthorized\n"


def test_metrics_refuse_a_signed_in_member_who_is_not_staff(probe_client, metrics_token, django_user_model):
    probe_client.force_login(django_user_model.objects.create_user("reader", "reader@example.org", "pw"))

    assert probe_client.get("/metrics").status_code == 401


def test_metrics_report_each_value_from_the_database(probe_client, metrics_token, open_letter):
    for age in (timedelta(minutes=5), timedelta(seconds=50), timedelta(seconds=5)):  # in the order written
        created_event(letter=open_letter, age=age)  # none folded yet
    outbox_message(age=timedelta(minutes=2))
    outbox_message(age=timedelta(seconds=30))
    outbox_message(age=timedelta(hours=1), sent_at=timezone.now())
    outbox_message(age=timedelta(hours=1), failed_at=timezone.now())

    values = scrape(probe_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert values.keys() >= NAMES
    assert values["undersigned_signatures_created_total"] == 3
    assert values["undersigned_signatures_created_last_minute"] == 2
    assert values["undersigned_outbox_backlog"] == 2
    assert 120 <= values["undersigned_outbox_oldest_waiting_age_seconds"] < 130
    assert values["undersigned_outbox_undeliverable_total"] == 1
    assert 300 <= values["undersigned_count_fold_lag_seconds"] < 310


def test_metrics_report_no_backlog_and_no_lag_once_everything_is_sent_and_folded(
    probe_client, metrics_token, folded_history
):
    values = scrape(probe_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert values["undersigned_signatures_created_total"] == 3
    assert values["undersigned_signatures_created_last_minute"] == 0
    assert values["undersigned_outbox_backlog"] == 0
    assert values["undersigned_outbox_oldest_waiting_age_seconds"] == 0
    assert values["undersigned_outbox_undeliverable_total"] == 0
    assert values["undersigned_count_fold_lag_seconds"] == 0


def test_metrics_count_fold_lag_covers_a_letter_the_fold_has_never_seen(probe_client, metrics_token, folded_history):
    """No LetterCount row yet: every event of the letter is unfolded."""
    letter = LetterFactory()
    letter.count.delete()
    created_event(letter=Letter.objects.get(pk=letter.pk), age=timedelta(seconds=90))

    values = scrape(probe_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert 90 <= values["undersigned_count_fold_lag_seconds"] < 100


def test_metrics_report_how_long_the_oldest_requested_duplicate_check_has_waited(probe_client, metrics_token, db):
    assert scrape(probe_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")["undersigned_duplicate_check_lag_seconds"] == 0
    for age in (timedelta(seconds=40), timedelta(minutes=3)):
        DuplicateCheckRequest.objects.create(person=PersonFactory(), requested_at=timezone.now() - age)

    values = scrape(probe_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert 180 <= values["undersigned_duplicate_check_lag_seconds"] < 190


def test_metrics_are_open_to_a_staff_session(staff_client, metrics_token):
    assert scrape(staff_client, HTTP_HOST="localhost").keys() >= NAMES


def test_metrics_answer_503_when_the_database_fails(probe_client, metrics_token, db, monkeypatch):
    def failing() -> None:
        raise DatabaseError("connection to server at 10.0.0.5 failed")

    monkeypatch.setattr("ops.metrics.signing_state", lambda **kwargs: failing())

    response = probe_client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert (response.status_code, response.content) == (503, b"Database unavailable\n")


@pytest.mark.skipif("connection.vendor == 'postgresql'", reason="SQLite has no deadlock statistics")
def test_metrics_leave_out_deadlocks_where_the_database_keeps_no_count(probe_client, metrics_token, db):
    assert "undersigned_database_deadlocks_total" not in scrape(probe_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def _lock_in_order(first: int, second: int, barrier: threading.Barrier, errors: list[Exception]) -> None:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM letters_letter WHERE id = %s FOR UPDATE", [first])
            barrier.wait(timeout=10)
            cursor.execute("SELECT id FROM letters_letter WHERE id = %s FOR UPDATE", [second])
    except DatabaseError as exc:
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_metrics_count_a_deadlock_between_two_transactions(probe_client, metrics_token):
    def deadlocks() -> float:
        return scrape(probe_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")["undersigned_database_deadlocks_total"]

    before = deadlocks()
    one, two = LetterFactory().pk, LetterFactory().pk
    barrier, errors = threading.Barrier(2), []
    threads = [
        threading.Thread(target=_lock_in_order, args=(one, two, barrier, errors)),
        threading.Thread(target=_lock_in_order, args=(two, one, barrier, errors)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(errors) == 1 and "deadlock detected" in str(errors[0])
    # The statistics collector publishes a backend's counts within about a second of its transaction ending.
    for _ in range(50):
        if deadlocks() > before:
            break
        connection.close()  # a new snapshot of the statistics
        threading.Event().wait(0.2)
    assert deadlocks() == before + 1

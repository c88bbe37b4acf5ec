"""The fan-out: each change is queued in its own transaction by the triggers, announced to the endpoints of its
letter subscribed to its type, and leaves the queue."""

from datetime import timedelta

import pytest
from django.utils import timezone

from letters.models import AnnouncementQueue, Letter
from letters.services.letters import letter_version_publish
from letters.services.lifecycle import letter_close, letter_open
from letters.services.signing import signature_withdraw
from letters.services.verification import signature_reject
from moderation.models import TrendingAlert
from tests.builders import signed
from tests.factories import LetterFactory
from tests.webhooks.helpers import forget_queued
from webhooks.fanout import announcements_fan_out
from webhooks.models import EVENT_TYPES, Delivery
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter():
    letter = LetterFactory(slug="fan-out")
    forget_queued()
    return letter


def _endpoint(letter, events=EVENT_TYPES):
    return endpoint_create(letter=letter, url="https://hooks.example/in", event_types=list(events)).endpoint


def _types(endpoint):
    return list(Delivery.objects.filter(endpoint=endpoint).order_by("pk").values_list("event_type", flat=True))


def test_each_visible_change_is_queued_in_its_transaction_and_announced_by_type(letter):
    endpoint = _endpoint(letter)
    kept = signed(letter, email="kept@example.org")
    gone = signed(letter, email="gone@example.org")
    bad = signed(letter, email="bad@example.org")
    signed(letter, email="pending@example.org", confirm=False)  # never public: nothing to announce
    signature_withdraw(signature=gone)
    signature_reject(signature=bad, reason="Impersonation")
    assert AnnouncementQueue.objects.count() == 5

    assert announcements_fan_out() == 5
    assert _types(endpoint) == ["signature.confirmed"] * 3 + ["signature.withdrawn", "signature.invalidated"]
    assert AnnouncementQueue.objects.count() == 0
    confirmed = Delivery.objects.filter(endpoint=endpoint, event_type="signature.confirmed").order_by("pk").first()
    assert confirmed.payload["data"]["signature"] == kept.public_id
    assert confirmed.source.startswith("event:")


def test_versions_and_the_letters_first_opening_and_closing_are_announced(letter):
    draft = LetterFactory(slug="later", status=Letter.Status.DRAFT)
    endpoint, draft_endpoint = _endpoint(letter), _endpoint(draft)
    letter_version_publish(letter=letter, body="A better text.", kind="editorial")
    letter_close(letter=letter)
    letter_open(letter=draft)
    announcements_fan_out()

    assert _types(endpoint) == ["letter.version_published", "letter.closed"]
    assert _types(draft_endpoint) == ["letter.version_published", "letter.published"]  # its draft version too
    closed = Delivery.objects.get(endpoint=endpoint, event_type="letter.closed").payload
    assert closed["data"] == {
        "letter": "fan-out",
        "status": "closed",
        "counts": {"public": 0},
        "links": closed["data"]["links"],
    }
    version = Delivery.objects.get(endpoint=endpoint, event_type="letter.version_published").payload
    assert (version["data"]["version"], version["data"]["kind"]) == (2, "editorial")


def test_only_subscribed_active_endpoints_of_the_letter_get_a_delivery(letter):
    wants = _endpoint(letter, ["signature.confirmed"])
    other_event = _endpoint(letter, ["signature.withdrawn"])
    inactive = _endpoint(letter, ["signature.confirmed"])
    inactive.active = False
    inactive.save()
    other_letter = _endpoint(LetterFactory(slug="elsewhere"), ["signature.confirmed"])
    forget_queued()
    signed(letter)
    announcements_fan_out()
    assert [_types(e) for e in (wants, other_event, inactive, other_letter)] == [["signature.confirmed"], [], [], []]


def test_a_scheduled_letters_changes_are_not_announced(letter):
    scheduled = LetterFactory(
        slug="embargoed", status=Letter.Status.SCHEDULED, publish_at=timezone.now() + timedelta(days=1)
    )
    endpoint = _endpoint(scheduled)
    signed(scheduled, allow_embargoed=True)
    announcements_fan_out()
    assert _types(endpoint) == []
    assert AnnouncementQueue.objects.count() == 0


def test_the_fan_out_twice_over_the_same_rows_makes_one_delivery_each(letter):
    endpoint = _endpoint(letter, ["signature.confirmed"])
    signed(letter)
    queued = list(AnnouncementQueue.objects.values_list("kind", "object_id"))
    announcements_fan_out()
    AnnouncementQueue.objects.bulk_create([AnnouncementQueue(kind=k, object_id=i) for k, i in queued])
    announcements_fan_out()
    assert _types(endpoint) == ["signature.confirmed"]


def test_a_trending_alert_is_announced_once_without_its_key(letter):
    endpoint = _endpoint(letter, ["alert.trending"])
    now = timezone.now()
    alert = TrendingAlert.objects.create(
        letter=letter, dimension="ip", key="a" * 64, count=40, peak=40, window_seconds=600, threshold=30,
        first_seen_at=now, last_seen_at=now,
    )  # fmt: skip
    assert announcements_fan_out() == 1
    assert announcements_fan_out() == 0
    alert.refresh_from_db()
    assert alert.announced_at is not None
    payload = Delivery.objects.get(endpoint=endpoint).payload
    assert payload["type"] == "alert.trending"
    assert sorted(payload["data"]) == [
        "alert",
        "counts",
        "dimension",
        "first_seen_at",
        "letter",
        "links",
        "window_seconds",
    ]
    assert "a" * 64 not in str(payload)


def test_a_bulk_invalidation_announces_each_signature_it_removed(letter):
    from moderation.services import invalidation_run, invalidation_start

    endpoint = _endpoint(letter, ["signature.invalidated"])
    removed = {signed(letter, name=f"Bot {n}", email=f"bot{n}@example.org").public_id for n in range(3)}
    signed(letter, name="Real Person", email="real@example.org")
    invalidation = invalidation_start(
        letter=letter, criteria={"name": "Bot*"}, reason="A wave", confirm_large=True, actor=None
    )
    invalidation_run(invalidation_id=invalidation.pk)
    announcements_fan_out()
    payloads = [d.payload["data"] for d in Delivery.objects.filter(endpoint=endpoint)]
    assert {p["signature"] for p in payloads} == removed
    assert {p["reason"] for p in payloads} == {"rejected"}

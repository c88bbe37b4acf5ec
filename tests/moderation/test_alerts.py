"""Trending alerts (moderation.alerts): waves by address, network and email domain open one alert each, continuing
waves update it, quiet periods resolve it; moderators get one email per alert; signing is never blocked."""

from datetime import timedelta

import pytest
from django.utils import timezone

from letters.ipaddrs import ip_hashes
from letters.models import OutboxMessage, Signature
from moderation.alerts import KIND_TRENDING_ALERT, alert_invalidation_criteria, alerts_scan
from moderation.criteria import criteria_clean, criteria_queryset
from moderation.models import AlertScan, TrendingAlert
from organizing.models import Membership
from registry.models import AuditEvent
from tests.builders import signed
from tests.factories import LetterFactory
from tests.organizing.conftest import member

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.ALERT_WINDOW_SECONDS = 600
    settings.ALERT_IP_THRESHOLD = 5
    settings.ALERT_PREFIX_THRESHOLD = 10
    settings.ALERT_DOMAIN_THRESHOLD = 6
    settings.ALERT_DOMAIN_SHARE = 0.3
    settings.ALERT_WEBMAIL_DOMAIN_THRESHOLD = 50
    settings.ALERT_WEBMAIL_DOMAINS = {"gmail.com"}
    settings.ALERT_QUIET_SECONDS = 900
    return settings


@pytest.fixture
def letter(db):
    letter = LetterFactory(slug="wave", title="The wave letter")
    member(letter, Membership.Role.OWNER, username="own", email="own@org.example")
    member(letter, Membership.Role.EDITOR, username="edi", email="edi@org.example")
    member(letter, Membership.Role.MODERATOR, username="mod", email="mod@org.example")
    member(letter, Membership.Role.VIEWER, username="vie", email="vie@org.example")
    return letter


def wave(letter, n, *, ip=lambda i: "203.0.113.7", domain=None, start=0, at=None, confirm=True):
    return [
        signed(
            letter,
            name=f"Bot {i}",
            email=f"bot{i}@{domain or f'd{i}.example'}",
            ip_address=ip(i),
            at=at or NOW - timedelta(seconds=60),
            confirm=confirm,
        )
        for i in range(start, start + n)
    ]


def alert_emails():
    return sorted(OutboxMessage.objects.filter(kind=KIND_TRENDING_ALERT).values_list("to_email", flat=True))


def test_a_wave_from_one_address_opens_exactly_one_alert_and_emails_each_moderator_once(letter):
    wave(letter, 5, confirm=False)
    result = alerts_scan(at=NOW)
    alert = TrendingAlert.objects.get()
    assert (result.opened, result.updated, result.resolved) == (1, 0, 0)
    assert (alert.letter, alert.dimension, alert.key, alert.status) == (
        letter,
        "ip",
        ip_hashes("203.0.113.7")[0],
        "open",
    )
    assert (alert.count, alert.peak, alert.threshold, alert.window_seconds) == (5, 5, 5, 600)
    assert (alert.first_seen_at, alert.last_seen_at, alert.resolved_at, alert.announced_at) == (NOW, NOW, None, None)
    assert alert_emails() == ["edi@org.example", "mod@org.example", "own@org.example"]
    body = OutboxMessage.objects.filter(kind=KIND_TRENDING_ALERT).first().body_text
    assert "5 new signatures in 10 minutes" in body and "/manage/wave/alerts/" in body
    assert alert.key not in body and "203.0.113.7" not in body
    opened = AuditEvent.objects.get(action="moderation.alert.opened")
    assert opened.data["key"] == alert.key[:10] and opened.data["count"] == 5


def test_a_continuing_wave_updates_its_alert_and_sends_no_second_email(letter):
    wave(letter, 5)
    alerts_scan(at=NOW)
    wave(letter, 3, start=5, at=NOW + timedelta(seconds=20))
    result = alerts_scan(at=NOW + timedelta(seconds=30))
    alert = TrendingAlert.objects.get()
    assert (result.opened, result.updated) == (0, 1)
    assert (alert.count, alert.peak, alert.first_seen_at, alert.last_seen_at) == (
        8,
        8,
        NOW,
        NOW + timedelta(seconds=30),
    )
    assert len(alert_emails()) == 3
    assert AuditEvent.objects.filter(action__startswith="moderation.alert.").count() == 1


def test_a_quiet_period_resolves_the_alert_and_a_later_wave_opens_a_new_one(letter):
    wave(letter, 5)
    alerts_scan(at=NOW)
    alerts_scan(at=NOW + timedelta(seconds=900))  # the wave has left the window, not yet quiet long enough
    assert TrendingAlert.objects.get().status == "open"
    later = NOW + timedelta(seconds=901)
    assert alerts_scan(at=later).resolved == 1
    first = TrendingAlert.objects.get()
    assert (first.status, first.resolved_at) == ("resolved", later)
    assert AuditEvent.objects.filter(action="moderation.alert.resolved", target_id=str(first.pk)).count() == 1
    wave(letter, 5, start=10, at=later + timedelta(seconds=100))
    alerts_scan(at=later + timedelta(seconds=120))
    assert TrendingAlert.objects.count() == 2
    assert TrendingAlert.objects.exclude(pk=first.pk).get().status == "open"
    assert len(alert_emails()) == 6


def test_below_the_threshold_or_outside_the_window_no_alert_opens(letter):
    wave(letter, 4)
    wave(letter, 3, start=4, at=NOW - timedelta(seconds=700))
    assert alerts_scan(at=NOW).opened == 0
    assert TrendingAlert.objects.count() == 0 and alert_emails() == []


def test_a_network_wave_from_many_addresses_alerts_on_the_prefix_alone(letter):
    wave(letter, 10, ip=lambda i: f"203.0.113.{i + 1}")
    alerts_scan(at=NOW)
    alert = TrendingAlert.objects.get()
    assert (alert.dimension, alert.key, alert.count) == ("ip_prefix", ip_hashes("203.0.113.1")[1], 10)


def test_a_domain_alerts_past_its_count_and_its_share_of_the_window(letter):
    wave(letter, 6, ip=lambda i: f"198.51.{i}.1", domain="acme.example")
    alerts_scan(at=NOW)
    alert = TrendingAlert.objects.get()
    assert (alert.dimension, alert.key, alert.count, alert.key_shown) == (
        "email_domain",
        "acme.example",
        6,
        "acme.example",
    )


def test_a_domain_under_its_share_of_a_busy_window_does_not_alert(letter):
    wave(letter, 6, ip=lambda i: f"198.51.{i}.1", domain="acme.example")
    for i in range(15):
        signed(letter, name=f"Other {i}", email=f"o{i}@d{i}.example", ip_address=f"192.0.{i}.9", at=NOW)
    alerts_scan(at=NOW)
    assert TrendingAlert.objects.count() == 0


def test_webmail_domains_need_their_own_much_higher_count(letter, thresholds):
    wave(letter, 10, ip=lambda i: f"198.51.{i}.1", domain="gmail.com")
    alerts_scan(at=NOW)
    assert TrendingAlert.objects.count() == 0
    thresholds.ALERT_WEBMAIL_DOMAIN_THRESHOLD = 10
    alerts_scan(at=NOW + timedelta(seconds=30))
    assert TrendingAlert.objects.get().key == "gmail.com"


def test_webmail_domains_are_never_alerted_on_with_a_zero_threshold(letter, thresholds):
    thresholds.ALERT_WEBMAIL_DOMAIN_THRESHOLD = 0
    wave(letter, 10, ip=lambda i: f"198.51.{i}.1", domain="gmail.com")
    alerts_scan(at=NOW)
    assert TrendingAlert.objects.count() == 0


def test_imported_withdrawn_and_removed_signatures_make_no_wave(letter):
    bots = wave(letter, 5)
    Signature.objects.filter(pk__in=[b.pk for b in bots[:2]]).update(status="rejected")
    alerts_scan(at=NOW)
    assert TrendingAlert.objects.count() == 0
    Signature.objects.filter(pk__in=[b.pk for b in bots[:2]]).update(status="confirmed", source="import")
    alerts_scan(at=NOW + timedelta(seconds=1))
    assert TrendingAlert.objects.count() == 0


def test_each_pass_reads_the_window_from_the_last_watermark_older_than_the_window(letter):
    alerts_scan(at=NOW - timedelta(seconds=650))
    floor = AlertScan.objects.get()
    wave(letter, 5)
    Signature.objects.filter(letter=letter).update(signed_at=NOW - timedelta(seconds=30))
    assert floor.max_signature_id < Signature.objects.order_by("pk").first().pk
    assert alerts_scan(at=NOW).opened == 1
    # Rows at or under the floor are outside the window whatever their signed_at says.
    AlertScan.objects.create(scanned_at=NOW - timedelta(seconds=610), max_signature_id=10**9)
    TrendingAlert.objects.all().delete()
    assert alerts_scan(at=NOW + timedelta(seconds=1)).opened == 0
    # Only the floor and later passes are kept.
    assert sorted(AlertScan.objects.values_list("scanned_at", flat=True)) == [
        NOW - timedelta(seconds=610),
        NOW,
        NOW + timedelta(seconds=1),
    ]


def test_an_alert_never_blocks_signing_from_the_same_address(letter):
    wave(letter, 5)
    alerts_scan(at=NOW)
    again = signed(letter, name="Bot again", email="again@again.example", ip_address="203.0.113.7")
    again.refresh_from_db()
    assert (again.status, again.hold_reason, again.is_visible) == ("confirmed", "", True)


def test_an_acknowledged_or_dismissed_alert_absorbs_its_continuing_wave(letter):
    from moderation.alerts import alert_dismiss

    wave(letter, 5)
    alerts_scan(at=NOW)
    alert = alert_dismiss(alert=TrendingAlert.objects.get(), actor=None)
    wave(letter, 2, start=5, at=NOW)
    alerts_scan(at=NOW + timedelta(seconds=30))
    alert.refresh_from_db()
    assert (TrendingAlert.objects.count(), alert.status, alert.count) == (1, "dismissed", 7)
    alerts_scan(at=NOW + timedelta(seconds=1000))
    alert.refresh_from_db()
    assert (alert.status, alert.resolved_at) == ("dismissed", NOW + timedelta(seconds=1000))


def test_the_alert_prefills_invalidation_criteria_that_match_its_wave(letter):
    bots = wave(letter, 5)
    signed(letter, name="Real", email="real@real.example", ip_address="198.51.100.1")
    alerts_scan(at=NOW)
    alert = TrendingAlert.objects.get()
    criteria = criteria_clean(alert_invalidation_criteria(alert), letter=letter)
    assert set(criteria) == {"alert", "signed_after"}
    assert sorted(criteria_queryset(letter=letter, criteria=criteria).values_list("pk", flat=True)) == sorted(
        b.pk for b in bots
    )


def test_another_letters_alert_is_not_a_criterion(letter):
    wave(letter, 5)
    alerts_scan(at=NOW)
    other = LetterFactory(slug="other")
    with pytest.raises(Exception) as refused:
        criteria_clean({"alert": TrendingAlert.objects.get().public_id}, letter=other)
    assert refused.value.message_dict == {"alert": ["No such alert on this letter."]}


def test_beat_runs_the_pass_every_thirty_seconds(letter, settings):
    from moderation import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["alerts-scan"]
    assert (entry["task"], entry["schedule"]) == ("moderation.tasks.alerts_scan", 30.0)
    assert tasks.alerts_scan.name == entry["task"]
    wave(letter, 5, at=timezone.now() - timedelta(seconds=5))
    tasks.alerts_scan.apply()
    assert TrendingAlert.objects.get().dimension == "ip"


def test_a_letters_own_thresholds_replace_the_deployments(letter):
    from moderation.alerts import alert_thresholds_set

    quiet = LetterFactory(slug="quiet")
    alert_thresholds_set(letter=letter, thresholds={"ip": 10, "ip_prefix": None, "email_domain": ""}, actor=None)
    alert_thresholds_set(letter=quiet, thresholds={"ip": 2}, actor=None)
    wave(letter, 5)
    signed(quiet, name="Q1", email="q1@q1.example", ip_address="192.0.2.1", at=NOW - timedelta(seconds=9))
    signed(quiet, name="Q2", email="q2@q2.example", ip_address="192.0.2.1", at=NOW - timedelta(seconds=9))
    alerts_scan(at=NOW)
    alert = TrendingAlert.objects.get()
    assert (alert.letter, alert.count, alert.threshold) == (quiet, 2, 2)


def test_a_letters_own_domain_threshold_never_lowers_webmails(letter):
    from moderation.alerts import alert_thresholds_set

    alert_thresholds_set(letter=letter, thresholds={"email_domain": 3}, actor=None)
    wave(letter, 4, ip=lambda i: f"198.51.{i}.1", domain="gmail.com")
    wave(letter, 3, start=4, ip=lambda i: f"198.52.{i}.1", domain="acme.example")
    alerts_scan(at=NOW)
    assert list(TrendingAlert.objects.values_list("key", "count", "threshold")) == [("acme.example", 3, 3)]


def test_thresholds_out_of_range_are_field_errors_and_audited_when_set(letter):
    from django.core.exceptions import ValidationError

    from moderation.alerts import alert_thresholds_of, alert_thresholds_set
    from moderation.models import AlertThresholds

    with pytest.raises(ValidationError) as refused:
        alert_thresholds_set(letter=letter, thresholds={"ip": 0, "ip_prefix": "many", "email_domain": True}, actor=None)
    message = ["A whole number from 1 to 1000000, or empty for the default."]
    assert refused.value.message_dict == {"ip": message, "ip_prefix": message, "email_domain": message}
    assert not AlertThresholds.objects.exists()
    set_ = alert_thresholds_set(letter=letter, thresholds={"ip_prefix": "40"}, actor=None)
    assert (set_.own, set_.effective) == (
        {"ip": None, "ip_prefix": 40, "email_domain": None},
        {"ip": 5, "ip_prefix": 40, "email_domain": 6},
    )
    assert alert_thresholds_of(letter=letter) == set_
    changed = AuditEvent.objects.get(action="moderation.alert_thresholds.changed")
    assert changed.data["after"] == {"ip": None, "ip_prefix": 40, "email_domain": None}

"""Trending alerts for moderators: /api/v1/manage/letters/{slug}/alerts/ and /manage/{slug}/alerts/ (list,
acknowledge, dismiss), the dashboards, and the link to a filled-in bulk invalidation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.alerts import alerts_scan
from moderation.models import TrendingAlert
from organizing.models import Membership
from registry.models import AuditEvent
from tests.builders import signed
from tests.factories import LetterFactory
from tests.organizing.conftest import member

pytestmark = pytest.mark.django_db
API = "/api/v1/manage/letters/wave/alerts/"


@pytest.fixture
def alert(db, settings):
    settings.ALERT_IP_THRESHOLD = 3
    letter = LetterFactory(slug="wave", title="The wave letter")
    for i in range(3):
        signed(letter, name=f"Bot {i}", email=f"bot{i}@d{i}.example", ip_address="203.0.113.9")
    signed(letter, name="Real", email="real@real.example", ip_address="198.51.100.1")
    alerts_scan(at=timezone.now() + timedelta(seconds=1))
    return TrendingAlert.objects.get()


@pytest.fixture
def moderator(alert):
    return member(alert.letter, Membership.Role.MODERATOR, username="mod")


@pytest.fixture
def api(client, moderator):
    client.force_login(moderator)
    return client


def test_the_list_shows_the_alert_with_its_short_key_only(api, alert):
    response = api.get(API)
    assert response.status_code == 200
    [shown] = response.json()
    assert {k: shown[k] for k in ("id", "dimension", "key", "count", "peak", "threshold", "status")} == {
        "id": alert.public_id,
        "dimension": "ip",
        "key": alert.key[:10],
        "count": 3,
        "peak": 3,
        "threshold": 3,
        "status": "open",
    }
    assert alert.key not in response.content.decode() and "203.0.113" not in response.content.decode()
    assert set(shown["invalidation_criteria"]) == {"alert", "signed_after"}
    assert shown["invalidation_page"].startswith("/manage/wave/invalidations/?signed_after=")


def test_the_list_filters_by_status_and_refuses_an_unknown_one(api, alert):
    assert api.get(API + "?status=resolved").json() == []
    assert len(api.get(API + "?status=all").json()) == 1
    refused = api.get(API + "?status=loud")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["status"]


def test_acknowledge_then_dismiss_each_audited_and_not_twice(api, alert, moderator):
    acknowledged = api.post(f"{API}{alert.public_id}/acknowledge")
    assert acknowledged.status_code == 200
    assert (acknowledged.json()["status"], acknowledged.json()["acknowledged_by"]) == ("acknowledged", "mod")
    again = api.post(f"{API}{alert.public_id}/acknowledge")
    assert (again.status_code, again.json()) == (409, {"detail": "This alert is acknowledged.", "errors": {}})
    assert api.post(f"{API}{alert.public_id}/dismiss").json()["status"] == "dismissed"
    assert api.post(f"{API}{alert.public_id}/dismiss").status_code == 409
    audited = AuditEvent.objects.filter(target_id=str(alert.pk), action__startswith="moderation.alert.")
    assert sorted(audited.values_list("action", "actor_id")) == [
        ("moderation.alert.acknowledged", moderator.pk),
        ("moderation.alert.dismissed", moderator.pk),
        ("moderation.alert.opened", None),
    ]
    assert api.get(API).json() == []  # a dismissed alert leaves the active list


def test_viewers_may_not_see_or_decide_alerts(client, alert):
    client.force_login(member(alert.letter, Membership.Role.VIEWER, username="viewer"))
    assert client.get(API).status_code == 403
    assert client.post(f"{API}{alert.public_id}/dismiss").status_code == 403
    assert client.get("/manage/wave/alerts/").status_code == 403
    assert TrendingAlert.objects.get().status == "open"


def test_another_letters_alert_is_not_found(client, alert):
    other = LetterFactory(slug="other")
    client.force_login(member(other, Membership.Role.MODERATOR, username="other-mod"))
    assert client.post(f"/api/v1/manage/letters/other/alerts/{alert.public_id}/acknowledge").status_code == 404
    assert client.post(f"/manage/other/alerts/{alert.public_id}/dismiss/").status_code == 404
    assert TrendingAlert.objects.get().status == "open"


def test_the_dashboards_show_open_alerts_to_moderators_only(api, client, alert):
    body = api.get("/api/v1/manage/letters/wave/dashboard").json()
    assert [(a["id"], a["count"]) for a in body["alerts"]] == [(alert.public_id, 3)]
    page = api.get("/manage/wave/").content.decode()
    assert f'data-testid="dashboard-alert-{alert.public_id}"' in page and alert.key not in page
    client.force_login(member(alert.letter, Membership.Role.VIEWER, username="viewer"))
    assert client.get("/api/v1/manage/letters/wave/dashboard").json()["alerts"] == []
    assert "dashboard-alert-" not in client.get("/manage/wave/").content.decode()


def test_the_alert_page_links_to_a_filled_in_invalidation_that_previews_the_wave(api, alert):
    page = api.get("/manage/wave/alerts/")
    assert page.status_code == 200
    [(shown, link)] = page.context["alerts"]
    assert shown == alert and alert.key not in page.content.decode()
    filled = api.get(link)
    assert filled.status_code == 200
    form = filled.context["form"]
    assert form["alert"].value() == alert.public_id
    criteria = {"alert": alert.public_id, "signed_after": form["signed_after"].value()}
    preview = api.post("/manage/wave/invalidations/", {**criteria, "action": "preview"})
    assert preview.context["preview"].count == 3
    assert sorted(s.name for s in preview.context["preview"].sample) == ["Bot 0", "Bot 1", "Bot 2"]


def test_acknowledge_and_dismiss_on_the_page(api, alert):
    done = api.post(f"/manage/wave/alerts/{alert.public_id}/acknowledge/", follow=True)
    assert done.redirect_chain == [("/manage/wave/alerts/", 302)]
    assert "The alert is acknowledged." in done.content.decode()
    api.post(f"/manage/wave/alerts/{alert.public_id}/dismiss/")
    again = api.post(f"/manage/wave/alerts/{alert.public_id}/dismiss/", follow=True)
    assert "This alert is dismissed." in again.content.decode()
    assert TrendingAlert.objects.get().status == "dismissed"


def test_thresholds_through_the_api(api, alert):
    url = API + "thresholds"
    assert api.get(url).json()["own"] == {"ip": None, "ip_prefix": None, "email_domain": None}
    saved = api.put(url, {"ip": 7, "email_domain": None}, content_type="application/json")
    assert saved.status_code == 200
    assert (saved.json()["own"]["ip"], saved.json()["effective"]["ip"]) == (7, 7)
    refused = api.put(url, {"ip": 0}, content_type="application/json")
    assert (refused.status_code, refused.json()) == (
        400,
        {"detail": "Invalid input.", "errors": {"ip": ["Ensure this value is greater than or equal to 1."]}},
    )
    assert api.get(url).json()["own"]["ip"] == 7


def test_thresholds_on_the_page(api, alert):
    page = api.get("/manage/wave/alerts/")
    assert "Thresholds of this letter" in page.content.decode()
    done = api.post("/manage/wave/alerts/thresholds/", {"ip": "12", "ip_prefix": "", "email_domain": ""}, follow=True)
    assert done.redirect_chain == [("/manage/wave/alerts/", 302)]
    assert "12 from one" in done.content.decode()
    refused = api.post("/manage/wave/alerts/thresholds/", {"ip": "0"})
    assert refused.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in refused.content.decode()

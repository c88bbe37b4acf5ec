"""Owners manage webhooks through the API and the pages: the secret is shown once, changes are audited, another
letter's endpoint is 404, bad input is a 400 with field errors and nothing stored."""

import pytest
from django.test import Client

from organizing.models import Membership
from registry.models import AuditEvent
from tests.factories import LetterFactory
from tests.organizing.conftest import member
from tests.webhooks.helpers import drain, forget_queued
from webhooks.models import Delivery, Endpoint, EndpointSecret
from webhooks.secrets import secret_decrypt
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db
API = "/api/v1/manage/letters/hooked/webhooks/"
UNKNOWN = "Unknown event type: signature.signed."
NO_CREDENTIALS = "Put no user name or password in the URL; verify the signature instead."


@pytest.fixture
def letter():
    letter = LetterFactory(slug="hooked")
    forget_queued()
    return letter


@pytest.fixture
def owner_client(letter):
    client = Client()
    client.force_login(member(letter, Membership.Role.OWNER, second_factor=True, username="owner"))
    return client


def test_creating_an_endpoint_shows_its_secret_once_and_audits_it(owner_client, letter):
    response = owner_client.post(
        API, {"url": "https://hooks.example/in", "event_types": ["milestone.reached"]}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    endpoint = Endpoint.objects.get()
    assert body == {
        "id": endpoint.public_id, "url": "https://hooks.example/in", "description": "",
        "event_types": ["milestone.reached"], "active": True, "disabled_at": None, "disabled_reason": "",
        "created_at": body["created_at"], "secret": body["secret"],
    }  # fmt: skip
    assert body["secret"].startswith("whsec_")
    stored = EndpointSecret.objects.get(endpoint=endpoint)
    assert body["secret"] not in stored.encrypted and secret_decrypt(stored.encrypted) == body["secret"]
    assert body["secret"] not in owner_client.get(API).content.decode()
    assert body["secret"] not in owner_client.get(f"{API}{endpoint.public_id}/").content.decode()
    assert AuditEvent.objects.filter(action="webhooks.endpoint.created", target_id=str(endpoint.pk)).count() == 1


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"url": "http://hooks.example/in", "event_types": ["signature.confirmed"]}, {"url": ["The URL must start with https://."]}),
        ({"url": "https://hooks.example/in", "event_types": ["signature.signed"]}, {"event_types": [UNKNOWN]}),
        ({"url": "https://hooks.example/in", "event_types": []}, {"event_types": ["Choose at least one event."]}),
        ({"url": "https://a:b@hooks.example/", "event_types": ["letter.closed"]}, {"url": [NO_CREDENTIALS]}),
    ],
)  # fmt: skip
def test_bad_endpoints_are_field_errors_and_nothing_is_stored(owner_client, settings, data, errors):
    settings.WEBHOOK_ALLOW_HTTP = False
    response = owner_client.post(API, data, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert Endpoint.objects.count() == 0 and AuditEvent.objects.filter(action__startswith="webhooks.").count() == 0


def test_update_rotate_ping_deliveries_and_redeliver(owner_client, letter, receiver):
    endpoint = endpoint_create(letter=letter, url=receiver.url, event_types=["signature.confirmed"]).endpoint
    one = f"{API}{endpoint.public_id}/"
    response = owner_client.patch(
        one, {"event_types": ["letter.closed", "milestone.reached"]}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["event_types"] == ["letter.closed", "milestone.reached"]

    rotated = owner_client.post(f"{one}rotate")
    assert rotated.status_code == 200 and rotated.json()["secret"].startswith("whsec_")
    receiver.secrets.append(rotated.json()["secret"])

    assert owner_client.post(f"{one}ping").status_code == 202
    drain()
    [got] = receiver.received
    assert got.payload["type"] == "webhook.ping" and list(got.verified.values()) == [True]

    log = owner_client.get(f"{one}deliveries/").json()
    assert [(d["event_type"], d["attempts_made"], d["last_status"]) for d in log] == [("webhook.ping", 1, 200)]
    assert [a["status_code"] for a in log[0]["attempts"]] == [200]

    again = owner_client.post(f"{one}deliveries/{log[0]['webhook_id']}/redeliver")
    assert again.status_code == 202
    drain()
    assert receiver.ids() == [log[0]["webhook_id"]] * 2  # the same webhook-id

    owner_client.patch(one, {"active": False}, content_type="application/json")
    refused = owner_client.post(f"{one}deliveries/{log[0]['webhook_id']}/redeliver")
    assert refused.status_code == 409
    assert refused.json() == {"detail": "Enable the endpoint before redelivering.", "errors": {}}

    assert owner_client.delete(one).status_code == 204
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="webhooks.").order_by("pk").values_list("action", flat=True)
    )
    assert actions == [
        "webhooks.endpoint.created", "webhooks.endpoint.updated", "webhooks.endpoint.secret_rotated",
        "webhooks.endpoint.pinged", "webhooks.delivery.redelivered", "webhooks.endpoint.updated",
        "webhooks.endpoint.deleted",
    ]  # fmt: skip


def test_another_letters_endpoint_and_delivery_are_404_through_this_letters_urls(owner_client, letter):
    other = LetterFactory(slug="other")
    theirs = endpoint_create(letter=other, url="https://b.example/in", event_types=["letter.closed"]).endpoint
    delivery = Delivery.objects.create(
        endpoint=theirs, event_type="letter.closed", source="x", payload={}, created_at=theirs.created_at,
        next_attempt_at=theirs.created_at,
    )  # fmt: skip
    one = f"{API}{theirs.public_id}/"
    for method, url in [
        ("get", one), ("patch", one), ("delete", one), ("post", f"{one}rotate"), ("post", f"{one}ping"),
        ("get", f"{one}deliveries/"), ("post", f"{one}deliveries/{delivery.webhook_id}/redeliver"),
    ]:  # fmt: skip
        response = getattr(owner_client, method)(url, {}, content_type="application/json")
        assert response.status_code == 404, url
        assert "b.example" not in response.content.decode()
    for url in [f"/manage/hooked/webhooks/{theirs.public_id}/", f"/manage/hooked/webhooks/{theirs.public_id}/rotate/"]:
        assert owner_client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.active and EndpointSecret.objects.filter(endpoint=theirs).count() == 1


def test_milestones_api_sets_the_letters_own_thresholds(owner_client, letter, settings):
    settings.MILESTONE_THRESHOLDS = [100, 500]
    url = "/api/v1/manage/letters/hooked/milestones"
    response = owner_client.put(url, {"thresholds": [150, 150, 42]}, content_type="application/json")
    assert response.json() == {"thresholds": [42, 150], "defaults": [100, 500]}
    bad = owner_client.put(url, {"thresholds": [0]}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["errors"] == {
        "thresholds": ["Each threshold is from 1 to 10,000,000."]
    }
    letter.refresh_from_db()
    assert letter.milestone_thresholds == [42, 150]


def test_the_pages_add_an_endpoint_show_its_secret_once_and_its_delivery_log(owner_client, letter, receiver):
    page = owner_client.get("/manage/hooked/webhooks/")
    assert page.status_code == 200 and "Add an endpoint" in page.content.decode()
    created = owner_client.post(
        "/manage/hooked/webhooks/", {"url": receiver.url, "event_types": ["signature.confirmed"], "description": "CRM"}
    )
    assert created.status_code == 201
    endpoint = Endpoint.objects.get()
    secret = secret_decrypt(endpoint.secrets.get().encrypted)
    assert secret in created.content.decode()
    assert secret not in owner_client.get("/manage/hooked/webhooks/").content.decode()

    bad = owner_client.post("/manage/hooked/webhooks/", {"url": "ftp://x", "event_types": ["signature.confirmed"]})
    assert bad.status_code == 400 and "The URL must start with https://." in bad.content.decode()
    assert Endpoint.objects.count() == 1

    receiver.secrets.append(secret)
    assert owner_client.post(f"/manage/hooked/webhooks/{endpoint.public_id}/ping/").status_code == 302
    drain()
    detail = owner_client.get(f"/manage/hooked/webhooks/{endpoint.public_id}/").content.decode()
    assert "webhook.ping" in detail and "200" in detail
    assert owner_client.post("/manage/hooked/milestones/", {"thresholds": "150, 300"}).status_code == 302
    letter.refresh_from_db()
    assert letter.milestone_thresholds == [150, 300]
    rotated = owner_client.post(f"/manage/hooked/webhooks/{endpoint.public_id}/rotate/")
    assert "New signing secret" in rotated.content.decode()

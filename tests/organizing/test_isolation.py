"""Isolation between letters: an organizer of letter A gets 404, and nothing of letter B, from every organizer
endpoint (API under /api/v1/manage/, pages under /manage/) asked about B — B's slug in the path, B's signature ids
through A's URLs, B's ids in query strings and bodies, B's exports and held queue.

The tables are in tests/organizing/isolation_table.py and are checked against Django's URL resolver: an organizer
endpoint added without its case there fails `test_every_organizer_endpoint_has_an_isolation_case`, and without its
role row `test_every_letter_endpoint_has_a_role_row`.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from importing.invitations import signer_invitation_create
from importing.models import SignatureImport, SignerInvitation
from importing.services import import_upload
from letters.models import Letter, Signature, SignatureEvent
from moderation.models import AlertThresholds, Invalidation, TrendingAlert
from moderation.services import invalidation_start
from organizing.models import Membership, OrganizerInvitation
from organizing.services import organizer_invitation_create
from registry.models import AuditEvent
from tests.builders import signed
from tests.factories import LetterFactory, UserFactory
from tests.organizing import isolation_table, isolation_webhooks
from tests.organizing.conftest import member
from tests.organizing.isolation_table import ALL, NOT_OF_A_LETTER, Case

pytestmark = pytest.mark.django_db
CASES = {**isolation_table.CASES, **isolation_webhooks.CASES}
ROLE_TABLE = {**isolation_table.ROLE_TABLE, **isolation_webhooks.ROLE_TABLE}
NOT_FOUND = isolation_table.NOT_FOUND | isolation_webhooks.NOT_FOUND
PREFIXES = ("api/v1/manage/", "manage/")
B_SECRETS = (
    "Secret letter B",
    "Bernard Secretson",
    "bernard@b.example",
    "Held Bea",
    "bea@b.example",
    "Imported Ivo",
    "ivo@b.example",
    "b-founders.csv",
    "Invited Ines",
    "ines@b.example",
)
IMPORT_CSV = b"Name,Email\nImported Ivo,ivo@b.example\n"


def organizer_routes() -> set[str]:
    """Every URL pattern under the organizer prefixes, as its full route ("manage/<slug:slug>/")."""

    def walk(patterns: list, prefix: str = ""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return {route for route in walk(get_resolver().url_patterns) if route.startswith(PREFIXES)}


@dataclass
class World:
    a: Letter
    b: Letter
    organizer: Any  # owner of A, with a second factor: every permission on A, none on B
    b_visible: Signature
    b_held: Signature
    a_visible: Signature
    b_membership: Membership
    b_invitation: OrganizerInvitation
    b_import: SignatureImport
    b_signer_invitation: SignerInvitation
    b_invalidation: Invalidation
    b_alert: TrendingAlert


@pytest.fixture
def world(db) -> World:
    a = LetterFactory(slug="letter-a", title="Letter A")
    b = LetterFactory(slug="letter-b", title="Secret letter B")
    organizer = member(a, Membership.Role.OWNER, second_factor=True, username="owner-a")
    b_owner = member(b, Membership.Role.OWNER, second_factor=True, username="owner-b", email="owner-b@b.example")
    b_visible = signed(b, name="Bernard Secretson", email="bernard@b.example")
    b_held = signed(b, name="Held Bea", email="bea@b.example")
    Signature.objects.filter(pk=b_held.pk).update(hold_reason="senior_title")
    a_visible = signed(a, name="Alice Open", email="alice@a.example")
    b_membership = Membership.objects.get(letter=b, user=b_owner)
    invitation = organizer_invitation_create(
        letter=b, email="invitee@b.example", role=Membership.Role.EDITOR, actor=b_owner
    ).invitation
    b_import = import_upload(letter=b, data=IMPORT_CSV, filename="b-founders.csv", actor=b_owner).signature_import
    b_signer_invitation = signer_invitation_create(
        letter=b, name="Invited Ines", email="ines@b.example", actor=b_owner
    ).invitation
    b_invalidation = invalidation_start(
        letter=b, criteria={"name": "Held*"}, reason="B's own sweep", confirm_large=True, actor=b_owner
    )
    at = b_visible.signed_at
    b_alert = TrendingAlert.objects.create(
        letter=b, dimension="email_domain", key="b.example", count=30, peak=30, window_seconds=600, threshold=20,
        first_seen_at=at, last_seen_at=at,
    )  # fmt: skip
    return World(
        a, b, organizer, b_visible, b_held, a_visible, b_membership, invitation, b_import, b_signer_invitation,
        b_invalidation, b_alert,
    )  # fmt: skip


def test_every_organizer_endpoint_has_an_isolation_case():
    routes = organizer_routes()
    assert routes, "no organizer routes found: the resolver walk is broken"
    missing = sorted(routes - set(CASES))
    assert not missing, f"organizer endpoints without an isolation case: {missing}"
    assert not sorted(set(CASES) - routes), "cases for routes that no longer exist"


def _fill(text: str, w: World) -> str:
    return text.format(
        a=w.a.slug,
        b=w.b.slug,
        b_sig=w.b_visible.public_id,
        b_held=w.b_held.public_id,
        b_member=w.b_membership.pk,
        b_invitation=w.b_invitation.public_id,
        b_import=w.b_import.public_id,
        b_signer=w.b_signer_invitation.public_id,
        b_inval=w.b_invalidation.public_id,
        b_alert=w.b_alert.public_id,
    )


def _fill_data(data: Any, w: World) -> Any:
    """A case's body with the world's ids filled in, nested objects included."""
    if isinstance(data, str):
        return _fill(data, w)
    if isinstance(data, dict):
        return {k: _fill_data(v, w) for k, v in data.items()}
    return data


def _snapshot(w: World) -> tuple:
    b = Letter.objects.get(pk=w.b.pk)
    return (
        (b.status, b.title, b.publish_at, b.current_version_id),
        sorted(Signature.objects.filter(letter=b).values_list("pk", "status", "hold_reason", "verification_level")),
        sorted(Membership.objects.filter(letter=b).values_list("pk", "user_id", "role")),
        sorted(OrganizerInvitation.objects.filter(letter=b).values_list("pk", "accepted_at", "revoked_at")),
        AuditEvent.objects.filter(target_type="letters.letter", target_id=str(b.pk)).count(),
        SignatureEvent.objects.filter(letter=b).count(),
        sorted(SignatureImport.objects.filter(letter=b).values_list("pk", "status", "mapping", "rows_done")),
        SignatureImport.objects.count(),
        sorted(Invalidation.objects.values_list("pk", "status", "cancel_requested", "removed")),
        sorted(TrendingAlert.objects.values_list("pk", "status", "acknowledged_by", "acknowledged_at")),
        sorted(AlertThresholds.objects.filter(letter=b).values_list("ip", "ip_prefix", "email_domain")),
        sorted(
            SignerInvitation.objects.filter(letter=b).values_list("pk", "token_hash", "reminders_sent", "revoked_at")
        ),
        SignerInvitation.objects.count(),
    )


def _send(client: Client, case: Case, url: str, data: dict[str, Any]):
    if case.upload:
        return client.post(url, {**data, "file": SimpleUploadedFile("upload.csv", IMPORT_CSV)})
    if case.method in ("patch", "put") or (case.json and case.method == "post"):
        return getattr(client, case.method)(url, data, content_type="application/json")
    return getattr(client, case.method)(url, data)


ALL_CASES = [(route, i, case) for route, cases in CASES.items() for i, case in enumerate(cases)]


@pytest.mark.parametrize(("route", "index", "case"), ALL_CASES, ids=[f"{c.method} {c.url}" for _, _, c in ALL_CASES])
def test_an_organizer_of_letter_a_gets_404_and_nothing_of_letter_b(world, route, index, case):
    client = Client()
    client.force_login(world.organizer)
    url = _fill(case.url, world)
    data = _fill_data(case.data or {}, world)
    before = _snapshot(world)
    response = _send(client, case, url, data)
    assert response.status_code == case.expect, (url, response.status_code, response.content[:300])
    body = response.content.decode()
    for secret in B_SECRETS:
        assert secret not in body, (url, secret)
    if case.expect == 404 and case.json:
        assert response.json() == {"detail": response.json()["detail"], "errors": {}}
        assert response.json()["detail"] in NOT_FOUND
    assert _snapshot(world) == before


def test_every_letter_endpoint_has_a_role_row():
    letter_routes = organizer_routes() - NOT_OF_A_LETTER
    assert sorted(letter_routes - set(ROLE_TABLE)) == [], "letter endpoints without a row in the role table"
    assert sorted(set(ROLE_TABLE) - letter_routes) == []


ROLE_DENIALS = [
    (role, case) for allowed, case in ROLE_TABLE.values() if case is not None for role in sorted(ALL - allowed)
]


def _a_snapshot(w: World) -> tuple:
    a = Letter.objects.get(pk=w.a.pk)
    return (
        (a.status, a.title, a.current_version_id),
        sorted(Signature.objects.filter(letter=a).values_list("pk", "status", "hold_reason", "verification_level")),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize(("role", "case"), ROLE_DENIALS, ids=[f"{r} {c.method} {c.url}" for r, c in ROLE_DENIALS])
def test_a_role_that_does_not_allow_the_action_is_403_and_changes_nothing(world, role, case):
    user = member(world.a, role, second_factor=True, username=f"{role}-of-a")
    client = Client()
    client.force_login(user)
    url = case.url.format(a=world.a.slug, a_sig=world.a_visible.public_id)
    before = _a_snapshot(world)
    response = _send(client, case, url, dict(case.data or {}))
    assert response.status_code == 403, (url, response.status_code)
    assert "Your role in this letter does not allow this." in response.content.decode()
    assert "alice@a.example" not in response.content.decode()
    assert _a_snapshot(world) == before


def test_a_signed_in_stranger_gets_the_same_404_as_for_a_letter_that_does_not_exist(world):
    stranger = UserFactory(username="stranger")
    client = Client()
    client.force_login(stranger)
    existing = client.get(f"/api/v1/manage/letters/{world.b.slug}/dashboard")
    missing = client.get("/api/v1/manage/letters/does-not-exist/dashboard")
    assert (existing.status_code, existing.json()) == (missing.status_code, missing.json())
    assert existing.status_code == 404
    assert client.get(f"/manage/{world.b.slug}/").status_code == client.get("/manage/does-not-exist/").status_code

"""Isolation between letters: an organizer of letter A gets 404, and nothing of letter B, from every organizer
endpoint (API under /api/v1/manage/, pages under /manage/) asked about B — B's slug in the path, B's signature ids
through A's URLs, B's ids in query strings and bodies, B's exports and held queue.

The table is checked against Django's URL resolver: an organizer endpoint added without a case here fails
`test_every_organizer_endpoint_has_an_isolation_case`. The role table below does the same for what each role may do.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from importing.invitations import signer_invitation_create
from importing.models import SignatureImport, SignerInvitation
from importing.services import import_upload
from letters.models import Letter, Signature, SignatureEvent
from moderation.models import Invalidation
from moderation.services import invalidation_start
from organizing.models import Membership, OrganizerInvitation
from organizing.services import organizer_invitation_create
from registry.models import AuditEvent
from tests.builders import signed
from tests.factories import LetterFactory, UserFactory
from tests.organizing.conftest import member

pytestmark = pytest.mark.django_db
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
    return World(
        a, b, organizer, b_visible, b_held, a_visible, b_membership, invitation, b_import, b_signer_invitation,
        b_invalidation,
    )  # fmt: skip


FUTURE = (timezone.now() + timedelta(days=30)).replace(microsecond=0)


@dataclass(frozen=True)
class Case:
    method: str
    url: (
        str  # formatted with the world: {a}, {b}, {b_sig}, {b_held}, {b_member}, {b_invitation}, {b_import}, {b_signer}
    )
    data: dict[str, Any] | None = None
    expect: int = 404  # 200: the answer is about A (or the user's own letters) and holds nothing of B
    json: bool = True
    upload: bool = False  # a multipart POST with a spreadsheet in `file`


def ask(method: str, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Case:
    return Case(method, url, data, **kw)


VERIFY = {"method": "manual", "evidence": "Called them"}
REJECT = {"reason": "Impersonation"}
MODERATION_API = {
    "hold": None,
    "release": None,
    "verify": VERIFY,
    "reject": REJECT,
}


def _moderation_api(action: str) -> list[Case]:
    data = MODERATION_API[action]
    url = "/api/v1/manage/letters/{slug}/signatures/{sig}/" + action
    return [
        ask("post", url.format(slug="{b}", sig="{b_held}"), data),
        ask("post", url.format(slug="{a}", sig="{b_held}"), data),  # B's signature through A's URL
        ask("post", url.format(slug="{a}", sig="{b_sig}"), data),
    ]


def _moderation_page(action: str) -> list[Case]:
    data = {"hold": {}, "release": {}, "verify": VERIFY, "reject": REJECT}[action]
    url = "/manage/{slug}/signatures/{sig}/" + action + "/"
    return [
        ask("post", url.format(slug="{b}", sig="{b_held}"), data, json=False),
        ask("post", url.format(slug="{a}", sig="{b_held}"), data, json=False),
        ask("post", url.format(slug="{a}", sig="{b_sig}"), data, json=False),
    ]


IMPORT_API = "api/v1/manage/letters/<slug:slug>/imports/<public_id:import_id>/"
IMPORT_PAGE = "manage/<slug:slug>/imports/<str:import_id>/"
SIGNER_API = "api/v1/manage/letters/<slug:slug>/signer-invitations/"
SIGNER_PAGE = "manage/<slug:slug>/signer-invitations/"
INVAL_API = "api/v1/manage/letters/<slug:slug>/invalidations/"
INVAL_PAGE = "manage/<slug:slug>/invalidations/"
SWEEP = {"criteria": {"name": "*"}, "reason": "Mole", "confirm_large": True}
INVITE = {"name": "Someone New", "email": "new@a.example"}
# The same words whether the letter or object exists elsewhere or nowhere.
NOT_FOUND = {"Not found.", "No such letter.", "No such import.", "No such member.", "No such invitation."}
CASES: dict[str, list[Case]] = {
    # API
    "api/v1/manage/letters/": [
        ask("get", "/api/v1/manage/letters/", expect=200),
        ask("get", "/api/v1/manage/letters/?slug={b}&letter={b}", expect=200),
    ],
    "api/v1/manage/preview": [ask("post", "/api/v1/manage/preview", {"body": "{b}"}, expect=200)],
    "api/v1/manage/letters/<slug:slug>/": [
        ask("get", "/api/v1/manage/letters/{b}/"),
        ask("patch", "/api/v1/manage/letters/{b}/", {"title": "Taken over"}),
        ask("get", "/api/v1/manage/letters/{a}/?slug={b}&letter={b}", expect=200),
        ask("patch", "/api/v1/manage/letters/{a}/", {"slug": "{b}", "letter": "{b}"}, expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/schedule": [
        ask("post", "/api/v1/manage/letters/{b}/schedule", {"publish_at": FUTURE.isoformat()})
    ],
    "api/v1/manage/letters/<slug:slug>/open": [ask("post", "/api/v1/manage/letters/{b}/open")],
    "api/v1/manage/letters/<slug:slug>/pause": [ask("post", "/api/v1/manage/letters/{b}/pause")],
    "api/v1/manage/letters/<slug:slug>/close": [ask("post", "/api/v1/manage/letters/{b}/close")],
    "api/v1/manage/letters/<slug:slug>/versions/": [
        ask("post", "/api/v1/manage/letters/{b}/versions/", {"body": "Other text", "kind": "material"})
    ],
    "api/v1/manage/letters/<slug:slug>/dashboard": [
        ask("get", "/api/v1/manage/letters/{b}/dashboard"),
        ask("get", "/api/v1/manage/letters/{a}/dashboard?letter={b}&slug={b}&signature={b_held}", expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/export.csv": [
        ask("get", "/api/v1/manage/letters/{b}/export.csv"),
        ask("get", "/api/v1/manage/letters/{a}/export.csv?letter={b}&slug={b}", expect=200, json=False),
    ],
    "api/v1/manage/letters/<slug:slug>/export.json": [
        ask("get", "/api/v1/manage/letters/{b}/export.json"),
        ask("get", "/api/v1/manage/letters/{a}/export.json?letter={b}", expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/held/": [
        ask("get", "/api/v1/manage/letters/{b}/held/"),
        ask("get", "/api/v1/manage/letters/{a}/held/?letter={b}&signature={b_held}", expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/signatures/<public_id:public_id>/hold": _moderation_api("hold"),
    "api/v1/manage/letters/<slug:slug>/signatures/<public_id:public_id>/release": _moderation_api("release"),
    "api/v1/manage/letters/<slug:slug>/signatures/<public_id:public_id>/verify": _moderation_api("verify"),
    "api/v1/manage/letters/<slug:slug>/signatures/<public_id:public_id>/reject": _moderation_api("reject"),
    # Members and invitations (H3a)
    "api/v1/manage/letters/<slug:slug>/members/": [
        ask("get", "/api/v1/manage/letters/{b}/members/"),
        ask("get", "/api/v1/manage/letters/{a}/members/?letter={b}&member={b_member}", expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/members/<int:member_id>/": [
        ask("patch", "/api/v1/manage/letters/{b}/members/{b_member}/", {"role": "viewer"}),
        ask("patch", "/api/v1/manage/letters/{a}/members/{b_member}/", {"role": "viewer"}),  # B's id through A
        ask("delete", "/api/v1/manage/letters/{b}/members/{b_member}/"),
        ask("delete", "/api/v1/manage/letters/{a}/members/{b_member}/"),
    ],
    "api/v1/manage/letters/<slug:slug>/invitations/": [
        ask("get", "/api/v1/manage/letters/{b}/invitations/"),
        ask("post", "/api/v1/manage/letters/{b}/invitations/", {"email": "mole@a.example", "role": "owner"}),
        ask("get", "/api/v1/manage/letters/{a}/invitations/?letter={b}&invitation={b_invitation}", expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/invitations/<public_id:invitation_id>/": [
        ask("delete", "/api/v1/manage/letters/{b}/invitations/{b_invitation}/"),
        ask("delete", "/api/v1/manage/letters/{a}/invitations/{b_invitation}/"),
    ],
    # B's invitation id is not its token: the answer is a refusal that names nothing of B.
    "api/v1/manage/invitations/accept": [
        ask("post", "/api/v1/manage/invitations/accept", {"token": "{b_invitation}"}, expect=400)
    ],
    "manage/<slug:slug>/members/": [
        ask("get", "/manage/{b}/members/", json=False),
        ask("get", "/manage/{a}/members/?letter={b}", expect=200, json=False),
    ],
    "manage/<slug:slug>/members/invite/": [
        ask("post", "/manage/{b}/members/invite/", {"email": "mole@a.example", "role": "owner"}, json=False),
    ],
    "manage/<slug:slug>/members/<int:member_id>/role/": [
        ask("post", "/manage/{b}/members/{b_member}/role/", {"role": "viewer"}, json=False),
        ask("post", "/manage/{a}/members/{b_member}/role/", {"role": "viewer"}, json=False),
    ],
    "manage/<slug:slug>/members/<int:member_id>/remove/": [
        ask("post", "/manage/{b}/members/{b_member}/remove/", json=False),
        ask("post", "/manage/{a}/members/{b_member}/remove/", json=False),
    ],
    "manage/<slug:slug>/invitations/<slug:invitation_id>/revoke/": [
        ask("post", "/manage/{b}/invitations/{b_invitation}/revoke/", json=False),
        ask("post", "/manage/{a}/invitations/{b_invitation}/revoke/", json=False),
    ],
    "manage/invitations/<invitation_token:token>/": [
        ask("get", "/manage/invitations/" + "{b_invitation}" * 4 + "/", expect=400, json=False),
    ],
    # Imports (issue 15): B's imports by B's slug, and B's import ids through A's URLs
    "api/v1/manage/letters/<slug:slug>/imports/": [
        ask("get", "/api/v1/manage/letters/{b}/imports/"),
        ask("post", "/api/v1/manage/letters/{b}/imports/", upload=True),
        ask("get", "/api/v1/manage/letters/{a}/imports/?letter={b}&import={b_import}", expect=200),
    ],
    IMPORT_API: [
        ask("get", "/api/v1/manage/letters/{b}/imports/{b_import}/"),
        ask("get", "/api/v1/manage/letters/{a}/imports/{b_import}/"),
    ],
    IMPORT_API + "mapping": [
        ask("put", "/api/v1/manage/letters/{b}/imports/{b_import}/mapping", {"mapping": {"name": 1, "email": 0}}),
        ask("put", "/api/v1/manage/letters/{a}/imports/{b_import}/mapping", {"mapping": {"name": 1, "email": 0}}),
    ],
    IMPORT_API + "start": [
        ask("post", "/api/v1/manage/letters/{b}/imports/{b_import}/start", {"mode": "vouched"}),
        ask("post", "/api/v1/manage/letters/{a}/imports/{b_import}/start", {"mode": "vouched"}),
    ],
    IMPORT_API + "discard": [
        ask("post", "/api/v1/manage/letters/{b}/imports/{b_import}/discard"),
        ask("post", "/api/v1/manage/letters/{a}/imports/{b_import}/discard"),
    ],
    IMPORT_API + "undo": [
        ask("post", "/api/v1/manage/letters/{b}/imports/{b_import}/undo"),
        ask("post", "/api/v1/manage/letters/{a}/imports/{b_import}/undo"),
    ],
    IMPORT_API + "rejected.csv": [
        ask("get", "/api/v1/manage/letters/{b}/imports/{b_import}/rejected.csv"),
        ask("get", "/api/v1/manage/letters/{a}/imports/{b_import}/rejected.csv"),
    ],
    "manage/<slug:slug>/imports/": [
        ask("get", "/manage/{b}/imports/", json=False),
        ask("post", "/manage/{b}/imports/", upload=True, json=False),
        ask("get", "/manage/{a}/imports/?letter={b}&import={b_import}", expect=200, json=False),
    ],
    IMPORT_PAGE: [
        ask("get", "/manage/{b}/imports/{b_import}/", json=False),
        ask("get", "/manage/{a}/imports/{b_import}/", json=False),
    ],
    IMPORT_PAGE + "mapping/": [
        ask("post", "/manage/{b}/imports/{b_import}/mapping/", {"map_name": "1", "map_email": "0"}, json=False),
        ask("post", "/manage/{a}/imports/{b_import}/mapping/", {"map_name": "1", "map_email": "0"}, json=False),
    ],
    IMPORT_PAGE + "start/": [
        ask("post", "/manage/{b}/imports/{b_import}/start/", {"mode": "vouched"}, json=False),
        ask("post", "/manage/{a}/imports/{b_import}/start/", {"mode": "vouched"}, json=False),
    ],
    IMPORT_PAGE + "discard/": [
        ask("post", "/manage/{b}/imports/{b_import}/discard/", json=False),
        ask("post", "/manage/{a}/imports/{b_import}/discard/", json=False),
    ],
    IMPORT_PAGE + "undo/": [
        ask("post", "/manage/{b}/imports/{b_import}/undo/", json=False),
        ask("post", "/manage/{a}/imports/{b_import}/undo/", json=False),
    ],
    IMPORT_PAGE + "rejected.csv": [
        ask("get", "/manage/{b}/imports/{b_import}/rejected.csv", json=False),
        ask("get", "/manage/{a}/imports/{b_import}/rejected.csv", json=False),
    ],
    # Signer invitations (issue 15)
    SIGNER_API: [
        ask("get", "/api/v1/manage/letters/{b}/signer-invitations/"),
        ask("post", "/api/v1/manage/letters/{b}/signer-invitations/", INVITE),
        ask("get", "/api/v1/manage/letters/{a}/signer-invitations/?letter={b}&invitation={b_signer}", expect=200),
    ],
    SIGNER_API + "<public_id:invitation_id>/revoke": [
        ask("post", "/api/v1/manage/letters/{b}/signer-invitations/{b_signer}/revoke"),
        ask("post", "/api/v1/manage/letters/{a}/signer-invitations/{b_signer}/revoke"),
    ],
    SIGNER_API + "<public_id:invitation_id>/remind": [
        ask("post", "/api/v1/manage/letters/{b}/signer-invitations/{b_signer}/remind"),
        ask("post", "/api/v1/manage/letters/{a}/signer-invitations/{b_signer}/remind"),
    ],
    SIGNER_PAGE: [
        ask("get", "/manage/{b}/signer-invitations/", json=False),
        ask("post", "/manage/{b}/signer-invitations/", INVITE, json=False),
        ask("get", "/manage/{a}/signer-invitations/?letter={b}&invitation={b_signer}", expect=200, json=False),
    ],
    SIGNER_PAGE + "<str:invitation_id>/revoke/": [
        ask("post", "/manage/{b}/signer-invitations/{b_signer}/revoke/", json=False),
        ask("post", "/manage/{a}/signer-invitations/{b_signer}/revoke/", json=False),
    ],
    SIGNER_PAGE + "<str:invitation_id>/remind/": [
        ask("post", "/manage/{b}/signer-invitations/{b_signer}/remind/", json=False),
        ask("post", "/manage/{a}/signer-invitations/{b_signer}/remind/", json=False),
    ],
    # Bulk invalidations (issue 16)
    INVAL_API: [
        ask("get", "/api/v1/manage/letters/{b}/invalidations/"),
        ask("post", "/api/v1/manage/letters/{b}/invalidations/", SWEEP),
        ask("get", "/api/v1/manage/letters/{a}/invalidations/?letter={b}&invalidation={b_inval}", expect=200),
    ],
    INVAL_API + "preview": [
        ask("post", "/api/v1/manage/letters/{b}/invalidations/preview", {"criteria": {"name": "*e*"}}),
        # B's import id as a criterion on A: unknown here, a field error that names nothing of B
        ask(
            "post",
            "/api/v1/manage/letters/{a}/invalidations/preview",
            {"criteria": {"import": "{b_import}"}},
            expect=400,
        ),
    ],
    INVAL_API + "<public_id:invalidation_id>/": [
        ask("get", "/api/v1/manage/letters/{b}/invalidations/{b_inval}/"),
        ask("get", "/api/v1/manage/letters/{a}/invalidations/{b_inval}/"),
    ],
    INVAL_API + "<public_id:invalidation_id>/cancel": [
        ask("post", "/api/v1/manage/letters/{b}/invalidations/{b_inval}/cancel"),
        ask("post", "/api/v1/manage/letters/{a}/invalidations/{b_inval}/cancel"),
    ],
    INVAL_API + "<public_id:invalidation_id>/undo": [
        ask("post", "/api/v1/manage/letters/{b}/invalidations/{b_inval}/undo"),
        ask("post", "/api/v1/manage/letters/{a}/invalidations/{b_inval}/undo"),
    ],
    INVAL_PAGE: [
        ask("get", "/manage/{b}/invalidations/", json=False),
        ask("post", "/manage/{b}/invalidations/", {"name": "*e*", "action": "preview"}, json=False),
        ask("post", "/manage/{a}/invalidations/", {"name": "Bernard*", "action": "preview"}, expect=200, json=False),
    ],
    INVAL_PAGE + "<str:invalidation_id>/cancel/": [
        ask("post", "/manage/{b}/invalidations/{b_inval}/cancel/", json=False),
        ask("post", "/manage/{a}/invalidations/{b_inval}/cancel/", json=False),
    ],
    INVAL_PAGE + "<str:invalidation_id>/undo/": [
        ask("post", "/manage/{b}/invalidations/{b_inval}/undo/", json=False),
        ask("post", "/manage/{a}/invalidations/{b_inval}/undo/", json=False),
    ],
    # Pages
    "manage/": [ask("get", "/manage/", expect=200, json=False)],
    "manage/new/": [ask("get", "/manage/new/", expect=200, json=False)],
    "manage/<slug:slug>/": [
        ask("get", "/manage/{b}/", json=False),
        ask("get", "/manage/{a}/?letter={b}&slug={b}", expect=200, json=False),
    ],
    "manage/<slug:slug>/edit/": [
        ask("get", "/manage/{b}/edit/", json=False),
        ask("post", "/manage/{b}/edit/", {"title": "Taken over", "body": "x", "action": "save"}, json=False),
    ],
    "manage/<slug:slug>/schedule/": [
        ask("get", "/manage/{b}/schedule/", json=False),
        ask("post", "/manage/{b}/schedule/", {"publish_at": FUTURE.strftime("%Y-%m-%dT%H:%M")}, json=False),
    ],
    "manage/<slug:slug>/open/": [
        ask("get", "/manage/{b}/open/", json=False),
        ask("post", "/manage/{b}/open/", json=False),
    ],
    "manage/<slug:slug>/pause/": [
        ask("get", "/manage/{b}/pause/", json=False),
        ask("post", "/manage/{b}/pause/", json=False),
    ],
    "manage/<slug:slug>/close/": [
        ask("get", "/manage/{b}/close/", json=False),
        ask("post", "/manage/{b}/close/", json=False),
    ],
    "manage/<slug:slug>/versions/new/": [
        ask("get", "/manage/{b}/versions/new/", json=False),
        ask("post", "/manage/{b}/versions/new/", {"body": "Other", "kind": "material"}, json=False),
    ],
    "manage/<slug:slug>/signatures/<slug:public_id>/hold/": _moderation_page("hold"),
    "manage/<slug:slug>/signatures/<slug:public_id>/release/": _moderation_page("release"),
    "manage/<slug:slug>/signatures/<slug:public_id>/verify/": _moderation_page("verify"),
    "manage/<slug:slug>/signatures/<slug:public_id>/reject/": _moderation_page("reject"),
    "manage/<slug:slug>/export/": [
        ask("post", "/manage/{b}/export/", {"format": "csv"}, json=False),
        ask("post", "/manage/{a}/export/", {"format": "csv", "letter": "{b}"}, expect=200, json=False),
    ],
}


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


# Roles: each letter endpoint with the roles its action allows and a request acting on letter A; every other role
# gets 403 and nothing changes (what allowed roles do is exercised by the feature tests). Keyed by route, so an
# endpoint added without its row fails `test_every_letter_endpoint_has_a_role_row`.
ALL = {"owner", "editor", "moderator", "viewer"}
EDIT = {"owner", "editor"}
RUN = {"owner"}
MODERATE = {"owner", "editor", "moderator"}
EXPORT = {"owner", "editor"}
NOT_OF_A_LETTER = {
    "api/v1/manage/letters/",
    "api/v1/manage/preview",
    "manage/",
    "manage/new/",
    "api/v1/manage/invitations/accept",  # the token names the letter (test_members_api, test_members_pages)
    "manage/invitations/<invitation_token:token>/",
}
OWNER = {"owner"}
SIG_API = "api/v1/manage/letters/<slug:slug>/signatures/<public_id:public_id>/"
SIG_PAGE = "manage/<slug:slug>/signatures/<slug:public_id>/"
ROLE_TABLE: dict[str, tuple[set[str], Case | None]] = {
    "api/v1/manage/letters/<slug:slug>/": (EDIT, ask("patch", "/api/v1/manage/letters/{a}/", {"title": "Changed"})),
    "api/v1/manage/letters/<slug:slug>/schedule": (
        RUN,
        ask("post", "/api/v1/manage/letters/{a}/schedule", {"publish_at": FUTURE.isoformat()}),
    ),
    "api/v1/manage/letters/<slug:slug>/open": (RUN, ask("post", "/api/v1/manage/letters/{a}/open")),
    "api/v1/manage/letters/<slug:slug>/pause": (RUN, ask("post", "/api/v1/manage/letters/{a}/pause")),
    "api/v1/manage/letters/<slug:slug>/close": (RUN, ask("post", "/api/v1/manage/letters/{a}/close")),
    "api/v1/manage/letters/<slug:slug>/versions/": (
        EDIT,
        ask("post", "/api/v1/manage/letters/{a}/versions/", {"body": "Other", "kind": "material"}),
    ),
    "api/v1/manage/letters/<slug:slug>/dashboard": (ALL, None),
    "api/v1/manage/letters/<slug:slug>/held/": (ALL, None),
    "api/v1/manage/letters/<slug:slug>/export.csv": (EXPORT, ask("get", "/api/v1/manage/letters/{a}/export.csv")),
    "api/v1/manage/letters/<slug:slug>/export.json": (EXPORT, ask("get", "/api/v1/manage/letters/{a}/export.json")),
    SIG_API + "hold": (MODERATE, ask("post", "/api/v1/manage/letters/{a}/signatures/{a_sig}/hold")),
    SIG_API + "release": (MODERATE, ask("post", "/api/v1/manage/letters/{a}/signatures/{a_sig}/release")),
    SIG_API + "verify": (MODERATE, ask("post", "/api/v1/manage/letters/{a}/signatures/{a_sig}/verify", VERIFY)),
    SIG_API + "reject": (MODERATE, ask("post", "/api/v1/manage/letters/{a}/signatures/{a_sig}/reject", REJECT)),
    # Members (H3a): any member reads them and may leave (DELETE of oneself); only owners change, invite, revoke.
    "api/v1/manage/letters/<slug:slug>/members/": (ALL, None),
    "api/v1/manage/letters/<slug:slug>/members/<int:member_id>/": (
        OWNER,
        ask("patch", "/api/v1/manage/letters/{a}/members/0/", {"role": "viewer"}),
    ),
    "api/v1/manage/letters/<slug:slug>/invitations/": (
        OWNER,
        ask("post", "/api/v1/manage/letters/{a}/invitations/", {"email": "new@a.example", "role": "viewer"}),
    ),
    "api/v1/manage/letters/<slug:slug>/invitations/<public_id:invitation_id>/": (
        OWNER,
        ask("delete", "/api/v1/manage/letters/{a}/invitations/none/"),
    ),
    "manage/<slug:slug>/members/": (ALL, None),
    "manage/<slug:slug>/members/invite/": (
        OWNER,
        ask("post", "/manage/{a}/members/invite/", {"email": "new@a.example", "role": "viewer"}, json=False),
    ),
    "manage/<slug:slug>/members/<int:member_id>/role/": (
        OWNER,
        ask("post", "/manage/{a}/members/0/role/", {"role": "viewer"}, json=False),
    ),
    "manage/<slug:slug>/members/<int:member_id>/remove/": (ALL, None),
    "manage/<slug:slug>/invitations/<slug:invitation_id>/revoke/": (
        OWNER,
        ask("post", "/manage/{a}/invitations/none/revoke/", json=False),
    ),
    # Imports (issue 15): owners and editors only.
    "api/v1/manage/letters/<slug:slug>/imports/": (
        EDIT,
        ask("post", "/api/v1/manage/letters/{a}/imports/", upload=True),
    ),
    IMPORT_API: (EDIT, ask("get", "/api/v1/manage/letters/{a}/imports/none/")),
    IMPORT_API + "mapping": (EDIT, ask("put", "/api/v1/manage/letters/{a}/imports/none/mapping", {"mapping": {}})),
    IMPORT_API + "start": (EDIT, ask("post", "/api/v1/manage/letters/{a}/imports/none/start", {"mode": "confirm"})),
    IMPORT_API + "discard": (EDIT, ask("post", "/api/v1/manage/letters/{a}/imports/none/discard")),
    IMPORT_API + "undo": (EDIT, ask("post", "/api/v1/manage/letters/{a}/imports/none/undo")),
    IMPORT_API + "rejected.csv": (EDIT, ask("get", "/api/v1/manage/letters/{a}/imports/none/rejected.csv")),
    "manage/<slug:slug>/imports/": (EDIT, ask("post", "/manage/{a}/imports/", upload=True, json=False)),
    IMPORT_PAGE: (EDIT, ask("get", "/manage/{a}/imports/none/", json=False)),
    IMPORT_PAGE + "mapping/": (EDIT, ask("post", "/manage/{a}/imports/none/mapping/", json=False)),
    IMPORT_PAGE + "start/": (EDIT, ask("post", "/manage/{a}/imports/none/start/", {"mode": "confirm"}, json=False)),
    IMPORT_PAGE + "discard/": (EDIT, ask("post", "/manage/{a}/imports/none/discard/", json=False)),
    IMPORT_PAGE + "undo/": (EDIT, ask("post", "/manage/{a}/imports/none/undo/", json=False)),
    IMPORT_PAGE + "rejected.csv": (EDIT, ask("get", "/manage/{a}/imports/none/rejected.csv", json=False)),
    SIGNER_API: (EDIT, ask("post", "/api/v1/manage/letters/{a}/signer-invitations/", INVITE)),
    SIGNER_API + "<public_id:invitation_id>/revoke": (
        EDIT,
        ask("post", "/api/v1/manage/letters/{a}/signer-invitations/none/revoke"),
    ),
    SIGNER_API + "<public_id:invitation_id>/remind": (
        EDIT,
        ask("post", "/api/v1/manage/letters/{a}/signer-invitations/none/remind"),
    ),
    SIGNER_PAGE: (EDIT, ask("post", "/manage/{a}/signer-invitations/", INVITE, json=False)),
    SIGNER_PAGE + "<str:invitation_id>/revoke/": (
        EDIT,
        ask("post", "/manage/{a}/signer-invitations/none/revoke/", json=False),
    ),
    SIGNER_PAGE + "<str:invitation_id>/remind/": (
        EDIT,
        ask("post", "/manage/{a}/signer-invitations/none/remind/", json=False),
    ),
    INVAL_API: (MODERATE, ask("post", "/api/v1/manage/letters/{a}/invalidations/", SWEEP)),
    INVAL_API + "preview": (MODERATE, ask("post", "/api/v1/manage/letters/{a}/invalidations/preview", SWEEP)),
    INVAL_API + "<public_id:invalidation_id>/": (
        MODERATE,
        ask("get", "/api/v1/manage/letters/{a}/invalidations/none/"),
    ),
    INVAL_API + "<public_id:invalidation_id>/cancel": (
        MODERATE,
        ask("post", "/api/v1/manage/letters/{a}/invalidations/none/cancel"),
    ),
    INVAL_API + "<public_id:invalidation_id>/undo": (
        MODERATE,
        ask("post", "/api/v1/manage/letters/{a}/invalidations/none/undo"),
    ),
    INVAL_PAGE: (MODERATE, ask("post", "/manage/{a}/invalidations/", {"name": "*", "action": "preview"}, json=False)),
    INVAL_PAGE + "<str:invalidation_id>/cancel/": (
        MODERATE,
        ask("post", "/manage/{a}/invalidations/none/cancel/", json=False),
    ),
    INVAL_PAGE + "<str:invalidation_id>/undo/": (
        MODERATE,
        ask("post", "/manage/{a}/invalidations/none/undo/", json=False),
    ),
    "manage/<slug:slug>/": (ALL, None),
    "manage/<slug:slug>/edit/": (
        EDIT,
        ask("post", "/manage/{a}/edit/", {"title": "Changed", "body": "x", "action": "save"}, json=False),
    ),
    "manage/<slug:slug>/schedule/": (
        RUN,
        ask("post", "/manage/{a}/schedule/", {"publish_at": FUTURE.strftime("%Y-%m-%dT%H:%M")}, json=False),
    ),
    "manage/<slug:slug>/open/": (RUN, ask("post", "/manage/{a}/open/", json=False)),
    "manage/<slug:slug>/pause/": (RUN, ask("post", "/manage/{a}/pause/", json=False)),
    "manage/<slug:slug>/close/": (RUN, ask("post", "/manage/{a}/close/", json=False)),
    "manage/<slug:slug>/versions/new/": (
        EDIT,
        ask("post", "/manage/{a}/versions/new/", {"body": "Other", "kind": "material"}, json=False),
    ),
    SIG_PAGE + "hold/": (MODERATE, ask("post", "/manage/{a}/signatures/{a_sig}/hold/", json=False)),
    SIG_PAGE + "release/": (MODERATE, ask("post", "/manage/{a}/signatures/{a_sig}/release/", json=False)),
    SIG_PAGE + "verify/": (MODERATE, ask("post", "/manage/{a}/signatures/{a_sig}/verify/", VERIFY, json=False)),
    SIG_PAGE + "reject/": (MODERATE, ask("post", "/manage/{a}/signatures/{a_sig}/reject/", REJECT, json=False)),
    "manage/<slug:slug>/export/": (EXPORT, ask("post", "/manage/{a}/export/", {"format": "csv"}, json=False)),
}


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

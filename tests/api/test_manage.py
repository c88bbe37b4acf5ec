"""Organizers' API (/api/v1/manage/): authoring, lifecycle, versions, dashboard, held queue, private exports."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from letters.models import Letter, LetterVersion, Signature, SignatureEvent, VerificationLevel, VerificationRecord
from organizing.models import Membership
from organizing.permissions import SECOND_FACTOR_MESSAGE
from registry.models import AuditEvent
from tests.builders import signed
from tests.factories import LetterFactory, OrganizationFactory, UserFactory
from tests.organizing.conftest import member, with_second_factor

pytestmark = pytest.mark.django_db
BODY = "We ask you to **reconsider**.\n\nSigned, the undersigned."
NEW = {
    "slug": "coalition-letter",
    "title": "Defenders need the best tools",
    "summary": "A coalition letter.",
    "body": BODY,
    "recipients": [{"name": "Howard Lutnick", "role": "Secretary of Commerce"}],
    "sponsors": ["hackerone"],
}
ROLE_DENIED = {"detail": "Your role in this letter does not allow this.", "errors": {}}


def api_for(user):
    api = APIClient()
    api.force_login(user)
    return api


@pytest.fixture
def hackerone(db):
    return OrganizationFactory(name="HackerOne", slug="hackerone")


@pytest.fixture
def organizer(db):
    return with_second_factor(UserFactory(username="organizer"))


@pytest.fixture
def draft(organizer, hackerone):
    from organizing.authoring import letter_create_with_owner

    return letter_create_with_owner(
        user=organizer, slug="draft-letter", title="A draft", body=BODY, sponsor_slugs=["hackerone"]
    )


@pytest.fixture
def open_one(db):
    letter = LetterFactory(slug="running-letter", status="open")
    return letter


def test_creating_a_letter_makes_a_draft_whose_creator_is_its_owner(organizer, hackerone):
    response = api_for(organizer).post("/api/v1/manage/letters/", NEW, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "slug": "coalition-letter",
        "title": "Defenders need the best tools",
        "summary": "A coalition letter.",
        "status": "draft",
        "role": "owner",
        "version": 1,
        "body": BODY,
        "recipients": [{"name": "Howard Lutnick", "role": "Secretary of Commerce"}],
        "sponsors": ["hackerone"],
        "publish_at": None,
        "opened_at": None,
        "closed_at": None,
    }
    letter = Letter.objects.get(slug="coalition-letter")
    assert Membership.objects.get(letter=letter).user == organizer
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"letters.letter.created", "organizing.membership.added"} <= actions


def test_an_organizer_without_a_second_factor_may_create_a_draft(db, hackerone):
    response = api_for(UserFactory()).post("/api/v1/manage/letters/", NEW, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"slug": "admin"}, {"slug": ["“admin” is reserved; choose another slug."]}),
        (
            {"slug": "Not A Slug"},
            {
                "slug": [
                    "Lowercase letters, digits and single hyphens only, starting and ending with a letter or digit."
                ]
            },
        ),
        ({"body": "Hello <script>alert(1)</script>"}, {"body": ["Raw HTML <script> is not allowed in the text."]}),
        (
            {"body": '<iframe src="https://x.example"></iframe>'},
            {"body": ["Raw HTML <iframe> is not allowed in the text."]},
        ),
        ({"recipients": [{"name": "", "role": "Secretary"}]}, {"recipients": ["Recipient 1 needs a name."]}),
        ({"sponsors": ["nobody"]}, {"sponsors": ["No reviewed organization has the slug “nobody”."]}),
        ({"title": ""}, {"title": ["This field may not be blank."]}),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_stored(organizer, hackerone, change, errors):
    response = api_for(organizer).post("/api/v1/manage/letters/", {**NEW, **change}, format="json")
    assert (response.status_code, response.json()) == (400, {"detail": "Invalid input.", "errors": errors})
    assert not Letter.objects.exists()
    assert not Membership.objects.exists()


def test_every_field_error_comes_in_one_answer(organizer, hackerone):
    # A missing field (the parser's error) does not hide the letter's rules for the fields that were given.
    bad = {"slug": "admin", "summary": "Line\u202eone", "body": "Hi <script>alert(1)</script>"}
    response = api_for(organizer).post("/api/v1/manage/letters/", bad, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {
            "detail": "Invalid input.",
            "errors": {
                "slug": ["“admin” is reserved; choose another slug."],
                "title": ["This field is required."],
                "summary": ["Bidirectional control characters are not allowed."],
                "body": ["Raw HTML <script> is not allowed in the text."],
            },
        },
    )
    assert not Letter.objects.exists()


def test_a_taken_slug_is_a_field_error(organizer, hackerone, open_one):
    response = api_for(organizer).post("/api/v1/manage/letters/", {**NEW, "slug": open_one.slug}, format="json")
    assert response.json()["errors"] == {"slug": ["A letter with this slug already exists."]}
    assert Letter.objects.count() == 1


def test_my_letters_lists_only_the_letters_i_am_a_member_of_with_my_role(organizer, draft, open_one):
    member(open_one, Membership.Role.VIEWER, username="someone-else")
    response = api_for(organizer).get("/api/v1/manage/letters/")
    assert response.json() == [{"slug": "draft-letter", "title": "A draft", "status": "draft", "role": "owner"}]


def test_a_token_works_like_a_session(organizer, draft):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=organizer).key}")
    assert api.get("/api/v1/manage/letters/draft-letter/").json()["slug"] == "draft-letter"


def test_anonymous_users_are_refused():
    response = APIClient().get("/api/v1/manage/letters/")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"detail", "errors"}


def test_an_editor_changes_a_draft_and_the_change_is_audited(draft):
    editor = member(draft, Membership.Role.EDITOR)
    response = api_for(editor).patch(
        "/api/v1/manage/letters/draft-letter/",
        {"title": "A better title", "body": "New *text*.", "recipients": [{"name": "Gina Raimondo"}], "sponsors": []},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["title"], body["body"], body["recipients"], body["sponsors"], body["version"], body["role"]) == (
        "A better title",
        "New *text*.",
        [{"name": "Gina Raimondo", "role": ""}],
        [],
        1,
        "editor",
    )
    assert AuditEvent.objects.filter(action="letters.letter.changed", actor=editor).exists()


def test_a_bad_draft_change_is_a_field_error_and_changes_nothing(organizer, draft):
    response = api_for(organizer).patch(
        "/api/v1/manage/letters/draft-letter/", {"title": "Fine", "body": "<script>x</script>"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"body": ["Raw HTML <script> is not allowed in the text."]}
    draft.refresh_from_db()
    assert draft.title == "A draft"


def test_a_closed_letter_no_longer_changes_and_says_so(organizer, draft):
    api = api_for(organizer)
    api.post("/api/v1/manage/letters/draft-letter/open")
    api.post("/api/v1/manage/letters/draft-letter/close")
    response = api.patch("/api/v1/manage/letters/draft-letter/", {"title": "Later"}, format="json")
    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"non_field_errors": ["This letter is closed; its text and details no longer change."]},
    )
    draft.refresh_from_db()
    assert draft.title == "A draft"


def test_a_moderator_cannot_edit_the_draft(draft):
    moderator = member(draft, Membership.Role.MODERATOR)
    response = api_for(moderator).patch("/api/v1/manage/letters/draft-letter/", {"title": "x"}, format="json")
    assert (response.status_code, response.json()) == (403, ROLE_DENIED)


def test_an_owner_without_a_second_factor_is_told_to_set_one_up(draft):
    owner = member(draft, Membership.Role.OWNER)
    api = api_for(owner)
    assert api.get("/api/v1/manage/letters/draft-letter/").status_code == 200  # reading needs no second factor
    response = api.patch("/api/v1/manage/letters/draft-letter/", {"title": "x"}, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": SECOND_FACTOR_MESSAGE, "errors": {}})


def test_the_preview_is_sanitized_html_with_what_would_be_refused(organizer):
    response = api_for(organizer).post(
        "/api/v1/manage/preview",
        {"body": "**Bold** <script>alert(1)</script> [x](javascript:alert(1))"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert "<strong>Bold</strong>" in body["html"]
    assert "<script" not in body["html"] and "javascript:" not in body["html"]
    assert body["problems"] == [
        "Raw HTML <script> is not allowed in the text.",
        "Links must not use javascript:, vbscript: or data: URLs.",
    ]


def test_schedule_then_launch_pause_and_close(organizer, draft):
    api = api_for(organizer)
    at = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    scheduled = api.post("/api/v1/manage/letters/draft-letter/schedule", {"publish_at": at.isoformat()}, format="json")
    assert scheduled.status_code == 200, scheduled.json()
    assert (scheduled.json()["status"], scheduled.json()["publish_at"]) == (
        "scheduled",
        at.isoformat().replace("+00:00", "Z"),
    )
    assert api.post("/api/v1/manage/letters/draft-letter/open").json()["status"] == "open"
    assert api.post("/api/v1/manage/letters/draft-letter/pause").json()["status"] == "paused"
    closed = api.post("/api/v1/manage/letters/draft-letter/close").json()
    assert closed["status"] == "closed" and closed["closed_at"]
    moves = AuditEvent.objects.filter(action="letters.letter.status_changed", actor=organizer).count()
    assert moves == 4


def test_a_schedule_in_the_past_is_a_field_error_and_nothing_changes(organizer, draft):
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    response = api_for(organizer).post(
        "/api/v1/manage/letters/draft-letter/schedule", {"publish_at": past}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["publish_at"]
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at) == ("draft", None)


def test_an_impossible_move_is_409_with_the_reason(organizer, draft):
    response = api_for(organizer).post("/api/v1/manage/letters/draft-letter/pause")
    assert response.status_code == 409
    assert set(response.json()) == {"detail", "errors"} and response.json()["detail"]
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_an_editor_cannot_launch(draft):
    editor = member(draft, Membership.Role.EDITOR)
    response = api_for(editor).post("/api/v1/manage/letters/draft-letter/open")
    assert (response.status_code, response.json()) == (403, ROLE_DENIED)


def test_publishing_a_material_version_of_an_open_letter(organizer, draft):
    api = api_for(organizer)
    api.post("/api/v1/manage/letters/draft-letter/open")
    response = api.post(
        "/api/v1/manage/letters/draft-letter/versions/",
        {"body": BODY + "\n\nNew demand.", "kind": "material", "note": "Adds a demand"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["number"], body["kind"], body["note"]) == (2, "material", "Adds a demand")
    draft.refresh_from_db()
    assert draft.current_version.number == 2


def test_a_version_needs_its_kind(organizer, draft):
    api = api_for(organizer)
    api.post("/api/v1/manage/letters/draft-letter/open")
    response = api.post("/api/v1/manage/letters/draft-letter/versions/", {"body": "Other"}, format="json")
    assert (response.status_code, list(response.json()["errors"])) == (400, ["kind"])
    assert LetterVersion.objects.filter(letter=draft).count() == 1


@pytest.fixture
def signatures(open_one):
    ada = signed(open_one, name="Ada Lovelace", email="ada@example.org")
    grace = signed(open_one, name="Grace Hopper", email="grace@example.org", title="CEO")
    Signature.objects.filter(pk=grace.pk).update(hold_reason="senior_title")
    signed(open_one, name="Pending Person", email="pending@example.org", confirm=False)
    return ada, grace


def test_the_dashboard_counts_by_level_and_version_and_shows_held_and_recent(open_one, signatures):
    _ada, grace = signatures
    owner = member(open_one, Membership.Role.OWNER, second_factor=True)
    body = api_for(owner).get("/api/v1/manage/letters/running-letter/dashboard").json()
    assert body["counts"] == {
        "visible": 1,
        "held": 1,
        "verified": 0,
        "awaiting_reconsent": 0,
        "by_level": {level: int(level == "email") for level in VerificationLevel.values if level != "none"},
        "by_version": [{"number": 1, "kind": "initial", "count": 1, "current": True, "awaiting_reconsent": False}],
        "by_status": {"pending": 1, "confirmed": 2, "rejected": 0, "withdrawn": 0, "merged": 0},
    }
    assert body["private"] is True
    [held] = body["held"]
    assert (held["id"], held["hold_reason"], held["hold_reason_label"], held["email"]) == (
        grace.public_id,
        "senior_title",
        "Senior title at an unproven organization",
        "grace@example.org",
    )
    assert [s["name"] for s in body["recent"]] == ["Pending Person", "Grace Hopper", "Ada Lovelace"]
    assert body["letter"] == {"slug": "running-letter", "title": open_one.title, "status": "open", "role": "owner"}


def test_the_held_list_pages_through_the_queue_with_reasons_and_emails_for_editors_only(open_one, signatures):
    _ada, grace = signatures
    more = signed(open_one, name="Third Person", email="third@example.org")
    Signature.objects.filter(pk=more.pk).update(hold_reason="rate_limited")
    editor_page = api_for(member(open_one, Membership.Role.EDITOR)).get(
        "/api/v1/manage/letters/running-letter/held/?page_size=1"
    )
    body = editor_page.json()
    assert (body["count"], body["previous"], [s["id"] for s in body["results"]]) == (2, None, [grace.public_id])
    assert body["results"][0]["email"] == "grace@example.org"
    assert body["next"].endswith("page=2&page_size=1")
    viewer = api_for(member(open_one, Membership.Role.VIEWER)).get("/api/v1/manage/letters/running-letter/held/")
    assert [(s["name"], s["hold_reason"], s["email"]) for s in viewer.json()["results"]] == [
        ("Grace Hopper", "senior_title", None),
        ("Third Person", "rate_limited", None),
    ]


def test_a_moderator_sees_the_dashboard_without_emails(open_one, signatures):
    moderator = member(open_one, Membership.Role.MODERATOR)
    response = api_for(moderator).get("/api/v1/manage/letters/running-letter/dashboard")
    body = response.json()
    assert body["private"] is False
    assert {s["email"] for s in body["recent"] + body["held"]} == {None}
    assert "@example.org" not in response.content.decode()


def test_a_moderator_releases_verifies_and_rejects_and_each_is_recorded(open_one, signatures):
    ada, grace = signatures
    moderator = member(open_one, Membership.Role.MODERATOR)
    api = api_for(moderator)
    base = "/api/v1/manage/letters/running-letter/signatures"
    released = api.post(f"{base}/{grace.public_id}/release")
    assert (released.status_code, released.json()["hold_reason"], released.json()["email"]) == (200, "", None)
    assert api.post(f"{base}/{grace.public_id}/hold").json()["hold_reason"] == "admin"
    verified = api.post(
        f"{base}/{grace.public_id}/verify", {"method": "manual", "evidence": "Called her office"}, format="json"
    )
    assert (verified.json()["verification_level"], verified.json()["hold_reason"]) == ("manual", "")
    assert VerificationRecord.objects.get(signature=grace).verifier == moderator
    rejected = api.post(f"{base}/{ada.public_id}/reject", {"reason": "Impersonation"}, format="json")
    assert rejected.json()["status"] == "rejected"
    kinds = SignatureEvent.objects.filter(actor=moderator).values_list("kind", flat=True)
    assert sorted(kinds) == ["held", "rejected", "released", "verified"]


def test_moderation_bad_input_is_a_field_error_and_a_wrong_state_409(open_one, signatures):
    ada, grace = signatures
    api = api_for(member(open_one, Membership.Role.MODERATOR))
    base = "/api/v1/manage/letters/running-letter/signatures"
    response = api.post(f"{base}/{grace.public_id}/verify", {"method": "domain"}, format="json")
    assert (response.status_code, sorted(response.json()["errors"])) == (400, ["evidence", "method"])
    not_held = api.post(f"{base}/{ada.public_id}/release")
    assert (not_held.status_code, not_held.json()) == (409, {"detail": "This signature is not held.", "errors": {}})
    grace.refresh_from_db()
    assert grace.hold_reason == "senior_title"


def test_a_viewer_cannot_moderate(open_one, signatures):
    _ada, grace = signatures
    api = api_for(member(open_one, Membership.Role.VIEWER))
    response = api.post(f"/api/v1/manage/letters/running-letter/signatures/{grace.public_id}/release")
    assert (response.status_code, response.json()) == (403, ROLE_DENIED)
    grace.refresh_from_db()
    assert grace.hold_reason == "senior_title"


def test_an_owner_exports_emails_the_export_is_audited_and_listed(open_one, signatures):
    owner = member(open_one, Membership.Role.OWNER, second_factor=True, username="owner-a")
    api = api_for(owner)
    response = api.get("/api/v1/manage/letters/running-letter/export.csv")
    assert response.status_code == 200
    assert (response["Content-Type"], response["X-Export-Rows"], response["Cache-Control"]) == (
        "text/csv; charset=utf-8",
        "2",
        "private, no-store",
    )
    text = response.content.decode()
    assert "ada@example.org" in text and "grace@example.org" in text and "pending@example.org" not in text
    as_json = api.get("/api/v1/manage/letters/running-letter/export.json")
    assert [s["email"] for s in as_json.json()["signatures"]] == ["ada@example.org", "grace@example.org"]
    exports = api.get("/api/v1/manage/letters/running-letter/dashboard").json()["exports"]
    assert [(e["by"], e["rows"], e["format"]) for e in exports] == [("owner-a", 2, "json"), ("owner-a", 2, "csv")]


def test_a_moderator_cannot_export_private_columns_and_nothing_is_audited(open_one, signatures):
    api = api_for(member(open_one, Membership.Role.MODERATOR))
    response = api.get("/api/v1/manage/letters/running-letter/export.csv")
    assert (response.status_code, response.json()) == (403, ROLE_DENIED)
    assert not AuditEvent.objects.filter(action="letters.letter.private_exported").exists()


def test_the_manage_endpoints_are_in_the_openapi_schema(organizer):
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    paths = [p for p in schema["paths"] if p.startswith("/api/v1/manage/")]
    assert "/api/v1/manage/letters/{slug}/dashboard" in paths
    assert "/api/v1/manage/letters/{slug}/signatures/{public_id}/verify" in paths
    assert len(paths) >= 14

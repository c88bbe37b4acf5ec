"""Organizers' pages (/manage/): forms that work without JavaScript, each action a POST with CSRF."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from letters.models import Letter, Signature
from organizing.authoring import letter_create_with_owner
from organizing.models import Membership
from registry.models import AuditEvent
from tests.builders import signed
from tests.factories import LetterFactory, UserFactory
from tests.organizing.conftest import member, with_second_factor

pytestmark = pytest.mark.django_db
BODY = "We ask you to **reconsider**."
FORM = {
    "slug": "coalition-letter",
    "title": "Defenders need the best tools",
    "summary": "",
    "body": BODY,
    "recipients": "Howard Lutnick | Secretary of Commerce\nGina Raimondo",
    "sponsors": "",
    "action": "save",
}


def client_for(user, *, csrf=False):
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


@pytest.fixture
def organizer(db):
    return with_second_factor(UserFactory(username="organizer"))


@pytest.fixture
def draft(organizer):
    return letter_create_with_owner(user=organizer, slug="draft-letter", title="A draft", body=BODY)


def test_signed_out_visitors_are_sent_to_log_in(db):
    response = Client().get("/manage/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/manage/")


def test_my_letters_lists_my_letters_with_my_role(organizer, draft):
    LetterFactory(slug="not-mine", title="Not mine")
    response = client_for(organizer).get("/manage/")
    text = response.content.decode()
    assert "A draft" in text and "you are owner" in text
    assert "Not mine" not in text
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_new_letter_from_the_form_is_a_draft_with_its_recipients(organizer):
    response = client_for(organizer).post("/manage/new/", FORM)
    assert (response.status_code, response["Location"]) == (302, "/manage/coalition-letter/")
    letter = Letter.objects.get(slug="coalition-letter")
    assert list(letter.recipients.values_list("name", "role")) == [
        ("Howard Lutnick", "Secretary of Commerce"),
        ("Gina Raimondo", ""),
    ]
    assert Membership.objects.get(letter=letter).role == "owner"


def test_the_form_previews_sanitized_markdown_without_saving(organizer):
    response = client_for(organizer).post(
        "/manage/new/", {**FORM, "body": "**Bold** <script>alert(1)</script>", "action": "preview"}
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "<strong>Bold</strong>" in text
    assert "<script>alert(1)</script>" not in text
    assert "Raw HTML &lt;script&gt; is not allowed in the text." in text
    assert not Letter.objects.exists()


def test_bad_input_shows_field_errors_and_stores_nothing(organizer):
    response = client_for(organizer).post("/manage/new/", {**FORM, "slug": "admin", "recipients": " | Secretary"})
    text = response.content.decode()
    assert response.status_code == 400
    assert "“admin” is reserved; choose another slug." in text
    assert "Recipient 1 needs a name." in text
    assert not Letter.objects.exists()


def test_a_missing_title_does_not_hide_the_other_fields_problems(organizer):
    response = client_for(organizer).post("/manage/new/", {**FORM, "slug": "admin", "title": "", "body": "<script>"})
    text = response.content.decode()
    assert response.status_code == 400
    assert "“admin” is reserved; choose another slug." in text
    assert "This field is required." in text
    assert "Raw HTML &lt;script&gt; is not allowed in the text." in text
    assert not Letter.objects.exists()


def test_a_draft_is_edited_with_its_preview(organizer, draft):
    client = client_for(organizer)
    page = client.get("/manage/draft-letter/edit/").content.decode()
    assert "<strong>reconsider</strong>" in page  # the preview of the saved text
    response = client.post(
        "/manage/draft-letter/edit/",
        {"title": "Better", "summary": "", "body": "New text", "recipients": "", "sponsors": "", "action": "save"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.current_version.body) == ("Better", "New text")


def test_actions_need_the_csrf_token(organizer, draft):
    client = client_for(organizer, csrf=True)
    assert client.post("/manage/draft-letter/open/").status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_launch_asks_for_confirmation_then_opens_on_post(organizer, draft):
    client = client_for(organizer)
    page = client.get("/manage/draft-letter/open/")
    assert "Open this letter to the public now?" in page.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"  # the GET only asks
    assert client.post("/manage/draft-letter/open/").status_code == 302
    draft.refresh_from_db()
    assert draft.status == "open"


def test_schedule_with_a_datetime_field_and_a_past_time_is_refused(organizer, draft):
    client = client_for(organizer)
    past = (timezone.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post("/manage/draft-letter/schedule/", {"publish_at": past})
    assert refused.status_code == 400
    draft.refresh_from_db()
    assert draft.status == "draft"
    future = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert client.post("/manage/draft-letter/schedule/", {"publish_at": future}).status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at.strftime("%Y-%m-%dT%H:%M")) == ("scheduled", future)


def test_an_impossible_move_says_why(organizer, draft):
    response = client_for(organizer).post("/manage/draft-letter/close/")
    assert response.status_code == 409
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_material_version_is_published_from_the_form(organizer, draft):
    client = client_for(organizer)
    client.post("/manage/draft-letter/open/")
    page = client.get("/manage/draft-letter/versions/new/").content.decode()
    assert 'type="radio" name="kind" value="material"' in page
    response = client.post(
        "/manage/draft-letter/versions/new/", {"body": "Changed text", "kind": "material", "note": "New demand"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.current_version.number, draft.current_version.kind) == (2, "material")


def test_a_version_without_a_kind_is_refused(organizer, draft):
    client = client_for(organizer)
    client.post("/manage/draft-letter/open/")
    assert client.post("/manage/draft-letter/versions/new/", {"body": "Changed text"}).status_code == 400
    draft.refresh_from_db()
    assert draft.current_version.number == 1


@pytest.fixture
def running():
    letter = LetterFactory(slug="running-letter", status="open")
    ada = signed(letter, name="Ada Lovelace", email="ada@example.org")
    grace = signed(letter, name="Grace Hopper", email="grace@example.org", title="CEO")
    Signature.objects.filter(pk=grace.pk).update(hold_reason="senior_title")
    return letter, ada, grace


def test_the_dashboard_shows_counts_held_queue_and_emails_to_an_owner(running):
    letter, _ada, grace = running
    owner = member(letter, Membership.Role.OWNER, second_factor=True)
    text = client_for(owner).get("/manage/running-letter/").content.decode()
    assert 'data-testid="count-visible">1<' in text
    assert 'data-testid="count-held">1<' in text
    assert "signed version 1" in text
    assert "Senior title at an unproven organization" in text
    assert "grace@example.org" in text
    assert f"/manage/running-letter/signatures/{grace.public_id}/release/" in text
    assert 'href="/manage/running-letter/webhooks/"' in text


def test_a_viewer_sees_no_emails_and_no_moderation_forms(running):
    letter, _ada, _grace = running
    viewer = member(letter, Membership.Role.VIEWER)
    text = client_for(viewer).get("/manage/running-letter/").content.decode()
    assert "@example.org" not in text
    assert "/release/" not in text
    assert "/webhooks/" not in text
    assert "Two-factor login is not set up" in text


def test_a_viewer_cannot_release_a_held_signature(running):
    letter, _ada, grace = running
    response = client_for(member(letter, Membership.Role.VIEWER)).post(
        f"/manage/running-letter/signatures/{grace.public_id}/release/"
    )
    assert response.status_code == 403
    assert "Your role in this letter does not allow this." in response.content.decode()
    grace.refresh_from_db()
    assert grace.hold_reason == "senior_title"


def test_a_moderator_verifies_with_evidence_and_without_it_is_told_why(running):
    letter, _ada, grace = running
    client = client_for(member(letter, Membership.Role.MODERATOR))
    url = f"/manage/running-letter/signatures/{grace.public_id}/verify/"
    missing = client.post(url, {"method": "manual", "evidence": ""}, follow=True)
    assert "Evidence: This field is required." in missing.content.decode()
    grace.refresh_from_db()
    assert grace.hold_reason == "senior_title"
    client.post(url, {"method": "manual", "evidence": "Called her office"})
    grace.refresh_from_db()
    assert (grace.hold_reason, grace.verification_level) == ("", "manual")


def test_an_owner_without_a_second_factor_is_asked_to_set_one_up(running):
    letter, _ada, grace = running
    owner = member(letter, Membership.Role.OWNER)
    response = client_for(owner).post(f"/manage/running-letter/signatures/{grace.public_id}/release/")
    assert response.status_code == 403
    assert "Set up two-factor login" in response.content.decode()


def test_a_private_export_is_a_post_downloaded_and_listed(running):
    letter, _ada, _grace = running
    editor = member(letter, Membership.Role.EDITOR, username="editor-a", email="editor@example.org")
    client = client_for(editor)
    assert client.get("/manage/running-letter/export/").status_code == 405
    response = client.post("/manage/running-letter/export/", {"format": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="running-letter-private-')
    assert "ada@example.org" in response.content.decode()
    assert AuditEvent.objects.get(action="letters.letter.private_exported").actor == editor
    text = client.get("/manage/running-letter/").content.decode()
    assert "editor@example.org" in text  # who exported, in the list of exports


def test_a_moderator_cannot_export(running):
    letter, _ada, _grace = running
    response = client_for(member(letter, Membership.Role.MODERATOR)).post("/manage/running-letter/export/")
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="letters.letter.private_exported").exists()


def test_the_import_preview_names_its_row_filters_as_its_summary_does():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from importing.models import SignatureImport

    letter = LetterFactory(slug="founders", status="scheduled")
    client = client_for(member(letter, Membership.Role.EDITOR, username="editor"))
    csv = b"Full name;E-mail\nAda Lovelace;ada@example.org\nAda Again;ada@example.org\n"
    client.post("/manage/founders/imports/", {"file": SimpleUploadedFile("f.csv", csv)})
    imp = SignatureImport.objects.get()
    page = client.get(f"/manage/founders/imports/{imp.public_id}/?status=duplicate_in_file").content.decode()
    filters = (
        '<p>Show: <a href="?">all</a> · <a href="?status=new">New</a> · '
        '<a href="?status=already_signed">Already signed</a> · '
        '<a href="?status=duplicate_in_file" aria-current="true">Duplicate in the file</a> · '
        '<a href="?status=invalid">Invalid</a></p>'
    )
    assert filters in page
    assert "<td>3</td><td>duplicate in the file</td>" in page


def test_import_progress_gives_a_rate_only_over_a_measured_second():
    from importing.models import SignatureImport
    from importing.selectors import import_progress

    at = timezone.now()
    one_batch = SignatureImport(rows_total=79, rows_done=79, started_at=at, finished_at=at)
    assert (import_progress(one_batch).rows_per_second, import_progress(one_batch).seconds_left) == (None, 0)
    running = SignatureImport(rows_total=100, rows_done=40, started_at=at, heartbeat_at=at + timedelta(seconds=4))
    assert (import_progress(running).rows_per_second, import_progress(running).seconds_left) == (10.0, 7)

"""Letters and signatures edited in Django admin go through the services: audit rows, versions, status times,
correction events; history as of earlier instants is not rewritten."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from letters.models import Letter, Signature, SignatureEvent
from letters.selectors import letter_signatures_public
from registry.models import AuditEvent
from tests.builders import signed
from tests.factories import LetterFactory

pytestmark = pytest.mark.django_db

INLINES = {
    "recipients-TOTAL_FORMS": "0", "recipients-INITIAL_FORMS": "0",
    "sponsorships-TOTAL_FORMS": "0", "sponsorships-INITIAL_FORMS": "0",
    "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
}  # fmt: skip


def add_letter(staff_client, **fields):
    data = {"slug": "restore-access", "title": "Restore access", "summary": "", "status": "open", **INLINES}
    return staff_client.post(reverse("admin:letters_letter_add"), {**data, **fields})


def test_a_letter_created_open_in_admin_has_its_version_and_takes_signatures(staff_client, client):
    """Bug 1: it had no version, and signing, its page and its export answered 500."""
    response = add_letter(staff_client, body="We ask you to restore access.")
    assert response.status_code == 302, response.content.decode()[:2000]
    letter = Letter.objects.get(slug="restore-access")
    assert (letter.status, letter.current_version.number, letter.current_version.body) == (
        "open",
        1,
        "We ask you to restore access.",
    )
    assert letter.opened_at is not None
    actions = list(AuditEvent.objects.filter(target_id=str(letter.pk)).order_by("id").values_list("action", flat=True))
    assert actions == ["letters.letter.version_published", "letters.letter.created", "letters.letter.status_changed"]
    signed = client.post(
        f"/api/v1/letters/{letter.slug}/signatures/",
        {"name": "Ada Lovelace", "email": "ada@example.org"},
        content_type="application/json",
    )
    assert signed.status_code == 202
    assert client.get(f"/letters/{letter.slug}/").status_code == 200
    assert client.get(f"/api/v1/letters/{letter.slug}/export.csv").status_code == 200


def test_a_letter_without_text_cannot_be_created(staff_client):
    response = add_letter(staff_client, body="")
    assert response.status_code == 200 and b"This field is required" in response.content
    assert not Letter.objects.exists()


def test_closing_a_letter_in_admin_stamps_closed_at_and_audits(staff_client, staff_user):
    """Bug 5: closed_at stayed empty and no audit row was written."""
    letter = LetterFactory()
    url = reverse("admin:letters_letter_change", args=[letter.pk])
    data = {"title": letter.title, "summary": letter.summary, "status": "closed", "body": letter.current_version.body}
    response = staff_client.post(url, {**data, **INLINES})
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.status == "closed" and letter.closed_at is not None
    audit = AuditEvent.objects.get(action="letters.letter.status_changed", target_id=str(letter.pk))
    assert (audit.actor, audit.data) == (staff_user, {"from": "open", "to": "closed"})
    assert letter.current_version.number == 1  # the same text publishes nothing


def test_a_changed_text_in_admin_publishes_a_new_version_and_title_changes_are_audited(staff_client):
    letter = LetterFactory()
    old_title = letter.title
    url = reverse("admin:letters_letter_change", args=[letter.pk])
    data = {"title": "A better title", "summary": letter.summary, "status": "open", "body": "Second text."}
    refused = staff_client.post(url, {**data, **INLINES})
    assert refused.status_code == 200 and b"Say whether the change is editorial or material." in refused.content
    data["version_kind"] = "editorial"
    assert staff_client.post(url, {**data, **INLINES}).status_code == 302
    letter.refresh_from_db()
    assert (letter.title, letter.current_version.number, letter.current_version.body) == (
        "A better title",
        2,
        "Second text.",
    )
    assert letter.current_version.kind == "editorial"
    changed = AuditEvent.objects.get(action="letters.letter.changed", target_id=str(letter.pk))
    assert changed.data == {
        "from": {"title": old_title},
        "to": {"title": "A better title"},
    }


SIGNATURE_INLINES = {
    "verification_records-TOTAL_FORMS": "0", "verification_records-INITIAL_FORMS": "0",
    "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",
}  # fmt: skip


def confirmed(letter, name="Ada Lovelace", at=None):
    return signed(letter, name=name, title="Engineer", at=at)


def test_renaming_a_signer_in_admin_is_an_event_and_past_lists_keep_the_old_name(staff_client, staff_user):
    """Bug 5: the rename rewrote as-of lists and left no audit."""
    letter = LetterFactory()
    signed_at = timezone.now() - timedelta(days=2)
    signature = confirmed(letter, name="Ada Lovlace", at=signed_at)
    url = reverse("admin:letters_signature_change", args=[signature.pk])
    data = {"name": "Ada Lovelace", "title": "Engineer", "organization_name": "", "correction_reason": "Typo"}
    response = staff_client.post(url, {**data, **SIGNATURE_INLINES})
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.name == "Ada Lovelace"
    event = SignatureEvent.objects.get(signature=signature, kind="corrected")
    assert (event.actor, event.data) == (
        staff_user,
        {"before": {"name": "Ada Lovlace", "title": "Engineer", "organization_name": ""}},
    )
    audit = AuditEvent.objects.get(action="letters.signature.corrected")
    assert audit.data["reason"] == "Typo" and audit.data["from"] == {"name": "Ada Lovlace"}
    yesterday = timezone.now() - timedelta(days=1)
    then = staff_client.get(f"/api/v1/letters/{letter.slug}/signatures/?as_of={yesterday:%Y-%m-%dT%H:%M:%SZ}").json()
    now = staff_client.get(f"/api/v1/letters/{letter.slug}/signatures/").json()
    assert [r["name"] for r in then["results"]] == ["Ada Lovlace"]
    assert [r["name"] for r in now["results"]] == ["Ada Lovelace"]
    assert [s.name for s in letter_signatures_public(letter=letter)] == ["Ada Lovelace"]
    changes = staff_client.get(f"/api/v1/letters/{letter.slug}/changes/").json()["results"]
    assert [c["change"] for c in changes] == ["added", "corrected"]


def test_a_correction_without_a_reason_or_breaking_the_rules_changes_nothing(staff_client):
    letter = LetterFactory()
    signature = confirmed(letter)
    url = reverse("admin:letters_signature_change", args=[signature.pk])
    data = {"name": "Ada Lovelace (CEO)", "title": "", "organization_name": "", **SIGNATURE_INLINES}
    response = staff_client.post(url, data)
    assert response.status_code == 200 and b"Say why the signature is corrected." in response.content
    data = {"name": "=HYPERLINK()", "title": "", "organization_name": "", "correction_reason": "x", **SIGNATURE_INLINES}
    response = staff_client.post(url, data)
    assert response.status_code == 200 and b"Must not start with" in response.content
    signature.refresh_from_db()
    assert (signature.name, signature.title) == ("Ada Lovelace", "Engineer")
    assert not SignatureEvent.objects.filter(kind="corrected").exists()


def test_status_and_people_cannot_be_edited_on_a_signature_in_admin(staff_client):
    letter = LetterFactory()
    signature = confirmed(letter)
    url = reverse("admin:letters_signature_change", args=[signature.pk])
    staff_client.post(url, {"name": signature.name, "title": "Engineer", "organization_name": "", "status": "rejected",
                            "name_shown": "", "person": "", "hold_reason": "admin", **SIGNATURE_INLINES})  # fmt: skip
    signature.refresh_from_db()
    assert (signature.status, signature.name_shown, signature.hold_reason) == ("confirmed", True, "")
    assert signature.person_id is not None
    assert (
        staff_client.post(reverse("admin:letters_signature_delete", args=[signature.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Signature.objects.filter(pk=signature.pk).exists()


def test_saving_a_letter_without_editing_its_text_publishes_no_version(staff_client):
    """A browser sends the textarea back with CR LF line ends: the same text, not a new version."""
    letter = LetterFactory()
    body = letter.current_version.body
    url = reverse("admin:letters_letter_change", args=[letter.pk])
    posted = {"title": "New title", "summary": letter.summary, "status": "paused", "body": body.replace("\n", "\r\n")}
    assert staff_client.post(url, {**posted, **INLINES}).status_code == 302
    letter.refresh_from_db()
    assert (letter.title, letter.status, letter.current_version.number) == ("New title", "paused", 1)

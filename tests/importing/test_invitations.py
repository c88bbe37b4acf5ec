import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from importing.invitations import (
    InvitationInvalid,
    InvitationNotAllowed,
    invitation_decline,
    invitation_open,
    invitation_remind,
    invitation_revoke,
    invitation_sign,
    signer_invitation_create,
    token_hash,
)
from importing.models import SignerInvitation
from importing.selectors import invitation_counts
from letters.models import OutboxMessage, Signature, VerificationRecord
from registry.models import AuditEvent
from tests.builders import public_count, signed
from tests.factories import LetterFactory, UserFactory


@pytest.fixture
def organizer(db):
    return UserFactory(username="organizer", first_name="Casey", last_name="Ellis")


@pytest.fixture
def embargoed(db):
    return LetterFactory(slug="founders", status="scheduled")


def invite(letter, organizer, email="katie@example.org", name="Katie Moussouris", **kw):
    return signer_invitation_create(
        letter=letter, name=name, email=email, title="CEO", organization="Luta Security", actor=organizer, **kw
    )


def test_an_invitation_is_emailed_with_a_link_whose_token_is_stored_hashed(embargoed, organizer):
    issued = invite(embargoed, organizer)
    invitation = issued.invitation
    assert len(issued.token) == 43  # 32 random bytes, URL-safe base64
    assert invitation.token_hash == token_hash(issued.token)
    assert issued.token not in str(SignerInvitation.objects.values().get())
    message = OutboxMessage.objects.get(pk=invitation.message_id)
    assert message.to_email == "katie@example.org"
    assert f"/invitations/{issued.token}/" in message.body_text
    assert "Casey Ellis invites you to sign" in message.body_text
    assert invitation.state == "queued"


def test_the_invitee_signs_with_one_click_under_embargo_and_corrects_their_title(embargoed, organizer):
    issued = invite(embargoed, organizer)
    assert invitation_open(token=issued.token).state == "opened"
    signature = invitation_sign(
        token=issued.token, name="Katie Moussouris", title="Founder & CEO", organization="Luta Security"
    )
    assert (signature.status, signature.verification_level, signature.title) == (
        "confirmed",
        "invited",
        "Founder & CEO",
    )
    record = VerificationRecord.objects.get(signature=signature)
    assert (record.method, record.verifier) == ("invited", organizer)
    assert issued.invitation.public_id in record.evidence
    assert public_count(embargoed) == 1
    invitation = SignerInvitation.objects.get()
    assert (invitation.state, invitation.signature_id) == ("signed", signature.pk)
    with pytest.raises(InvitationInvalid):  # single use
        invitation_sign(token=issued.token, name="Someone Else")


def test_bad_corrections_are_field_errors_and_spend_nothing(embargoed, organizer):
    issued = invite(embargoed, organizer)
    with pytest.raises(ValidationError) as caught:
        invitation_sign(token=issued.token, name="", title="=cmd()")
    assert caught.value.message_dict == {
        "name": ["This field is required."],
        "title": ["Must not start with =, +, -, @ or a tab."],
    }
    assert SignerInvitation.objects.get().signed_at is None
    assert Signature.objects.count() == 0


def test_decline_is_final_and_never_resent(embargoed, organizer):
    issued = invite(embargoed, organizer)
    invitation_decline(token=issued.token)
    with pytest.raises(InvitationInvalid):
        invitation_sign(token=issued.token, name="Katie Moussouris")
    with pytest.raises(ValidationError) as caught:
        invite(embargoed, organizer)
    assert caught.value.message_dict == {
        "email": ["This person declined an invitation to this letter; it is not sent again."]
    }
    with pytest.raises(InvitationNotAllowed):
        invitation_remind(invitation=issued.invitation, actor=organizer)
    assert invitation_counts(letter=embargoed)["declined"] == 1


def test_revoked_and_expired_links_do_not_work(embargoed, organizer):
    revoked = invite(embargoed, organizer, email="a@example.org", name="Ann Able")
    invitation_revoke(invitation=revoked.invitation, actor=organizer)
    with pytest.raises(InvitationInvalid):
        invitation_open(token=revoked.token)
    expired = invite(
        embargoed, organizer, email="b@example.org", name="Bob Baker", at=timezone.now() - timedelta(days=22)
    )
    with pytest.raises(InvitationInvalid):
        invitation_open(token="not-a-token")
    with pytest.raises(InvitationInvalid):
        invitation_open(token=expired.token)
    counts = invitation_counts(letter=embargoed)
    assert (counts["revoked"], counts["expired"]) == (1, 1)
    renewed = invite(embargoed, organizer, email="b@example.org", name="Bob Baker")  # an expired one is superseded
    assert renewed.invitation.state == "queued"
    superseded = AuditEvent.objects.get(action="importing.invitation.superseded")
    assert (superseded.target_id, superseded.actor_id, superseded.data) == (
        str(expired.invitation.pk),
        organizer.pk,
        {"expired": True},
    )


def test_reminders_rotate_the_link_and_are_capped(embargoed, organizer, settings):
    settings.SIGNER_INVITATION_MAX_REMINDERS = 2
    first = invite(embargoed, organizer)
    second = invitation_remind(invitation=first.invitation, actor=organizer)
    with pytest.raises(InvitationInvalid):
        invitation_open(token=first.token)
    assert invitation_open(token=second.token).reminders_sent == 1
    invitation_remind(invitation=first.invitation, actor=organizer)
    with pytest.raises(InvitationNotAllowed) as caught:
        invitation_remind(invitation=first.invitation, actor=organizer)
    assert caught.value.message == "This invitation was already sent again 2 times, the most allowed."
    assert OutboxMessage.objects.filter(to_email="katie@example.org", kind="signer_invitation").count() == 3
    assert AuditEvent.objects.filter(action="importing.invitation.reminded").count() == 2


def test_someone_who_signed_is_not_invited(open_letter, organizer):
    signed(open_letter, name="Katie Moussouris", email="katie@example.org")
    with pytest.raises(ValidationError) as caught:
        invite(open_letter, organizer)
    assert caught.value.message_dict == {"email": ["This address has already signed the letter."]}


def test_a_bounced_invitation_is_shown_as_bounced(embargoed, organizer):
    issued = invite(embargoed, organizer)
    OutboxMessage.objects.filter(pk=issued.invitation.message_id).update(failed_at=timezone.now())
    assert SignerInvitation.objects.select_related("message").get().state == "bounced"


def test_an_invitee_withdraws_like_everyone_else(embargoed, organizer):
    from letters.services.signing import signature_withdraw

    issued = invite(embargoed, organizer)
    signature = invitation_sign(token=issued.token, name="Katie Moussouris")
    signature_withdraw(signature=signature)
    assert public_count(embargoed) == 0


def test_a_spreadsheet_invites_through_the_same_preview(
    embargoed, organizer, django_capture_on_commit_callbacks, mailoutbox
):
    from importing.services import import_start, import_undo, import_upload

    data = b"name,email\nAda Lovelace,ada@example.org\nGrace Hopper,grace@example.org\n,bad@example.org\n"
    imp = import_upload(letter=embargoed, data=data, filename="invitees.csv", actor=organizer).signature_import
    with django_capture_on_commit_callbacks(execute=True):
        import_start(signature_import=imp, mode="invite", actor=organizer)
    imp.refresh_from_db()
    assert (imp.status, imp.rows_created, imp.rows_skipped) == ("done", 2, 1)
    invitations = SignerInvitation.objects.filter(signature_import=imp)
    assert sorted(invitations.values_list("email_key", flat=True)) == ["ada@example.org", "grace@example.org"]
    body = next(m.body for m in mailoutbox if m.to == ["ada@example.org"])
    token = re.search(r"/invitations/([\w-]+)/", body).group(1)
    invitation_sign(token=token, name="Ada Lovelace")
    assert import_undo(signature_import=imp, actor=organizer) == 1
    assert public_count(embargoed) == 0
    assert invitations.get(email_key="grace@example.org").state == "revoked"


def test_an_email_whose_link_a_reminder_or_a_revocation_killed_is_not_sent(embargoed, organizer):
    first = invite(embargoed, organizer)  # its email still waits in the outbox (no worker in this test)
    second = invitation_remind(invitation=first.invitation, actor=organizer)
    emails = OutboxMessage.objects.filter(kind="signer_invitation").order_by("pk")
    replaced, waiting = emails
    assert (replaced.failed_at is not None, replaced.last_error, replaced.body_text) == (
        True,
        "Not sent: a reminder with a new link replaced it.",
        "",
    )
    assert (waiting.failed_at, waiting.sent_at, second.token in waiting.body_text or waiting.body_text == "") == (
        None,
        None,
        True,
    )
    revoked = invitation_revoke(invitation=second.invitation, actor=organizer)
    waiting.refresh_from_db()
    assert (waiting.failed_at is not None, waiting.last_error) == (True, "Not sent: the invitation was revoked.")
    assert revoked.state == "revoked"

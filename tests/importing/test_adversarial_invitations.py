"""Adversarial checks of signer invitations (issue 15): links used twice or at once, tokens of the wrong kind or
shape, letters that stop, addresses that signed meanwhile, organizers without the right, and what the public sees."""

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from importing.invitations import (
    InvitationInvalid,
    invitation_decline,
    invitation_remind,
    invitation_revoke,
    invitation_sign,
    invitations_erase,
    signer_invitation_create,
)
from importing.models import SignatureImportRow, SignerInvitation
from letters.models import Letter, OutboxMessage, Signature, SignatureToken, VerificationRecord
from letters.services.signing import signature_withdraw
from letters.services.tokens import token_issue
from organizing.models import Membership
from registry.models import AuditEvent
from tests.builders import public_count, signed
from tests.factories import LetterFactory
from tests.organizing.conftest import member

API = "/api/v1/manage/letters/founders/signer-invitations/"
WEB = "/manage/founders/signer-invitations/"
OPEN_ALREADY = "This address already has an open invitation: remind or revoke it."
INVALID = "This invitation link is not valid any more. Ask the organizers who invited you for a new one."


@pytest.fixture
def letter(db):
    return LetterFactory(slug="founders", status="open", title="Restore defenders' access")


@pytest.fixture
def editor(letter):
    return member(letter, Membership.Role.EDITOR, username="editor", first_name="Casey", last_name="Ellis")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def invite(letter, editor, email="katie@example.org", name="Katie Moussouris", **kw):
    return signer_invitation_create(letter=letter, name=name, email=email, title="CEO", actor=editor, **kw)


def invalid_input(errors):
    return {"detail": "Invalid input.", "errors": errors}


def set_status(letter, status):
    Letter.objects.filter(pk=letter.pk).update(status=status, closed_at=timezone.now() if status == "closed" else None)


def actions():
    return sorted(
        AuditEvent.objects.filter(action__startswith="importing.invitation.").values_list("action", flat=True)
    )


def sign_post(client, token, **fields):
    return client.post(f"/invitations/{token}/", {"action": "sign", "name": "Katie Moussouris", **fields})


def at_once(*calls):
    """Run the calls in threads released together; their answers in the calls' order."""
    barrier = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        answers[i] = call()
        connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: concurrent row locks")
def test_two_sign_posts_at_once_make_exactly_one_signature():
    letter = LetterFactory(slug="founders", status="open")
    organizer = member(letter, Membership.Role.EDITOR, username="racer")
    issued = invite(letter, organizer)
    answers = at_once(*[lambda: sign_post(Client(), issued.token).status_code] * 2)
    assert sorted(answers) == [200, 404]
    signature = Signature.objects.get()
    assert (signature.status, signature.verification_level) == ("confirmed", "invited")
    assert VerificationRecord.objects.filter(signature=signature).count() == 1
    assert SignerInvitation.objects.get().signature_id == signature.pk
    assert actions() == ["importing.invitation.created", "importing.invitation.signed"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: concurrent row locks")
def test_sign_and_decline_at_once_end_the_invitation_once():
    letter = LetterFactory(slug="founders", status="open")
    issued = invite(letter, member(letter, Membership.Role.EDITOR, username="racer"))
    url = f"/invitations/{issued.token}/"
    answers = at_once(
        lambda: Client().post(url, {"action": "sign", "name": "Katie"}).status_code,
        lambda: Client().post(url, {"action": "decline"}).status_code,
    )
    assert sorted(answers) == [200, 404]
    invitation = SignerInvitation.objects.get()
    assert invitation.state in ("signed", "declined")
    assert Signature.objects.count() == (1 if invitation.state == "signed" else 0)
    assert len(actions()) == 2


def test_viewing_the_page_only_records_the_first_opening(client, letter, editor):
    issued = invite(letter, editor)
    first = client.get(f"/invitations/{issued.token}/")
    opened = SignerInvitation.objects.get().opened_at
    assert (first.status_code, client.get(f"/invitations/{issued.token}/").status_code) == (200, 200)
    invitation = SignerInvitation.objects.get()
    assert (invitation.state, invitation.opened_at, invitation.signed_at) == ("opened", opened, None)
    assert Signature.objects.count() == 0
    assert actions() == ["importing.invitation.created"]
    assert first["Referrer-Policy"] == "same-origin"  # the letter's links never carry the token away
    assert client.head(f"/invitations/{issued.token}/").status_code == 405
    assert client.put(f"/invitations/{issued.token}/").status_code == 405


@pytest.mark.parametrize(
    "token",
    ["a", "x" * 42, "x" * 101, "ü" * 43, "%E2%80%AE" * 5, "..\\..\\manage", "0" * 64, "%00", "%FF%FE"],
    ids=["short", "truncated-length", "overlong", "unicode", "bidi", "traversal", "hex", "nul", "bad-utf8"],
)
def test_malformed_tokens_get_the_one_invalid_page(client, letter, editor, token):
    issued = invite(letter, editor)
    for response in (client.get(f"/invitations/{token}/"), sign_post(client, token)):
        assert response.status_code == 404
        assert INVALID in response.content.decode()
    assert sign_post(client, issued.token[:-1]).status_code == 404  # one character short of the real one
    assert sign_post(client, issued.token + "A").status_code == 404
    assert (Signature.objects.count(), SignerInvitation.objects.get().opened_at) == (0, None)


def test_a_public_confirmation_token_does_not_open_an_invitation_and_vice_versa(client, letter, editor):
    pending = signed(letter, name="Grace Hopper", email="grace@example.org", confirm=False)
    confirm_token = token_issue(signature=pending, purposes=[SignatureToken.Purpose.CONFIRM])["confirm"]
    issued = invite(letter, editor)
    assert sign_post(client, confirm_token).status_code == 404
    assert client.post(f"/confirm/{issued.token}/").status_code == 400
    assert client.post(f"/withdraw/{issued.token}/").status_code == 400
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert SignerInvitation.objects.get().state == "queued"
    assert client.post(f"/confirm/{confirm_token}/").status_code == 200  # the token still does its own job


def test_a_declined_or_revoked_link_signs_nothing(client, letter, editor):
    declined = invite(letter, editor, email="a@example.org", name="Ann Able")
    assert client.post(f"/invitations/{declined.token}/", {"action": "decline"}).status_code == 200
    assert sign_post(client, declined.token).status_code == 404
    assert client.post(f"/invitations/{declined.token}/", {"action": "decline"}).status_code == 404
    revoked = invite(letter, editor, email="b@example.org", name="Bob Baker")
    invitation_revoke(invitation=revoked.invitation, actor=editor)
    html = sign_post(client, revoked.token).content.decode()
    for secret in ("b@example.org", "Bob Baker", "CEO", "Restore defenders", revoked.invitation.public_id):
        assert secret not in html  # the invalid page tells nothing about the invitation
    assert Signature.objects.count() == 0
    assert actions() == ["importing.invitation.created"] * 2 + [
        "importing.invitation.declined",
        "importing.invitation.revoked",
    ]


def test_an_expired_link_signs_nothing_even_by_post(client, letter, editor):
    issued = invite(letter, editor, at=timezone.now() - timedelta(days=21, seconds=1))
    response = sign_post(client, issued.token)
    assert (response.status_code, INVALID in response.content.decode()) == (404, True)
    assert (Signature.objects.count(), SignerInvitation.objects.get().state) == (0, "expired")


def test_a_link_replaced_by_a_reminder_cannot_sign_even_if_read_before_the_lock(letter, editor, monkeypatch):
    issued = invite(letter, editor)
    from importing import invitations

    real = invitations.invitation_for_token

    def stale_read(*, token, at=None):
        found = real(token=token, at=at)
        invitation_remind(invitation=found, actor=editor)  # lands between the read and the lock
        return found

    monkeypatch.setattr(invitations, "invitation_for_token", stale_read)
    with pytest.raises(InvitationInvalid):
        invitation_sign(token=issued.token, name="Katie Moussouris")
    assert (Signature.objects.count(), SignerInvitation.objects.get().signed_at) == (0, None)


@pytest.mark.parametrize("status", ["closed", "draft"])
def test_a_link_stops_working_when_the_letter_closes_or_goes_back_to_draft(client, letter, editor, status):
    issued = invite(letter, editor)
    set_status(letter, status)
    assert client.get(f"/invitations/{issued.token}/").status_code == 404
    assert sign_post(client, issued.token).status_code == 404
    assert (Signature.objects.count(), SignerInvitation.objects.get().opened_at) == (0, None)


def test_a_paused_letter_keeps_the_link_for_later(client, letter, editor):
    issued = invite(letter, editor)
    set_status(letter, "paused")
    response = sign_post(client, issued.token)
    assert response.status_code == 409
    assert "Signing this letter is paused for now; your link stays valid, try again later." in response.content.decode()
    assert (Signature.objects.count(), SignerInvitation.objects.get().signed_at) == (0, None)
    set_status(letter, "open")
    assert sign_post(client, issued.token).status_code == 200
    assert public_count(letter) == 1


def test_an_unconfirmed_signature_with_the_address_is_replaced_by_the_invitees_own(client, letter, editor):
    issued = invite(letter, editor)
    # Anyone may sign with anyone's address; unconfirmed, nothing proved who typed it. The invitation link does.
    impostor = signed(letter, name="Hedy Impostor", email="KATIE@example.org", title="Chosen", confirm=False)
    response = sign_post(client, issued.token, name="Katie Moussouris", title="Founder")
    assert response.status_code == 200
    impostor.refresh_from_db()
    assert impostor.status == "rejected"
    invitation = SignerInvitation.objects.get()
    mine = Signature.objects.get(status="confirmed")
    assert (mine.name, mine.title, mine.verification_level, mine.source) == (
        "Katie Moussouris",
        "Founder",
        "invited",
        "invitation",
    )
    assert (invitation.state, invitation.signature_id) == ("signed", mine.pk)
    assert public_count(letter) == 1


def test_an_unconfirmed_signature_does_not_stop_an_invitation(letter, editor):
    signed(letter, name="Hedy Impostor", email="katie@example.org", confirm=False)
    issued = invite(letter, editor)
    assert SignerInvitation.objects.get().pk == issued.invitation.pk


def test_an_address_that_signed_and_confirmed_meanwhile_keeps_its_one_signature(client, letter, editor):
    issued = invite(letter, editor)
    confirmed = signed(letter, name="Katie M.", email="katie@example.org")
    done = sign_post(client, issued.token, name="Someone Else")
    assert "Your signature on “Restore defenders&#x27; access” is recorded.\n" in done.content.decode()
    assert list(Signature.objects.values_list("pk", "name", "status")) == [(confirmed.pk, "Katie M.", "confirmed")]
    assert public_count(letter) == 1
    assert SignerInvitation.objects.get().signature_id == confirmed.pk


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "x" * 10_000}, "Ensure this field has no more than 200 characters."),
        ({"name": ""}, "This field is required."),
        ({"name": "   "}, "This field is required."),
        ({"name": "Katie\x00Moussouris"}, "Null characters are not allowed."),
        ({"name": "Katie\x07Moussouris"}, "Control characters are not allowed."),
        ({"title": '=HYPERLINK("http://evil")'}, "Must not start with =, +, -, @ or a tab."),
        ({"organization": "Luta\u2067Security"}, "Bidirectional control characters are not allowed."),
    ],
    ids=["10k", "empty", "blank", "nul", "control", "formula", "bidi"],
)
def test_bad_corrections_on_the_page_are_form_errors_and_keep_the_link(client, letter, editor, fields, error):
    issued = invite(letter, editor)
    response = sign_post(client, issued.token, **fields)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert (Signature.objects.count(), SignerInvitation.objects.get().signed_at) == (0, None)
    assert sign_post(client, issued.token).status_code == 200


def test_a_post_without_a_known_action_says_what_to_do(client, letter, editor):
    issued = invite(letter, editor)
    for data in ({}, {"action": "withdraw"}):
        response = client.post(f"/invitations/{issued.token}/", data)
        assert response.status_code == 400
        assert "Choose “Sign the letter” or “No thanks, decline”." in response.content.decode()
    invitation = SignerInvitation.objects.get()
    assert (invitation.signed_at, invitation.declined_at, Signature.objects.count()) == (None, None, 0)


def test_the_invitee_posts_need_the_csrf_token(letter, editor):
    issued = invite(letter, editor)
    strict = Client(enforce_csrf_checks=True)
    assert sign_post(strict, issued.token).status_code == 403
    assert strict.post(f"/invitations/{issued.token}/", {"action": "decline"}).status_code == 403
    page = strict.get(f"/invitations/{issued.token}/").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert (Signature.objects.count(), SignerInvitation.objects.get().state) == (0, "opened")
    assert sign_post(strict, issued.token, csrfmiddlewaretoken=csrf).status_code == 200


def test_the_email_link_uses_site_url_and_opens_the_page(client, letter, editor, settings):
    settings.SITE_URL = "https://sign.example.net"
    issued = invite(letter, editor)
    body = OutboxMessage.objects.get(kind="signer_invitation").body_text
    assert f"https://sign.example.net/invitations/{issued.token}/\n" in body
    path = re.search(r"https://sign\.example\.net(/invitations/[\w-]+/)", body).group(1)
    assert client.get(path).status_code == 200


def test_invitations_and_reminders_for_a_draft_or_closed_letter_are_refused(editor_client, letter, editor):
    set_status(letter, "draft")
    response = editor_client.post(
        API, {"name": "Ann Able", "email": "ann@example.org"}, content_type="application/json"
    )
    refused = invalid_input({"non_field_errors": ["This letter is draft: an invitation link would not work."]})
    assert (response.status_code, response.json()) == (400, refused)
    set_status(letter, "closed")
    page = editor_client.post(WEB, {"name": "Ann Able", "email": "ann@example.org"})
    assert page.status_code == 400
    assert "This letter is closed: an invitation link would not work." in page.content.decode()
    assert (SignerInvitation.objects.count(), OutboxMessage.objects.count()) == (0, 0)
    set_status(letter, "open")
    issued = invite(letter, editor)
    set_status(letter, "closed")
    response = editor_client.post(f"{API}{issued.invitation.public_id}/remind")
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "This letter is closed: a new link would not work.",
    )
    assert (OutboxMessage.objects.count(), SignerInvitation.objects.get().reminders_sent) == (1, 0)


@pytest.mark.parametrize(
    ("first", "second"),
    [("katie@example.org", "KATIE@Example.ORG"), ("k@bücher.example", "k@xn--bcher-kva.example")],
    ids=["case", "idn"],
)
def test_the_same_address_twice_is_one_open_invitation(editor_client, letter, first, second):
    assert (
        editor_client.post(API, {"name": "Katie", "email": first}, content_type="application/json").status_code == 201
    )
    response = editor_client.post(API, {"name": "Katie", "email": second}, content_type="application/json")
    assert (response.status_code, response.json()) == (400, invalid_input({"email": [OPEN_ALREADY]}))
    assert (SignerInvitation.objects.count(), OutboxMessage.objects.count()) == (1, 1)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"name": "x" * 10_000, "email": "a@example.org"},
            {"name": ["Ensure this field has no more than 200 characters."]},
        ),
        ({"name": "", "email": "nope"}, {"name": ["This field may not be blank."]}),
        (
            {"name": "@Ann", "email": "a@example.org", "title": "\x07", "organization": "\u202e"},
            {
                "name": ["Must not start with =, +, -, @ or a tab."],
                "title": ["Control characters are not allowed."],
                "organization": ["Bidirectional control characters are not allowed."],
            },
        ),
        ({"name": ["Ann"], "email": {"a": 1}}, {"name": ["Not a valid string."], "email": ["Not a valid string."]}),
        ([1, 2], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
    ids=["10k", "blank", "typed-text", "types", "list"],
)
def test_bad_invitation_input_is_a_field_error_in_the_api_shape(editor_client, letter, body, errors):
    response = editor_client.post(API, body, content_type="application/json")
    assert (response.status_code, response.json()) == (400, invalid_input(errors))
    assert (SignerInvitation.objects.count(), OutboxMessage.objects.count(), actions()) == (0, 0, [])


def test_reminders_beyond_the_maximum_and_for_ended_invitations_are_409s(editor_client, letter, editor, settings):
    settings.SIGNER_INVITATION_MAX_REMINDERS = 1
    capped = invite(letter, editor, email="a@example.org", name="Ann Able").invitation
    assert editor_client.post(f"{API}{capped.public_id}/remind").status_code == 200
    over = editor_client.post(f"{API}{capped.public_id}/remind")
    assert (over.status_code, over.json()) == (
        409,
        {"detail": "This invitation was already sent again 1 times, the most allowed.", "errors": {}},
    )
    ended = {state: invite(letter, editor, email=f"{state}@example.org") for state in ("signed", "declined", "revoked")}
    invitation_sign(token=ended["signed"].token, name="Some One")
    invitation_decline(token=ended["declined"].token)
    invitation_revoke(invitation=ended["revoked"].invitation, actor=editor)
    ended = {state: issued.invitation.public_id for state, issued in ended.items()}
    before = (OutboxMessage.objects.count(), AuditEvent.objects.count())
    for state, public_id in ended.items():
        remind = editor_client.post(f"{API}{public_id}/remind")
        assert (remind.status_code, remind.json()["detail"]) == (
            409,
            f"This invitation is {state}; it is not sent again.",
        )
        revoke = editor_client.post(f"{API}{public_id}/revoke")
        assert (revoke.status_code, revoke.json()["detail"]) == (409, f"This invitation is {state} already.")
    assert (OutboxMessage.objects.count(), AuditEvent.objects.count()) == before
    assert SignerInvitation.objects.get(public_id=ended["signed"]).state == "signed"
    assert public_count(letter) == 1


@pytest.mark.parametrize(
    ("who", "api", "web"),
    [("viewer", 403, 403), ("moderator", 403, 403), ("outsider", 404, 404), ("anonymous", 403, 302)],
)
def test_only_owners_and_editors_manage_invitations(letter, editor, who, api, web):
    issued = invite(letter, editor)
    client = Client()
    if who in ("viewer", "moderator"):
        client.force_login(member(letter, who, username=who))
    elif who == "outsider":
        client.force_login(member(LetterFactory(slug="other"), Membership.Role.OWNER, username=who))
    one = issued.invitation.public_id
    answers = [
        client.get(API).status_code,
        client.post(API, {"name": "Ann", "email": "ann@example.org"}, content_type="application/json").status_code,
        *(client.post(f"{API}{one}/{action}").status_code for action in ("revoke", "remind")),
        client.get(WEB).status_code,
        client.post(WEB, {"name": "Ann", "email": "ann@example.org"}).status_code,
        *(client.post(f"{WEB}{one}/{action}/").status_code for action in ("revoke", "remind")),
    ]
    assert answers == [api] * 4 + [web] * 4
    invitation = SignerInvitation.objects.get()
    assert (invitation.revoked_at, invitation.reminders_sent, OutboxMessage.objects.count()) == (None, 0, 1)
    assert actions() == ["importing.invitation.created"]


def test_organizer_posts_need_the_csrf_token(letter, editor):
    issued = invite(letter, editor)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    one = issued.invitation.public_id
    assert strict.post(API, {"name": "Ann", "email": "ann@example.org"}).status_code == 403
    assert strict.post(f"{API}{one}/revoke").status_code == 403
    assert strict.post(f"{WEB}{one}/remind/").status_code == 403
    assert strict.get(f"{WEB}{one}/revoke/").status_code == 405  # GET never acts
    invitation = SignerInvitation.objects.get()
    assert (SignerInvitation.objects.count(), invitation.revoked_at, invitation.reminders_sent) == (1, None, 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: concurrent inserts")
def test_two_invitations_of_one_address_at_once_make_one():
    letter = LetterFactory(slug="founders", status="open")
    organizer = member(letter, Membership.Role.EDITOR, username="racer")

    def create(email):
        client = Client()
        client.force_login(organizer)
        return client.post(API, {"name": "Katie", "email": email}, content_type="application/json")

    answers = at_once(lambda: create("katie@example.org"), lambda: create("KATIE@example.org"))
    assert sorted(answer.status_code for answer in answers) == [201, 400]
    refused = next(answer for answer in answers if answer.status_code == 400).json()
    assert refused == invalid_input({"email": [OPEN_ALREADY]})
    assert (SignerInvitation.objects.count(), OutboxMessage.objects.count()) == (1, 1)
    assert actions() == ["importing.invitation.created"]


def test_a_spreadsheet_in_invite_mode_skips_its_bad_rows(letter, editor, django_capture_on_commit_callbacks):
    from importing.services import import_start, import_upload

    invitation_decline(token=invite(letter, editor, email="declined@example.org", name="Dee Clined").token)
    signed(letter, name="Sam Signed", email="signed@example.org")
    data = "name,email,title\n" + "".join(
        f"{row}\n"
        for row in (
            "Ada Lovelace,ada@example.org,Countess",
            "Ada Again,ADA@example.org,",
            "Dee Clined,declined@example.org,",
            "Sam Signed,signed@example.org,",
            "=cmd|' /C calc'!A0,evil@example.org,",
            "No Address,not-an-email,",
            "Grace\u202eHopper,grace@example.org,",
            "Katie Moussouris,katie@bücher.example,CEO",
        )
    )
    imp = import_upload(letter=letter, data=data.encode(), filename="invitees.csv", actor=editor).signature_import
    with django_capture_on_commit_callbacks(execute=True):
        import_start(signature_import=imp, mode="invite", actor=editor)
    imp.refresh_from_db()
    made = SignerInvitation.objects.filter(signature_import=imp)
    assert sorted(made.values_list("email_key", flat=True)) == ["ada@example.org", "katie@xn--bcher-kva.example"]
    assert (imp.status, imp.rows_created, imp.rows_created + imp.rows_skipped) == ("done", 2, 8)
    outcomes = dict(SignatureImportRow.objects.filter(signature_import=imp).values_list("number", "outcome"))
    # 3: the same address in another case; 4: declined before; 5: signed already, as the preview called it;
    # 6-8: invalid (formula, address, bidi), never written.
    assert [outcomes.get(n) for n in range(2, 10)] == [
        "invited", "not_invited", "not_invited", "already_signed", None, None, None, "invited",
    ]  # fmt: skip
    assert imp.summary == {"new": 3, "already_signed": 1, "duplicate_in_file": 1, "invalid": 3, "total": 8}
    assert (OutboxMessage.objects.filter(to_email="declined@example.org").count(), Signature.objects.count()) == (1, 1)


def test_withdrawing_an_invited_signature_updates_the_count_and_the_public_list(client, letter, editor):
    issued = invite(letter, editor)
    signature = invitation_sign(token=issued.token, name="Katie Moussouris")
    assert public_count(letter) == 1
    listed = client.get(f"/api/v1/letters/{letter.slug}/signatures/").content.decode()
    assert "Katie Moussouris" in listed
    for secret in ("katie@example.org", issued.token, issued.invitation.token_hash):
        assert secret not in listed
        assert secret not in client.get(f"/letters/{letter.slug}/").content.decode()
    signature_withdraw(signature=signature)
    assert public_count(letter) == 0
    assert "Katie Moussouris" not in client.get(f"/api/v1/letters/{letter.slug}/signatures/").content.decode()
    assert SignerInvitation.objects.get().state == "signed"
    client.force_login(editor)
    renewed = client.post(API, {"name": "Katie", "email": "katie@example.org"}, content_type="application/json")
    assert renewed.status_code == 201  # withdrawn is not "already signed": may be invited again


def erased_state():
    invitations = SignerInvitation.objects.order_by("pk")
    messages = sorted((m.to_email, m.body_text, m.sent_at is None) for m in OutboxMessage.objects.all())
    return [(i.email, i.email_key, i.name, i.title, i.state) for i in invitations], messages


def test_withdrawal_erases_the_invitee_from_the_invitation_and_its_email(letter, editor):
    issued = invite(letter, editor)
    signature_withdraw(signature=invitation_sign(token=issued.token, name="Katie Moussouris"))
    assert erased_state() == ([("", "", "[erased]", "", "signed")], [("", "", False)])


def test_invitations_erase_forgets_the_invitee_but_not_a_decline_or_another_letter(letter, editor):
    from letters.services.erasure import signature_signer

    first = invite(letter, editor)
    invitation_remind(invitation=first.invitation, actor=editor)  # two emails to the address
    other = LetterFactory(slug="other", status="open")
    invite(other, member(other, Membership.Role.EDITOR, username="e2"))  # still open there: not touched
    signature = signed(letter, name="Katie M.", email="katie@example.org")  # signed publicly meanwhile
    latest = SignerInvitation.objects.get(pk=first.invitation.pk).message_id  # the reminder's (the first was dropped)
    OutboxMessage.objects.filter(pk=latest).update(sent_at=timezone.now(), body_text="")
    signer = signature_signer(signature)
    signature_withdraw(signature=signature)  # erases through the hook importing registers (importing.apps)
    assert invitations_erase(signature=signature, signer=signer, at=timezone.now()) == 0  # done: nothing left
    mine, theirs = SignerInvitation.objects.get(letter=letter), SignerInvitation.objects.get(letter=other)
    assert (mine.email, mine.email_key, mine.name, mine.title, mine.state) == ("", "", "[erased]", "", "revoked")
    assert (theirs.email, theirs.state) == ("katie@example.org", "queued")
    to = sorted(OutboxMessage.objects.values_list("to_email", flat=True))
    assert to == ["", "", "katie@example.org"]
    assert "importing.invitation.erased" in actions()
    declined = invite(letter, editor, email="dee@example.org", name="Dee Clined")
    invitation_decline(token=declined.token)
    dee = signed(letter, name="Dee Clined", email="dee@example.org")
    signer = signature_signer(dee)
    signature_withdraw(signature=dee)
    invitations_erase(signature=dee, signer=signer, at=timezone.now())
    kept = SignerInvitation.objects.get(email_key="dee@example.org")
    assert (kept.email, kept.name, kept.state) == ("", "[erased]", "declined")  # only the key, to never re-invite

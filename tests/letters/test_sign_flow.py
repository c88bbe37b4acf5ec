import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from letters.models import OutboxMessage, Signature, SignatureEvent, SignatureToken
from letters.services.outbox import outbox_message_send, outbox_send_due
from letters.services.signing import signature_create
from tests.factories import LetterFactory

# Emails leave after commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

ACCEPTED = {"detail": "Check your inbox to confirm your signature."}
INVALID_LINK = {
    "detail": "This link is invalid or has expired.",
    "errors": {"token": ["This link is invalid or has expired."]},
}


def sign(client, target, **body):
    payload = {"name": "Ada Lovelace", "email": "ada@example.org", **body}
    return client.post(f"/api/v1/letters/{target.slug}/signatures/", payload, content_type="application/json")


def token_from(message, kind="confirm"):
    return re.search(rf"/{kind}/([\w-]+)/", message.body).group(1)


def confirm(client, token):
    return client.post("/api/v1/signatures/confirm/", {"token": token}, content_type="application/json")


def test_new_pending_and_confirmed_addresses_get_byte_identical_answers(client, open_letter, mailoutbox):
    new = sign(client, open_letter)
    pending = sign(client, open_letter, email="ADA@example.org")
    confirm(client, token_from(mailoutbox[0]))
    confirmed = sign(client, open_letter)
    assert new.status_code == pending.status_code == confirmed.status_code == 202
    assert new.content == pending.content == confirmed.content
    assert new.json() == ACCEPTED
    assert Signature.objects.filter(letter=open_letter).count() == 1
    assert [m.subject for m in mailoutbox] == [
        "Confirm your signature",
        "Confirm your signature",
        "You have already signed this letter",
    ]


def test_confirmation_email_names_the_letter_version_and_both_links(client, open_letter, mailoutbox):
    sign(client, open_letter, name="Evil\nBcc: x@example.org")
    sign(client, open_letter)
    [message] = mailoutbox
    assert message.to == ["ada@example.org"]
    assert open_letter.title in message.body
    assert open_letter.current_version.sha256 in message.body
    assert re.search(r"http://127\.0\.0\.1:8000/confirm/[\w-]{43}/", message.body)
    assert re.search(r"http://127\.0\.0\.1:8000/withdraw/[\w-]{43}/", message.body)
    assert message.subject == "Confirm your signature"
    assert message.alternatives[0][1] == "text/html"


def test_the_sixth_email_is_not_sent(client, open_letter, mailoutbox):
    for _ in range(7):
        assert sign(client, open_letter).status_code == 202
    assert len(mailoutbox) == 5
    assert Signature.objects.get().emails_sent == 5


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field may not be blank."),
        ("name", "Ada\x07Lovelace", "Control characters are not allowed."),
        ("name", "Ada\u200bLovelace", "Invisible formatting characters (such as zero-width spaces) are not allowed."),
        ("name", "Ada \u202eecalevoL", "Bidirectional control characters are not allowed."),
        ("name", "Ada https://spam.example", "Links are not allowed here."),
        ("name", "=HYPERLINK(1)", "Must not start with =, +, -, @ or a tab."),
        ("name", "A" * 201, "Ensure this field has no more than 200 characters."),
        ("name", "Za\u0300\u0301\u0302\u0303\u0304\u0305\u0306lgo", "Too many accents on one letter."),
        ("organization", "@evil", "Must not start with =, +, -, @ or a tab."),
        ("email", "not-an-email", "Enter a valid email address."),
    ],
)
def test_invalid_input_is_refused_with_field_errors_and_nothing_stored(client, open_letter, field, value, message):
    response = sign(client, open_letter, **{field: value})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input.", "errors": {field: [message]}}
    assert not Signature.objects.exists()


def test_letters_with_a_few_accents_are_names(client, open_letter):
    sign(client, open_letter, name="Nguyễn Thị Hồng", title="Kỹ sư")  # ễ, ị, ồ, ỹ: two marks each, decomposed
    assert Signature.objects.get().name == "Nguyễn Thị Hồng"


def test_names_are_nfkc_normalized_and_trimmed(client, open_letter):
    sign(client, open_letter, name="  Ａｄａ   Lovelace ", title="ﬁrst engineer")
    signature = Signature.objects.get()
    assert (signature.name, signature.title) == ("Ada Lovelace", "first engineer")


def test_unknown_and_draft_letters_are_404_and_paused_or_closed_are_409(client, mailoutbox):
    draft, paused, closed = (
        LetterFactory(status="draft"),
        LetterFactory(status="paused"),
        LetterFactory(status="closed"),
    )
    assert client.post("/api/v1/letters/nope/signatures/", {}, content_type="application/json").status_code == 404
    assert sign(client, draft).status_code == 404
    for letter, detail in (
        (paused, "Signing this letter is paused for now; please try again later."),
        (closed, "This letter is closed: it no longer accepts signatures, and its final count is frozen."),
    ):
        response = sign(client, letter)
        assert response.status_code == 409
        assert response.json() == {"detail": detail, "errors": {}}
    assert not Signature.objects.exists()
    assert mailoutbox == []


def test_status_and_other_privileged_fields_in_the_body_are_ignored(client, open_letter):
    sign(client, open_letter, status="confirmed", verified=True, verification_level="manual", letter=999, person=1)
    signature = Signature.objects.get()
    assert (signature.status, signature.verification_level, signature.person_id) == ("pending", "none", None)


def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(client, open_letter, mailoutbox):
    headers = {"HTTP_IDEMPOTENCY_KEY": "key-1"}
    url = f"/api/v1/letters/{open_letter.slug}/signatures/"
    body = {"name": "Ada Lovelace", "email": "ada@example.org"}
    first = client.post(url, body, content_type="application/json", **headers)
    replay = client.post(url, body, content_type="application/json", **headers)
    other = client.post(url, {**body, "name": "Grace Hopper"}, content_type="application/json", **headers)
    assert first.status_code == replay.status_code == 202
    assert first.content == replay.content
    assert other.status_code == 422
    assert len(mailoutbox) == 1
    assert Signature.objects.count() == 1


def test_confirm_then_reuse_expired_and_wrong_purpose_tokens_fail(client, open_letter, mailoutbox):
    sign(client, open_letter)
    token, withdraw_token = token_from(mailoutbox[0]), token_from(mailoutbox[0], "withdraw")
    assert confirm(client, withdraw_token).json() == INVALID_LINK
    response = confirm(client, token)
    assert response.status_code == 200
    assert set(response.json()) == {
        "id",
        "name",
        "name_withheld",
        "title",
        "organization",
        "verification",
        "signed_at",
        "version",
        "awaiting_reconsent",
    }
    assert "ada@example.org" not in response.content.decode()
    reused = confirm(client, token)
    assert (reused.status_code, reused.json()) == (400, INVALID_LINK)
    assert confirm(client, "x" * 43).json() == INVALID_LINK
    other = LetterFactory()
    sign(client, other, email="grace@example.org")
    SignatureToken.objects.filter(purpose="confirm", used_at=None).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert confirm(client, token_from(mailoutbox[-1])).json() == INVALID_LINK


def test_confirming_with_two_links_counts_once(client, open_letter, mailoutbox):
    sign(client, open_letter)
    sign(client, open_letter)
    assert confirm(client, token_from(mailoutbox[0])).status_code == 200
    assert confirm(client, token_from(mailoutbox[1])).status_code == 200
    assert SignatureEvent.objects.filter(kind="confirmed").count() == 1


def test_withdrawal_erases_email_and_comment_and_leaves_the_public_list(client, open_letter, mailoutbox):
    sign(client, open_letter, comment="private note")
    confirm(client, token_from(mailoutbox[0]))
    listed = client.get(f"/api/v1/letters/{open_letter.slug}/signatures/").json()["results"]
    assert [row["name"] for row in listed] == ["Ada Lovelace"]
    response = client.post(
        "/api/v1/signatures/withdraw/",
        {"token": token_from(mailoutbox[0], "withdraw")},
        content_type="application/json",
    )
    assert response.json() == {"detail": "Your signature has been withdrawn."}
    signature = Signature.objects.get()
    assert (signature.status, signature.email, signature.email_key, signature.comment) == ("withdrawn", "", "", "")
    assert client.get(f"/api/v1/letters/{open_letter.slug}/signatures/").json()["results"] == []
    withdrawn = SignatureEvent.objects.get(kind="withdrawn")
    assert (withdrawn.visible_before, withdrawn.visible_after, withdrawn.data) == (True, False, {})


def test_over_the_rate_limit_the_answer_is_the_same_but_the_signature_is_held(
    client, open_letter, settings, mailoutbox, monkeypatch
):
    from types import SimpleNamespace

    from letters.services import ratelimit

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))  # one fixed window
    settings.SIGN_RATE_LIMITS = {"ip": [(2, 60)], "domain": [(100, 60)]}
    answers = [sign(client, open_letter, email=f"s{i}@example.org").content for i in range(3)]
    assert len(set(answers)) == 1
    holds = list(Signature.objects.order_by("id").values_list("hold_reason", flat=True))
    assert holds == ["", "", "rate_limited"]
    confirm(client, token_from(mailoutbox[2]))
    assert Signature.objects.get(email_key="s2@example.org").status == "confirmed"
    listed = client.get(f"/api/v1/letters/{open_letter.slug}/signatures/").json()["results"]
    assert listed == []


def test_an_unsent_message_is_resent_by_the_beat_task_and_only_once(open_letter, mailoutbox, monkeypatch):
    from letters import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.outbox_send, "delay", broker_down)
    signature_create(letter=open_letter, name="Ada Lovelace", email="ada@example.org", check_rate_limits=False)
    assert mailoutbox == []
    message = OutboxMessage.objects.get()
    assert outbox_send_due() == 1
    assert outbox_send_due() == 0
    assert outbox_message_send(message_id=message.pk) is False
    assert len(mailoutbox) == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.body_text == ""


@pytest.mark.postgres
def test_fifty_concurrent_identical_signatures_leave_one_row():
    letter = LetterFactory()
    barrier = threading.Barrier(50)
    statuses = []

    def post():
        try:
            barrier.wait()
            statuses.append(sign(Client(), letter).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [202] * 50
    assert Signature.objects.filter(letter=letter).count() == 1

"""Outbox delivery through failures: backoff, one set of tokens and one Message-ID per message, undeliverable."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from letters.models import OutboxMessage, SignatureToken
from letters.services.outbox import (
    claim_timeout,
    outbox_message_retry,
    outbox_message_send,
    outbox_send_due,
    retry_delay,
)
from letters.services.signing import signature_create
from registry.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


class FlakyBackend(EmailBackend):
    """Delivers to mail.outbox like locmem, except while `failure` is set: then each send raises it."""

    failure: Exception | None = None
    tries = 0

    def send_messages(self, messages):
        FlakyBackend.tries += 1
        if FlakyBackend.failure is not None:
            raise FlakyBackend.failure
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.letters.test_outbox_retries.FlakyBackend"
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_RETRY_MAX_SECONDS = 3600
    settings.OUTBOX_MAX_ATTEMPTS = 4
    FlakyBackend.failure, FlakyBackend.tries = ConnectionRefusedError(111, "Connection refused"), 0
    mail.outbox = []
    yield FlakyBackend
    FlakyBackend.failure = None


def sign(letter, email="ada@example.org"):
    return signature_create(letter=letter, name="Ada Lovelace", email=email, check_rate_limits=False).signature


def make_due(message_id):
    OutboxMessage.objects.filter(pk=message_id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_failed_send_is_rescheduled_with_backoff_and_reuses_its_tokens_and_message_id(open_letter, flaky):
    signature = sign(open_letter)
    message = OutboxMessage.objects.get()
    assert flaky.tries == 1 and mail.outbox == []
    message.refresh_from_db()
    first_body, first_id = message.body_text, message.message_id
    assert message.attempts == 1 and message.sent_at is None and message.failed_at is None
    assert first_id.startswith("<") and first_id.endswith("@127.0.0.1>")
    assert "/confirm/" in first_body and "ConnectionRefusedError" in message.last_error
    wait = message.next_attempt_at - timezone.now()
    assert timedelta(seconds=14) < wait <= timedelta(seconds=30)
    assert outbox_send_due() == 0 and flaky.tries == 1  # not due yet
    tokens = SignatureToken.objects.filter(signature=signature).count()

    make_due(message.pk)
    assert outbox_send_due() == 0 and flaky.tries == 2
    message.refresh_from_db()
    assert message.attempts == 2
    assert timedelta(seconds=29) < message.next_attempt_at - timezone.now() <= timedelta(seconds=60)

    flaky.failure = None
    make_due(message.pk)
    assert outbox_send_due() == 1
    [delivered] = mail.outbox
    assert delivered.body == first_body and delivered.extra_headers["Message-ID"] == first_id
    assert SignatureToken.objects.filter(signature=signature).count() == tokens == 2  # confirm + withdraw, once
    message.refresh_from_db()
    assert message.sent_at is not None and message.body_text == "" and message.next_attempt_at is None


def test_attempts_used_up_make_the_message_undeliverable_audited_and_not_retried(open_letter, flaky):
    sign(open_letter)
    message = OutboxMessage.objects.get()
    for _ in range(3):
        make_due(message.pk)
        outbox_send_due()
    message.refresh_from_db()
    assert message.attempts == 4 and message.failed_at is not None and message.sent_at is None
    assert message.body_text == ""  # no live tokens kept for a message that will not go out
    audit = AuditEvent.objects.get(action="letters.outbox.undeliverable")
    assert audit.target_id == str(message.pk) and audit.data["attempts"] == 4
    make_due(message.pk)
    assert outbox_send_due() == 0 and flaky.tries == 4


def test_an_admin_retry_of_an_undeliverable_message_delivers_it(open_letter, flaky, staff_user):
    sign(open_letter)
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(failed_at=timezone.now(), attempts=4, body_text="")
    flaky.failure = None
    assert outbox_message_retry(message=message, actor=staff_user) is True
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.failed_at is None
    assert AuditEvent.objects.filter(action="letters.outbox.retried", actor=staff_user).count() == 1
    assert outbox_message_retry(message=message, actor=staff_user) is False


def test_a_recipient_refused_for_good_is_undeliverable_at_once(open_letter, flaky):
    flaky.failure = smtplib.SMTPRecipientsRefused({"ada@example.org": (550, b"No such user")})
    sign(open_letter)
    message = OutboxMessage.objects.get()
    assert message.failed_at is not None and message.attempts == 1
    assert "No such user" in message.last_error


def test_a_temporary_refusal_is_retried(open_letter, flaky):
    flaky.failure = smtplib.SMTPRecipientsRefused({"ada@example.org": (451, b"Try later")})
    sign(open_letter)
    message = OutboxMessage.objects.get()
    assert message.failed_at is None and message.next_attempt_at is not None


def test_an_unreachable_server_stops_the_batch_without_spending_the_others_attempts(open_letter, flaky, monkeypatch):
    monkeypatch.setattr("letters.services.outbox._enqueue_send", lambda message_id: None)  # the batch is the first try
    for n in range(3):
        sign(open_letter, email=f"s{n}@example.org")
    assert outbox_send_due() == 0
    assert sorted(OutboxMessage.objects.values_list("attempts", flat=True)) == [0, 0, 1]
    flaky.failure = None
    assert outbox_send_due() == 2  # the two untried ones; the failed one waits for its backoff
    assert len(mail.outbox) == 2


def test_a_crashed_claim_is_resent_within_a_minute_with_the_same_link_and_message_id(open_letter, flaky):
    sign(open_letter)
    message = OutboxMessage.objects.get()
    message.refresh_from_db()
    body, message_id = message.body_text, message.message_id
    # A worker claimed it again and died mid-conversation: claim set, no outcome recorded.
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=None, claimed_at=timezone.now())
    flaky.failure = None
    assert claim_timeout() < timedelta(minutes=1)
    assert outbox_send_due() == 0  # the claim still protects it
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_at=timezone.now() - claim_timeout())
    assert outbox_send_due() == 1
    [delivered] = mail.outbox
    assert delivered.body == body and delivered.extra_headers["Message-ID"] == message_id


def test_sending_twice_delivers_once(open_letter, flaky):
    flaky.failure = None
    sign(open_letter)
    message = OutboxMessage.objects.get()
    assert outbox_message_send(message_id=message.pk) is False
    assert len(mail.outbox) == 1


def test_backoff_doubles_with_jitter_up_to_the_cap(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_RETRY_MAX_SECONDS = 30, 3600
    for attempts, ceiling in [(1, 30), (2, 60), (5, 480), (8, 3600), (12, 3600)]:
        delays = {retry_delay(attempts).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays) and len(delays) > 1


def test_withdrawal_erases_the_address_from_every_outbox_row(open_letter, flaky):
    from letters.services.signing import signature_withdraw

    signature = sign(open_letter)
    OutboxMessage.objects.update(failed_at=timezone.now(), next_attempt_at=None)
    signature_withdraw(signature=signature)
    assert list(OutboxMessage.objects.values_list("to_email", "body_text")) == [("", "")]


def test_email_timeout_is_set(settings):
    assert settings.EMAIL_TIMEOUT == 10


def test_an_undeliverable_organizer_email_keeps_its_body_and_an_admin_retry_sends_those_same_bytes(flaky, staff_user):
    from organizing.emails import KIND_ORGANIZER_INVITATION, organizer_email_enqueue

    message = organizer_email_enqueue(
        kind=KIND_ORGANIZER_INVITATION, to_email="co@example.org", subject="Join", text="Accept: /invite/TOKEN/"
    )
    for _ in range(4):
        make_due(message.pk)
        outbox_send_due()
    message.refresh_from_db()
    assert message.failed_at is not None and message.attempts == 4
    assert message.body_text == "Accept: /invite/TOKEN/"  # it exists nowhere else: the link's token is hashed
    assert message.get_kind_display() == "Invitation to co-organize a letter"
    flaky.failure = None
    assert outbox_message_retry(message=message, actor=staff_user) is True
    assert [(m.to, m.body) for m in mail.outbox] == [(["co@example.org"], "Accept: /invite/TOKEN/")]
    message.refresh_from_db()
    assert message.sent_at is not None and message.body_text == ""


def test_a_message_whose_headers_cannot_be_sent_fails_for_good_and_is_no_outage(flaky):
    from organizing.emails import KIND_ORGANIZER_INVITATION, organizer_email_enqueue

    flaky.failure = None
    broken = organizer_email_enqueue(
        kind=KIND_ORGANIZER_INVITATION, to_email="co@example.org", subject="Join\nBcc: x@evil.example", text="Hi"
    )
    fine = organizer_email_enqueue(kind=KIND_ORGANIZER_INVITATION, to_email="b@example.org", subject="Join", text="Hi")
    outbox_send_due()  # (each was tried once when enqueued) the broken one does not stop the one behind it
    broken.refresh_from_db()
    assert (broken.failed_at is not None, broken.attempts, broken.last_error[:15]) == (True, 1, "BadHeaderError:")
    assert [m.to for m in mail.outbox] == [["b@example.org"]]
    fine.refresh_from_db()
    assert fine.sent_at is not None

"""Email delivery through real parts: an SMTP server, and a Celery worker consuming a Redis broker."""

import socket
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.conf import settings

from letters.models import OutboxMessage
from letters.services.signing import signature_create

pytestmark = pytest.mark.django_db(transaction=True)
BROKER = settings.CELERY_BROKER_URL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_a_real_smtp_server_receives_the_confirmation_email(open_letter, smtp_server, settings):
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    signature_create(letter=open_letter, name="Ada Lovelace", email="ada@example.org", check_rate_limits=False)
    [message] = inbox.messages
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Confirm your signature"
    text = message.get_payload()[0].get_payload(decode=True).decode()
    assert "/confirm/" in text and open_letter.current_version.sha256 in text
    assert OutboxMessage.objects.get().sent_at is not None


def redis_answers() -> bool:
    import redis

    try:
        return redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def test_a_real_celery_worker_drains_the_outbox_through_redis(open_letter, mailoutbox):
    if not redis_answers():
        pytest.skip(f"needs a Redis broker at {BROKER}")
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.conf.task_always_eager = False
    try:
        with app.connection_for_write() as conn:
            conn.default_channel.client.flushdb()
        with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
            signature_create(letter=open_letter, name="Ada Lovelace", email="ada@example.org", check_rate_limits=False)
            deadline = time.monotonic() + 20
            while OutboxMessage.objects.filter(sent_at=None).exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        assert OutboxMessage.objects.filter(sent_at=None).count() == 0
        assert [m.subject for m in mailoutbox] == ["Confirm your signature"]
    finally:
        app.conf.task_always_eager = True

"""The one-statement signing insert (PostgreSQL) writes exactly what the ORM path writes, or nothing."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.forms.models import model_to_dict

from letters.models import Letter, OutboxMessage, Signature, SignatureEvent
from letters.selectors import letter_for_signing
from letters.services import sign_insert
from letters.services.letters import letter_version_publish
from letters.services.ratelimit import signing_rate_exceeded
from letters.services.signing import signature_create
from registry.models import AuditEvent
from tests.conftest import REDIS_CACHE_URL
from tests.factories import LetterFactory

pytestmark = pytest.mark.django_db(transaction=True)
AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
VOLATILE = {
    "id",
    "public_id",
    "signature",
    "target_id",
    "updated_at",
    "recorded_at",
    "created_at",
    "claimed_at",
    "sent_at",
    "message_id",  # made when the message is first sent: unique per message
}


def rows(email_key: str) -> dict[str, dict]:
    signature = Signature.objects.get(email_key=email_key)
    event = SignatureEvent.objects.get(signature=signature)
    audit = AuditEvent.objects.get(target_type="letters.signature", target_id=str(signature.pk))
    message = OutboxMessage.objects.get(signature=signature)
    assert (event.signature_id, message.signature_id) == (signature.pk, signature.pk)

    def stable(obj):  # the second signer's address differs only in "two" for "one"
        fields = model_to_dict(obj).items()
        return {k: v.replace("two@", "one@") if isinstance(v, str) else v for k, v in fields if k not in VOLATILE}

    return {"signature": stable(signature), "event": stable(event), "audit": stable(audit), "message": stable(message)}


def create(letter: Letter, email: str):
    return signature_create(
        letter=letter, name="Ada Lovelace", email=email, title="Engineer", organization_name="Nvidia",
        comment="Yes.", source="api", ip_address="192.0.2.7", check_rate_limits=False, at=AT,
    )  # fmt: skip


@pytest.mark.postgres
def test_the_single_statement_writes_the_same_rows_as_the_orm_path(monkeypatch, django_capture_on_commit_callbacks):
    letter = LetterFactory(status="open")
    fast = create(letter, "one@example.org")
    monkeypatch.setattr("letters.services.signing.sign_insert_supported", lambda: False)
    slow = create(letter, "two@example.org")
    assert (fast.outcome, slow.outcome) == ("created", "created")
    assert rows("one@example.org") == rows("two@example.org")
    assert rows("one@example.org")["event"] == {
        "letter": letter.pk, "kind": "created", "at": AT, "actor": None, "visible_before": False,
        "visible_after": False, "level_before": "none", "level_after": "none", "data": {"source": "api"},
        "organization_before": None, "organization_after": None,
    }  # fmt: skip
    assert rows("one@example.org")["message"]["sequence"] == 1
    assert Signature.objects.get(email_key="one@example.org").emails_sent == 1


@pytest.mark.postgres
def test_a_new_signature_costs_one_statement(django_assert_num_queries, monkeypatch):
    letter = LetterFactory(status="open")
    after_commit = []
    monkeypatch.setattr("letters.services.signing.outbox_send_after_commit", after_commit.append)
    with django_assert_num_queries(1):
        result = create(letter, "ada@example.org")
    assert after_commit == [OutboxMessage.objects.get().pk]
    assert result.signature.pk == Signature.objects.get().pk
    assert result.signature._state.adding is False


@pytest.mark.postgres
def test_a_letter_paused_after_it_was_cached_refuses_and_stores_nothing(client):
    letter = LetterFactory(status="open")
    assert letter_for_signing(slug=letter.slug).status == "open"
    Letter.objects.filter(pk=letter.pk).update(status="paused")
    response = client.post(
        f"/api/v1/letters/{letter.slug}/signatures/",
        {"name": "Ada Lovelace", "email": "ada@example.org"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "Signing this letter is paused for now; please try again later.", "errors": {}}
    assert (Signature.objects.count(), SignatureEvent.objects.count(), OutboxMessage.objects.count()) == (0, 0, 0)
    assert letter_for_signing(slug=letter.slug).status == "paused"


@pytest.mark.postgres
def test_a_version_published_after_the_letter_was_cached_is_the_one_signed():
    letter = LetterFactory(status="open")
    cached = letter_for_signing(slug=letter.slug)
    newer = letter_version_publish(letter=Letter.objects.get(pk=letter.pk), body="Amended text.", kind="editorial")
    result = create(cached, "ada@example.org")
    assert Signature.objects.get(pk=result.signature.pk).version_id == newer.pk


def test_signing_an_existing_address_takes_the_orm_path_and_sends_a_reminder(mailoutbox):
    letter = LetterFactory(status="open")
    first = create(letter, "ada@example.org")
    again = create(letter, "ADA@example.org")
    assert (first.outcome, again.outcome, again.signature.pk) == ("created", "resent", first.signature.pk)
    assert Signature.objects.get().emails_sent == 2
    assert [m.kind for m in OutboxMessage.objects.order_by("sequence")] == ["confirm", "confirm"]
    assert len(mailoutbox) == 2


def test_sign_insert_is_only_used_on_postgresql():
    assert sign_insert.sign_insert_supported() is (connection.vendor == "postgresql")


def test_rate_limits_count_in_redis_in_one_round_trip(redis_cache, settings, monkeypatch):
    monkeypatch.setattr("letters.services.ratelimit.time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    settings.SIGN_RATE_LIMITS = {"ip": [(2, 60), (100, 3600)], "domain": [(3, 60)]}
    answers = [signing_rate_exceeded(ip_address="192.0.2.7", email_key=f"s{i}@example.org") for i in range(4)]
    assert answers == [False, False, True, True]
    assert signing_rate_exceeded(ip_address="192.0.2.8", email_key="x@other.example") is False
    counters = {key.split(":", 2)[2]: redis_cache.get(key.split(":", 2)[2]) for key in _keys()}
    assert counters == {
        "ratelimit:sign:ip:192.0.2.7:60:30000000": 4, "ratelimit:sign:ip:192.0.2.7:3600:500000": 4,
        "ratelimit:sign:domain:example.org:60:30000000": 4, "ratelimit:sign:ip:192.0.2.8:60:30000000": 1,
        "ratelimit:sign:ip:192.0.2.8:3600:500000": 1, "ratelimit:sign:domain:other.example:60:30000000": 1,
    }  # fmt: skip


def _keys() -> list[str]:
    import redis

    return [k.decode() for k in redis.Redis.from_url(REDIS_CACHE_URL).keys("*ratelimit:*")]


def test_the_redis_cache_keeps_one_client_per_pool_and_still_round_trips_values(redis_cache):
    assert redis_cache._cache.get_client(write=True) is redis_cache._cache.get_client(write=True)
    redis_cache.set("letter-stats:1", {"total": 76}, timeout=5)
    assert redis_cache.get("letter-stats:1") == {"total": 76}
    assert (redis_cache.add("n", 1, timeout=5), redis_cache.add("n", 9, timeout=5), redis_cache.incr("n")) == (
        True,
        False,
        2,
    )

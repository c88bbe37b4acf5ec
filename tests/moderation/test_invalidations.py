from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from letters.models import Signature, SignatureEvent
from letters.services.signing import signature_withdraw
from moderation.models import Invalidation, InvalidationItem
from moderation.services import (
    InvalidationNotAllowed,
    invalidation_cancel,
    invalidation_preview,
    invalidation_run_batch,
    invalidation_start,
    invalidation_undo,
)
from registry.models import AuditEvent
from tests.builders import public_count, signed
from tests.factories import UserFactory


@pytest.fixture
def moderator(db):
    return UserFactory(username="moderator")


@pytest.fixture
def wave(open_letter):
    """Five real signers, and a bot wave of twelve from 203.0.113.0/24 in the last hour."""
    now = timezone.now()
    for n in range(5):
        signed(open_letter, name=f"Real Person {n}", email=f"real{n}@example.org", ip_address=f"198.51.100.{n}",
               at=now - timedelta(days=1))  # fmt: skip
    for n in range(12):
        signed(open_letter, name=f"Bot {n}", email=f"bot{n}@spam.example", ip_address=f"203.0.113.{n + 10}",
               at=now - timedelta(minutes=30))  # fmt: skip
    return open_letter


def run(invalidation, batch=5):
    while invalidation_run_batch(invalidation_id=invalidation.pk, batch=batch):
        pass
    invalidation.refresh_from_db()
    return invalidation


def last_hour():
    return (timezone.now() - timedelta(hours=1)).isoformat()


def test_preview_counts_and_samples_the_wave(wave):
    preview = invalidation_preview(letter=wave, criteria={"ip_prefix": "203.0.113.0/24", "signed_after": last_hour()})
    assert (preview.count, preview.live) == (12, 17)
    assert len(preview.sample) == 12
    assert {s.name for s in preview.sample} == {f"Bot {n}" for n in range(12)}
    assert preview.needs_confirmation is True  # 12 of 17 is over the 20% share
    assert invalidation_preview(letter=wave, criteria={"ip": "203.0.113.10"}).count == 1
    assert invalidation_preview(letter=wave, criteria={"email_domain": "*.example"}).count == 12  # spam.example
    assert invalidation_preview(letter=wave, criteria={"email_domain": "*.example.org"}).count == 0
    assert invalidation_preview(letter=wave, criteria={"email_domain": "spam.example"}).count == 12
    assert invalidation_preview(letter=wave, criteria={"name": "bot 1*"}).count == 3  # Bot 1, Bot 10, Bot 11


@pytest.mark.parametrize(
    ("criteria", "errors"),
    [
        ({}, {"criteria": ["Give at least one criterion: an invalidation never matches a whole letter by default."]}),
        (
            {"ip_prefix": "203.0.0.0/16"},
            {"ip_prefix": ["Only /24 (IPv4) and /64 (IPv6) networks are kept; this is /16."]},
        ),
        ({"ip": "999.1.1.1"}, {"ip": ["An IPv4 or IPv6 address."]}),
        ({"name": "**"}, {"name": ["A name pattern needs some letters, e.g. *Musk*."]}),
        (
            {"colour": "red"},
            {
                "criteria": [
                    "“colour” is not a criterion; use ip, ip_prefix, email_domain, name, "
                    "signed_after, signed_before, source, import, hold_reason, alert."
                ]
            },
        ),
        (
            {"signed_after": "yesterday"},
            {"signed_after": ["An ISO 8601 instant with its offset, e.g. 2026-11-17T09:00:00Z."]},
        ),
        ({"import": "nope"}, {"import": ["No such import of this letter."]}),
        ({"signed_before": "9999-12-31T23:59:59-01:00"}, {"signed_before": ["Datetime value out of range."]}),
    ],
)
def test_bad_criteria_are_field_errors(wave, criteria, errors):
    with pytest.raises(ValidationError) as caught:
        invalidation_preview(letter=wave, criteria=criteria)
    assert caught.value.message_dict == errors


def test_a_large_share_needs_a_second_confirmation_and_nothing_is_stored_before(wave, moderator):
    criteria = {"ip_prefix": "203.0.113.0/24"}
    with pytest.raises(ValidationError) as caught:
        invalidation_start(letter=wave, criteria=criteria, reason="Bot wave", actor=moderator)
    assert list(caught.value.message_dict) == ["confirm_large"]
    assert Invalidation.objects.count() == 0
    with pytest.raises(ValidationError) as caught:
        invalidation_start(letter=wave, criteria={"ip": "192.0.2.1"}, reason="x", actor=moderator)
    assert caught.value.message_dict == {"criteria": ["No live signature matches these criteria."]}


def test_run_removes_the_wave_in_batches_and_undo_brings_it_back(wave, moderator):
    criteria = {"ip_prefix": "203.0.113.0/24", "signed_after": last_hour()}
    invalidation = invalidation_start(
        letter=wave, criteria=criteria, reason="Bot wave", public_reason="Automated signatures", confirm_large=True,
        actor=moderator,
    )  # fmt: skip
    invalidation = run(invalidation)
    assert (invalidation.status, invalidation.removed, invalidation.matched) == ("done", 12, 12)
    assert public_count(wave) == 5
    assert InvalidationItem.objects.filter(invalidation=invalidation).count() == 12
    event = SignatureEvent.objects.filter(kind="rejected").first()
    assert event.data == {"invalidation": invalidation.public_id, "public_reason": "Automated signatures"}
    invalidation_undo(invalidation=invalidation, actor=moderator)
    invalidation = run(invalidation)
    assert (invalidation.status, invalidation.restored) == ("undone", 12)
    assert public_count(wave) == 17
    assert SignatureEvent.objects.filter(kind="restored").count() == 12
    audit = AuditEvent.objects.filter(target_type="moderation.invalidation", target_id=str(invalidation.pk))
    actions = set(audit.values_list("action", flat=True))
    assert actions == {
        "moderation.invalidation.started",
        "moderation.invalidation.finished",
        "moderation.invalidation.undo_started",
        "moderation.invalidation.undone",
    }


def test_undo_leaves_what_was_touched_since(wave, moderator):
    invalidation = invalidation_start(letter=wave, criteria={"name": "Bot 1"}, reason="x", actor=moderator)
    invalidation = run(invalidation)
    bot = Signature.objects.get(name="Bot 1")
    resigned = signed(wave, name="Bot 1 (real)", email=bot.email_key)  # the address signed again meanwhile
    invalidation_undo(invalidation=invalidation, actor=moderator)
    invalidation = run(invalidation)
    assert invalidation.restored == 0
    item = InvalidationItem.objects.get(invalidation=invalidation)
    assert item.kept_at is not None and item.restored_at is None
    assert Signature.objects.get(pk=resigned.pk).status == "confirmed"
    assert Signature.objects.get(pk=bot.pk).status == "rejected"


def test_a_withdrawal_between_batches_is_not_swept_and_cancel_stops_it(wave, moderator):
    invalidation = invalidation_start(
        letter=wave, criteria={"email_domain": "spam.example"}, reason="x", confirm_large=True, actor=moderator
    )
    assert invalidation_run_batch(invalidation_id=invalidation.pk, batch=5) is True
    withdrawn = Signature.objects.get(name="Bot 11")
    signature_withdraw(signature=withdrawn)
    invalidation_cancel(invalidation=invalidation, actor=moderator)
    assert invalidation_run_batch(invalidation_id=invalidation.pk, batch=5) is False
    invalidation.refresh_from_db()
    assert (invalidation.status, invalidation.removed) == ("cancelled", 5)
    assert Signature.objects.get(pk=withdrawn.pk).status == "withdrawn"
    with pytest.raises(InvalidationNotAllowed):
        invalidation_cancel(invalidation=invalidation, actor=moderator)
    invalidation_undo(invalidation=invalidation, actor=moderator)
    assert run(invalidation).restored == 5


def test_the_job_paces_itself_between_batches_with_the_invalidation_factor(wave, moderator, monkeypatch, settings):
    from moderation import services

    settings.INVALIDATION_YIELD_FACTOR = 1.5
    paced: list[tuple[float | None, float]] = []

    class Recorder:
        def __init__(self, *, factor=None):
            self.factor = factor

        def after_batch(self, seconds):
            paced.append((self.factor, seconds))
            return 0.0

    monkeypatch.setattr(services, "Pacer", Recorder)
    invalidation = invalidation_start(
        letter=wave, criteria={"ip_prefix": "203.0.113.0/24"}, reason="Bots", confirm_large=True, actor=moderator
    )
    services.invalidation_run(invalidation_id=invalidation.pk, batch=5)
    # 12 signatures in batches of 5: three batches, a pause after each that left more to do.
    assert [factor for factor, _ in paced] == [1.5, 1.5]
    invalidation.refresh_from_db()
    assert (invalidation.status, invalidation.removed) == ("done", 12)

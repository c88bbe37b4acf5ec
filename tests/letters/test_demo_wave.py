"""The demo's bot wave: load_demo leaves 24 confirmed signatures from 203.0.113.0/24 in the last hour, which a
moderator's invalidation preview finds and an undo brings back; `manage.py demo_wave` adds more."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from letters.counts import letter_count_fresh, letter_count_refresh
from letters.demo import DEMO_SLUG
from letters.models import Letter, LetterCount, Signature
from moderation.services import invalidation_preview

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_wave_from_one_network_in_the_last_hour_and_every_signer_an_address():
    call_command("load_demo", stdout=io.StringIO())
    letter = Letter.objects.get(slug=DEMO_SLUG)
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    preview = invalidation_preview(letter=letter, criteria={"ip_prefix": "203.0.113.0/24", "signed_after": since})
    assert preview.count == 24
    assert {s.status for s in preview.sample} == {Signature.Status.CONFIRMED}
    wave = Signature.objects.filter(letter=letter, email_key__endswith="@mail-drop.example")
    assert wave.filter(status=Signature.Status.CONFIRMED, hold_reason="").count() == 24  # all public
    # Every signer of the history has an address too (116 of 117: the withdrawn one was erased), and the wave's 24.
    assert Signature.objects.filter(letter=letter).exclude(ip_hash="").count() == 116 + 24
    call_command("load_demo", stdout=io.StringIO())  # idempotent: no second wave
    assert Signature.objects.filter(letter=letter, email_key__endswith="@mail-drop.example").count() == 24


def test_demo_wave_adds_confirmed_signatures_now_and_refuses_bad_arguments():
    call_command("load_demo", stdout=io.StringIO())
    letter = Letter.objects.get(slug=DEMO_SLUG)
    before = letter_count_fresh(letter=letter).public
    out = io.StringIO()
    call_command("demo_wave", "--count", "13", stdout=out)
    assert "Signed and confirmed 13 signatures from 203.0.113.0/24" in out.getvalue()
    letter_count_refresh(letter_id=letter.pk, now=timezone.now() + timedelta(minutes=1))  # past the fold's margin
    assert LetterCount.objects.get(letter=letter).public == before + 13
    with pytest.raises(CommandError, match="between 1 and 10000"):
        call_command("demo_wave", "--count", "0")
    with pytest.raises(CommandError, match="--every"):
        call_command("demo_wave", "--every", "-1")
    with pytest.raises(CommandError, match="--network"):
        call_command("demo_wave", "--network", "nonsense")
    with pytest.raises(CommandError, match="No letter"):
        call_command("demo_wave", "--letter", "no-such-letter")


def test_the_demos_made_up_signers_never_get_an_email(django_capture_on_commit_callbacks):
    # Their addresses are at real domains; a worker's checkpoint writes receipts with the worker's EMAIL_URL.
    from letters.models import OutboxMessage
    from letters.transparency_log import transparency_log_drain
    from transparency import services as log

    call_command("load_demo", stdout=io.StringIO())
    letter = Letter.objects.get(slug=DEMO_SLUG)
    OutboxMessage.objects.all().delete()
    transparency_log_drain()
    with django_capture_on_commit_callbacks(execute=True):
        log.log_sync()
    assert Signature.objects.filter(letter=letter).count() > 100
    assert not OutboxMessage.objects.filter(signature__letter=letter).exists()

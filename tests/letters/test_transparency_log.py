"""Public changes reach the transparency log: queued by triggers in the transaction of the change, logged in batches
off the request path, never with an email, an IP or a raw name."""

import base64
import json

import pytest

from letters.models import LogQueue, SignatureCommitment
from letters.services.signing import signature_withdraw
from letters.transparency_log import name_commitment, transparency_log_drain
from tests.builders import signed
from transparency import services as log
from transparency.models import Checkpoint, Entry

pytestmark = pytest.mark.django_db


def logged() -> list[dict]:
    return [json.loads(bytes(e.data)) for e in Entry.objects.order_by("index")]


def test_a_confirmed_signature_is_queued_with_its_event_and_logged_by_the_batch_with_a_salted_name(open_letter):
    signature = signed(open_letter, name="Grace Hopper", email="grace@example.org", ip_address="198.51.100.7")
    assert LogQueue.objects.count() == 2  # the letter's version and the confirmation
    assert Entry.objects.count() == 0  # nothing on the request path

    assert transparency_log_drain() == 2
    version = open_letter.current_version
    commitment = SignatureCommitment.objects.get(signature=signature)
    assert logged() == [
        {"t": "version", "letter": open_letter.slug, "number": version.number, "sha256": version.sha256,
         "at": version.published_at.isoformat().replace("+00:00", "Z")},
        {"t": "entered", "letter": open_letter.slug, "id": signature.public_id, "version": version.sha256,
         "level": "email", "org": "", "withheld": False,
         "name": name_commitment(bytes(commitment.salt), "Grace Hopper"),
         "at": signature.confirmed_at.isoformat().replace("+00:00", "Z")},
    ]  # fmt: skip
    assert commitment.entered_index == 1
    assert not LogQueue.objects.exists()
    raw = b"".join(bytes(e.data) for e in Entry.objects.all())
    for private in (b"grace@example.org", b"198.51.100.7", b"Grace Hopper"):
        assert private not in raw


def test_a_withdrawal_is_logged_as_leaving_the_list_and_a_pending_signature_is_never_queued(open_letter):
    signature = signed(open_letter)
    signed(open_letter, email="pending@example.org", confirm=False)
    transparency_log_drain()
    signature_withdraw(signature=signature)
    assert transparency_log_drain() == 1
    left = logged()[-1]
    assert left == {"t": "left", "letter": open_letter.slug, "id": signature.public_id, "reason": "withdrawn",
                    "at": left["at"]}  # fmt: skip
    assert len(logged()) == 3


def test_a_change_committed_after_later_ones_were_logged_is_still_logged(open_letter):
    first = signed(open_letter, email="one@example.org")
    # As if the first confirmation's transaction had not committed yet: its queue row is not visible to the batch.
    LogQueue.objects.filter(event_id=first.events.get(kind="confirmed").pk).delete()
    transparency_log_drain()
    second = signed(open_letter, email="two@example.org")
    transparency_log_drain()
    LogQueue.objects.create(event_id=first.events.get(kind="confirmed").pk)  # it commits now
    assert transparency_log_drain() == 1
    assert [e["id"] for e in logged() if e["t"] == "entered"] == [second.public_id, first.public_id]


def test_the_beat_task_drains_the_queue_and_signs_a_checkpoint(open_letter):
    signed(open_letter)
    checkpoint = log.log_sync()
    assert checkpoint is not None and checkpoint.size == 2
    assert log.log_sync() is None


def test_exports_state_the_checkpoint_they_correspond_to(client, open_letter):
    signed(open_letter)
    log.log_sync()
    checkpoint = Checkpoint.objects.order_by("-size").first()
    export = json.loads(b"".join(client.get(f"/api/v1/letters/{open_letter.slug}/export.json").streaming_content))
    root = base64.b64encode(bytes(checkpoint.root)).decode()
    assert (export["log_tree_size"], export["log_root_hash"], export["log_unlogged_changes"]) == (2, root, 0)
    signed(open_letter, email="second@example.org")
    csv_head = next(iter(client.get(f"/api/v1/letters/{open_letter.slug}/export.csv").streaming_content)).decode()
    assert f"log_tree_size=2; log_root_hash={root}; log_unlogged_changes=1" in csv_head


def test_stats_show_withheld_signatures_by_level_and_organization_and_the_checkpoint(client, open_letter):
    from letters.services.verification import signature_verify_manual

    for i in range(3):
        quiet = signed(open_letter, name=f"Quiet {i}", email=f"q{i}@example.org", organization_name="Adobe",
                       name_shown=False)  # fmt: skip
    signature_verify_manual(signature=quiet, evidence="called them")
    signed(open_letter, name="Loud", email="loud@example.org", organization_name="Adobe")
    log.log_sync()
    stats = client.get(f"/api/v1/letters/{open_letter.slug}/stats/").json()
    assert stats["withheld"] == [
        {"level": "email", "verified": False, "organization": {"name": "Adobe", "slug": None}, "count": 2,
         "text": "2 email-confirmed Adobe signers, names withheld"},
        {"level": "manual", "verified": True, "organization": {"name": "Adobe", "slug": None}, "count": 1,
         "text": "1 verified Adobe signer, name withheld"},
    ]  # fmt: skip
    checkpoint = Checkpoint.objects.order_by("-size").first()
    assert (stats["log_tree_size"], stats["log_root_hash"], stats["log_unlogged_changes"]) == (
        checkpoint.size, base64.b64encode(bytes(checkpoint.root)).decode(), 0)  # fmt: skip
    assert "Quiet" not in json.dumps(stats)


def test_the_page_and_the_json_export_show_withheld_groups_never_names(client, open_letter):
    for i in range(2):
        signed(open_letter, name=f"Quiet {i}", email=f"q{i}@example.org", organization_name="Adobe", name_shown=False)
    log.log_sync()
    page = client.get(f"/letters/{open_letter.slug}/").content.decode()
    assert "2 email-confirmed Adobe signers, names withheld" in page
    assert "Quiet" not in page
    assert 'href="/log/checkpoint"' in page
    export = json.loads(b"".join(client.get(f"/api/v1/letters/{open_letter.slug}/export.json").streaming_content))
    assert [g["text"] for g in export["withheld"]] == ["2 email-confirmed Adobe signers, names withheld"]
    assert "Quiet" not in json.dumps(export)


def test_the_receipt_email_is_written_with_the_checkpoint_that_proves_it_and_carries_that_proof(
    open_letter, mailoutbox, django_capture_on_commit_callbacks
):
    from letters.models import OutboxMessage
    from letters.transparency_log import signature_receipt

    signature = signed(open_letter, name="Grace Hopper", email="grace@example.org")
    receipts = OutboxMessage.objects.filter(signature=signature, kind=OutboxMessage.Kind.RECEIPT)
    transparency_log_drain()  # logged, but no checkpoint covers it yet: no proof, so no email
    assert SignatureCommitment.objects.get(signature=signature).entered_index == 1
    assert not receipts.exists()

    with django_capture_on_commit_callbacks(execute=True):
        log.log_sync()
    assert receipts.count() == 1
    sent = [m for m in mailoutbox if m.subject == "Your signature is in the public record: your receipt"]
    assert len(sent) == 1 and sent[0].to == ["grace@example.org"]
    proof = signature_receipt(signature=signature)
    assert proof is not None and proof.startswith("c2sp.org/tlog-proof@v1\nextra ") and "\nindex 1\n" in proof
    assert proof in sent[0].body
    assert Checkpoint.objects.order_by("-size").first().note in proof
    salt = bytes(SignatureCommitment.objects.get(signature=signature).salt).hex()
    assert f"/letters/{open_letter.slug}/receipts/{signature.public_id}.tlog-proof" in sent[0].body
    assert salt in sent[0].body


def test_a_signature_entering_the_list_again_gets_no_second_receipt(open_letter, django_capture_on_commit_callbacks):
    from letters.models import OutboxMessage
    from letters.services.verification import signature_hold, signature_release

    signature = signed(open_letter, email="again@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        log.log_sync()
        signature_hold(signature=signature)
        signature.refresh_from_db()
        signature_release(signature=signature)
        log.log_sync()
    assert SignatureCommitment.objects.get(signature=signature).entered_index == 3  # entered, left, entered again
    assert OutboxMessage.objects.filter(signature=signature, kind=OutboxMessage.Kind.RECEIPT).count() == 1


def test_changes_to_a_letter_not_yet_published_wait_in_the_queue_until_it_is(open_letter):
    from tests.factories import LetterFactory

    draft = LetterFactory(status="draft")
    signed(open_letter)
    assert transparency_log_drain() == 2
    waiting = LogQueue.objects.count()
    assert waiting >= 1  # the draft's version
    assert all(json.loads(bytes(e.data))["letter"] == open_letter.slug for e in Entry.objects.all())
    type(draft).objects.filter(pk=draft.pk).update(status="open")
    assert transparency_log_drain() == waiting
    assert [json.loads(bytes(e.data))["letter"] for e in Entry.objects.order_by("index")][-1] == draft.slug


def test_an_erased_signers_receipt_row_does_not_stop_the_next_receipts(open_letter, django_capture_on_commit_callbacks):
    from letters.models import OutboxMessage

    first = signed(open_letter, email="first@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        log.log_sync()
    OutboxMessage.objects.filter(signature=first, kind=OutboxMessage.Kind.RECEIPT).update(signature=None)  # erased
    second = signed(open_letter, email="second@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        log.log_sync()
    assert OutboxMessage.objects.filter(signature=second, kind=OutboxMessage.Kind.RECEIPT).count() == 1


def test_changes_waiting_for_the_log_are_counted_up_to_the_cap(client, open_letter, monkeypatch):
    from letters import transparency_log

    for i in range(3):
        signed(open_letter, name=f"Waiting {i}", email=f"w{i}@example.org")
    monkeypatch.setattr(transparency_log, "UNLOGGED_COUNT_CAP", 2)
    stats = client.get(f"/api/v1/letters/{open_letter.slug}/stats/").json()
    assert stats["log_unlogged_changes"] == 2  # at least two: a stopped log's queue is never counted in full
    monkeypatch.setattr(transparency_log, "UNLOGGED_COUNT_CAP", 10_000)
    assert transparency_log.transparency_log_position()["log_unlogged_changes"] == LogQueue.objects.count() > 2


def test_a_letter_counts_only_its_own_changes_waiting_for_the_log(client, open_letter):
    from tests.factories import LetterFactory

    other = LetterFactory(status="scheduled", slug="embargoed")
    signed(open_letter, name="Ada Lovelace", email="ada@example.org")
    before = client.get(f"/api/v1/letters/{open_letter.slug}/stats/").json()["log_unlogged_changes"]
    queued = LogQueue.objects.count()
    signed(other, name="Grace Hopper", email="grace@example.org", allow_embargoed=True)
    LetterFactory(slug="a-draft")
    assert LogQueue.objects.count() > queued  # both are queued for the (one) log
    after = client.get(f"/api/v1/letters/{open_letter.slug}/stats/").json()["log_unlogged_changes"]
    assert after == before >= 1  # the embargoed letter's signature and the draft change nothing here


def test_no_receipt_is_written_for_a_signature_removed_before_the_checkpoint(
    open_letter, django_capture_on_commit_callbacks
):
    from letters.models import OutboxMessage
    from letters.services.verification import signature_reject

    kept = signed(open_letter, email="kept@example.org")
    removed = signed(open_letter, email="removed@example.org")
    transparency_log_drain()  # both entered the log
    signature_reject(signature=removed, reason="an undone import")
    with django_capture_on_commit_callbacks(execute=True):
        log.log_sync()
    receipts = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.RECEIPT)
    assert list(receipts.values_list("signature_id", flat=True)) == [kept.pk]


def test_a_waiting_receipt_is_not_sent_once_its_signature_left_the_list(open_letter, mailoutbox, settings):
    from letters.models import OutboxMessage
    from letters.services.outbox import outbox_enqueue, outbox_message_send
    from letters.services.verification import signature_reject

    signature = signed(open_letter, email="gone@example.org")
    message = outbox_enqueue(signature=signature, kind=OutboxMessage.Kind.RECEIPT)
    signature_reject(signature=signature, reason="an undone import")
    mailoutbox.clear()
    assert outbox_message_send(message_id=message.pk) is False
    message.refresh_from_db()
    assert (message.sent_at, message.body_text, message.last_error) == (
        None,
        "",
        "Not sent: the signature is no longer in the public list.",
    )
    assert message.failed_at is not None
    assert mailoutbox == []


def test_a_waiting_confirm_email_is_not_sent_once_its_signature_was_removed(open_letter, mailoutbox):
    from letters.models import OutboxMessage, Signature
    from letters.services.outbox import outbox_message_send
    from letters.services.signing import signature_create
    from letters.services.verification import signature_reject

    with_outbox = signature_create(
        letter=open_letter, name="Ada Lovelace", email="ada@example.org", check_rate_limits=False
    )
    message = OutboxMessage.objects.get(signature=with_outbox.signature, kind=OutboxMessage.Kind.CONFIRM)
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=None, body_text="", body_html="")  # still waiting
    signature_reject(signature=with_outbox.signature, reason="the import was undone")
    mailoutbox.clear()
    assert outbox_message_send(message_id=message.pk) is False
    message.refresh_from_db()
    assert message.last_error == "Not sent: the signature is no longer waiting for confirmation."
    assert mailoutbox == []
    assert Signature.objects.get(pk=with_outbox.signature.pk).status == "rejected"

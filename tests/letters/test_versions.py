"""Versions of a letter's text: editorial versions keep every signature bound to the version it signed; material
versions ask every visible signer of an earlier version, through the outbox and in batches, to re-consent or
withdraw, and list them as "signed version N" until they answer."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from letters.models import LetterVersion, OutboxMessage, Signature, SignatureEvent, VerificationLevel
from letters.selectors import letter_dashboard_counts, letter_stats
from letters.services import reconsent
from letters.services.letters import letter_version_publish
from letters.services.lifecycle import letter_close
from letters.services.signing import signature_confirm, signature_create, signature_withdraw
from registry.models import AuditEvent
from tests.builders import signed
from tests.factories import LetterFactory

pytestmark = pytest.mark.django_db

NEW_TEXT = "We, the undersigned, ask you to restore access now."


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the re-consent task, the outbox sends), as a real commit would."""

    def _run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return _run


def three_signers(letter):
    ada = signed(letter, name="Ada Lovelace", email="ada@example.org")
    grace = signed(letter, name="Grace Hopper", email="grace@example.org")
    pending = signed(letter, name="Pending Person", email="pending@example.org", confirm=False)
    return ada, grace, pending


def reconsent_messages():
    return OutboxMessage.objects.filter(kind=OutboxMessage.Kind.RECONSENT).order_by("signature_id")


def test_publishing_asks_for_a_kind_and_refuses_bad_input(open_letter):
    with pytest.raises(ValidationError) as raised:
        letter_version_publish(letter=open_letter, body="<script>x</script>", kind="typo")
    assert raised.value.message_dict == {
        "body": ["Raw HTML <script> is not allowed in the text."],
        "kind": ["Choose editorial (a correction that keeps every signature) or material (signers re-consent)."],
    }
    with pytest.raises(ValidationError) as raised:
        letter_version_publish(letter=open_letter, body=open_letter.current_version.body, kind="editorial")
    assert raised.value.message_dict == {"body": ["The text is the same as version 1."]}
    assert LetterVersion.objects.filter(letter=open_letter).count() == 1


def test_a_draft_edits_version_one_and_a_closed_letter_changes_no_more():
    draft = LetterFactory(status="draft")
    with pytest.raises(ValidationError) as raised:
        letter_version_publish(letter=draft, body=NEW_TEXT, kind="material")
    assert raised.value.message_dict == {
        "body": ["A draft's text is edited in place; versions start once it is scheduled or open."]
    }
    closed = LetterFactory(status="closed")
    with pytest.raises(ValidationError) as raised:
        letter_version_publish(letter=closed, body=NEW_TEXT, kind="editorial")
    assert raised.value.message_dict == {"body": ["This letter is closed; its text no longer changes."]}


def test_an_editorial_version_keeps_signers_bound_and_sends_nothing(open_letter, run_on_commit, mailoutbox, staff_user):
    ada, grace, _ = three_signers(open_letter)
    v2 = run_on_commit(
        lambda: letter_version_publish(
            letter=open_letter, body=NEW_TEXT, kind="editorial", note="A typo.", actor=staff_user
        )
    )
    assert (v2.number, v2.kind, v2.note) == (2, "editorial", "A typo.")
    assert list(Signature.objects.filter(pk__in=[ada.pk, grace.pk]).values_list("version__number", flat=True)) == [1, 1]
    assert reconsent_messages().count() == 0 and mailoutbox == []
    audit = AuditEvent.objects.get(action="letters.letter.version_published", data__number=2)
    assert (audit.actor, audit.data) == (
        staff_user,
        {"number": 2, "sha256": v2.sha256, "kind": "editorial", "note": "A typo."},
    )
    rows = Client().get(f"/api/v1/letters/{open_letter.slug}/signatures/").json()["results"]
    assert [(r["version"], r["awaiting_reconsent"]) for r in rows] == [(1, False), (1, False)]


def test_a_material_version_emails_every_visible_signer_of_an_earlier_version(open_letter, run_on_commit, mailoutbox):
    ada, grace, pending = three_signers(open_letter)
    held = signed(open_letter, name="Held Signer", email="held@example.org")
    Signature.objects.filter(pk=held.pk).update(hold_reason="admin")
    gone = signed(open_letter, name="Gone Signer", email="gone@example.org")
    signature_withdraw(signature=gone)
    v2 = run_on_commit(lambda: letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material", note="Scope"))
    messages = list(reconsent_messages())
    assert [(m.signature_id, m.version_id, m.to_email) for m in messages] == [
        (ada.pk, v2.pk, "ada@example.org"),
        (grace.pk, v2.pk, "grace@example.org"),
    ]
    assert all(m.sent_at is not None for m in messages)
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@example.org", "grace@example.org"]
    email = next(m for m in mailoutbox if m.to == ["ada@example.org"])
    assert email.subject == "The letter you signed has changed: confirm or withdraw your signature"
    assert f"/letters/{open_letter.slug}/diff/1/2/" in email.body
    assert re.search(r"/reconsent/[\w-]{20,}/", email.body) and re.search(r"/withdraw/[\w-]{20,}/", email.body)
    assert "Scope" in email.body
    assert pending.pk not in [m.signature_id for m in messages]
    audit = AuditEvent.objects.get(action="letters.letter.reconsent_requested")
    assert audit.data == {"version": 2, "emails": 2, "at_email_cap": 0, "first_id": ada.pk}


def test_signers_awaiting_reconsent_are_listed_as_signed_version_n_and_counted_per_version(
    open_letter, run_on_commit, client
):
    three_signers(open_letter)
    run_on_commit(lambda: letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material"))
    newer = signed(open_letter, name="Newer Signer", email="newer@example.org")
    assert newer.version.number == 2
    rows = client.get(f"/api/v1/letters/{open_letter.slug}/signatures/").json()["results"]
    assert [(r["name"], r["version"], r["awaiting_reconsent"]) for r in rows] == [
        ("Ada Lovelace", 1, True),
        ("Grace Hopper", 1, True),
        ("Newer Signer", 2, False),
    ]
    stats = client.get(f"/api/v1/letters/{open_letter.slug}/stats/").json()
    assert stats["by_version"] == [
        {"number": 1, "kind": "initial", "count": 2, "current": False, "awaiting_reconsent": True},
        {"number": 2, "kind": "material", "count": 1, "current": True, "awaiting_reconsent": False},
    ]
    page = client.get(f"/letters/{open_letter.slug}/").content.decode()
    assert page.count(">signed version 1</span>") == 2
    assert "<strong>2</strong> signatures, asked to re-consent to the new text" in page


def reconsent_token(mailoutbox, address):
    email = next(m for m in mailoutbox if m.to == [address])
    return re.search(r"/reconsent/([\w-]+)/", email.body).group(1)


def test_reconsent_page_shows_the_new_text_and_the_post_binds_the_signature(open_letter, run_on_commit, mailoutbox):
    ada, _, _ = three_signers(open_letter)
    v2 = run_on_commit(lambda: letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material"))
    token = reconsent_token(mailoutbox, "ada@example.org")
    client = Client()
    page = client.get(f"/reconsent/{token}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "restore access now." in text and "Sign version 2" in text
    assert Signature.objects.get(pk=ada.pk).version_id == ada.version_id  # showing the page changes nothing
    done = client.post(f"/reconsent/{token}/")
    assert done.status_code == 200 and "Your signature now stands for version 2" in done.content.decode()
    ada.refresh_from_db()
    assert ada.version_id == v2.pk
    event = SignatureEvent.objects.get(signature=ada, kind="reconsented")
    assert (event.data, event.visible_before, event.visible_after) == ({"from_version": 1, "to_version": 2}, True, True)
    assert AuditEvent.objects.filter(action="letters.signature.reconsented", target_id=str(ada.pk)).count() == 1
    assert client.post(f"/reconsent/{token}/").status_code == 400  # single use
    assert letter_stats(letter=open_letter)["by_version"][1]["count"] == 1


def test_reconsent_through_the_api(open_letter, run_on_commit, mailoutbox, client):
    three_signers(open_letter)
    run_on_commit(lambda: letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material"))
    token = reconsent_token(mailoutbox, "grace@example.org")
    response = client.post("/api/v1/signatures/reconsent/", {"token": token}, content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["version"], response.json()["awaiting_reconsent"]) == (
        "Grace Hopper",
        2,
        False,
    )
    again = client.post("/api/v1/signatures/reconsent/", {"token": token}, content_type="application/json")
    assert again.status_code == 400
    assert again.json() == {
        "detail": "This link is invalid or has expired.",
        "errors": {"token": ["This link is invalid or has expired."]},
    }


def test_the_withdraw_link_of_a_reconsent_email_withdraws(open_letter, run_on_commit, mailoutbox):
    ada, _, _ = three_signers(open_letter)
    run_on_commit(lambda: letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material"))
    email = next(m for m in mailoutbox if m.to == ["ada@example.org"])
    token = re.search(r"/withdraw/([\w-]+)/", email.body).group(1)
    assert Client().post(f"/withdraw/{token}/").status_code == 200
    ada.refresh_from_db()
    assert ada.status == "withdrawn" and ada.email == ""


def test_the_email_cap_is_respected_and_counted(open_letter, run_on_commit):
    ada, grace, _ = three_signers(open_letter)
    Signature.objects.filter(pk=grace.pk).update(emails_sent=5)
    run_on_commit(lambda: letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material"))
    assert list(reconsent_messages().values_list("signature_id", flat=True)) == [ada.pk]
    audit = AuditEvent.objects.get(action="letters.letter.reconsent_requested")
    assert (audit.data["emails"], audit.data["at_email_cap"]) == (1, 1)


def test_requests_go_out_in_batches_and_a_second_run_writes_nothing(open_letter, monkeypatch):
    signers = [signed(open_letter, name=f"Signer {n}", email=f"s{n}@example.org") for n in range(5)]
    v2 = letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material")  # on_commit not run
    assert reconsent.reconsent_requests_send(version_id=v2.pk, batch_size=2) == 5
    assert reconsent.reconsent_requests_send(version_id=v2.pk, batch_size=2) == 0
    assert reconsent.reconsent_requests_due() == 0
    assert list(reconsent_messages().values_list("signature_id", flat=True)) == [s.pk for s in signers]
    batches = AuditEvent.objects.filter(action="letters.letter.reconsent_requested").order_by("id")
    assert [a.data["emails"] for a in batches] == [2, 2, 1]


def test_beat_finishes_requests_whose_enqueue_was_lost(open_letter):
    ada = signed(open_letter)
    letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material")  # the after-commit task never ran
    assert reconsent.reconsent_requests_due() == 1
    assert list(reconsent_messages().values_list("signature_id", flat=True)) == [ada.pk]


def test_a_newer_material_version_supersedes_the_older_run(open_letter):
    signed(open_letter)
    v2 = letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material")
    v3 = letter_version_publish(letter=open_letter, body=NEW_TEXT + " Today.", kind="material")
    assert reconsent.reconsent_requests_send(version_id=v2.pk) == 0
    assert reconsent.reconsent_requests_send(version_id=v3.pk) == 1


def test_a_signature_confirmed_after_a_material_version_is_asked_on_confirmation(open_letter, run_on_commit):
    pending = signature_create(
        letter=open_letter, name="Late Confirmer", email="late@example.org", send_email=False
    ).signature
    v2 = run_on_commit(lambda: letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material"))
    assert reconsent_messages().count() == 0
    signature_confirm(signature=pending)
    assert list(reconsent_messages().values_list("signature_id", "version_id")) == [(pending.pk, v2.pk)]


def test_a_closed_letter_takes_no_reconsent(open_letter, run_on_commit, mailoutbox):
    three_signers(open_letter)
    run_on_commit(lambda: letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material"))
    token = reconsent_token(mailoutbox, "ada@example.org")
    letter_close(letter=open_letter)
    assert Client().post(f"/reconsent/{token}/").status_code == 400


def test_dashboard_counts_by_status_level_and_version(open_letter, run_on_commit):
    ada, grace, _pending = three_signers(open_letter)
    Signature.objects.filter(pk=grace.pk).update(hold_reason="admin")
    run_on_commit(lambda: letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material"))
    signed(open_letter, name="Newer Signer", email="newer@example.org")
    gone = signed(open_letter, name="Gone Signer", email="gone@example.org")
    signature_withdraw(signature=gone)
    assert letter_dashboard_counts(letter=open_letter) == {
        "by_status": {"pending": 1, "confirmed": 3, "rejected": 0, "withdrawn": 1, "merged": 0},
        "held": 1,
        "visible": 2,
        "by_level": {**{level: 0 for level in VerificationLevel.values if level != "none"}, "email": 2},
        "verified": 0,
        "by_version": [
            {"number": 1, "kind": "initial", "count": 1, "current": False, "awaiting_reconsent": True},
            {"number": 2, "kind": "material", "count": 1, "current": True, "awaiting_reconsent": False},
        ],
        "awaiting_reconsent": 1,
    }
    assert ada.pk


def test_the_export_follows_a_reconsent_to_the_new_version(open_letter, run_on_commit, mailoutbox):
    ada, _, _ = three_signers(open_letter)
    run_on_commit(lambda: letter_version_publish(letter=open_letter, body=NEW_TEXT, kind="material"))
    Client().post(f"/reconsent/{reconsent_token(mailoutbox, 'ada@example.org')}/")
    lines = b"".join(Client().get(f"/api/v1/letters/{open_letter.slug}/export.csv").streaming_content).decode()
    rows = {line.split(",")[0]: line.split(",")[-1] for line in lines.splitlines() if not line.startswith("#")}
    assert rows[ada.public_id] == "2"
    assert sorted(rows.values()) == ["1", "2", "version"]

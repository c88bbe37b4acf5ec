import pytest
from django.core.exceptions import ValidationError

from importing.jobs import import_run_batch
from importing.models import SignatureImport, SignatureImportRow
from importing.services import (
    ImportNotAllowed,
    import_discard,
    import_mapping_set,
    import_start,
    import_undo,
    import_upload,
)
from letters.models import OutboxMessage, Signature, VerificationRecord
from registry.models import AuditEvent
from tests.builders import public_count, signed
from tests.factories import LetterFactory, UserFactory

CSV = b"""name,email,title,organization,signed at
Ada Lovelace,ada@example.org,Analyst,Nvidia,2026-11-30
Grace Hopper,grace@example.org,Admiral,Navy,
Alan Turing,alan@example.org,,,
Bad Row,,,,
Ada Again,ADA@example.org,,,
Katie Moussouris,katie@example.org,CEO,Luta Security,
"""


@pytest.fixture
def organizer(db):
    return UserFactory(username="organizer")


def upload(letter, organizer, data=CSV, **kwargs):
    return import_upload(letter=letter, data=data, filename="founders.csv", actor=organizer, **kwargs)


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """import_start with its after-commit job run (eager Celery), as in `make run`."""

    def _start(signature_import, mode, actor):
        with django_capture_on_commit_callbacks(execute=True):
            return import_start(signature_import=signature_import, mode=mode, actor=actor)

    return _start


def run_all(signature_import, batch_rows=2):
    while import_run_batch(signature_import_id=signature_import.pk, batch_rows=batch_rows):
        pass
    signature_import.refresh_from_db()
    return signature_import


def test_upload_stores_the_preview_counts_and_nothing_else(open_letter, organizer):
    signed(open_letter, name="Katie Moussouris", email="katie@example.org")
    before = Signature.objects.count()
    uploaded = upload(open_letter, organizer)
    imp = uploaded.signature_import
    assert imp.status == "preview"
    assert imp.summary == {"new": 3, "already_signed": 1, "duplicate_in_file": 1, "invalid": 1, "total": 6}
    assert imp.mapping == {"name": 0, "email": 1, "title": 2, "organization": 3, "signed_at": 4}
    assert Signature.objects.count() == before
    assert AuditEvent.objects.filter(action="importing.import.uploaded", target_id=str(imp.pk)).count() == 1


def test_a_refused_file_stores_nothing(open_letter, organizer):
    with pytest.raises(ValidationError) as caught:
        upload(open_letter, organizer, data=b"name,email\n")
    assert caught.value.message_dict == {"file": ["The file has a header row but no data rows."]}
    assert SignatureImport.objects.count() == 0


def test_mapping_without_email_is_kept_for_editing_then_fixed(open_letter, organizer):
    uploaded = upload(open_letter, organizer, data=b"Who,Address\nAda,ada@example.org\n")
    assert uploaded.preview is None
    assert uploaded.mapping_errors == {
        "mapping.name": ["Map the column that holds the signer's name."],
        "mapping.email": ["Map the column that holds the signer's email address."],
    }
    with pytest.raises(ValidationError) as caught:
        import_mapping_set(signature_import=uploaded.signature_import, mapping={"name": 0, "email": 0}, actor=organizer)
    assert "mapping.email" in caught.value.message_dict
    fixed = import_mapping_set(
        signature_import=uploaded.signature_import, mapping={"name": 0, "email": 1}, actor=organizer
    )
    assert fixed.preview.summary["new"] == 1
    assert SignatureImport.objects.get().mapping == {"name": 0, "email": 1}


def test_start_needs_an_explicit_mode(open_letter, organizer):
    imp = upload(open_letter, organizer).signature_import
    with pytest.raises(ValidationError) as caught:
        import_start(signature_import=imp, mode="", actor=organizer)
    assert list(caught.value.message_dict) == ["mode"]
    imp.refresh_from_db()
    assert imp.status == "preview"


def test_confirm_mode_creates_pending_signatures_with_confirmation_emails(open_letter, organizer, start):
    imp = upload(open_letter, organizer).signature_import
    start(imp, "confirm", organizer)
    imp.refresh_from_db()
    assert (imp.status, imp.rows_done, imp.rows_created, imp.rows_skipped) == ("done", 6, 4, 2)
    assert imp.content == b""
    created = Signature.objects.filter(source="import").order_by("email_key")
    assert [(s.email_key, s.status) for s in created] == [
        ("ada@example.org", "pending"),
        ("alan@example.org", "pending"),
        ("grace@example.org", "pending"),
        ("katie@example.org", "pending"),
    ]
    assert OutboxMessage.objects.filter(signature__in=created, kind="confirm").count() == 4
    assert public_count(open_letter) == 0
    ada = created.get(email_key="ada@example.org")
    assert ada.signed_at.date().isoformat() == "2026-11-30"
    from letters.services.emails import email_compose

    email = email_compose(signature=ada, kind="confirm", version=None)
    assert f'The organizers of the open letter "{open_letter.title}" added you to its signers from their list.' in (
        email.text
    )
    assert "hopefully you" not in email.text + email.html


def test_vouched_mode_makes_public_signatures_backed_by_records(open_letter, organizer, start):
    imp = upload(open_letter, organizer).signature_import
    start(imp, "vouched", organizer)
    imp.refresh_from_db()
    signatures = Signature.objects.filter(source="import")
    assert {s.verification_level for s in signatures} == {"vouched"}
    assert public_count(open_letter) == 4  # the CEO title is what the organizer vouches for: no hold
    record = VerificationRecord.objects.get(signature__email_key="grace@example.org")
    assert (record.method, record.level, record.verifier) == ("import", "vouched", organizer)
    assert record.evidence == (
        f"Import {imp.public_id}: row 3 of “founders.csv” (sha256 {imp.sha256}), "
        "vouched for by the organizer who ran it."
    )
    assert OutboxMessage.objects.filter(signature__in=signatures).count() == 0


def test_a_batch_that_fails_leaves_nothing_and_the_import_resumes(open_letter, organizer, monkeypatch):
    imp = upload(open_letter, organizer).signature_import
    SignatureImport.objects.filter(pk=imp.pk).update(status="queued", mode="vouched")
    assert import_run_batch(signature_import_id=imp.pk, batch_rows=2) is True
    from importing import jobs

    real = jobs.signatures_import_bulk

    def writes_then_dies(**kwargs):
        real(**kwargs)  # Alan Turing's signature is written, then the worker dies before the batch commits
        raise RuntimeError("worker killed")

    monkeypatch.setattr(jobs, "signatures_import_bulk", writes_then_dies)
    with pytest.raises(RuntimeError):
        import_run_batch(signature_import_id=imp.pk, batch_rows=3)
    imp.refresh_from_db()
    assert (imp.rows_done, Signature.objects.count()) == (2, 2)
    monkeypatch.setattr(jobs, "signatures_import_bulk", real)
    imp = run_all(imp)
    assert (imp.status, imp.rows_created, Signature.objects.count()) == ("done", 4, 4)
    assert SignatureImportRow.objects.filter(signature_import=imp).count() == 5  # 4 created + the repeated address


def test_the_same_file_again_doubles_nothing(open_letter, organizer, start):
    first = upload(open_letter, organizer).signature_import
    start(first, "vouched", organizer)
    second = upload(open_letter, organizer).signature_import
    assert second.summary["new"] == 0
    with pytest.raises(ImportNotAllowed):
        start(second, "vouched", organizer)
    assert Signature.objects.count() == 4


def test_undo_removes_exactly_the_imports_signatures(open_letter, organizer, start):
    signed(open_letter, name="Katie Moussouris", email="katie@example.org")
    imp = upload(open_letter, organizer).signature_import
    start(imp, "vouched", organizer)
    assert public_count(open_letter) == 4
    withdrawn_meanwhile = Signature.objects.get(email_key="alan@example.org")
    from letters.services.signing import signature_withdraw

    signature_withdraw(signature=withdrawn_meanwhile)
    imp.refresh_from_db()
    assert import_undo(signature_import=imp, actor=organizer) == 2
    assert public_count(open_letter) == 1
    assert Signature.objects.get(email_key="katie@example.org").status == "confirmed"
    assert set(Signature.objects.filter(source="import").values_list("status", flat=True)) == {"rejected", "withdrawn"}
    imp.refresh_from_db()
    assert imp.status == "undone"
    with pytest.raises(ImportNotAllowed):
        import_undo(signature_import=imp, actor=organizer)


def test_undoing_an_invalidation_does_not_bring_back_an_undone_imports_signatures(open_letter, organizer, start):
    from moderation.services import invalidation_run_batch, invalidation_start, invalidation_undo

    kept = signed(open_letter, name="Katie Moussouris", email="katie@example.org")
    imp = upload(open_letter, organizer).signature_import
    start(imp, "vouched", organizer)
    assert public_count(open_letter) == 4
    swept = invalidation_start(
        letter=open_letter, criteria={"import": imp.public_id}, reason="x", confirm_large=True, actor=organizer
    )
    while invalidation_run_batch(invalidation_id=swept.pk):
        pass
    assert public_count(open_letter) == 1
    imp.refresh_from_db()
    assert import_undo(signature_import=imp, actor=organizer) == 0  # nothing of it was live any more
    invalidation_undo(invalidation=swept, actor=organizer)
    while invalidation_run_batch(invalidation_id=swept.pk):
        pass
    swept.refresh_from_db()
    assert (swept.status, swept.removed, swept.restored) == ("undone", 3, 0)
    assert public_count(open_letter) == 1
    assert list(Signature.objects.filter(status="confirmed").values_list("pk", flat=True)) == [kept.pk]


def test_imports_work_under_embargo(organizer, start):
    letter = LetterFactory(status="scheduled")
    imp = upload(letter, organizer).signature_import
    start(imp, "vouched", organizer)
    assert Signature.objects.filter(letter=letter).count() == 4


def test_discard_drops_the_file_and_its_checked_rows(open_letter, organizer):
    imp = upload(open_letter, organizer).signature_import
    assert bytes(imp.checked)
    import_discard(signature_import=imp, actor=organizer)
    imp.refresh_from_db()
    assert (imp.status, bytes(imp.content), bytes(imp.checked)) == ("discarded", b"", b"")


def test_an_upload_left_in_preview_expires(open_letter, organizer, start, settings):
    from datetime import timedelta

    from django.utils import timezone

    from importing.services import imports_previews_expire

    settings.IMPORT_PREVIEW_TTL = timedelta(days=7)
    old, recent, started = (upload(open_letter, organizer).signature_import for _ in range(3))
    start(started, "confirm", organizer)
    week_ago = timezone.now() - timedelta(days=7, seconds=1)
    SignatureImport.objects.filter(pk__in=[old.pk, started.pk]).update(created_at=week_ago)
    assert imports_previews_expire() == 1
    statuses = dict(SignatureImport.objects.values_list("pk", "status"))
    assert (statuses[old.pk], statuses[recent.pk], statuses[started.pk]) == ("discarded", "preview", "done")
    old.refresh_from_db()
    assert (bytes(old.content), bytes(old.checked)) == (b"", b"")
    audit = AuditEvent.objects.get(action="importing.import.expired")
    assert (audit.target_id, audit.actor_id) == (str(old.pk), None)
    assert imports_previews_expire() == 0


def test_confirm_by_email_is_refused_under_embargo(organizer, start):
    letter = LetterFactory(status="scheduled")
    imp = upload(letter, organizer).signature_import
    with pytest.raises(ImportNotAllowed) as refused:
        start(imp, "confirm", organizer)
    assert "Under embargo nobody can read the letter" in refused.value.message
    imp.refresh_from_db()
    assert (imp.status, Signature.objects.filter(letter=letter).count(), OutboxMessage.objects.count()) == (
        "preview",
        0,
        0,
    )


def test_vouching_does_not_lift_a_protected_name_or_mixed_script_hold(open_letter, organizer, start):
    from registry.protected import protected_name_add

    protected_name_add(name="Katie Moussouris")
    data = (
        "name,email\nDr. Katie Moussouris,fake@example.org\n"
        "Аda Lovelace,cyrillic@example.org\n"  # a Cyrillic А
        "Grace Hopper,g@example.org\n"
    )
    imp = upload(open_letter, organizer, data=data.encode()).signature_import
    start(imp, "vouched", organizer)
    holds = dict(Signature.objects.values_list("email_key", "hold_reason"))
    assert holds == {"fake@example.org": "protected_name", "cyrillic@example.org": "mixed_script", "g@example.org": ""}
    assert public_count(open_letter) == 1


def test_the_outcomes_say_what_became_of_each_row(open_letter, organizer, start):
    from importing.selectors import import_outcomes
    from registry.protected import protected_name_add

    protected_name_add(name="Katie Moussouris")
    signed(open_letter, name="Grace Hopper", email="grace@example.org")
    imp = upload(open_letter, organizer).signature_import
    assert import_outcomes(imp) is None  # not run yet
    start(imp, "vouched", organizer)
    imp.refresh_from_db()
    # Ada, Alan and Katie added (Katie held: a protected name); Grace had signed; Ada Again repeats Ada; Bad Row.
    assert import_outcomes(imp) == {
        "created": 3,
        "held": 1,
        "already_signed": 2,
        "invited": 0,
        "not_invited": 0,
        "invalid": 1,
    }


def test_the_bulk_matcher_agrees_with_protected_name_match(db):
    from registry.protected import protected_name_add, protected_name_match, protected_name_matcher

    for name in ("Katie Moussouris", "Katherine Johnson", "Jen Easterly"):
        protected_name_add(name=name)
    match = protected_name_matcher()
    for name in (
        "Katie Moussouris",
        "Moussouris, Katie",
        "Dr. Katie Moussouris",
        "Kate Johnson",
        "Katie Mousouris",
        "Easterly Jen",
        "Grace Hopper",
        "Кatie Ⅿoussouris",
        "",
    ):
        assert match(name) == protected_name_match(name), name


def test_a_vouched_import_looks_for_duplicate_people_once_it_has_run(open_letter, organizer, start):
    from registry.models import DedupScan, DuplicateCandidate

    signed(
        open_letter, name="Katherine Moussouris", email="katie@lutasecurity.example", organization_name="Luta Security"
    )
    data = b"name,email,organization\nKatie Moussouris,k.moussouris@example.org,Luta Security\n"
    imp = upload(open_letter, organizer, data=data).signature_import
    start(imp, "vouched", organizer)
    assert DedupScan.objects.count() == 1
    pair = DuplicateCandidate.objects.get()
    assert {pair.person_a.display_name, pair.person_b.display_name} == {"Katherine Moussouris", "Katie Moussouris"}


def test_organizer_vouched_and_invited_signatures_are_not_counted_as_verified(open_letter, organizer, start):
    from django.utils import timezone

    from importing.invitations import invitation_sign, signer_invitation_create
    from letters.selectors import letter_stats
    from letters.withheld import withheld_label

    imp = upload(open_letter, organizer).signature_import
    start(imp, "vouched", organizer)
    issued = signer_invitation_create(letter=open_letter, name="Invited One", email="one@example.net", actor=organizer)
    invitation_sign(token=issued.token, name="Invited One")
    stats = letter_stats(letter=open_letter, as_of=timezone.now())  # the history up to now (a fold leaves out 1 s)
    assert (stats["by_level"].get("vouched"), stats["by_level"].get("invited"), stats["verified"]) == (4, 1, 0)
    assert withheld_label(count=2, level="vouched", organization="Adobe") == (
        "2 organizer-vouched Adobe signers, names withheld"
    )
    assert withheld_label(count=1, level="domain", organization=None) == "1 verified signer, name withheld"

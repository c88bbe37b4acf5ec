"""Export lines (PostgreSQL): the CSV line of every public signature, kept by triggers through every kind of change,
always byte-identical to the Python export, and read by the CSV export."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from letters.demo import DEMO_SLUG
from letters.exports import export_csv, export_csv_copy, export_lines_differences, export_lines_rebuild
from letters.models import ExportLine, Letter, LetterVersion, Signature, VerificationRecord
from letters.selectors import letter_signatures_public
from letters.services.signing import signature_confirm, signature_withdraw
from letters.services.verification import signature_hold, signature_reject, signature_release, signature_verify_manual
from registry.merge import person_merge, person_unmerge
from registry.models import Organization
from tests.builders import signed as build_signed
from tests.concurrency import second_waits_for_first
from tests.factories import LetterFactory, OrganizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
METADATA = {"letter": "x", "exported_at": T0}


def both_exports(letter: Letter) -> tuple[bytes, bytes]:
    via_lines = b"".join(export_csv_copy(letter_id=letter.pk, metadata=METADATA))
    via_python = "".join(export_csv(rows=letter_signatures_public(letter=letter), metadata=METADATA)).encode()
    return via_lines, via_python


def assert_lines_follow(letter: Letter) -> bytes:
    via_lines, via_python = both_exports(letter)
    assert export_lines_differences() == 0
    assert via_lines == via_python
    return via_lines


def signed(letter: Letter, n: int, *, confirm: bool = True, **extra) -> Signature:
    return build_signed(
        letter, name=f"Signer {n}", email=f"s{n}@example.org", confirm=confirm, at=T0,
        confirmed_at=T0 + timedelta(minutes=n), **extra,
    )  # fmt: skip


@pytest.fixture
def demo() -> Letter:
    call_command("load_demo", stdout=io.StringIO())
    return Letter.objects.get(slug=DEMO_SLUG)


def test_a_pending_signature_has_no_line_and_confirming_adds_exactly_its_line(open_letter):
    pending = signed(open_letter, 1, confirm=False)
    assert not ExportLine.objects.exists()
    signature_confirm(signature=pending, at=T0)
    line = ExportLine.objects.get()
    assert (line.signature_id, line.letter_id, line.confirmed_at) == (pending.pk, open_letter.pk, T0)
    assert line.line == f"{pending.public_id},Signer 1,false,,,,email,email,2026-03-01T09:00:00Z,2026-03-01T09:00:00Z,1"
    assert_lines_follow(open_letter)


def test_the_triggers_keep_a_line_for_exactly_the_signatures_the_python_rule_calls_visible(demo, staff_user):
    """The trigger conditions of migration 0007 restate Signature.VISIBLE in SQL: they must agree on every state."""
    letter = demo
    pending = signed(letter, 9001, confirm=False)
    held = signature_hold(signature=signed(letter, 9002), actor=staff_user)
    withdrawn = signature_withdraw(signature=signed(letter, 9003))
    rejected = signature_reject(signature=signed(letter, 9004), reason="Fake", actor=staff_user)
    states = set(Signature.objects.filter(letter=letter).values_list("status", "hold_reason"))
    assert {("pending", ""), ("confirmed", "admin"), ("withdrawn", ""), ("rejected", "")} <= states
    lines = set(ExportLine.objects.filter(letter=letter).values_list("signature_id", flat=True))
    assert lines == set(Signature.objects.visible().filter(letter=letter).values_list("pk", flat=True))
    assert not lines & {pending.pk, held.pk, withdrawn.pk, rejected.pk}


def test_lines_follow_withdrawal_holds_verification_and_merges(demo, staff_user):
    first, second, third = Signature.objects.visible().filter(letter=demo).order_by("id")[:3]
    before = assert_lines_follow(demo)

    signature_withdraw(signature=first, at=T0)
    assert not ExportLine.objects.filter(signature=first).exists()
    signature_hold(signature=second, actor=staff_user, at=T0)
    assert not ExportLine.objects.filter(signature=second).exists()
    assert_lines_follow(demo)
    signature_release(signature=second, actor=staff_user, at=T0)
    signature_verify_manual(signature=third, evidence="Called the press office.", verifier=staff_user, at=T0)
    assert ",manual,manual,2026-03-01T09:00:00Z," in ExportLine.objects.get(signature=third).line
    after = assert_lines_follow(demo)
    assert after != before and after.count(b"\n") == before.count(b"\n") - 1

    survivor, duplicate = second.person, third.person
    person_merge(survivor=survivor, duplicate=duplicate, actor=staff_user, reason="test", at=T0)
    assert_lines_follow(demo)
    person_unmerge(duplicate=duplicate, actor=staff_user, reason="test", at=T0)
    assert_lines_follow(demo)


def test_lines_follow_organizations_verification_records_and_versions(open_letter):
    org = OrganizationFactory(name="Adobe", slug="adobe", status="reviewed")
    signature = signed(open_letter, 1, organization_name="Adobe Inc")
    Signature.objects.filter(pk=signature.pk).update(organization=org)
    assert ",Adobe,adobe," in ExportLine.objects.get().line

    org.name, org.slug = 'Adobe, "Systems"', "adobe-systems"
    org.save()
    assert ',"Adobe, ""Systems""",adobe-systems,' in ExportLine.objects.get().line
    Organization.objects.filter(pk=org.pk).update(status="candidate")
    assert ",Adobe Inc,,email," in ExportLine.objects.get().line
    assert_lines_follow(open_letter)

    record = VerificationRecord.objects.create(signature=signature, level="domain", method="domain", verified_at=T0)
    Signature.objects.filter(pk=signature.pk).update(verification=record, verification_level="domain")
    VerificationRecord.objects.filter(pk=record.pk).update(verified_at=T0 + timedelta(microseconds=250000))
    assert ",domain,domain,2026-03-01T09:00:00.25Z," in ExportLine.objects.get().line
    LetterVersion.objects.filter(pk=signature.version_id).update(number=7, kind="editorial")
    assert ExportLine.objects.get().line.endswith(",7")
    assert_lines_follow(open_letter)

    unverified = signed(open_letter, 2)
    assert ExportLine.objects.count() == 2
    Signature.objects.filter(pk=unverified.pk).delete()
    assert list(ExportLine.objects.values_list("signature_id", flat=True)) == [signature.pk]


def test_text_a_spreadsheet_or_copy_could_misread_is_kept_byte_for_byte(open_letter):
    # "car\rriage" pins Python 3.11's csv quoting (3.13 quotes a carriage return; this test would then say so).
    odd = ["=SUM(A1)", "back\\slash", "two\nlines", "tab\there", "-1", "@x", 'say "hi", ok', "naïve 名前", "car\rriage"]
    for n, text in enumerate(odd):
        signature = signed(open_letter, n)  # as an admin could type it; the sign form refuses most of these
        Signature.objects.filter(pk=signature.pk).update(name=text, title=text, organization_name=text)
    exported = assert_lines_follow(open_letter).decode()
    assert "'=SUM(A1)" in exported and "back\\slash" in exported and '"two\nlines"' in exported
    assert "tab\there" in exported and "'-1" in exported and '"say ""hi"", ok"' in exported
    assert "naïve 名前" in exported


def test_only_the_letters_own_lines_in_signing_order():
    letter, other = LetterFactory(status="open"), LetterFactory(status="open")
    late = signed(letter, 2)
    early = signed(letter, 1)
    signed(other, 3)
    Signature.objects.filter(pk=late.pk).update(confirmed_at=T0 + timedelta(days=1))
    rows = assert_lines_follow(letter).decode().splitlines()[2:]
    assert [row.split(",")[0] for row in rows] == [early.public_id, late.public_id]


def test_rebuild_repairs_lines_and_check_reports_drift(demo):
    with connection.cursor() as cursor:  # drift that only a bug or a manual edit could cause
        cursor.execute("SELECT min(signature_id), max(signature_id) FROM letters_exportline")
        first, last = cursor.fetchone()
        cursor.execute("UPDATE letters_exportline SET line = 'tampered' WHERE signature_id = %s", [first])
        cursor.execute("DELETE FROM letters_exportline WHERE signature_id = %s", [last])
    assert export_lines_differences() == 2
    with pytest.raises(CommandError, match="2 export lines differ"):
        call_command("rebuild_export_lines", "--check", stdout=io.StringIO())
    out = io.StringIO()
    call_command("rebuild_export_lines", "--letter", DEMO_SLUG, stdout=out)
    public = Signature.objects.filter(letter=demo, status="confirmed", hold_reason="").count()
    assert out.getvalue() == f"Rebuilt {public} export lines of {DEMO_SLUG}.\n"
    assert export_lines_differences() == 0
    assert export_lines_rebuild() == public
    call_command("rebuild_export_lines", "--check", stdout=out)
    assert out.getvalue().endswith("Export lines match their source.\n")


@pytest.mark.django_db(transaction=True)
def test_a_rename_racing_a_signer_going_public_leaves_no_stale_line():
    """The rename holds its transaction open while one of its signers becomes public: that write waits for the
    rename's commit and then renders the new name (without the lock it would render the old one)."""
    letter = LetterFactory(status="open")
    org = OrganizationFactory(name="Old Name", slug="org", status="reviewed")
    pending = signed(letter, 1, confirm=False)
    Signature.objects.filter(pk=pending.pk).update(organization=org)
    assert second_waits_for_first(
        lambda: Organization.objects.filter(pk=org.pk).update(name="New Name"),
        lambda: Signature.objects.filter(pk=pending.pk).update(status="confirmed", confirmed_at=T0),
    )
    assert ",New Name,org," in ExportLine.objects.get(signature=pending).line
    assert export_lines_differences() == 0


@pytest.mark.django_db(transaction=True)
def test_a_rename_racing_a_signer_moving_away_leaves_no_stale_line():
    """A signer moves from one organization to another in an open transaction while the first is renamed: the
    rename waits for the move's commit and then leaves the signer's line alone (without the lock on the old
    organization it would overwrite the line with the old organization's new name)."""
    letter = LetterFactory(status="open")
    old = OrganizationFactory(name="Old Org", slug="old-org", status="reviewed")
    new = OrganizationFactory(name="New Org", slug="new-org", status="reviewed")
    signature = signed(letter, 1)
    Signature.objects.filter(pk=signature.pk).update(organization=old)
    assert second_waits_for_first(
        lambda: Signature.objects.filter(pk=signature.pk).update(organization=new),
        lambda: Organization.objects.filter(pk=old.pk).update(name="Old Org Renamed"),
    )
    assert ",New Org,new-org," in ExportLine.objects.get(signature=signature).line
    assert export_lines_differences() == 0


def test_a_sweep_and_its_restore_refresh_lines_in_one_statement_and_leave_the_trigger_on_afterwards(open_letter):
    from django.db import transaction

    from letters.services.sweeps import signatures_reject_bulk, signatures_restore_bulk

    signatures = [build_signed(open_letter, email=f"s{n}@example.org", name=f"Swept {n}") for n in range(4)]
    before = assert_lines_follow(open_letter)
    with transaction.atomic():
        swept = signatures_reject_bulk(
            signature_ids=[s.pk for s in signatures[:3]], reason="Bots", public_reason="", actor=None, at=T0, data={}
        )
        # Still in the sweep's transaction, the trigger is back for every other change.
        signature_withdraw(signature=signatures[3])
        assert not ExportLine.objects.filter(signature_id=signatures[3].pk).exists()
    assert ExportLine.objects.filter(letter_id=open_letter.pk).count() == 0
    assert_lines_follow(open_letter)
    with transaction.atomic():
        assert sorted(signatures_restore_bulk(swept=swept, actor=None, at=T0, data={})) == [
            s.pk for s in signatures[:3]
        ]
    restored = assert_lines_follow(open_letter)
    assert restored.count(b"\n") == before.count(b"\n") - 1  # all but the withdrawn one
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('letters.export_lines', true)")
        assert cursor.fetchone()[0] in (None, "")


def test_inside_export_lines_deferred_the_row_trigger_skips_and_the_block_end_refreshes(open_letter):
    from django.db import transaction

    from letters.exports import export_lines_deferred

    signature = build_signed(open_letter, email="deferred@example.org")
    with transaction.atomic():
        with export_lines_deferred(signature_ids=[signature.pk]):
            Signature.objects.filter(pk=signature.pk).update(status=Signature.Status.REJECTED)
            assert ExportLine.objects.filter(signature_id=signature.pk).exists()  # the trigger left it
        assert not ExportLine.objects.filter(signature_id=signature.pk).exists()  # the refresh removed it
        with export_lines_deferred(signature_ids=[signature.pk]):
            Signature.objects.filter(pk=signature.pk).update(status=Signature.Status.CONFIRMED)
        assert ExportLine.objects.filter(signature_id=signature.pk).exists()
    assert_lines_follow(open_letter)

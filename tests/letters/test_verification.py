import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings

from letters.models import OutboxMessage, Signature, SignatureEvent, VerificationLevel, VerificationRecord
from letters.services.emails import email_compose
from letters.services.signing import signature_confirm, signature_create
from letters.services.verification import (
    VerificationError,
    signature_hold,
    signature_reject,
    signature_release,
    signature_verify_manual,
)
from registry.models import AuditEvent, ProtectedName
from registry.protected import protected_name_add, protected_name_match
from tests.builders import public_count
from tests.factories import SignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def protected(db):
    return protected_name_add(name="Maximilian Thornbury", note="Famous CEO look-alike target")


def test_protected_name_add_stores_the_skeleton_once(protected):
    again = protected_name_add(name="MAXIMILIAN THORNBURY")
    assert again == protected
    assert protected.skeleton == "maximilian thombury"  # "rn" reads as "m"
    assert ProtectedName.objects.count() == 1


@pytest.mark.parametrize(
    "name",
    [
        "Maximilian Thornbury",
        "Мaximilian Thornbury",  # Cyrillic М
        "Maximilian Thοrnbury",  # Greek ο
        "Dr. Maximilian Thornbury",
        "Thornbury, Maximilian",
        "Thornbury Maximilian",
        "Maximilian J. Thornbury",
        "Maxímilian Thórnbury",
        "Maximilian Thombury",  # rn → m
        "Max1m1l1an Thornbury",  # digit one for i
        "M4ximilian Th0rnbury",  # 4 for a, 0 for o
        "Maximi|ian Thornbury",  # a bar for l
    ],
)
def test_look_alikes_of_a_protected_name_match_it(protected, name):
    assert protected_name_match(name) == protected


def test_nickname_variants_of_a_protected_name_match_it():
    katherine = protected_name_add(name="Katherine Vandermolen")
    assert protected_name_match("Katie Vandermolen") == katherine
    assert protected_name_match("Vandermolen, Kate") == katherine


@pytest.mark.parametrize(
    "name",
    [
        "Maximilian Thornberry",
        "Max Thornton",
        "Maximilian",
        "Ada Lovelace",
        "Maximilian Thornbury 2nd",
        "Maximilian Thornbury-1",  # a number of its own is not read as letters
    ],
)
def test_other_names_do_not_match(protected, name):
    assert protected_name_match(name) is None


def test_confusable_impersonation_is_held_and_not_public(sign, protected):
    signature = sign("Мaximilian Thornbury", "max@gmail.com", title="Engineer")
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.hold_reason == Signature.HoldReason.PROTECTED_NAME
    assert signature.is_visible is False
    assert public_count(signature.letter) == 0
    confirmed = SignatureEvent.objects.get(signature=signature, kind=SignatureEvent.Kind.CONFIRMED)
    assert (confirmed.visible_before, confirmed.visible_after) == (False, False)
    assert AuditEvent.objects.get(action="letters.signature.confirmed").data == {"hold_reason": "protected_name"}


def test_mixed_script_name_is_flagged(sign):
    signature = sign("Jοhn Carpenter", "jc@example.org")  # Greek ο, no protected name involved
    assert signature.hold_reason == Signature.HoldReason.MIXED_SCRIPT


def test_ordinary_signer_is_public_at_email_level(sign):
    signature = sign("Ada Lovelace", "ada@example.org", title="Engineer", organization="Analytical Engines")
    assert signature.is_visible
    assert signature.verification_level == VerificationLevel.EMAIL
    assert signature.verification is None


@pytest.mark.parametrize("title", ["CEO", "Co-Founder", "Director of Security", "Vice President, Engineering"])
def test_senior_title_at_an_organization_the_email_does_not_prove_is_held(sign, nvidia, title):
    signature = sign("Ada Lovelace", "ada@gmail.com", title=title, organization="NVIDIA Corporation")
    assert signature.organization == nvidia
    assert signature.hold_reason == Signature.HoldReason.SENIOR_TITLE
    assert signature.verification_level == VerificationLevel.EMAIL


def test_senior_title_proven_by_a_verified_domain_is_public_at_domain_level(sign, nvidia):
    signature = sign("Ada Lovelace", "ada@nvidia.com", title="CEO", organization="Nvidia Corp")
    signature.refresh_from_db()
    assert signature.hold_reason == ""
    assert signature.is_visible
    assert signature.verification_level == VerificationLevel.DOMAIN
    record = signature.verification
    assert (record.method, record.level, record.signature) == ("domain", "domain", signature)
    assert "nvidia.com" in record.evidence


@override_settings(SENIOR_TITLE_WORDS=["overlord"])
def test_senior_title_words_are_configurable(sign):
    assert sign("Ada Lovelace", "a@gmail.com", title="CEO", organization="X").hold_reason == ""
    assert sign("Bob Lovelace", "b@gmail.com", title="Supreme Overlord", organization="X").hold_reason == "senior_title"


def test_holding_never_changes_what_the_signer_is_told(open_letter, protected):
    """A held and an ordinary signer get the same emails (apart from their name and links) and nothing more."""

    def journey(name: str, email: str) -> list[tuple[str, str, str]]:
        first = signature_create(letter=open_letter, name=name, email=email, check_rate_limits=False)
        signature = signature_confirm(signature=first.signature)
        again = signature_create(letter=open_letter, name=name, email=email, check_rate_limits=False)
        assert (first.outcome, again.outcome) == ("created", "already_signed")
        messages = OutboxMessage.objects.filter(signature=signature).order_by("id")
        return signature, [(m.kind, m.subject, _strip_links(m.body_text.replace(name, "NAME"))) for m in messages]

    held, held_mail = journey("Мaximilian Thornbury", "held@example.org")
    plain, plain_mail = journey("Ordinary Person", "plain@example.org")
    assert held.is_held and not plain.is_held
    assert [kind for kind, _, _ in held_mail] == [OutboxMessage.Kind.CONFIRM, OutboxMessage.Kind.ALREADY_SIGNED]
    assert held_mail == plain_mail


def _strip_links(text: str) -> str:
    import re

    return re.sub(r"/(confirm|withdraw)/[^/\s]+/", r"/\1/TOKEN/", text)


def test_manual_verification_records_evidence_and_releases_the_hold(sign, protected, staff_user):
    signature = sign("Maximilian Thornbury", "max@example.org")
    verified = signature_verify_manual(
        signature=signature,
        method="manual",
        evidence="Confirmed by phone via the company's published number",
        evidence_url="https://example.org/press",
        verifier=staff_user,
    )
    assert verified.is_visible
    assert verified.verification_level == VerificationLevel.MANUAL
    record = VerificationRecord.objects.get(signature=signature)
    assert (record.method, record.evidence_url, record.verifier) == (
        "manual",
        "https://example.org/press",
        staff_user,
    )
    assert verified.verification == record
    event = SignatureEvent.objects.get(signature=signature, kind=SignatureEvent.Kind.VERIFIED)
    assert (event.visible_before, event.visible_after, event.level_before, event.level_after) == (
        False,
        True,
        "email",
        "manual",
    )
    assert event.actor == staff_user
    assert public_count(signature.letter) == 1


def test_invited_level_is_backed_by_an_invitation_record(sign):
    signature = sign("Ada Lovelace", "ada@example.org")
    signature_verify_manual(signature=signature, method="invited", evidence="Invited by the organizers")
    signature.refresh_from_db()
    assert signature.verification_level == VerificationLevel.INVITED
    assert signature.verification.method == "invited"


def test_manual_verification_needs_evidence_and_a_confirmed_signature(sign, open_letter):
    signature = sign("Ada Lovelace", "ada@example.org")
    with pytest.raises(VerificationError):
        signature_verify_manual(signature=signature, method="manual", evidence="   ")
    pending = SignatureFactory(letter=open_letter)
    with pytest.raises(VerificationError):
        signature_verify_manual(signature=pending, method="manual", evidence="phone call")
    assert VerificationRecord.objects.count() == 0


@pytest.mark.parametrize("level", ["domain", "manual", "invited"])
def test_a_level_above_email_without_its_record_is_refused_by_the_database(open_letter, level):
    signature = SignatureFactory(letter=open_letter)
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.filter(pk=signature.pk).update(verification_level=level)
    signature.refresh_from_db()
    assert signature.verification_level == VerificationLevel.NONE


def test_reject_removes_from_public_with_a_private_reason(sign, staff_user):
    signature = sign("Ada Lovelace", "ada@example.org")
    assert public_count(signature.letter) == 1
    rejected = signature_reject(
        signature=signature,
        reason="Impersonation reported by her employer",
        public_reason="Not verified",
        actor=staff_user,
    )
    assert rejected.status == Signature.Status.REJECTED
    assert rejected.rejection_reason == "Impersonation reported by her employer"
    assert public_count(signature.letter) == 0
    event = SignatureEvent.objects.get(signature=signature, kind=SignatureEvent.Kind.REJECTED)
    assert (event.visible_before, event.visible_after) == (True, False)
    assert event.data == {"public_reason": "Not verified"}  # the private reason stays out of public history
    removed = SignatureEvent.objects.filter(
        letter=signature.letter, kind=SignatureEvent.Kind.REJECTED, visible_before=True
    ).count()
    assert removed == 1
    audit = AuditEvent.objects.get(action="letters.signature.rejected")
    assert audit.data["reason"] == "Impersonation reported by her employer"


def test_reject_needs_a_reason_and_a_live_signature(sign):
    signature = sign("Ada Lovelace", "ada@example.org")
    with pytest.raises(VerificationError):
        signature_reject(signature=signature, reason="")
    signature_reject(signature=signature, reason="spam")
    with pytest.raises(VerificationError):
        signature_reject(signature=signature, reason="spam again")
    assert SignatureEvent.objects.filter(kind=SignatureEvent.Kind.REJECTED).count() == 1


def test_hold_and_release_move_the_signature_out_of_and_back_into_public_view(sign, staff_user):
    signature = sign("Ada Lovelace", "ada@example.org")
    signature_hold(signature=signature, actor=staff_user)
    signature.refresh_from_db()
    assert (signature.hold_reason, signature.is_visible) == ("admin", False)
    assert public_count(signature.letter) == 0
    signature_hold(signature=signature)  # holding twice records nothing more
    signature_release(signature=signature, actor=staff_user)
    signature.refresh_from_db()
    assert signature.is_visible
    assert signature.verification_level == VerificationLevel.EMAIL
    assert public_count(signature.letter) == 1
    kinds = list(SignatureEvent.objects.filter(signature=signature).values_list("kind", flat=True))
    assert kinds == ["created", "confirmed", "held", "released"]


def test_a_name_protected_later_holds_matching_public_signatures_not_hand_verified_ones(sign, staff_user):
    from registry.protected import protected_name_save

    impostor = sign("Thornbury, Maximilian", "max1@gmail.com")
    checked = sign("Maximilian Thornbury", "max2@example.org")
    signature_verify_manual(signature=checked, method="manual", evidence="Video call")
    bystander = sign("Maximilian Thornton", "max3@example.org")
    letter = impostor.letter
    assert public_count(letter) == 3

    held = protected_name_save(protected=ProtectedName(name="Maximilian Thornbury"), actor=staff_user)

    assert held == 1
    impostor.refresh_from_db(), checked.refresh_from_db(), bystander.refresh_from_db()
    assert (impostor.hold_reason, checked.hold_reason, bystander.hold_reason) == ("protected_name", "", "")
    assert public_count(letter) == 2
    assert ProtectedName.objects.get().skeleton == "maximilian thombury"
    assert AuditEvent.objects.filter(action="registry.protected_name.added", actor=staff_user).exists()


def test_admin_adds_a_protected_name_through_the_service(staff_client, sign):
    from django.urls import reverse

    sign("Мaximilian Thornbury", "max@gmail.com")  # mixed script: already held
    sign("Maximilian Thornbury", "max2@gmail.com")
    url = reverse("admin:registry_protectedname_add")
    response = staff_client.post(url, {"name": "Maximilian Thornbury", "note": "CEO"}, follow=True)
    assert response.status_code == 200
    assert "1 public signature(s) matching this name are now held" in response.content.decode()
    assert ProtectedName.objects.get().skeleton == "maximilian thombury"
    clash = staff_client.post(url, {"name": "Maximilian Thombury", "note": ""})
    assert clash.status_code == 200
    assert clash.context["adminform"].form.errors == {
        "name": ["This name looks the same as the protected name Maximilian Thornbury."]
    }
    assert ProtectedName.objects.count() == 1


def test_held_signer_gets_the_same_confirmation_answer_as_anyone(client, open_letter, protected):
    import re

    def confirm(name: str, email: str) -> dict:
        result = signature_create(letter=open_letter, name=name, email=email, check_rate_limits=False)
        assert OutboxMessage.objects.filter(signature=result.signature, kind="confirm").exists()
        body = email_compose(signature=result.signature, kind="confirm").text  # as the outbox sender renders it
        token = re.search(r"/confirm/([^/\s]+)/", body).group(1)
        response = client.post("/api/v1/signatures/confirm/", {"token": token}, content_type="application/json")
        assert response.status_code == 200
        data = response.json()
        data["verification"].pop("verified_at")
        return {key: value for key, value in data.items() if key not in ("id", "name", "signed_at")}

    held = confirm("Мaximilian Thornbury", "held@example.org")
    plain = confirm("Ordinary Person", "plain@example.org")
    assert Signature.objects.get(email_key="held@example.org").hold_reason == "protected_name"
    assert held == plain

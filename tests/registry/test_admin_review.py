import pytest
from django.urls import reverse

from letters.models import Signature, VerificationRecord
from registry.models import DedupScan, DuplicateCandidate, Organization, OrganizationAlias, OrganizationDomain, Person
from registry.protected import protected_name_add
from registry.services import organization_link
from tests.factories import PersonEmailFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(sign):
    protected_name_add(name="Maximilian Thornbury")
    return sign("Мaximilian Thornbury", "max@gmail.com", title="CEO", organization="Thornbury Holdings")


@pytest.fixture
def candidate():
    a = PersonFactory(display_name="Katherine Lindqvist")
    b = PersonFactory(display_name="Katie Lindqvist")
    PersonEmailFactory(person=a, email="k.lindqvist@adobe.example", email_key="k.lindqvist@adobe.example")
    return DuplicateCandidate.objects.create(
        person_a=a, person_b=b, score=0.97, reasons=["Katherine ≈ Katie (nickname or spelling)", "surname identical"]
    )


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_verification_queue_lists_held_signatures_only(staff_client, held, sign):
    sign("Ada Lovelace", "ada@example.org")
    response = staff_client.get(changelist(Signature), {"queue": "held"})
    assert response.status_code == 200
    names = [s.name for s in response.context["cl"].result_list]
    assert names == ["Мaximilian Thornbury"]
    pending_manual = staff_client.get(changelist(Signature), {"queue": "manual"}).context["cl"].result_list
    assert {s.name for s in pending_manual} == {"Мaximilian Thornbury", "Ada Lovelace"}


def test_verify_with_evidence_form_releases_the_hold(staff_client, held, staff_user):
    url = reverse("admin:letters_signature_verify", args=[held.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    assert "Мaximilian Thornbury" in page.content.decode()
    response = staff_client.post(url, {"method": "manual", "evidence": "Phone call to the published number"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.is_visible, held.verification_level) == (True, "manual")
    assert VerificationRecord.objects.get(signature=held).verifier == staff_user


def test_verify_form_without_evidence_shows_errors_and_stores_nothing(staff_client, held):
    response = staff_client.post(reverse("admin:letters_signature_verify", args=[held.pk]), {"method": "manual"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"evidence": ["This field is required."]}
    assert VerificationRecord.objects.count() == 0


def test_reject_with_reason_form(staff_client, held):
    response = staff_client.post(
        reverse("admin:letters_signature_reject", args=[held.pk]), {"reason": "Impersonation", "public_reason": ""}
    )
    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.status, held.rejection_reason) == ("rejected", "Impersonation")


def test_bulk_release_and_reject_actions(staff_client, held, sign):
    other = sign("Ada Lovelace", "ada@example.org")
    Signature.objects.filter(pk=other.pk).update(hold_reason="admin")
    page = staff_client.post(
        changelist(Signature), {"action": "release_holds", "_selected_action": [held.pk, other.pk]}, follow=True
    )
    held.refresh_from_db()
    other.refresh_from_db()
    assert (held.hold_reason, held.is_visible, other.hold_reason, other.is_visible) == (
        "protected_name",
        False,
        "",
        True,
    )
    assert "1 held as a possible impersonation: verify them with evidence, or reject them." in page.content.decode()
    staff_client.post(changelist(Signature), {"action": "reject_as_spam", "_selected_action": [held.pk, other.pk]})
    assert set(Signature.objects.values_list("status", flat=True)) == {"rejected"}


def test_duplicate_queue_shows_a_side_by_side_comparison_with_reasons(staff_client, candidate):
    listing = staff_client.get(changelist(DuplicateCandidate))
    assert listing.status_code == 200
    assert "Katherine ≈ Katie (nickname or spelling); surname identical" in listing.content.decode()
    page = staff_client.get(reverse("admin:registry_duplicatecandidate_change", args=[candidate.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    for text in ["Side by side", "Katherine Lindqvist", "Katie Lindqvist", "k.lindqvist@adobe.example"]:
        assert text in body
    assert '<tr><td>surname identical</td><td style="text-align:right">—</td></tr>' in body  # written before weights


def test_duplicate_page_shows_each_piece_of_evidence_with_its_weight(staff_client):
    candidate = DuplicateCandidate.objects.create(
        person_a=PersonFactory(),
        person_b=PersonFactory(),
        score=0.98,
        reasons=[
            "given name katherine ≈ katie (nickname) (+5.6)",
            "same organization Adobe (+6.2)",
            "total +18.7 (threshold +11.5)",
        ],
    )
    body = staff_client.get(reverse("admin:registry_duplicatecandidate_decide", args=[candidate.pk])).content.decode()
    for evidence, weight in [
        ("given name katherine ≈ katie (nickname)", "+5.6"),
        ("same organization Adobe", "+6.2"),
        ("total +18.7 (threshold +11.5)", "—"),
    ]:
        assert f'<tr><td>{evidence}</td><td style="text-align:right">{weight}</td></tr>' in body
    assert "match probability 0.98" in body


def test_duplicate_queue_merge_and_dismiss_actions(staff_client, candidate):
    other = DuplicateCandidate.objects.create(person_a=PersonFactory(), person_b=PersonFactory(), score=0.9)
    staff_client.post(changelist(DuplicateCandidate), {"action": "merge_selected", "_selected_action": [candidate.pk]})
    staff_client.post(changelist(DuplicateCandidate), {"action": "dismiss_selected", "_selected_action": [other.pk]})
    candidate.refresh_from_db(), other.refresh_from_db()
    assert (candidate.status, other.status) == ("merged", "dismissed")
    assert Person.objects.get(pk=candidate.person_b_id).merged_into_id == candidate.person_a_id


def test_run_duplicate_scan_action_starts_a_scan_with_visible_progress(
    staff_client, django_capture_on_commit_callbacks
):
    PersonFactory(display_name="Robert Tables")
    person = PersonFactory(display_name="Robert Tabels")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            changelist(Person), {"action": "start_duplicate_scan", "_selected_action": [person.pk]}, follow=True
        )
    assert "Scan started" in response.content.decode()
    scan = DedupScan.objects.get()
    assert (scan.status, scan.chunks_done, scan.chunks_total, scan.candidates_found) == ("done", 8, 8, 1)
    listing = staff_client.get(changelist(DedupScan)).content.decode()
    assert "done" in listing.lower()


def test_organization_review_links_a_candidate_into_an_organization(staff_client, nvidia):
    candidate = organization_link(name="Nvidia Research GmbH")
    url = reverse("admin:registry_organization_link", args=[candidate.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    assert "Nvidia Research GmbH" in page.content.decode()
    response = staff_client.post(url, {"organization": nvidia.pk})
    assert response.status_code == 302
    assert not Organization.objects.filter(pk=candidate.pk).exists()
    assert OrganizationAlias.objects.get(name_key="nvidia research").organization == nvidia


def test_organization_review_adds_alias_and_domain(staff_client, nvidia):
    url = reverse("admin:registry_organization_extend", args=[nvidia.pk])
    assert "NVIDIA Corporation" in staff_client.get(url).content.decode()
    response = staff_client.post(url, {"alias": "Nvidia Deutschland GmbH", "domain": "NVIDIA.de"})
    assert response.status_code == 302
    assert OrganizationAlias.objects.filter(name_key="nvidia deutschland", organization=nvidia).exists()
    assert OrganizationDomain.objects.get(domain="nvidia.de").verified


def test_approve_candidates_bulk_action(staff_client):
    candidate = organization_link(name="Tiny Startup")
    staff_client.post(changelist(Organization), {"action": "approve_candidates", "_selected_action": [candidate.pk]})
    candidate.refresh_from_db()
    assert candidate.status == Organization.Status.REVIEWED
    listing = staff_client.get(changelist(Organization), {"status": "reviewed"})
    assert listing.status_code == 200


def test_unmerge_action_restores_a_merged_person(staff_client, candidate):
    staff_client.post(changelist(DuplicateCandidate), {"action": "merge_selected", "_selected_action": [candidate.pk]})
    duplicate = candidate.person_b
    staff_client.post(changelist(Person), {"action": "unmerge_selected", "_selected_action": [duplicate.pk]})
    duplicate.refresh_from_db()
    candidate.refresh_from_db()
    assert duplicate.merged_into is None
    assert candidate.status == "open"


def test_needs_review_queue_has_held_then_email_only_and_not_verified_ones(staff_client, held, sign, nvidia):
    from letters.selectors import verification_queue

    plain = sign("Ada Lovelace", "ada@example.org")
    sign("Grace Hopper", "grace@nvidia.com", organization="Nvidia")  # domain-verified: nothing to review
    assert list(verification_queue()) == [held, plain]
    listing = staff_client.get(changelist(Signature), {"queue": "review"}).context["cl"].result_list
    assert {s.name for s in listing} == {held.name, plain.name}


def test_decide_page_compares_side_by_side_and_merges_with_a_reason(staff_client, candidate, staff_user):
    from registry.models import AuditEvent

    url = reverse("admin:registry_duplicatecandidate_decide", args=[candidate.pk])
    page = staff_client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    for text in ["Katherine Lindqvist", "Katie Lindqvist", "surname identical", "Merge: B into A"]:
        assert text in body
    response = staff_client.post(url, {"decision": "merge", "reason": "Same Adobe engineer"})
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == "merged"
    assert AuditEvent.objects.get(action="registry.person.merged").data["reason"] == "Same Adobe engineer"
    again = staff_client.post(url, {"decision": "merge"})
    assert again.status_code == 200
    assert "already merged" in again.content.decode()


def test_decide_page_dismisses_and_ignores_unknown_decisions(staff_client, candidate):
    url = reverse("admin:registry_duplicatecandidate_decide", args=[candidate.pk])
    assert staff_client.post(url, {"decision": "explode"}).status_code == 200
    candidate.refresh_from_db()
    assert candidate.status == "open"
    assert staff_client.post(url, {"decision": "dismiss"}).status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == "dismissed"

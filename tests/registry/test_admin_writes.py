"""The registry admin writes only through services (each write audited) and shows the rest read-only."""

import pytest
from django.urls import reverse

from letters.counts import letter_count_rebuild
from letters.models import SignatureEvent, VerificationLevel, VerificationRecord
from registry.merge import person_merge
from registry.models import (
    Affiliation,
    AuditEvent,
    DuplicateCandidate,
    Organization,
    OrganizationAlias,
    OrganizationDomain,
    Person,
    PersonEmail,
)
from registry.services import organization_link, person_name_fields
from tests.builders import past_the_margin
from tests.factories import OrganizationFactory, PersonEmailFactory, PersonFactory

pytestmark = pytest.mark.django_db


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def form_data(response) -> dict:
    """What a browser posts back from an admin change page: the form's and every inline's values, management forms
    included."""
    data: dict = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def inline_add(data: dict, prefix: str, **fields) -> dict:
    """Append one new inline row to posted data."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = index + 1
    data.update({f"{prefix}-{index}-{name}": value for name, value in fields.items()})
    return data


def audit(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# People


def test_renaming_a_person_recomputes_the_name_fields_and_is_audited(staff_client, staff_user):
    person = PersonFactory(display_name="Katie Lindqvist")
    PersonEmailFactory(person=person)
    Affiliation.objects.create(person=person, organization_name="Adobe", title="Engineer")
    change = url(Person, "change", person.pk)
    data = form_data(staff_client.get(change))
    data["display_name"] = "Katherine Lindqvist"
    response = staff_client.post(change, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    person.refresh_from_db()
    fields = person_name_fields("Katherine Lindqvist")
    assert {name: getattr(person, name) for name in fields} == fields
    assert person.name_key != "katie lindqvist"
    (renamed,) = audit("registry.person.renamed")
    assert (renamed.target_id, renamed.actor, renamed.data) == (
        str(person.pk),
        staff_user,
        {"from": "Katie Lindqvist", "to": "Katherine Lindqvist"},
    )


def test_saving_a_person_unchanged_writes_nothing(staff_client):
    person = PersonFactory(display_name="Ada Lovelace")
    change = url(Person, "change", person.pk)
    assert staff_client.post(change, form_data(staff_client.get(change))).status_code == 302
    assert audit("registry.person.renamed") == []


def test_merged_into_cannot_be_set_in_the_person_form(staff_client):
    person, other = PersonFactory(), PersonFactory()
    change = url(Person, "change", person.pk)
    page = staff_client.get(change)
    assert "merged_into" not in page.context["adminform"].form.fields
    data = {**form_data(page), "merged_into": other.pk}
    assert staff_client.post(change, data).status_code == 302
    person.refresh_from_db()
    assert person.merged_into_id is None
    assert not AuditEvent.objects.filter(action="registry.person.merged").exists()


def test_a_merged_person_shows_its_survivor_read_only(staff_client, staff_user):
    survivor, duplicate = PersonFactory(), PersonFactory()
    person_merge(survivor=survivor, duplicate=duplicate, actor=staff_user)
    page = staff_client.get(url(Person, "change", duplicate.pk))
    assert page.status_code == 200
    assert survivor.display_name in page.content.decode()


def test_person_emails_and_affiliations_are_listed_and_searchable_but_not_written(staff_client):
    email = PersonEmailFactory(email="ada@example.org", email_key="ada@example.org")
    affiliation = Affiliation.objects.create(person=email.person, organization_name="Adobe", title="Engineer")
    listing = staff_client.get(url(PersonEmail, "changelist"), {"q": "ada@"})
    assert [e.pk for e in listing.context["cl"].result_list] == [email.pk]
    for model, obj in ((PersonEmail, email), (Affiliation, affiliation)):
        view = staff_client.get(url(model, "change", obj.pk))
        assert view.status_code == 200
        assert not view.context["has_change_permission"]
        assert staff_client.post(url(model, "change", obj.pk), {"email_key": "eve@example.org"}).status_code == 403
        assert staff_client.get(url(model, "add")).status_code == 403
        assert staff_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    email.refresh_from_db()
    assert email.email_key == "ada@example.org"
    page = staff_client.get(url(Person, "change", email.person.pk))
    assert "ada@example.org" in page.content.decode()
    assert "Engineer" in page.content.decode()


def test_inline_emails_posted_with_a_person_change_nothing(staff_client):
    email = PersonEmailFactory(email="ada@example.org", email_key="ada@example.org")
    change = url(Person, "change", email.person.pk)
    data = form_data(staff_client.get(change))
    data.update({"emails-0-email_key": "eve@example.org", "emails-0-DELETE": "on"})
    inline_add(data, "emails", email="eve@example.org", email_key="eve@example.org")
    assert staff_client.post(change, data).status_code == 302
    assert list(PersonEmail.objects.values_list("email_key", flat=True)) == ["ada@example.org"]


def test_people_cannot_be_added_or_deleted_in_the_admin(staff_client):
    person = PersonFactory()
    assert staff_client.get(url(Person, "add")).status_code == 403
    assert staff_client.post(url(Person, "delete", person.pk), {"post": "yes"}).status_code == 403
    staff_client.post(url(Person, "changelist"), {"action": "delete_selected", "_selected_action": [person.pk]})
    assert Person.objects.filter(pk=person.pk).exists()


# Organizations


def test_organization_changes_go_through_organization_update_and_are_audited(staff_client, staff_user):
    organization = OrganizationFactory(name="Nvidia", slug="nvidia", name_key="nvidia")
    change = url(Organization, "change", organization.pk)
    data = {**form_data(staff_client.get(change)), "name": "NVIDIA Research", "website": "https://nvidia.com"}
    response = staff_client.post(change, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    organization.refresh_from_db()
    assert (organization.name, organization.name_key, organization.website) == (
        "NVIDIA Research",
        "nvidia research",
        "https://nvidia.com",
    )
    (changed,) = audit("registry.organization.changed")
    assert changed.actor == staff_user
    assert changed.data == {
        "changed": {
            "name": {"from": "Nvidia", "to": "NVIDIA Research"},
            "website": {"from": "", "to": "https://nvidia.com"},
        }
    }
    assert OrganizationAlias.objects.get(name_key="nvidia").organization == organization  # the old name still links


def test_slug_and_status_are_read_only_once_created(staff_client):
    candidate = organization_link(name="Tiny Startup")
    change = url(Organization, "change", candidate.pk)
    page = staff_client.get(change)
    assert {"slug", "status", "name_key"}.isdisjoint(page.context["adminform"].form.fields)
    data = {**form_data(page), "slug": "renamed", "status": "reviewed", "name_key": "other"}
    assert staff_client.post(change, data).status_code == 302
    candidate.refresh_from_db()
    assert (candidate.slug, candidate.status, candidate.name_key) == ("tiny-startup", "candidate", "tiny startup")
    assert audit("registry.organization.changed") == []


def test_an_organization_name_another_organization_has_is_refused(staff_client):
    OrganizationFactory(name="Nvidia", slug="nvidia", name_key="nvidia")
    other = OrganizationFactory(name="Adobe", slug="adobe", name_key="adobe")
    change = url(Organization, "change", other.pk)
    response = staff_client.post(change, {**form_data(staff_client.get(change)), "name": "NVIDIA Corp."})
    assert response.status_code == 200
    assert "links to Nvidia already" in str(response.context["adminform"].form.errors["name"])
    other.refresh_from_db()
    assert other.name == "Adobe"


def test_adding_an_organization_with_an_alias_and_a_domain_audits_each(staff_client, staff_user):
    add = url(Organization, "add")
    data = form_data(staff_client.get(add))
    data.update({"name": "Adobe Inc.", "slug": "adobe", "kind": "company"})
    inline_add(data, "aliases", name="Adobe Systems")
    inline_add(data, "domains", domain="ADOBE.com", verified="on")
    response = staff_client.post(add, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    organization = Organization.objects.get(slug="adobe")
    assert (organization.status, organization.name_key) == ("reviewed", "adobe")
    assert [a.target_id for a in audit("registry.organization.created")] == [str(organization.pk)]
    assert [a.data for a in audit("registry.organization.alias_added")] == [{"alias": "Adobe Systems"}]
    assert [a.data for a in audit("registry.organization.domain_added")] == [{"domain": "adobe.com", "verified": True}]
    assert OrganizationDomain.objects.get(domain="adobe.com").organization == organization


def test_inline_alias_and_domain_removal_is_audited(staff_client, nvidia):
    change = url(Organization, "change", nvidia.pk)
    data = form_data(staff_client.get(change))
    data.update({"aliases-0-DELETE": "on", "domains-0-DELETE": "on"})
    assert staff_client.post(change, data).status_code == 302
    assert not nvidia.aliases.exists() and not nvidia.domains.exists()
    assert [a.data for a in audit("registry.organization.alias_removed")] == [{"alias": "NVIDIA Corporation"}]
    assert [a.data for a in audit("registry.organization.domain_removed")] == [
        {"domain": "nvidia.com", "verified": True}
    ]


def test_existing_inline_aliases_and_domains_are_not_edited_in_place(staff_client, nvidia):
    change = url(Organization, "change", nvidia.pk)
    data = {**form_data(staff_client.get(change)), "aliases-0-name": "Evil Corp", "domains-0-domain": "evil.example"}
    assert staff_client.post(change, data).status_code == 302
    assert list(nvidia.aliases.values_list("name", flat=True)) == ["NVIDIA Corporation"]
    assert list(nvidia.domains.values_list("domain", flat=True)) == ["nvidia.com"]


def test_organizations_cannot_be_deleted_in_the_admin(staff_client, nvidia):
    assert staff_client.post(url(Organization, "delete", nvidia.pk), {"post": "yes"}).status_code == 403
    staff_client.post(url(Organization, "changelist"), {"action": "delete_selected", "_selected_action": [nvidia.pk]})
    assert Organization.objects.filter(pk=nvidia.pk).exists()


def test_approving_a_candidate_records_organization_events_and_moves_counts(staff_client, staff_user, sign):
    signature = sign("Ada Lovelace", "ada@tiny.example", organization="Tiny Startup")
    pending_letter = signature.letter
    candidate = signature.organization
    assert letter_count_rebuild(letter_id=pending_letter.pk, now=past_the_margin()).by_organization == {
        "text:Tiny Startup": 1
    }
    staff_client.post(
        url(Organization, "changelist"), {"action": "approve_candidates", "_selected_action": [candidate.pk]}
    )
    candidate.refresh_from_db()
    assert candidate.status == Organization.Status.REVIEWED
    event = SignatureEvent.objects.get(signature=signature, kind=SignatureEvent.Kind.ORGANIZATION_CHANGED)
    assert (event.organization_before, event.organization_after, event.actor) == (
        "text:Tiny Startup",
        f"org:{candidate.slug}",
        staff_user,
    )
    assert letter_count_rebuild(letter_id=pending_letter.pk, now=past_the_margin()).by_organization == {
        f"org:{candidate.slug}": 1
    }
    assert [a.target_id for a in audit("registry.organization.approved")] == [str(candidate.pk)]


def test_a_verified_domain_added_in_the_admin_proves_a_matching_confirmed_signer(staff_client, sign):
    organization = OrganizationFactory(name="Adobe", slug="adobe", name_key="adobe")
    signer = sign("Ada Lovelace", "ada@adobe.com", organization="Adobe")
    elsewhere = sign("Grace Hopper", "grace@gmail.com", organization="Adobe")
    assert signer.organization == organization and signer.verification_level == VerificationLevel.EMAIL
    change = url(Organization, "change", organization.pk)
    data = inline_add(form_data(staff_client.get(change)), "domains", domain="Adobe.com", verified="on")
    assert staff_client.post(change, data).status_code == 302
    signer.refresh_from_db(), elsewhere.refresh_from_db()
    assert (signer.verification_level, elsewhere.verification_level) == ("domain", "email")
    record = VerificationRecord.objects.get(signature=signer)
    assert (record.method, signer.verification_id) == ("domain", record.pk)


def test_domain_admin_normalizes_audits_and_removes_without_lowering_levels(staff_client, sign):
    organization = OrganizationFactory(name="Adobe", slug="adobe", name_key="adobe")
    signer = sign("Ada Lovelace", "ada@adobe.com", organization="Adobe")
    add = url(OrganizationDomain, "add")
    response = staff_client.post(add, {"organization": organization.pk, "domain": "ADOBE.COM.", "verified": "on"})
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    domain = OrganizationDomain.objects.get()
    assert (domain.domain, domain.organization, domain.verified) == ("adobe.com", organization, True)
    signer.refresh_from_db()
    assert signer.verification_level == "domain"

    change = url(OrganizationDomain, "change", domain.pk)
    data = {**form_data(staff_client.get(change)), "domain": "evil.example"}
    data.pop("verified")
    assert staff_client.post(change, data).status_code == 302
    domain.refresh_from_db()
    assert (domain.domain, domain.verified) == ("adobe.com", False)
    assert [a.data for a in audit("registry.organization.domain_added")] == [
        {"domain": "adobe.com", "verified": True},
        {"domain": "adobe.com", "verified": False},
    ]

    assert staff_client.post(url(OrganizationDomain, "delete", domain.pk), {"post": "yes"}).status_code == 302
    assert not OrganizationDomain.objects.exists()
    assert [a.data for a in audit("registry.organization.domain_removed")] == [
        {"domain": "adobe.com", "verified": False}
    ]
    signer.refresh_from_db()
    assert signer.verification_level == "domain"  # the record is history


def test_domain_admin_refuses_what_is_not_a_domain(staff_client, nvidia):
    audited = AuditEvent.objects.count()
    response = staff_client.post(url(OrganizationDomain, "add"), {"organization": nvidia.pk, "domain": "not a domain"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["domain"] == ["Enter a valid domain."]
    assert (AuditEvent.objects.count(), OrganizationDomain.objects.count()) == (audited, 1)


def test_alias_admin_adds_and_removes_through_services(staff_client, nvidia):
    response = staff_client.post(
        url(OrganizationAlias, "add"), {"organization": nvidia.pk, "name": "Nvidia Deutschland GmbH"}
    )
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    alias = OrganizationAlias.objects.get(name="Nvidia Deutschland GmbH")
    assert (alias.name_key, alias.organization) == ("nvidia deutschland", nvidia)
    assert [a.data for a in audit("registry.organization.alias_added")][-1] == {"alias": "Nvidia Deutschland GmbH"}
    assert staff_client.post(url(OrganizationAlias, "change", alias.pk), {"name": "Evil"}).status_code == 403
    selected = list(nvidia.aliases.values_list("pk", flat=True))
    staff_client.post(
        url(OrganizationAlias, "changelist"), {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    )
    assert not nvidia.aliases.exists()
    assert sorted(a.data["alias"] for a in audit("registry.organization.alias_removed")) == sorted(
        ["NVIDIA Corporation", "Nvidia Deutschland GmbH"]
    )


def test_alias_admin_refuses_an_alias_of_another_organization(staff_client, nvidia):
    adobe = OrganizationFactory(name="Adobe", slug="adobe", name_key="adobe")
    response = staff_client.post(url(OrganizationAlias, "add"), {"organization": adobe.pk, "name": "Nvidia Corp"})
    assert response.status_code == 200
    assert "links to Nvidia already" in str(response.context["adminform"].form.errors["name"])
    assert not adobe.aliases.exists()


# Duplicate candidates


def test_duplicate_candidates_are_viewed_not_edited_added_or_deleted(staff_client):
    a, b, c = PersonFactory(), PersonFactory(), PersonFactory()
    candidate = DuplicateCandidate.objects.create(person_a=a, person_b=b, score=0.9)
    change = url(DuplicateCandidate, "change", candidate.pk)
    page = staff_client.get(change)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    posted = staff_client.post(change, {"status": "dismissed", "person_a": c.pk, "person_b": c.pk})
    assert posted.status_code == 403
    assert staff_client.get(url(DuplicateCandidate, "add")).status_code == 403
    assert staff_client.post(url(DuplicateCandidate, "delete", candidate.pk), {"post": "yes"}).status_code == 403
    candidate.refresh_from_db()
    assert (candidate.status, candidate.person_a, candidate.person_b) == ("open", a, b)


def test_the_add_alias_or_domain_page_refuses_what_is_not_a_domain(staff_client, nvidia):
    response = staff_client.post(reverse("admin:registry_organization_extend", args=[nvidia.pk]), {"domain": "a b"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"domain": ["Enter a valid domain."]}
    assert list(nvidia.domains.values_list("domain", flat=True)) == ["nvidia.com"]


def test_removing_a_protected_name_in_admin_is_audited(staff_client, staff_user):
    from registry.models import ProtectedName
    from registry.protected import protected_name_add

    protected = protected_name_add(name="Maximilian Thornbury")
    url = reverse("admin:registry_protectedname_delete", args=[protected.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 302
    assert not ProtectedName.objects.exists()
    audit = AuditEvent.objects.get(action="registry.protected_name.removed")
    assert (audit.actor, audit.data) == (staff_user, {"name": "Maximilian Thornbury"})

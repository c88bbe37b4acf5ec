import pytest

from registry.models import Affiliation, AuditEvent, Organization, OrganizationAlias, OrganizationDomain
from registry.services import (
    organization_alias_add,
    organization_candidate_approve,
    organization_candidate_link,
    organization_domain_add,
    organization_for_name,
    organization_link,
)
from tests.factories import OrganizationFactory, PersonFactory, SignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def nvidia():
    organization = OrganizationFactory(name="Nvidia", slug="nvidia", name_key="nvidia")
    organization_alias_add(organization=organization, name="NVIDIA Corporation")
    return organization


def test_organization_for_name_finds_by_name_or_alias_ignoring_case_accents_and_suffixes(nvidia):
    assert organization_for_name(name="NVIDIA Corp.") == nvidia
    assert organization_for_name(name="nvidia") == nvidia
    assert organization_for_name(name="Unknown Startup") is None
    assert organization_for_name(name="  ") is None


def test_unknown_spellings_create_one_unreviewed_candidate():
    first = organization_link(name="Acme Inc")
    assert organization_link(name="ACME, Inc.") == first
    assert organization_link(name="acme") == first
    assert Organization.objects.count() == 1
    assert (first.name, first.name_key, first.status) == ("Acme Inc", "acme", Organization.Status.CANDIDATE)
    assert AuditEvent.objects.filter(action="registry.organization.candidate_created").count() == 1


def test_linking_a_known_name_creates_nothing(nvidia):
    assert organization_link(name="NVIDIA Corporation") == nvidia
    assert Organization.objects.count() == 1


def test_candidates_with_colliding_slugs_get_distinct_slugs():
    OrganizationFactory(name="Acme Labs Holding", slug="acme-labs", name_key="acme labs holding")
    candidate = organization_link(name="Acme Labs")
    assert candidate.slug != "acme-labs"
    assert candidate.slug.startswith("acme-labs")


def test_alias_add_links_future_spellings_and_is_audited(nvidia, staff_user):
    organization_alias_add(organization=nvidia, name="Nvidia Graphics Ltd", actor=staff_user)
    assert organization_for_name(name="NVIDIA GRAPHICS") == nvidia
    event = AuditEvent.objects.get(action="registry.organization.alias_added", data__alias="Nvidia Graphics Ltd")
    assert event.actor == staff_user


def test_domain_add_normalizes_and_verifies(nvidia):
    domain = organization_domain_add(organization=nvidia, domain="  NVIDIA.com ")
    assert (domain.domain, domain.verified, domain.organization) == ("nvidia.com", True, nvidia)
    organization_domain_add(organization=nvidia, domain="bücher.example")
    assert OrganizationDomain.objects.filter(domain="xn--bcher-kva.example").exists()


def test_candidate_link_folds_candidate_into_reviewed_organization(nvidia, staff_user):
    candidate = organization_link(name="Nvidia Research Labs")
    signature = SignatureFactory(organization=candidate, organization_name="Nvidia Research Labs")
    affiliation = Affiliation.objects.create(
        person=PersonFactory(), organization=candidate, organization_name="Nvidia Research Labs"
    )
    organization_candidate_link(candidate=candidate, organization=nvidia, actor=staff_user)

    assert not Organization.objects.filter(pk=candidate.pk).exists()
    signature.refresh_from_db()
    affiliation.refresh_from_db()
    assert signature.organization == nvidia
    assert affiliation.organization == nvidia
    assert OrganizationAlias.objects.get(name_key="nvidia research labs").organization == nvidia
    assert organization_link(name="NVIDIA Research Labs Inc.") == nvidia
    assert AuditEvent.objects.filter(action="registry.organization.candidate_linked", actor=staff_user).exists()


def test_candidate_approve_makes_it_reviewed():
    candidate = organization_link(name="Tiny Startup GmbH")
    organization_candidate_approve(candidate=candidate)
    candidate.refresh_from_db()
    assert candidate.status == Organization.Status.REVIEWED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_spellings_of_one_unknown_name_create_one_candidate():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    spellings = ["Acme Inc", "ACME, Inc.", "acme", "Acme Corp.", "ACME LLC", "Acme Ltd"] * 2

    def link(name):
        try:
            return organization_link(name=name).pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = set(pool.map(link, spellings))
    assert len(ids) == 1
    assert Organization.objects.filter(name_key="acme").count() == 1

"""Approving a candidate organization and verifying a domain: signatures, counts, levels and history follow
(letters.services.organizations, registered as registry.hooks participants)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from letters.counts import letter_count_rebuild
from letters.models import SignatureEvent, VerificationLevel, VerificationRecord
from letters.selectors import letter_changes
from letters.services.signing import signature_confirm
from registry.models import Organization
from registry.services import organization_candidate_approve, organization_domain_add, organization_domain_remove
from tests.builders import past_the_margin, signed
from tests.factories import LetterFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(db):
    return LetterFactory()


@pytest.fixture
def sign(letter):
    def _sign(name, email, organization, *, confirm=True, title=""):
        return signed(letter, name=name, email=email, title=title, organization_name=organization, confirm=confirm)

    return _sign


def organization_events(signature):
    return list(SignatureEvent.objects.filter(signature=signature, kind=SignatureEvent.Kind.ORGANIZATION_CHANGED))


def test_approving_a_candidate_moves_its_visible_signatures_from_the_typed_text_to_the_organization(
    letter, sign, staff_user
):
    ada = sign("Ada Lovelace", "ada@tiny.example", "Tiny Startup")
    grace = sign("Grace Hopper", "grace@tiny.example", "tiny startup inc.")
    held = sign("Alan Tur\u0456ng", "alan@tiny.example", "Tiny Startup")  # mixed scripts: held, not public
    waiting = sign("Joan Clarke", "joan@tiny.example", "Tiny Startup", confirm=False)
    candidate = ada.organization
    assert (grace.organization, held.organization, held.is_visible) == (candidate, candidate, False)
    assert letter_count_rebuild(letter_id=letter.pk, now=past_the_margin()).by_organization == {
        "text:Tiny Startup": 1,
        "text:tiny startup inc.": 1,
    }

    organization_candidate_approve(candidate=candidate, actor=staff_user)

    slug = f"org:{candidate.slug}"
    moves = [
        (e.organization_before, e.organization_after, e.actor) for s in (ada, grace) for e in organization_events(s)
    ]
    assert moves == [("text:Tiny Startup", slug, staff_user), ("text:tiny startup inc.", slug, staff_user)]
    assert organization_events(held) == []  # not public: it shows the organization if it is ever released
    assert letter_count_rebuild(letter_id=letter.pk, now=past_the_margin()).by_organization == {slug: 2}
    assert [e.kind for e in letter_changes(letter=letter)][-2:] == ["organization", "organization"]

    organization_candidate_approve(candidate=candidate, actor=staff_user)  # already reviewed: nothing more
    assert len(organization_events(ada)) == 1
    signature_confirm(signature=waiting)
    assert letter_count_rebuild(letter_id=letter.pk, now=past_the_margin()).by_organization == {slug: 3}


@pytest.mark.postgres
def test_approving_locks_the_signatures_before_the_organization(sign):
    candidate = sign("Ada Lovelace", "ada@tiny.example", "Tiny Startup").organization
    with CaptureQueriesContext(connection) as queries:
        organization_candidate_approve(candidate=candidate)
    sql = [q["sql"] for q in queries.captured_queries]
    signatures_locked = next(i for i, s in enumerate(sql) if 'FROM "letters_signature"' in s and "FOR NO KEY" in s)
    organization_locked = next(
        i for i, s in enumerate(sql) if 'FROM "registry_organization"' in s and "FOR NO KEY" in s
    )
    assert signatures_locked < organization_locked
    assert 'OF "letters_signature"' in sql[signatures_locked]


def test_a_newly_verified_domain_proves_the_organizations_confirmed_signers_at_that_domain(letter, sign, staff_user):
    adobe = OrganizationFactory(name="Adobe", slug="adobe", name_key="adobe")
    ada = sign("Ada Lovelace", "ada@adobe.com", "Adobe")
    grace = sign("Grace Hopper", "grace@gmail.com", "Adobe")
    other = sign("Alan Turing", "alan@adobe.com", "Not Adobe")
    waiting = sign("Joan Clarke", "joan@adobe.com", "Adobe", confirm=False)
    assert letter_count_rebuild(letter_id=letter.pk, now=past_the_margin()).by_level == {"email": 3}

    organization_domain_add(organization=adobe, domain="ADOBE.com", actor=staff_user)

    levels = {s.name: s.verification_level for s in (ada, grace, other, waiting) if not s.refresh_from_db()}
    assert levels == {"Ada Lovelace": "domain", "Grace Hopper": "email", "Alan Turing": "email", "Joan Clarke": "none"}
    record = VerificationRecord.objects.get()
    assert (record.signature, record.method, ada.verification) == (ada, "domain", record)
    assert letter_count_rebuild(letter_id=letter.pk, now=past_the_margin()).by_level == {"domain": 1, "email": 2}

    organization_domain_add(organization=adobe, domain="adobe.com")  # verified already: proves nothing new
    assert VerificationRecord.objects.count() == 1
    signature_confirm(signature=waiting)  # confirmation itself checks the domain
    waiting.refresh_from_db()
    assert waiting.verification_level == VerificationLevel.DOMAIN


def test_an_unverified_domain_proves_no_one_and_removing_a_domain_lowers_no_level(sign):
    adobe = OrganizationFactory(name="Adobe", slug="adobe", name_key="adobe")
    ada = sign("Ada Lovelace", "ada@adobe.com", "Adobe")
    organization_domain_add(organization=adobe, domain="adobe.com", verified=False)
    ada.refresh_from_db()
    assert ada.verification_level == VerificationLevel.EMAIL

    domain = organization_domain_add(organization=adobe, domain="adobe.com")
    organization_domain_remove(domain=domain)
    ada.refresh_from_db()
    assert ada.verification_level == VerificationLevel.DOMAIN
    assert ada.verification.method == "domain"
    assert Organization.objects.get(pk=adobe.pk).domains.count() == 0

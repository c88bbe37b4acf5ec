"""The email-key policy ("the same address") and domain normalization, registry.emails."""

import pytest
from django.core.exceptions import ValidationError

from letters.models import VerificationLevel
from letters.services.signing import signature_confirm, signature_create
from registry.emails import domain_normalize, email_key, email_normalize
from registry.services import organization_domain_add
from tests.factories import LetterFactory, OrganizationFactory


@pytest.mark.parametrize(
    "spelling",
    [
        "Ada.Lovelace@gmail.com",
        "adalovelace@gmail.com",
        "ada.lovelace+letters@gmail.com",
        "ADA.LOVELACE@googlemail.com",
    ],
)
def test_gmail_dots_tags_and_googlemail_are_one_address(spelling):
    assert email_key(spelling) == "adalovelace@gmail.com"


def test_other_providers_keep_dots_and_tags():
    assert email_key("ada.lovelace+letters@example.org") == "ada.lovelace+letters@example.org"
    assert email_key("ada.lovelace@example.org") != email_key("adalovelace@example.org")


def test_case_and_compatibility_forms_do_not_make_another_address():
    assert email_key("ADA@EXAMPLE.ORG") == email_key("ada@example.org") == "ada@example.org"
    assert email_key("ａｄａ@example.org") == "ada@example.org"  # fullwidth letters, NFKC


def test_international_domains_are_keyed_in_idna_2008():
    assert email_key("ada@straße.de") == "ada@xn--strae-oqa.de"
    assert email_key("ada@Bücher.example") == "ada@xn--bcher-kva.example"
    assert email_normalize("ada@bücher.example")[0] == "ada@bücher.example"


@pytest.mark.parametrize("bad", ["", "ada", "ada@", "@example.org", "ada@@example.org", "a" * 250 + "@example.org"])
def test_invalid_addresses_are_refused(bad):
    with pytest.raises(ValidationError):
        email_normalize(bad)


@pytest.mark.parametrize(
    ("raw", "domain"),
    [("straße.de", "xn--strae-oqa.de"), ("  NVIDIA.com. ", "nvidia.com"), ("BÜCHER.example", "xn--bcher-kva.example")],
)
def test_domains_normalize_as_email_keys_spell_them(raw, domain):
    assert domain_normalize(raw) == domain
    assert email_key(f"ada@{raw.strip().rstrip('.')}").endswith("@" + domain)


def test_a_domain_that_is_not_one_is_refused():
    with pytest.raises(ValidationError):
        domain_normalize("exa mple..org")


@pytest.mark.django_db
def test_a_verified_international_domain_proves_its_signers():
    """straße.de was stored as strasse.de (IDNA 2003) while email keys say xn--strae-oqa.de: it proved no one."""
    organization = OrganizationFactory(name="Straße AG", slug="strasse-ag", name_key="strasse")
    record = organization_domain_add(organization=organization, domain="straße.de")
    assert record.domain == "xn--strae-oqa.de"
    created = signature_create(
        letter=LetterFactory(), name="Ada Lovelace", email="ada@straße.de", organization_name="Straße AG",
        send_email=False, check_rate_limits=False,
    )  # fmt: skip
    assert signature_confirm(signature=created.signature).verification_level == VerificationLevel.DOMAIN

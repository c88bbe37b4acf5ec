"""The email-key policy ("the same address") and domain normalization, registry.emails."""

import random

import pytest
from django.core.exceptions import ValidationError

from letters.models import VerificationLevel
from letters.services.signing import signature_confirm, signature_create
from registry.emails import domain_normalize, email_key, email_normalize, email_parts_ascii, email_parts_validated
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


@pytest.mark.parametrize(
    "bad",
    ["", "ada", "ada@", "@example.org", "ada@@example.org", "a" * 250 + "@example.org", "a" * 65 + "@example.com",
     "é" * 33 + "@example.com"],
)  # fmt: skip
def test_invalid_addresses_are_refused(bad):  # a local part is at most 64 octets (RFC 5321)
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


TRICKY = [
    "Ada@Example.ORG",
    "ada.lovelace+tag@gmail.com",
    "ADA.LOVELACE@GoogleMail.com",
    "INFO@example.org",
    "Postmaster@Example.org",
    "noc@EXAMPLE.ORG",
    "!#$%&'*+-/=?^_`{|}~@example.org",
    "ada+@example.org",
    "ada@xn--strae-oqa.de",
    "ada@XN--BCHER-KVA.example",
    "ada@xn--zz.org",
    "ada@xn--ls8h.la",
    "ada@straße.de",
    "ada@Bücher.example",
    "ädä@example.org",
    '"ada lovelace"@example.org',
    '"ada"@example.org',
    "Ada <ada@example.org>",
    "<ada@example.org>",
    "ada@[127.0.0.1]",
    "ada@example",
    "ada@localhost",
    "ada@example.test",
    "ada@printer.local",
    "ada@example.invalid",
    "ada@example.123",
    "ada@1.2.3.4",
    "ada@-example.org",
    "ada@example-.org",
    "ada@ex..org",
    "ada@.example.org",
    "ada@example.org.",
    "ada@ab--cd.org",
    "ada@exa_mple.org",
    ".ada@example.org",
    "ada.@example.org",
    "a..da@example.org",
    "ada @example.org",
    "ada@ example.org",
    "ada@example .org",
    "ada@@example.org",
    "ada@example.org@example.org",
    "@example.org",
    "ada@",
    "ada",
    "a" * 64 + "@example.org",
    "a" * 65 + "@example.org",
    "ada@" + "a" * 63 + ".org",
    "ada@" + "a" * 64 + ".org",
    "a" * 242 + "@example.org",
    "a" * 243 + "@example.org",
    "ada@" + ".".join(["a" * 60] * 4) + ".org",
    "a" * 230 + "@xn--bcher-kva.example",
]


@pytest.mark.parametrize("text", TRICKY)
def test_the_ascii_fast_path_answers_as_email_validator_does(text):
    """registry.emails splits plain ASCII addresses itself and validates each domain once; for any text it takes
    that path for, the answer (parts, or refusal) is the library's."""
    assert _outcome(email_parts_ascii, text) in (None, _outcome(email_parts_validated, text))


def test_the_ascii_fast_path_agrees_on_random_addresses():
    rng = random.Random(15)
    local_pieces = ["ada", "Z", "0", ".", "..", "-", "_", "+", "info", "'", "~", '"', " ", "<", "ß"]
    host_pieces = ["ex", "A", "9", ".", "..", "-", "--", "xn--", "xn--strae-oqa", "org", "test", "_", "@", "ü"]
    outcomes = set()
    for _ in range(4000):
        local = "".join(rng.choice(local_pieces) for _ in range(rng.randint(1, 5)))
        host = "".join(rng.choice(host_pieces) for _ in range(rng.randint(1, 6))) + rng.choice(["", ".org", ".de"])
        text = f"{local}@{host}"
        fast = _outcome(email_parts_ascii, text)
        if fast is not None:
            assert fast == _outcome(email_parts_validated, text), text
            outcomes.add("invalid" if fast == "invalid" else "valid")
    assert outcomes == {"valid", "invalid"}  # the comparison is not vacuous


def test_plain_addresses_take_the_fast_path():
    assert email_parts_ascii("Ada.Lovelace+tag@Example.ORG") == ("Ada.Lovelace+tag", "example.org", "example.org")
    assert email_parts_ascii("ada@straße.de") is None
    assert email_parts_ascii('"ada"@example.org') is None


def _outcome(parts, text):
    try:
        return parts(text)
    except ValidationError:
        return "invalid"


def test_a_local_part_of_64_octets_is_an_address():
    assert email_normalize("a" * 64 + "@example.com")[0] == "a" * 64 + "@example.com"

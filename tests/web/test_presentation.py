"""The letter page shows each signer exactly as the API does (letters.presentation is the one home of the rules)."""

import re

import pytest

from registry.models import Organization
from tests.builders import signed
from tests.factories import LetterFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def page_affiliations(client, letter) -> list[str]:
    body = client.get(f"/letters/{letter.slug}/").content.decode()
    return [re.sub(r"\s+", " ", a).strip() for a in re.findall(r'<span class="signer-affiliation">(.*?)</span>', body)]


def test_an_unreviewed_organization_reads_as_typed_on_the_page_and_in_the_api(client):
    """The page showed the candidate's stored name while the API showed what the signer typed."""
    letter = LetterFactory()
    candidate = OrganizationFactory(name="Nvidea Corp", name_key="nvidea", status=Organization.Status.CANDIDATE)
    signature = signed(letter, title="Engineer", organization_name="Nvidea")
    signature.organization = candidate
    signature.save(update_fields=["organization"])
    api = client.get(f"/api/v1/letters/{letter.slug}/signatures/").json()["results"]
    assert api[0]["organization"] == {"name": "Nvidea", "slug": None}
    assert page_affiliations(client, letter) == ["Engineer, Nvidea"]


def test_a_withheld_name_hides_the_title_on_the_page_as_in_the_api(client):
    letter = LetterFactory()
    signed(letter, name="Ada Lovelace", title="Engineer", organization_name="Acme", name_shown=False)
    body = client.get(f"/letters/{letter.slug}/").content.decode()
    assert "Ada Lovelace" not in body and "Engineer" not in body
    assert "<em>Name withheld</em>" in body
    api = client.get(f"/api/v1/letters/{letter.slug}/signatures/").json()["results"][0]
    assert (api["name"], api["title"], api["organization"]["name"]) == ("Name withheld", "", "Acme")
    assert page_affiliations(client, letter) == ["Acme"]

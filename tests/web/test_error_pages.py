"""Error pages a person can meet wear the site's clothes and say what to do; the API answers JSON."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_unknown_address_is_the_sites_404_page(client):
    response = client.get("/no-such-page/")
    text = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in text
    assert '<a class="brand" href="/">Undersigned</a>' in text


def test_an_unknown_api_address_is_json(client):
    response = client.get("/api/v1/no-such-thing/")
    assert (response.status_code, response.json()) == (404, {"detail": "Not found.", "errors": {}})


def test_a_form_sent_without_its_csrf_token_says_to_reload(open_letter):
    response = Client(enforce_csrf_checks=True).post(f"/letters/{open_letter.slug}/sign/", {"name": "Ada"})
    text = response.content.decode()
    assert response.status_code == 403
    assert "Please reload the page and send the form again" in text
    assert "Nothing was stored." in text

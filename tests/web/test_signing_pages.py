import re

import pytest
from django.test import Client

from letters.models import Signature
from tests.factories import LetterFactory

# Emails leave after commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)
FORM = {"name": "Ada Lovelace", "email": "ada@example.org", "title": "", "organization": "", "public": "on"}


def sign_url(letter):
    return f"/letters/{letter.slug}/sign/"


def link(message, kind):
    return re.search(rf"/{kind}/[\w-]+/", message.body).group(0)


def test_the_sign_form_has_labelled_fields_a_csrf_token_and_a_hidden_honeypot(client, open_letter):
    body = client.get(sign_url(open_letter)).content.decode()
    for field, label in [("name", "Full name"), ("email", "Email"), ("title", "Title or role")]:
        assert f'<label for="id_{field}">{label}' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert '<div class="hp" aria-hidden="true">' in body


def test_posting_without_a_csrf_token_is_refused(open_letter):
    response = Client(enforce_csrf_checks=True).post(sign_url(open_letter), FORM)
    assert response.status_code == 403
    assert not Signature.objects.exists()


def test_a_valid_form_redirects_to_check_your_inbox(client, open_letter, mailoutbox):
    response = client.post(sign_url(open_letter), FORM)
    assert response.status_code == 302
    assert response["Location"] == f"/letters/{open_letter.slug}/sign/check-your-inbox/"
    assert Signature.objects.get().source == "web"
    assert len(mailoutbox) == 1


def test_a_filled_honeypot_gets_the_same_redirect_and_stores_nothing(client, open_letter, mailoutbox):
    response = client.post(sign_url(open_letter), {**FORM, "website": "http://spam.example"})
    assert response.status_code == 302
    assert response["Location"] == f"/letters/{open_letter.slug}/sign/check-your-inbox/"
    assert not Signature.objects.exists()
    assert mailoutbox == []


def test_invalid_input_shows_errors_tied_to_their_fields_and_stores_nothing(client, open_letter):
    response = client.post(sign_url(open_letter), {**FORM, "name": "=cmd()", "email": "nope"})
    assert response.status_code == 400
    body = response.content.decode()
    assert '<ul class="errors" id="id_name_errors"><li>Must not start with =, +, -, @ or a tab.</li></ul>' in body
    assert 'aria-describedby="id_email_errors id_email_helptext"' in body
    assert not Signature.objects.exists()


def test_a_closed_letter_shows_no_form_and_a_post_stores_nothing(client):
    letter = LetterFactory(status="closed")
    page = client.get(sign_url(letter)).content.decode()
    assert "This letter is not accepting signatures" in page
    assert "<form" not in page.split('<main id="main"')[1]
    assert client.post(sign_url(letter), FORM).status_code == 409
    assert not Signature.objects.exists()


def test_opening_email_links_acts_only_on_the_button_press(client, open_letter, mailoutbox):
    client.post(sign_url(open_letter), FORM)
    confirm, withdraw = link(mailoutbox[0], "confirm"), link(mailoutbox[0], "withdraw")
    assert "Confirm my signature" in client.get(confirm).content.decode()
    assert "Withdraw my signature" in client.get(withdraw).content.decode()
    assert Signature.objects.get().status == "pending"
    assert "your signature is confirmed" in client.post(confirm).content.decode()
    assert Signature.objects.get().status == "confirmed"
    assert client.post(confirm).status_code == 400
    assert "has been withdrawn" in client.post(withdraw).content.decode()
    assert Signature.objects.get().status == "withdrawn"

import pytest
from django.core.cache import cache
from django.core.management import call_command

from letters.counts import letter_count_rebuild
from letters.demo import DEMO_SLUG
from letters.models import Letter
from letters.services.signing import signature_confirm, signature_create
from tests.factories import LetterFactory

HOSTILE = "<img src=x onerror=alert(1)>"


def sign_and_confirm(letter, name, email, **extra):
    result = signature_create(letter=letter, name=name, email=email, send_email=False, check_rate_limits=False, **extra)
    return signature_confirm(signature=result.signature)


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Letter.objects.get(slug=DEMO_SLUG)


@pytest.mark.django_db
def test_index_lists_open_letters_with_counts(client, demo):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert demo.title.replace("'", "&#x27;") in body
    assert "<strong>139</strong> signatures" in body


@pytest.mark.django_db
def test_letter_page_shows_count_and_as_of_count_of_day_one(client, demo):
    now = client.get(f"/letters/{DEMO_SLUG}/")
    assert now.status_code == 200
    assert '<span data-testid="public-count">139</span>' in now.content.decode()
    day1 = client.get(f"/letters/{DEMO_SLUG}/", {"as_of": "2026-11-17T00:00"})
    assert '<span data-testid="public-count">76</span>' in day1.content.decode()


@pytest.mark.django_db
def test_letter_page_has_one_h1_landmarks_and_a_sign_button(client, demo):
    body = client.get(f"/letters/{DEMO_SLUG}/").content.decode()
    assert body.count("<h1") == 1
    assert '<main id="main"' in body and 'role="banner"' in body and 'role="contentinfo"' in body
    assert f'href="/letters/{DEMO_SLUG}/sign/"' in body


@pytest.mark.django_db
def test_invalid_filters_show_errors_instead_of_failing(client, demo):
    response = client.get(f"/letters/{DEMO_SLUG}/", {"as_of": "yesterday", "level": "royal"})
    assert response.status_code == 200
    assert "Enter a valid date/time." in response.content.decode()


@pytest.mark.django_db
def test_hostile_signer_name_is_rendered_as_text(client, open_letter):
    sign_and_confirm(open_letter, HOSTILE, "hostile@example.org")
    sign_and_confirm(open_letter, "Robert'); DROP TABLE", "bobby@example.org", organization_name="<script>x</script>")
    letter_count_rebuild(letter_id=open_letter.pk)
    body = client.get(f"/letters/{open_letter.slug}/").content.decode()
    assert "<script>x</script>" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body
    assert "<img src" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


@pytest.mark.django_db
def test_letter_body_markdown_is_sanitized(client, open_letter):
    version = open_letter.current_version
    version.body = "Hello **world** <script>alert(1)</script> [x](javascript:alert(1))"
    version.save()
    body = client.get(f"/letters/{open_letter.slug}/").content.decode()
    assert "<strong>world</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert "javascript:" not in body


@pytest.mark.django_db
def test_security_headers_deny_framing_except_the_embed_badge(client, open_letter):
    page = client.get(f"/letters/{open_letter.slug}/")
    assert page["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert "unsafe-inline" not in page["Content-Security-Policy"]
    embed = client.get(f"/letters/{open_letter.slug}/embed/")
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed
    assert "frame-ancestors *" in embed["Content-Security-Policy"]


@pytest.mark.django_db
def test_letter_page_query_count_does_not_grow_with_signers(client, django_assert_max_num_queries):
    small, large = LetterFactory(), LetterFactory()
    for i in range(3):
        sign_and_confirm(small, f"Small Signer {i}", f"small{i}@example.org")
    for i in range(40):
        sign_and_confirm(large, f"Large Signer {i}", f"large{i}@example.org")
    for letter in (small, large):
        letter_count_rebuild(letter_id=letter.pk)
    client.get(f"/letters/{small.slug}/")
    cache.clear()
    with django_assert_max_num_queries(20) as small_queries:
        client.get(f"/letters/{small.slug}/")
    cache.clear()
    with django_assert_max_num_queries(len(small_queries.captured_queries)):
        client.get(f"/letters/{large.slug}/")


@pytest.mark.django_db
def test_pages_are_cacheable(client, open_letter):
    response = client.get(f"/letters/{open_letter.slug}/")
    assert "max-age=5" in response["Cache-Control"]
    assert response.has_header("ETag")
    again = client.get(f"/letters/{open_letter.slug}/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


@pytest.mark.django_db
def test_unknown_and_draft_letters_are_not_found(client):
    draft = LetterFactory(status=Letter.Status.DRAFT)
    assert client.get("/letters/no-such-letter/").status_code == 404
    assert client.get(f"/letters/{draft.slug}/").status_code == 404
    assert client.get(f"/letters/{draft.slug}/sign/").status_code == 404

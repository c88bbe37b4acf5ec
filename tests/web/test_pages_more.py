"""Letter pages: pagination, level filter, withheld names stay private, embed badge, static files, no inline code."""

import re

import pytest
from django.core.cache import cache
from django.templatetags.static import static

from letters.counts import letter_count_rebuild
from letters.services.verification import signature_verify_manual
from tests.builders import past_the_margin, signed
from tests.factories import LetterFactory


def sign_and_confirm(letter, name, email, **extra):
    return signed(letter, name=name, email=email, **extra)


def signer_names(body: str) -> list[str]:
    return re.findall(r'<span class="signer-name">(.*?)</span>', body)


@pytest.mark.django_db
def test_signer_list_is_paged_fifty_at_a_time_with_next_and_previous_links(client, open_letter):
    for i in range(55):
        sign_and_confirm(open_letter, f"Signer Number {i:02d}", f"signer{i}@example.org")
    letter_count_rebuild(letter_id=open_letter.pk, now=past_the_margin())
    first = client.get(f"/letters/{open_letter.slug}/").content.decode()
    assert len(signer_names(first)) == 50
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert '<span data-testid="public-count">55</span>' in first
    second = client.get(f"/letters/{open_letter.slug}/", {"after": "50"}).content.decode()
    assert signer_names(second) == [f"Signer Number {i:02d}" for i in range(50, 55)]
    assert '<ol class="signer-list" start="51">' in second
    assert 'rel="prev"' in second and 'rel="next"' not in second


@pytest.mark.django_db
@pytest.mark.parametrize("after", ["-5", "abc", "1e9x"])
def test_malformed_page_offset_never_fails(client, open_letter, after):
    response = client.get(f"/letters/{open_letter.slug}/", {"after": after})
    assert response.status_code == 200


@pytest.mark.django_db
def test_level_filter_lists_only_signers_at_that_level(client, open_letter, staff_user):
    email_only = sign_and_confirm(open_letter, "Email Only", "email.only@example.org")
    manual = sign_and_confirm(open_letter, "Manually Checked", "manual@example.org")
    signature_verify_manual(signature=manual, evidence="Called through the published switchboard", verifier=staff_user)
    letter_count_rebuild(letter_id=open_letter.pk, now=past_the_margin())
    assert email_only.verification_level == "email"
    body = client.get(f"/letters/{open_letter.slug}/", {"level": "manual"}).content.decode()
    assert signer_names(body) == ["Manually Checked"]
    royal = client.get(f"/letters/{open_letter.slug}/", {"level": "royal"})
    assert royal.status_code == 200
    assert '<ul class="errors" id="id_level_errors"><li>Select a valid choice.' in royal.content.decode()
    assert 'aria-describedby="id_level_errors"' in royal.content.decode()


@pytest.mark.django_db
def test_withheld_signers_are_counted_but_their_names_and_emails_never_shown(client, open_letter):
    sign_and_confirm(open_letter, "Visible Person", "visible@example.org")
    sign_and_confirm(open_letter, "Secret Person", "secret@example.org", name_shown=False, comment="private note")
    letter_count_rebuild(letter_id=open_letter.pk, now=past_the_margin())
    body = client.get(f"/letters/{open_letter.slug}/").content.decode()
    assert '<span data-testid="public-count">2</span>' in body
    assert "<strong>1</strong> name withheld" in body
    assert "Secret Person" not in body
    assert "secret@example.org" not in body and "visible@example.org" not in body
    assert "private note" not in body
    assert signer_names(body) == ["Visible Person", "<em>Name withheld</em>"]


@pytest.mark.django_db
def test_search_without_match_says_so(client, open_letter):
    sign_and_confirm(open_letter, "Ada Lovelace", "ada@example.org")
    letter_count_rebuild(letter_id=open_letter.pk, now=past_the_margin())
    body = client.get(f"/letters/{open_letter.slug}/", {"q": "Babbage"}).content.decode()
    assert signer_names(body) == []
    assert "No signatories match these filters." in body


@pytest.mark.django_db
def test_letter_page_links_exports_api_docs_and_sign_form(client, open_letter):
    body = client.get(f"/letters/{open_letter.slug}/").content.decode()
    assert f'href="/api/v1/letters/{open_letter.slug}/export.csv"' in body
    assert f'href="/api/v1/letters/{open_letter.slug}/export.json"' in body
    assert 'href="/api/v1/docs/"' in body
    assert f'class="button button--primary button--block" href="/letters/{open_letter.slug}/sign/"' in body
    assert 'class="skip-link" href="#main"' in body


@pytest.mark.django_db
def test_as_of_form_error_is_shown_next_to_the_field(client, open_letter):
    body = client.get(f"/letters/{open_letter.slug}/", {"as_of": "2026-13-45T99:99"}).content.decode()
    assert '<ul class="errors" id="id_as_of_errors"><li>Enter a valid date/time.</li></ul>' in body
    assert '<span data-testid="public-count">0</span>' in body
    assert re.search(r'<input[^>]*aria-describedby="id_as_of_errors"', body)


@pytest.mark.django_db
def test_chart_is_an_accessible_inline_svg(client, open_letter):
    sign_and_confirm(open_letter, "Chart Point", "chart@example.org")
    letter_count_rebuild(letter_id=open_letter.pk, now=past_the_margin())
    body = client.get(f"/letters/{open_letter.slug}/").content.decode()
    assert re.search(r'<svg class="chart"[^>]*role="img"[^>]*aria-labelledby="chart-title', body)
    assert '<title id="chart-title">' in body


@pytest.mark.django_db
def test_embed_badge_shows_counts_and_may_be_framed(client, open_letter):
    sign_and_confirm(open_letter, "Embedded Signer", "embedded@example.org")
    letter_count_rebuild(letter_id=open_letter.pk, now=past_the_margin())
    response = client.get(f"/letters/{open_letter.slug}/embed/")
    body = response.content.decode()
    assert '<span class="embed-count">1</span>' in body
    assert f"http://testserver/letters/{open_letter.slug}/" in body
    assert "X-Frame-Options" not in response
    assert "max-age=30" in response["Cache-Control"]
    assert client.get("/letters/nope/embed/").status_code == 404


@pytest.mark.django_db
def test_pages_have_no_inline_scripts_or_styles_and_no_other_hosts(client, open_letter):
    sign_and_confirm(open_letter, "Inline Check", "inline@example.org")
    letter_count_rebuild(letter_id=open_letter.pk, now=past_the_margin())
    slug = open_letter.slug
    for url in ["/", f"/letters/{slug}/", f"/letters/{slug}/embed/", f"/letters/{slug}/sign/"]:
        cache.clear()
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 200, url
        assert "<script" not in body, url
        assert not re.search(r"\sstyle=", body), url
        assert not re.search(r"""(?:src|href)=["']https?://(?!testserver)""", body), url
        assert "'unsafe-inline'" not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]


@pytest.mark.django_db
def test_stylesheet_is_served_by_the_app(client):
    response = client.get(static("web/site.css"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    css = b"".join(response.streaming_content) if response.streaming else response.content
    assert b":focus-visible" in css
    assert b"@media" in css
    assert b"@import" not in css and b"url(http" not in css


@pytest.mark.django_db
def test_letter_page_query_count_is_the_same_for_10_and_60_signers(client, django_assert_max_num_queries):
    small, large = LetterFactory(), LetterFactory()
    for i in range(10):
        sign_and_confirm(small, f"Small Signer {i}", f"s{i}@example.org")
    for i in range(60):
        sign_and_confirm(large, f"Large Signer {i}", f"l{i}@example.org", organization_name=f"Org {i}")
    for letter in (small, large):
        letter_count_rebuild(letter_id=letter.pk, now=past_the_margin())
    client.get(f"/letters/{small.slug}/")
    cache.clear()
    with django_assert_max_num_queries(20) as small_queries:
        client.get(f"/letters/{small.slug}/")
    cache.clear()
    with django_assert_max_num_queries(len(small_queries.captured_queries)):
        assert client.get(f"/letters/{large.slug}/", {"after": "50"}).status_code == 200

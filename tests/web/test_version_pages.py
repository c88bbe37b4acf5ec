"""Every version has a permalink page, and any two versions a readable diff page."""

import pytest
from django.utils import timezone

from letters.services.letters import letter_version_publish
from tests.factories import BODY, LetterFactory

pytestmark = pytest.mark.django_db

V2 = BODY.replace("reconsider", "reconsider at once")


@pytest.fixture
def letter():
    letter = LetterFactory(slug="restore-access", title="Restore access", status="open")
    letter_version_publish(letter=letter, body=V2, kind="editorial", note="Clearer ask.", at=timezone.now())
    return letter


def test_an_earlier_version_has_its_own_page_and_says_it_is_not_current(client, letter):
    response = client.get("/letters/restore-access/v/1/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300, stale-while-revalidate=3600"
    page = response.content.decode()
    assert "Version 1 of 2 · Initial text" in page
    assert "<p>We, the undersigned, ask you to reconsider.</p>" in page
    assert '<a href="/letters/restore-access/diff/1/2/">what changed since</a>' in page
    assert letter.versions.get(number=1).sha256 in page


def test_the_current_version_page_shows_its_note(client, letter):
    page = client.get("/letters/restore-access/v/2/").content.decode()
    assert "Version 2 of 2 · Editorial" in page and "Clearer ask." in page and "what changed since" not in page
    assert client.get("/letters/restore-access/v/3/").status_code == 404


def test_the_diff_page_marks_insertions_and_deletions(client, letter):
    page = client.get("/letters/restore-access/diff/1/2/").content.decode()
    assert (
        '<pre class="diff" aria-label="The text with removed words struck through and added words underlined">'
        "We, the undersigned, ask you to reconsider<ins> at once</ins>.\n\n**Defenders need the best tools.**</pre>"
    ) in page
    assert "2 words added, 0 removed." in page
    backwards = client.get("/letters/restore-access/diff/2/1/").content.decode()
    assert "reconsider<del> at once</del>." in backwards


def test_the_letter_page_links_its_versions(client, letter):
    page = client.get("/letters/restore-access/").content.decode()
    assert '<a href="/letters/restore-access/v/2/">Version 2</a>' in page
    assert '<a href="/letters/restore-access/diff/1/2/">what changed in this version</a>' in page


def test_diff_text_is_escaped(client):
    letter = LetterFactory(slug="escaped-diff", status="open")
    letter_version_publish(letter=letter, body=BODY + "\n\nA < B & `<b>code</b>`", kind="editorial")
    page = client.get("/letters/escaped-diff/diff/1/2/").content.decode()
    assert "<ins>\n\nA &lt; B &amp; `&lt;b&gt;code&lt;/b&gt;`</ins>" in page

"""Every version is readable forever through the public API: the list, one version with its body and SHA-256, and a
diff between any two; scheduled letters are 404 on every public read, paused and closed ones refuse signing (409)."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from letters.models import Letter
from letters.services.letters import letter_version_publish
from letters.services.lifecycle import letter_close, letter_pause
from tests.builders import signed
from tests.factories import BODY, LetterFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

V2 = BODY.replace("reconsider", "reconsider at once")


def versioned_letter():
    letter = LetterFactory(slug="restore-access", status="open")
    published = timezone.now().replace(microsecond=0) + timedelta(minutes=1)
    letter_version_publish(letter=letter, body=V2, kind="material", note="Asks for speed.", at=published)
    return Letter.objects.get(pk=letter.pk), published


def test_the_version_list_names_each_version_with_its_kind_note_and_hash(client):
    letter, published = versioned_letter()
    v1 = letter.versions.get(number=1)
    response = client.get("/api/v1/letters/restore-access/versions/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=5, stale-while-revalidate=30"
    base = "http://testserver"
    assert response.json() == [
        {
            "number": 1,
            "kind": "initial",
            "note": "",
            "sha256": hashlib.sha256(BODY.encode()).hexdigest(),
            "published_at": v1.published_at.isoformat().replace("+00:00", "Z"),
            "current": False,
            "links": {
                "self": f"{base}/api/v1/letters/restore-access/versions/1/",
                "page": f"{base}/letters/restore-access/v/1/",
            },
        },
        {
            "number": 2,
            "kind": "material",
            "note": "Asks for speed.",
            "sha256": hashlib.sha256(V2.encode()).hexdigest(),
            "published_at": published.isoformat().replace("+00:00", "Z"),
            "current": True,
            "links": {
                "self": f"{base}/api/v1/letters/restore-access/versions/2/",
                "page": f"{base}/letters/restore-access/v/2/",
            },
        },
    ]


def test_one_version_has_its_body_and_sha256_and_caches_longer(client):
    versioned_letter()
    response = client.get("/api/v1/letters/restore-access/versions/1/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300, stale-while-revalidate=3600"
    data = response.json()
    assert (data["number"], data["body"], data["sha256"]) == (1, BODY, hashlib.sha256(BODY.encode()).hexdigest())
    assert hashlib.sha256(data["body"].encode()).hexdigest() == data["sha256"]
    missing = client.get("/api/v1/letters/restore-access/versions/3/")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found.", "errors": {}})


def test_the_diff_between_two_versions_is_exact(client):
    versioned_letter()
    response = client.get("/api/v1/letters/restore-access/diff/1/2/")
    assert response.status_code == 200
    data = response.json()
    assert (data["from_version"]["number"], data["to_version"]["number"], data["to_version"]["kind"]) == (
        1,
        2,
        "material",
    )
    assert (data["words_added"], data["words_removed"]) == (2, 0)
    changed = [p for p in data["pieces"] if p["op"] != "equal"]
    assert changed == [{"op": "insert", "text": " at once"}]
    assert "".join(p["text"] for p in data["pieces"] if p["op"] != "delete") == V2
    assert (
        "-We, the undersigned, ask you to reconsider.\n+We, the undersigned, ask you to reconsider at once.\n"
        in (data["unified"])
    )
    backwards = client.get("/api/v1/letters/restore-access/diff/2/1/").json()
    assert [p for p in backwards["pieces"] if p["op"] != "equal"] == [{"op": "delete", "text": " at once"}]
    assert client.get("/api/v1/letters/restore-access/diff/1/9/").status_code == 404


def test_the_version_endpoints_are_public_reads_in_the_schema(client):
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    stats = paths["/api/v1/letters/{slug}/stats/"]["get"]
    for path in (
        "/api/v1/letters/{slug}/versions/",
        "/api/v1/letters/{slug}/versions/{number}/",
        "/api/v1/letters/{slug}/diff/{old}/{new}/",
    ):
        operation = paths[path]["get"]
        assert operation["security"] == stats["security"]  # anonymous allowed, like every public read
        assert {"200", "404", "429"} <= set(operation["responses"])


def test_the_letter_links_its_versions_and_a_closed_letter_its_final_stats(client):
    letter = LetterFactory(slug="restore-access", status="open")
    links = client.get("/api/v1/letters/restore-access/").json()["links"]
    assert links["versions"] == "http://testserver/api/v1/letters/restore-access/versions/"
    assert links["final_stats"] is None
    closed_at = timezone.now().replace(microsecond=0)
    letter_close(letter=letter, at=closed_at)
    links = client.get("/api/v1/letters/restore-access/").json()["links"]
    stamp = closed_at.isoformat().replace("+00:00", "Z").replace(":", "%3A")
    assert links["final_stats"] == f"http://testserver/api/v1/letters/restore-access/stats/?as_of={stamp}"


SCHEDULED_PUBLIC_READS = [
    "/api/v1/letters/{slug}/",
    "/api/v1/letters/{slug}/signatures/",
    "/api/v1/letters/{slug}/stats/",
    "/api/v1/letters/{slug}/timeline/",
    "/api/v1/letters/{slug}/changes/",
    "/api/v1/letters/{slug}/export.csv",
    "/api/v1/letters/{slug}/export.json",
    "/api/v1/letters/{slug}/versions/",
    "/api/v1/letters/{slug}/versions/1/",
    "/api/v1/letters/{slug}/diff/1/1/",
    "/letters/{slug}/",
    "/letters/{slug}/embed/",
    "/letters/{slug}/sign/",
    "/letters/{slug}/sign/check-your-inbox/",
    "/letters/{slug}/v/1/",
    "/letters/{slug}/diff/1/1/",
]


@pytest.mark.parametrize("path", SCHEDULED_PUBLIC_READS)
def test_a_scheduled_letter_is_404_on_every_public_read(client, path):
    letter = LetterFactory(slug="under-embargo", status="scheduled")
    signed(letter, allow_embargoed=True)
    assert client.get(path.format(slug=letter.slug)).status_code == 404


def test_a_scheduled_letter_is_not_listed_and_cannot_be_signed_publicly(client):
    org = OrganizationFactory(slug="example-corp", name="Example Corp", status="reviewed")
    letter = LetterFactory(slug="under-embargo", status="scheduled")
    signature = signed(letter, organization_name="Example Corp", allow_embargoed=True)
    assert [entry["slug"] for entry in client.get("/api/v1/letters/").json()] == []
    assert "under-embargo" not in client.get("/").content.decode()
    sign = client.post(
        "/api/v1/letters/under-embargo/signatures/",
        {"name": "Ada Lovelace", "email": "other@example.org"},
        content_type="application/json",
    )
    assert sign.status_code == 404
    assert client.post("/letters/under-embargo/sign/", {"name": "A", "email": "a@example.org"}).status_code == 404
    assert client.get("/api/v1/organizations/example-corp/").json()["letters"] == []
    assert client.get("/api/v1/organizations/example-corp/signatures/").json()["results"] == []
    if signature.person is not None:
        assert client.get(f"/api/v1/people/{signature.person.public_id}/").status_code == 404
    assert org.pk


def test_a_paused_letter_answers_409_with_a_clear_message_on_api_and_page(client):
    letter = LetterFactory(slug="restore-access", status="open")
    letter_pause(letter=letter)
    response = client.post(
        "/api/v1/letters/restore-access/signatures/",
        {"name": "Ada Lovelace", "email": "ada@example.org"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "Signing this letter is paused for now; please try again later.", "errors": {}},
    )
    page = client.post("/letters/restore-access/sign/", {"name": "Ada Lovelace", "email": "ada@example.org"})
    assert page.status_code == 409
    assert "Signing this letter is paused for now; please try again later." in page.content.decode()
    letter_page = client.get("/letters/restore-access/").content.decode()
    assert "Signing is paused for now: this letter is not accepting signatures at the moment." in letter_page


def test_a_closed_letter_answers_409_and_its_page_gives_the_final_count(client):
    letter = LetterFactory(slug="restore-access", status="open")
    signed(letter)
    letter_close(letter=letter)
    response = client.post(
        "/api/v1/letters/restore-access/signatures/",
        {"name": "Grace Hopper", "email": "grace@example.org"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "This letter is closed: it no longer accepts signatures, and its final count is frozen.",
    )
    page = client.get("/letters/restore-access/").content.decode()
    assert "no longer accepts signatures. Final count: <strong>1</strong>" in page

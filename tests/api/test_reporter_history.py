"""Reporter API: as-of answers replayed from events, counts, exports, pagination and privacy of public responses."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from letters.counts import letter_count_rebuild
from letters.demo import DEMO_DAY1_END, DEMO_DAY3_END, DEMO_SLUG
from letters.models import Signature, SignatureEvent
from letters.services.signing import signature_confirm, signature_create, signature_withdraw
from letters.services.verification import signature_hold, signature_reject, signature_release
from tests.factories import LetterFactory, OrganizationFactory

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def url(letter, tail=""):
    return f"/api/v1/letters/{letter.slug}/{tail}"


def signed(letter, n, *, at, **extra):
    result = signature_create(
        letter=letter, name=f"Signer {n}", email=f"s{n}@example.org", send_email=False, check_rate_limits=False, at=at,
        **extra,
    )  # fmt: skip
    return result.signature


def all_rows(client, path):
    rows, next_url = [], path
    while next_url:
        page = client.get(next_url).json()
        rows += page["results"]
        next_url = page["next"]
    return rows


@pytest.mark.django_db
def test_demo_counts_at_the_end_of_day_one_and_day_three(client):
    call_command("load_demo", stdout=io.StringIO())
    day1 = client.get(f"/api/v1/letters/{DEMO_SLUG}/stats/", {"as_of": DEMO_DAY1_END.isoformat()}).json()
    day3 = client.get(f"/api/v1/letters/{DEMO_SLUG}/stats/", {"as_of": DEMO_DAY3_END.isoformat()}).json()
    assert day1["public"] == 76
    assert day3["public"] > 100
    listed = all_rows(
        client, f"/api/v1/letters/{DEMO_SLUG}/signatures/?page_size=50&as_of={quote(DEMO_DAY1_END.isoformat())}"
    )
    assert len(listed) == 76
    assert len({row["id"] for row in listed}) == 76


@pytest.mark.django_db
def test_demo_answers_who_from_nvidia_signed_and_how_each_was_verified(client):
    call_command("load_demo", stdout=io.StringIO())
    rows = all_rows(client, f"/api/v1/letters/{DEMO_SLUG}/signatures/?organization=nvidia&page_size=500")
    assert rows
    assert {row["organization"]["slug"] for row in rows} == {"nvidia"}
    assert {row["verification"]["level"] for row in rows} <= {"email", "domain"}
    assert all(row["verification"]["method"] in {"email", "domain"} for row in rows)


def replay(letter, as_of):
    """Brute force: the last event at or before as_of decides whether each signature was public."""
    last = {}
    for event in SignatureEvent.objects.filter(letter=letter, at__lte=as_of).order_by("at", "id"):
        last[event.signature_id] = event.visible_after
    ids = [pk for pk, visible in last.items() if visible]
    return set(Signature.objects.filter(pk__in=ids).values_list("public_id", flat=True))


ACTIONS = st.lists(
    st.tuples(st.sampled_from(["sign", "confirm", "withdraw", "reject", "hold", "release"]), st.integers(0, 7)),
    min_size=1,
    max_size=25,
)


@pytest.mark.django_db
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS, probe=st.integers(0, 30))
def test_as_of_list_and_stats_equal_a_brute_force_replay_of_events(client, actions, probe):
    letter = LetterFactory(opened_at=T0)
    signatures: dict[int, Signature] = {}
    for step, (action, who) in enumerate(actions):
        at = T0 + timedelta(minutes=step)
        current = signatures.get(who)
        if action == "sign" and (current is None or current.status not in Signature.LIVE_STATUSES):
            signatures[who] = signed(letter, f"{who}-{step}", at=at)
        elif current is not None and current.status in Signature.LIVE_STATUSES:
            if action == "confirm" and current.status == "pending":
                signatures[who] = signature_confirm(signature=current, at=at)
            elif action == "withdraw":
                signatures[who] = signature_withdraw(signature=current, at=at)
            elif action == "reject":
                signatures[who] = signature_reject(signature=current, reason="test", at=at)
            elif action == "hold":
                signatures[who] = signature_hold(signature=current, at=at)
            elif action == "release":
                signatures[who] = signature_release(signature=current, at=at)
    letter_count_rebuild(letter_id=letter.pk)
    as_of = T0 + timedelta(minutes=probe, seconds=30)
    expected = replay(letter, as_of)
    rows = all_rows(client, url(letter, f"signatures/?page_size=3&as_of={quote(as_of.isoformat())}"))
    assert {row["id"] for row in rows} == expected
    assert len(rows) == len(expected)
    stats = client.get(url(letter, "stats/"), {"as_of": as_of.isoformat()}).json()
    assert stats["public"] == len(expected)


@pytest.mark.django_db
def test_timeline_cumulative_equals_the_list_size_at_each_bucket_end(client, open_letter):
    for n in range(6):
        signature = signed(open_letter, n, at=T0 + timedelta(minutes=50 * n))
        signature_confirm(signature=signature, at=T0 + timedelta(minutes=50 * n + 5))
    signature_withdraw(signature=Signature.objects.first(), at=T0 + timedelta(hours=3, minutes=10))
    letter_count_rebuild(letter_id=open_letter.pk)
    timeline = client.get(url(open_letter, "timeline/"), {"bucket": "hour"}).json()
    assert [b["cumulative"] for b in timeline] == [2, 3, 4, 4, 5][: len(timeline)] or timeline
    for bucket in timeline:
        listed = all_rows(client, url(open_letter, f"signatures/?as_of={quote(bucket['end'])}"))
        assert bucket["cumulative"] == len(listed)


@pytest.mark.django_db
def test_exports_equal_the_list_and_escape_formulas(client, open_letter):
    for n, title in enumerate(["=cmd|' /C calc'!A0", "+1", "Engineer"]):
        signature_confirm(signature=signed(open_letter, n, at=T0, title="Engineer"), at=T0 + timedelta(minutes=n))
        Signature.objects.filter(name=f"Signer {n}").update(title=title)
    listed = [row["id"] for row in all_rows(client, url(open_letter, "signatures/"))]
    response = client.get(url(open_letter, "export.csv"))
    assert response["X-Letter-Version-SHA256"] == open_letter.current_version.sha256
    assert response.has_header("X-Exported-At")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("# Undersigned export: letter=")
    rows = list(csv.DictReader(lines[1:]))
    assert [row["id"] for row in rows] == listed
    assert [row["title"] for row in rows] == ["'=cmd|' /C calc'!A0", "'+1", "Engineer"]
    exported = json.loads(b"".join(client.get(url(open_letter, "export.json")).streaming_content))
    assert [row["id"] for row in exported["signatures"]] == listed
    assert exported["version_sha256"] == open_letter.current_version.sha256


@pytest.mark.django_db
def test_cursor_pagination_returns_every_row_once_while_signatures_arrive(client, open_letter):
    for n in range(9):
        signature_confirm(signature=signed(open_letter, n, at=T0), at=T0 + timedelta(minutes=n))
    seen, next_url, extra = [], url(open_letter, "signatures/?page_size=4"), 100
    while next_url:
        page = client.get(next_url).json()
        seen += [row["id"] for row in page["results"]]
        next_url = page["next"]
        signature_confirm(signature=signed(open_letter, extra, at=T0), at=T0 + timedelta(hours=1, minutes=extra))
        extra += 1
    assert len(seen) == len(set(seen))
    assert set(seen) >= set(
        Signature.objects.filter(name__in=[f"Signer {n}" for n in range(9)]).values_list("public_id", flat=True)
    )


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_signers(client, django_assert_max_num_queries):
    small, large = LetterFactory(), LetterFactory()
    for n in range(3):
        signature_confirm(signature=signed(small, f"a{n}", at=T0), at=T0)
    for n in range(40):
        signature_confirm(signature=signed(large, f"b{n}", at=T0), at=T0)
    with django_assert_max_num_queries(10) as captured:
        client.get(url(small, "signatures/"))
    with django_assert_max_num_queries(len(captured.captured_queries)):
        client.get(url(large, "signatures/"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_of": "tuesday"}, "as_of"),
        ({"level": "royal"}, "level"),
        ({"ordering": "email"}, "ordering"),
        ({"page_size": "5000"}, "page_size"),
        ({"signed_after": "2026-13-01"}, "signed_after"),
    ],
)
def test_invalid_parameters_are_400_with_field_errors(client, open_letter, params, field):
    response = client.get(url(open_letter, "signatures/"), params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid input."
    assert list(body["errors"]) == [field]


@pytest.mark.django_db
def test_conditional_requests_get_304(client, open_letter):
    first = client.get(url(open_letter, "stats/"))
    assert "max-age=5" in first["Cache-Control"]
    again = client.get(url(open_letter, "stats/"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


FORBIDDEN_KEYS = {"email", "ip", "ip_address", "token", "comment", "email_key"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def keys_of(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            if key != "by_level":  # its keys are verification levels, "email" among them
                yield from keys_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys_of(item)


@pytest.mark.django_db
def test_no_public_endpoint_reveals_emails_ips_tokens_or_comments(client, open_letter):
    OrganizationFactory(name="Nvidia", slug="nvidia", name_key="nvidia")
    kinds = ["public", "withheld", "pending", "withdrawn", "rejected", "held"]
    made = {}
    for n, kind in enumerate(kinds):
        made[kind] = signature_create(
            letter=open_letter, name=f"Person {kind}", email=f"{kind}@secret-domain.example", comment="private words",
            name_shown=kind != "withheld", organization_name="Nvidia", ip_address="203.0.113.7", send_email=False,
            check_rate_limits=False, at=T0 + timedelta(minutes=n),
        ).signature  # fmt: skip
        if kind != "pending":
            made[kind] = signature_confirm(signature=made[kind], at=T0 + timedelta(minutes=n, seconds=30))
    signature_withdraw(signature=made["withdrawn"], at=T0 + timedelta(hours=1))
    signature_reject(
        signature=made["rejected"], reason="spam", public_reason="not verifiable", at=T0 + timedelta(hours=1)
    )
    signature_hold(signature=made["held"], at=T0 + timedelta(hours=1))
    letter_count_rebuild(letter_id=open_letter.pk)
    person = Signature.objects.get(pk=made["public"].pk).person
    org_slug = Signature.objects.get(pk=made["public"].pk).organization.slug
    paths = [
        "/api/v1/letters/",
        url(open_letter),
        url(open_letter, "signatures/"),
        url(open_letter, f"signatures/?as_of={quote((T0 + timedelta(minutes=59)).isoformat())}"),
        url(open_letter, "stats/"),
        url(open_letter, "timeline/"),
        url(open_letter, "changes/"),
        url(open_letter, "export.json"),
        url(open_letter, "export.csv"),
        f"/api/v1/people/{person.public_id}/",
        "/api/v1/organizations/",
        f"/api/v1/organizations/{org_slug}/",
        f"/api/v1/organizations/{org_slug}/signatures/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode()
        assert not EMAIL.search(text), path
        assert "203.0.113.7" not in text and "private words" not in text, path
        if "json" in response["Content-Type"]:
            leaked = FORBIDDEN_KEYS & set(keys_of(json.loads(text)))
            assert not leaked, (path, leaked)
    names = [row["name"] for row in client.get(url(open_letter, "signatures/")).json()["results"]]
    assert names == ["Person public", "Name withheld"]
    assert client.get(url(open_letter, "signatures/"), {"q": "Person withheld"}).json()["results"] == []


@pytest.mark.django_db
def test_identical_stats_reads_share_one_answer_for_the_configured_seconds(client, open_letter, settings):
    settings.PUBLIC_RESPONSE_CACHE_SECONDS = 30
    first = client.get(url(open_letter, "stats/"))
    signature_confirm(signature=signed(open_letter, 1, at=T0), at=T0)
    letter_count_rebuild(letter_id=open_letter.pk)
    assert client.get(url(open_letter, "stats/")).content == first.content
    cache.clear()  # as when the seconds have passed
    assert client.get(url(open_letter, "stats/")).json()["public"] == 1


@pytest.mark.django_db
def test_a_malformed_cursor_is_a_400_field_error(client, open_letter):
    response = client.get(url(open_letter, "signatures/"), {"cursor": "garbage"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input.", "errors": {"cursor": ["Invalid cursor."]}}


@pytest.mark.django_db
@pytest.mark.parametrize("tail", ["", "signatures/", "stats/", "timeline/", "changes/", "export.csv"])
def test_options_requests_describe_the_endpoint(client, open_letter, tail):
    response = client.options(url(open_letter, tail))
    assert response.status_code == 200
    assert response.json()["name"]


@pytest.mark.django_db
def test_list_rows_read_as_values_match_the_serializer_on_instances(client):
    from api.serializers.public import PublicSignatureSerializer

    call_command("load_demo", stdout=io.StringIO())
    listed = all_rows(client, f"/api/v1/letters/{DEMO_SLUG}/signatures/?page_size=500")
    instances = Signature.objects.select_related("organization", "verification", "version").in_bulk(
        [row["id"] for row in listed], field_name="public_id"
    )
    assert len(listed) > 100
    assert {row["verification"]["level"] for row in listed} >= {"email", "domain"}
    assert any(row["name_withheld"] for row in listed)
    assert listed == [PublicSignatureSerializer(instances[row["id"]]).data for row in listed]


@pytest.mark.django_db
def test_identical_list_reads_share_one_answer_but_signing_is_never_cached(client, open_letter, settings):
    settings.PUBLIC_RESPONSE_CACHE_SECONDS = 30
    first = client.get(url(open_letter, "signatures/"))
    signature_confirm(signature=signed(open_letter, 1, at=T0), at=T0)
    assert client.get(url(open_letter, "signatures/")).content == first.content
    assert client.get(url(open_letter, "signatures/"), {"ordering": "name"}).json()["results"][0]["name"] == "Signer 1"
    body = {"name": "Ada Lovelace", "email": "ada@example.org"}
    for _ in range(2):
        response = client.post(url(open_letter, "signatures/"), body, content_type="application/json")
        assert response.status_code == 202
    assert Signature.objects.get(email_key="ada@example.org").emails_sent == 2
    cache.clear()  # as when the seconds have passed
    assert [row["name"] for row in client.get(url(open_letter, "signatures/")).json()["results"]] == ["Signer 1"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_copy_export_is_byte_identical_to_the_python_export():
    from letters.exports import export_csv, export_csv_copy, export_metadata
    from letters.models import Letter
    from letters.selectors import letter_signatures_public
    from letters.services.letters import letter_version_publish

    call_command("load_demo", stdout=io.StringIO())
    letter = Letter.objects.get(slug=DEMO_SLUG)
    first, second = Signature.objects.filter(letter=letter, status="confirmed", hold_reason="").order_by("id")[:2]
    Signature.objects.filter(pk__in=[first.pk, second.pk]).update(name_shown=True, organization=None)
    Signature.objects.filter(pk=first.pk).update(name="=HYPERLINK(1)", title="-2", confirmed_at=T0)
    Signature.objects.filter(pk=second.pk).update(
        organization_name='Quote "Co", Ltd', confirmed_at=T0 + timedelta(microseconds=250000)
    )
    # A second version and an unreviewed organization: the COPY path maps versions and joins reviewed ones only.
    newer = letter_version_publish(letter=letter, body="Amended text.", kind="editorial")
    candidate = OrganizationFactory(name="Candidate Org", status="candidate")
    Signature.objects.filter(pk=first.pk).update(version=newer, organization=candidate)
    metadata = export_metadata(letter=letter, exported_at=T0, as_of=None)
    via_copy = b"".join(export_csv_copy(letter_id=letter.pk, metadata=metadata))
    via_python = "".join(export_csv(rows=letter_signatures_public(letter=letter), metadata=metadata)).encode()
    assert via_copy == via_python
    text = via_copy.decode()
    assert "'=HYPERLINK(1)" in text and ",'-2," in text and '"Quote ""Co"", Ltd"' in text
    assert "2026-03-01T09:00:00Z" in text and "2026-03-01T09:00:00.25Z" in text
    assert "Candidate Org" not in text and text.count(",2\n") == 1
    assert text.count("\n") > 100


@pytest.mark.django_db
def test_shared_answers_keep_the_links_of_the_host_they_were_asked_on(client, open_letter, settings):
    settings.PUBLIC_RESPONSE_CACHE_SECONDS = 30
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    for n in range(3):
        signature_confirm(signature=signed(open_letter, n, at=T0), at=T0 + timedelta(minutes=n))
    path = url(open_letter, "signatures/?page_size=2")
    by_name = client.get(path, HTTP_HOST="localhost").json()["next"]
    by_address = client.get(path, HTTP_HOST="127.0.0.1").json()["next"]
    assert by_name.startswith("http://localhost/") and by_address.startswith("http://127.0.0.1/")

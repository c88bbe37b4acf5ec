"""The as-of letter page: its export links work as given, its datetime-local input shows a UTC value browsers take."""

import html
import re

import pytest


def export_href(body: str, fmt: str) -> str:
    match = re.search(rf'href="(/api/v1/letters/[^"]+/export\.{fmt}[^"]*)"', body)
    assert match, f"no export.{fmt} link"
    return html.unescape(match.group(1))


def as_of_input_value(body: str) -> str:
    match = re.search(r'<input[^>]*name="as_of"[^>]*>', body)
    assert match, "no as_of input"
    value = re.search(r'value="([^"]*)"', match.group(0))
    assert value, "the as_of input has no value"
    return value.group(1)


@pytest.mark.django_db
@pytest.mark.parametrize("as_of", ["2026-11-17T00:00:00Z", "2026-11-17T02:00:00+02:00", "2026-11-17T00:00"])
def test_export_links_of_an_as_of_page_answer_with_the_list_then(client, open_letter, as_of):
    body = client.get(f"/letters/{open_letter.slug}/", {"as_of": as_of}).content.decode()
    csv_href = export_href(body, "csv")
    csv = client.get(csv_href)
    assert csv.status_code == 200, csv.content
    assert "+" not in csv_href
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv["X-As-Of"] == "2026-11-17T00:00:00+00:00"
    json_export = client.get(export_href(body, "json"))
    assert json_export.status_code == 200
    assert json_export["X-As-Of"] == "2026-11-17T00:00:00+00:00"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("as_of", "shown"),
    [
        ("2026-11-17T00:00:00Z", "2026-11-17T00:00"),
        ("2026-11-17T02:00:00+02:00", "2026-11-17T00:00"),
        ("2026-11-17T09:30:15Z", "2026-11-17T09:30:15"),
        ("2026-11-17T09:30", "2026-11-17T09:30"),
    ],
)
def test_as_of_input_holds_a_datetime_local_value_in_utc(client, open_letter, as_of, shown):
    body = client.get(f"/letters/{open_letter.slug}/", {"as_of": as_of}).content.decode()
    value = as_of_input_value(body)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", value)
    assert value == shown
    assert '<label for="id_as_of">As of (UTC)</label>' in body


@pytest.mark.django_db
def test_what_the_as_of_input_submits_is_read_as_utc(client, open_letter, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    body = client.get(f"/letters/{open_letter.slug}/", {"as_of": "2026-11-17T09:30"}).content.decode()
    assert as_of_input_value(body) == "2026-11-17T09:30"
    assert export_href(body, "csv").endswith("?as_of=2026-11-17T09%3A30%3A00%2B00%3A00")


@pytest.mark.django_db
@pytest.mark.parametrize("as_of", ["0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00"])
def test_an_as_of_beyond_the_calendar_in_utc_is_a_form_error_not_a_500(client, open_letter, as_of):
    response = client.get(f"/letters/{open_letter.slug}/", {"as_of": as_of})
    assert response.status_code == 200
    assert "Datetime value out of range." in response.content.decode()


@pytest.mark.django_db
def test_an_as_of_in_the_future_is_a_form_error_not_todays_answer_labelled_then(client, open_letter):
    response = client.get(f"/letters/{open_letter.slug}/", {"as_of": "2099-01-01T00:00"})
    assert response.status_code == 200
    assert "An instant in the future: the list and the count are known up to now." in response.content.decode()

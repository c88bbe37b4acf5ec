"""letter_create and letter_draft_update check everything an organizer types before writing anything; the Markdown
body is refused with a field error when it holds raw HTML that runs or embeds, and sanitized when shown anyway."""

import pytest
from django.core.exceptions import ValidationError

from letters.markdown import markdown_problems, markdown_to_safe_html
from letters.models import Letter, LetterRecipient, LetterVersion
from letters.services.letters import letter_create, letter_draft_update
from registry.models import AuditEvent
from tests.factories import LetterFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

SCRIPT = "Raw HTML <script> is not allowed in the text."
IFRAME = "Raw HTML <iframe> is not allowed in the text."
SCRIPT_LINK = "Links must not use javascript:, vbscript: or data: URLs."


def create(**fields):
    data = {"slug": "restore-access", "title": "Restore access", "body": "We ask you to restore access.", **fields}
    return letter_create(**data)


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.message_dict


def assert_nothing_stored():
    assert (Letter.objects.count(), LetterVersion.objects.count(), AuditEvent.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("admin", "“admin” is reserved; choose another slug."),
        ("api", "“api” is reserved; choose another slug."),
        ("manage", "“manage” is reserved; choose another slug."),
        ("accounts", "“accounts” is reserved; choose another slug."),
        ("static", "“static” is reserved; choose another slug."),
        ("new", "“new” is reserved; choose another slug."),
        (
            "Restore-Access",
            "Lowercase letters, digits and single hyphens only, starting and ending with a letter or digit.",
        ),
        (
            "restore--access",
            "Lowercase letters, digits and single hyphens only, starting and ending with a letter or digit.",
        ),
        ("-restore", "Lowercase letters, digits and single hyphens only, starting and ending with a letter or digit."),
        ("ab", "Between 3 and 100 characters."),
        ("", "A slug is required."),
    ],
)
def test_a_bad_or_reserved_slug_is_a_field_error_and_nothing_is_stored(slug, message):
    assert errors_of(lambda: create(slug=slug)) == {"slug": [message]}
    assert_nothing_stored()


def test_a_taken_slug_is_a_field_error():
    LetterFactory(slug="restore-access")
    before = (Letter.objects.count(), AuditEvent.objects.count())
    assert errors_of(create) == {"slug": ["A letter with this slug already exists."]}
    assert (Letter.objects.count(), AuditEvent.objects.count()) == before


def test_every_field_error_is_reported_at_once():
    errors = errors_of(
        lambda: create(
            slug="admin",
            title="   ",
            body="<script>alert(1)</script>\n\n<iframe src='https://evil.example'></iframe>",
            recipients=[("Howard Lutnick", "Secretary of Commerce"), ("", "Deputy"), {"name": " ", "role": "x"}],
        )
    )
    assert errors == {
        "slug": ["“admin” is reserved; choose another slug."],
        "title": ["A title is required."],
        "body": [SCRIPT, IFRAME],
        "recipients": ["Recipient 2 needs a name.", "Recipient 3 needs a name."],
    }
    assert_nothing_stored()


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ("[read this](javascript:alert(1))", [SCRIPT_LINK]),
        ('<a href="jav&#x61;script:alert(1)">entity-encoded</a>', [SCRIPT_LINK]),
        ("<a href='java\tscript:x'>tab inside the scheme</a>", [SCRIPT_LINK]),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", [SCRIPT_LINK]),
        ('<img src="x" onerror="alert(1)">', ["HTML event handlers (on… attributes) are not allowed in the text."]),
        ("<STYLE>body{display:none}</STYLE>", ["Raw HTML <style> is not allowed in the text."]),
        ('<object data="x.swf"></object><embed src="x.swf">', [
            "Raw HTML <object> is not allowed in the text.", "Raw HTML <embed> is not allowed in the text.",
        ]),
        ('<div><form action="https://evil.example"><input name="p"></form></div>', [
            "Raw HTML <form> is not allowed in the text.",
        ]),
        ("Inline `<script>` and\n\n    <iframe src=x>\n\nin code are text.", []),
        ("**Bold**, [a link](https://example.org) and <em>emphasis</em>.", []),
    ],
)  # fmt: skip
def test_markdown_problems_name_what_is_refused(body, problems):
    assert markdown_problems(body) == problems


def test_a_body_with_a_script_link_is_refused_with_a_field_error():
    assert errors_of(lambda: create(body="Sign [here](javascript:steal())")) == {"body": [SCRIPT_LINK]}
    assert_nothing_stored()


def test_rendering_still_strips_what_validation_refuses():
    html = markdown_to_safe_html("<script>alert(1)</script>[x](javascript:alert(1)) <b onclick=x>b</b>")
    assert "<script" not in html and "javascript:" not in html and "onclick" not in html


def test_a_valid_letter_is_a_draft_with_version_one_its_recipients_and_sponsors():
    org = OrganizationFactory(name="HackerOne", slug="hackerone")
    letter = create(
        title="  Restore access ",
        recipients=[{"name": " Howard Lutnick ", "role": "Secretary of Commerce"}, ("Gina Raimondo",)],
        sponsors=[org],
    )
    assert (letter.status, letter.title, letter.current_version.number, letter.current_version.kind) == (
        "draft",
        "Restore access",
        1,
        "initial",
    )
    assert list(letter.recipients.values_list("name", "role")) == [
        ("Howard Lutnick", "Secretary of Commerce"),
        ("Gina Raimondo", ""),
    ]
    assert list(letter.sponsorships.values_list("organization__slug", flat=True)) == ["hackerone"]


def test_a_sponsor_listed_twice_is_a_field_error():
    org = OrganizationFactory()
    assert errors_of(lambda: create(sponsors=[org, org])) == {"sponsors": ["An organization is listed twice."]}
    assert_nothing_stored()


def test_a_draft_body_edit_replaces_version_one_in_place_and_is_audited(staff_user):
    letter = create()
    version = letter.current_version
    letter_draft_update(
        letter=letter, changes={"body": "A better first text.", "title": "Restore it"}, actor=staff_user
    )
    version.refresh_from_db()
    letter.refresh_from_db()
    assert (LetterVersion.objects.filter(letter=letter).count(), version.number, version.body) == (
        1,
        1,
        "A better first text.",
    )
    assert letter.current_version_id == version.pk and letter.title == "Restore it"
    changed = AuditEvent.objects.get(action="letters.letter.changed")
    assert changed.actor == staff_user
    assert changed.data["to"] == {"title": "Restore it", "body_sha256": version.sha256}


def test_draft_recipients_are_replaced_and_audited():
    letter = create(recipients=[("Howard Lutnick", "Secretary of Commerce")])
    letter_draft_update(letter=letter, changes={"recipients": [("Gina Raimondo", "Secretary")]}, actor=None)
    assert list(LetterRecipient.objects.filter(letter=letter).values_list("name", "role")) == [
        ("Gina Raimondo", "Secretary")
    ]
    audit = AuditEvent.objects.get(action="letters.letter.parties_changed")
    assert audit.data == {"recipients": [["Gina Raimondo", "Secretary"]], "sponsors": []}


def test_draft_update_refuses_bad_input_and_changes_nothing():
    letter = create()
    errors = errors_of(
        lambda: letter_draft_update(
            letter=letter,
            changes={"title": "", "body": "<iframe src=x></iframe>", "recipients": [("", "")]},
            actor=None,
        )
    )
    assert errors == {"title": ["A title is required."], "body": [IFRAME], "recipients": ["Recipient 1 needs a name."]}
    letter.refresh_from_db()
    assert (letter.title, letter.current_version.body) == ("Restore access", "We ask you to restore access.")
    assert errors_of(lambda: letter_draft_update(letter=letter, changes={"slug": "other"}, actor=None)) == {
        "slug": ["Not a field of a letter that can be edited."]
    }


def test_the_body_of_an_open_letter_does_not_change_in_place(open_letter):
    errors = errors_of(lambda: letter_draft_update(letter=open_letter, changes={"body": "Changed."}, actor=None))
    assert errors == {"body": ["The letter is no longer a draft: publish its new text as a new version."]}
    open_letter.current_version.refresh_from_db()
    assert open_letter.current_version.body != "Changed."


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"title": "A\nB"}, {"title": ["Control characters are not allowed."]}),
        ({"title": "A\u0007B"}, {"title": ["Control characters are not allowed."]}),
        (
            {"title": "A\u200bB"},
            {"title": ["Invisible formatting characters (such as zero-width spaces) are not allowed."]},
        ),
        ({"title": "Bidi\u202eTitle"}, {"title": ["Bidirectional control characters are not allowed."]}),
        ({"summary": "One\nTwo \u2067isolated"}, {"summary": ["Bidirectional control characters are not allowed."]}),
        ({"body": "Text\u0008 with a backspace"}, {"body": ["Control characters are not allowed."]}),
        (
            {"recipients": [("Howard\nLutnick", "Secretary")]},
            {"recipients": ["Recipient 1: Control characters are not allowed."]},
        ),
    ],
)
def test_letter_text_takes_the_characters_signers_may_type(fields, errors):
    assert errors_of(lambda: create(**fields)) == errors
    assert_nothing_stored()


def test_a_letter_body_keeps_its_newlines_and_tabs():
    letter = create(body="We ask:\n\n\tcode, indented\r\nand more.", summary="Line one.\nLine two.")
    assert letter.summary == "Line one.\nLine two."

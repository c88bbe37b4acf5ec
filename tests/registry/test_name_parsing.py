"""Titles are never a given name: not in the parse, not in the duplicate explanation."""

import pytest

from registry.duplicate_matching import PersonRecord, find_duplicates
from registry.normalize import person_name


@pytest.mark.parametrize(
    ("raw", "given", "written", "surname"),
    [
        ("Dr. Katie Lindqvist", "katherine", "Katie", "lindqvist"),
        ("dr katie lindqvist", "katherine", "katie", "lindqvist"),
        ("DR. KATIE LINDQVIST", "katherine", "KATIE", "lindqvist"),
        ("Prof. Dr. Hans Müller", "hans", "Hans", "muller"),
        ("Prof Hans Müller", "hans", "Hans", "muller"),
        ("Mr. Bruce Schneier", "bruce", "Bruce", "schneier"),
        ("Ms Ada Lovelace", "ada", "Ada", "lovelace"),
        ("MRS. Grace Hopper", "grace", "Grace", "hopper"),
        ("Sir Ian McKellen", "ian", "Ian", "mckellen"),
        ("dame Stephanie Shirley", "stephanie", "Stephanie", "shirley"),
        ("Ｄｒ． Katie Lindqvist", "katherine", "Katie", "lindqvist"),  # full width, NFKC
        ("Dг. Katie Lindqvist", "katherine", "Katie", "lindqvist"),  # Cyrillic г: a look-alike title
        ("Lindqvist, Dr. Katie", "katherine", "Katie", "lindqvist"),
        ("Каtie Lindqvist", "katherine", "Каtie", "lindqvist"),  # Cyrillic К stays as written
    ],
)
def test_titles_are_dropped_from_the_parse(raw, given, written, surname):
    parsed = person_name(raw)
    assert (parsed.given, parsed.given_as_written, parsed.surname) == (given, written, surname)


def test_duplicate_explanation_never_reads_a_title_as_the_given_name():
    [match] = find_duplicates(
        [
            PersonRecord(id=1, name="Каtie Lindqvist"),  # Cyrillic К
            PersonRecord(id=2, name="Dr. Katie Lindqvist"),
        ]
    )
    assert not any("Dr." in reason or "dr " in reason for reason in match.reasons)
    assert match.reasons[:2] == (
        "given name katie identical (+6.7, of which -0.5 for how common the given name is)",
        "surname lindqvist identical (+7.0, of which -0.7 for how common the surname is)",
    )


def test_a_title_does_not_hide_a_nickname():
    [match] = find_duplicates(
        [
            PersonRecord(id=1, name="Dr. Katherine Lindqvist", organizations={1: "Luta"}),
            PersonRecord(id=2, name="Katie Lindqvist", organizations={1: "Luta"}),
        ]
    )
    assert match.reasons[0] == "given name katherine ≈ katie (nickname) (+5.6)"

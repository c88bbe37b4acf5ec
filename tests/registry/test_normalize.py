import pytest

from registry.normalize import (
    fold,
    is_mixed_script,
    organization_name_key,
    person_name,
    person_name_key,
    person_sort_name,
    skeleton,
)


@pytest.mark.parametrize(
    "raw",
    ["Acme Inc", "ACME, Inc.", "acme", "Acme Corporation", "Acme Ltd", "Acmé LLC", "  ACME   inc. "],
)
def test_organization_spellings_share_one_key(raw):
    assert organization_name_key(raw) == "acme"


def test_organization_key_keeps_dotted_abbreviations_as_one_word():
    assert organization_name_key("Société Générale S.A.") == "societe generale"
    assert organization_name_key("NVIDIA Corporation") == "nvidia"
    assert organization_name_key("AT&T Inc.") == "at and t"


def test_organization_key_never_strips_a_name_down_to_nothing():
    assert organization_name_key("Co") == "co"
    assert organization_name_key("") == ""


def test_fold_applies_nfkc_casefold_accents_and_punctuation():
    assert fold("Ｚｏë  O’Brien-Smith") == "zoe o brien smith"


@pytest.mark.parametrize(
    "raw",
    [
        "Katie Moussouris",
        "Dr. Katie Moussouris, PhD",
        "Moussouris, Katie",
        "Kátie Moüssouris",
        "KATHERINE MOUSSOURIS",
        "Prof. Kate Moussouris Jr.",
        "Кatie Ⅿoussouris",  # Cyrillic К, Roman numeral Ⅿ
    ],
)
def test_person_name_variants_share_one_key(raw):
    assert person_name_key(raw) == "katherine moussouris"


def test_initials_are_recognised():
    parsed = person_name("K. Moussouris")
    assert (parsed.given, parsed.surname, parsed.initial_only) == ("k", "moussouris", True)


def test_middle_names_are_kept_apart_from_given_and_surname():
    parsed = person_name("Bruce J. Schneier")
    assert (parsed.given, parsed.middle, parsed.surname) == ("bruce", ("j",), "schneier")


def test_comma_before_a_suffix_is_not_read_as_swapped_order():
    assert person_name_key("Martin Luther King, Jr.") == "martin luther king"


def test_sort_name_is_surname_first():
    assert person_sort_name("Dr. Katie Moussouris") == "moussouris katherine"


@pytest.mark.parametrize(
    ("look_alike", "original"),
    [
        ("Вruce Schnеier", "Bruce Schneier"),  # Cyrillic В and е
        ("Βruce Schneiεr", "Bruce Schneier"),  # Greek Β and ε
        ("Ｂｒｕｃｅ Schneier", "Bruce Schneier"),  # full width
        ("Bruçe Schnéier", "Bruce Schneier"),  # accents
        ("BiII Gates", "Bill Gates"),  # capital I for l
        ("Tirn Cook", "Tim Cook"),  # rn for m
        ("J0hn Smith", "John Smith"),  # zero for o
    ],
)
def test_confusable_spellings_share_the_skeleton(look_alike, original):
    assert skeleton(look_alike) == skeleton(original)


def test_skeleton_keeps_different_names_apart():
    assert skeleton("Bruce Schneier") != skeleton("Bruce Schneider")
    assert skeleton("ALI Khan") == "ali khan"


@pytest.mark.parametrize(
    ("name", "mixed"),
    [
        ("Вruce Schneier", True),  # Latin with a Cyrillic letter
        ("Zoë Ångström", False),
        ("Иван Петров", False),
        ("Νίκος Παππάς", False),
        ("Jean-Luc O'Neil", False),
    ],
)
def test_mixed_script_names_are_detected(name, mixed):
    assert is_mixed_script(name) is mixed

import pytest

from importing.mapping import MappingInvalid, mapping_check, mapping_guess, row_values


def test_headers_are_recognised_in_any_case_spacing_and_language():
    headers = ["Full Name", "E-mail Address", "Job Title", "Company", "Date signed", "Comments", "Phone"]
    assert mapping_guess(headers) == {
        "name": 0,
        "email": 1,
        "title": 2,
        "organization": 3,
        "signed_at": 4,
        "note": 5,
    }
    assert mapping_guess(["Prénom", "Nom de famille", "Courriel", "Entreprise"]) == {
        "first_name": 0,
        "last_name": 1,
        "email": 2,
        "organization": 3,
    }


def test_german_french_and_spanish_headers_are_recognised():
    headers = ["Vorname", "Nachname", "E-Mail-Adresse", "Firma", "Funktion", "Datum", "Bemerkung"]
    assert mapping_guess(headers) == {
        "first_name": 0,
        "last_name": 1,
        "email": 2,
        "organization": 3,
        "title": 4,
        "signed_at": 5,
        "note": 6,
    }
    assert mapping_guess(["Nom", "Adresse e-mail"]) == {"name": 0, "email": 1}
    assert mapping_guess(["Nombre", "Correo electrónico", "Empresa", "Cargo"]) == {
        "name": 0,
        "email": 1,
        "organization": 2,
        "title": 3,
    }


def test_a_full_name_column_wins_over_split_names():
    assert mapping_guess(["Name", "First name", "Last name", "Email"]) == {"name": 0, "email": 3}


def test_mapping_errors_name_the_field():
    headers = ["Name", "Email", "Org"]
    with pytest.raises(MappingInvalid) as caught:
        mapping_check({"name": 0, "organization": 0, "colour": 2, "title": 7}, headers)
    assert caught.value.errors == {
        "mapping.organization": ["Column A (“Name”) is already mapped to name: a column can hold one field only."],
        "mapping": [
            "“colour” is not a field; choose one of name, first_name, last_name, email, title, organization, "
            "signed_at, note."
        ],
        "mapping.title": ["Choose one of the file's columns."],
        "mapping.email": ["Map the column that holds the signer's email address."],
    }
    with pytest.raises(MappingInvalid) as caught:
        mapping_check({"email": 1}, headers)
    assert caught.value.errors == {"mapping.name": ["Map the column that holds the signer's name."]}
    with pytest.raises(MappingInvalid) as caught:
        mapping_check({"email": 1, "name": 0, "first_name": 2}, headers)
    assert caught.value.errors == {"mapping.name": ["Map either a name column or given and family name columns."]}


def test_split_names_are_joined():
    assert row_values(["Ada", "Lovelace", "ada@example.org"], {"first_name": 0, "last_name": 1, "email": 2}) == {
        "email": "ada@example.org",
        "name": "Ada Lovelace",
    }

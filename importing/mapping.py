"""Which column holds which field: recognised from the headers, editable by the organizer, checked before use."""

from importing.files import column_name, header_key

# What a column may be mapped to. A name is either one column or a given name plus a family name.
FIELDS = ("name", "first_name", "last_name", "email", "title", "organization", "signed_at", "note")
FIELD_LABELS = {
    "name": "Name",
    "first_name": "Given name",
    "last_name": "Family name",
    "email": "Email",
    "title": "Title",
    "organization": "Organization",
    "signed_at": "Signed at",
    "note": "Note",
}
# Header texts (as `header_key` folds them) each field is recognised by, best first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "fullname", "signer", "signatory", "signer name", "display name", "nom", "nombre"),
    "first_name": ("first name", "firstname", "given name", "forename", "first", "prenom", "vorname"),
    "last_name": ("last name", "lastname", "surname", "family name", "last", "nom de famille", "nachname"),
    "email": (
        "email",
        "e mail",
        "email address",
        "e mail address",
        "mail",
        "courriel",
        "correo",
        "e mail adresse",
        "email adresse",
        "adresse email",
        "adresse e mail",
        "adresse courriel",
        "correo electronico",
    ),
    "title": (
        "title",
        "job title",
        "position",
        "role",
        "job",
        "function",
        "poste",
        "titre",
        "titel",
        "funktion",
        "cargo",
        "puesto",
    ),
    "organization": (
        "organization",
        "organisation",
        "company",
        "employer",
        "affiliation",
        "institution",
        "org",
        "entreprise",
        "empresa",
        "firma",
        "unternehmen",
        "arbeitgeber",
    ),
    "signed_at": (
        "signed at",
        "signed on",
        "date signed",
        "signed",
        "date",
        "timestamp",
        "time",
        "submitted at",
        "datum",
        "fecha",
    ),
    "note": ("note", "notes", "comment", "comments", "remarks", "commentaire", "kommentar", "bemerkung", "comentario"),
}


class MappingInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def mapping_guess(headers: list[str]) -> dict[str, int]:
    """The field each recognised header holds ({field: column index}); unrecognised columns are left out."""
    keys = [header_key(header) for header in headers]
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for field in FIELDS:
        for synonym in SYNONYMS[field]:
            index = next((i for i, key in enumerate(keys) if key == synonym and i not in taken), None)
            if index is not None:
                mapping[field] = index
                taken.add(index)
                break
    if "name" in mapping and ("first_name" in mapping or "last_name" in mapping):
        mapping.pop("first_name", None)
        mapping.pop("last_name", None)
    return mapping


def mapping_check(mapping: dict[str, int], headers: list[str]) -> dict[str, int]:
    """Refuse a mapping that names an unknown field or column, maps a column twice, or lacks name or email."""
    errors: dict[str, list[str]] = {}
    used: dict[int, str] = {}
    for field, index in mapping.items():
        if field not in FIELDS:
            errors.setdefault("mapping", []).append(f"“{field}” is not a field; choose one of {', '.join(FIELDS)}.")
            continue
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(headers):
            errors.setdefault(f"mapping.{field}", []).append("Choose one of the file's columns.")
            continue
        if index in used:
            errors.setdefault(f"mapping.{field}", []).append(
                f"Column {column_name(index)} (“{headers[index]}”) is already mapped to "
                f"{FIELD_LABELS[used[index]].lower()}: a column can hold one field only."
            )
            continue
        used[index] = field
    fields = set(mapping)
    if "name" in fields and fields & {"first_name", "last_name"}:
        errors.setdefault("mapping.name", []).append("Map either a name column or given and family name columns.")
    if "name" not in fields and not fields & {"first_name", "last_name"}:
        errors.setdefault("mapping.name", []).append("Map the column that holds the signer's name.")
    if "email" not in fields:
        errors.setdefault("mapping.email", []).append("Map the column that holds the signer's email address.")
    if errors:
        raise MappingInvalid(errors)
    return dict(mapping)


def row_values(row: list[str], mapping: dict[str, int]) -> dict[str, str]:
    """One row's cells by field; a split name is joined (given name first)."""
    values = {field: row[index] for field, index in mapping.items()}
    if "name" not in values:
        parts = [values.pop("first_name", "").strip(), values.pop("last_name", "").strip()]
        values["name"] = " ".join(part for part in parts if part)
    return values

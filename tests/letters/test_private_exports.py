"""Private exports (emails included) are written whole and audited with who, when and how many rows."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from letters.models import Signature
from letters.services.private_exports import (
    PRIVATE_COLUMNS,
    private_export_create,
    private_exports_recorded,
)
from registry.models import AuditEvent
from tests.builders import signed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_a_private_csv_has_every_confirmed_signature_with_its_email_held_ones_included(open_letter):
    owner = UserFactory(username="owner")
    ada = signed(open_letter, name="Ada Lovelace", email="ada@example.org", title="=cmd")
    held = signed(open_letter, name="Grace Hopper", email="grace@example.org")
    Signature.objects.filter(pk=held.pk).update(hold_reason="senior_title")
    signed(open_letter, name="Pending Person", email="pending@example.org", confirm=False)
    export = private_export_create(letter=open_letter, fmt="csv", actor=owner, at=AT)
    lines = export.content.splitlines()
    assert lines[0] == f"# Undersigned private export: letter={open_letter.slug}; exported_at=2026-11-20T12:00:00Z"
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    assert list(rows[0]) == PRIVATE_COLUMNS
    assert [(r["id"], r["email"], r["hold_reason"]) for r in rows] == [
        (ada.public_id, "ada@example.org", ""),
        (held.public_id, "grace@example.org", "senior_title"),
    ]
    assert rows[0]["title"] == "'=cmd"  # a cell that could start a formula is defused
    assert export.rows == 2
    event = AuditEvent.objects.get(action="letters.letter.private_exported")
    assert (event.actor, event.at, event.data, event.target_id) == (
        owner,
        AT,
        {"rows": 2, "format": "csv"},
        str(open_letter.pk),
    )
    assert list(private_exports_recorded(letter=open_letter)) == [event]


def test_a_private_json_export_lists_the_same_rows(open_letter):
    signed(open_letter, name="Ada Lovelace", email="ada@example.org")
    export = private_export_create(letter=open_letter, fmt="json", actor=None, at=AT)
    body = json.loads(export.content)
    assert (body["letter"], body["private"], [s["email"] for s in body["signatures"]]) == (
        open_letter.slug,
        True,
        ["ada@example.org"],
    )


def test_an_unknown_format_is_refused_before_anything_is_audited(open_letter):
    with pytest.raises(ValueError):
        private_export_create(letter=open_letter, fmt="xlsx", actor=None)
    assert not AuditEvent.objects.filter(action="letters.letter.private_exported").exists()

"""Exports with private columns (signers' emails) for a letter's organizers. Each one is written whole inside the
transaction that audits it, so the audit row states exactly who exported how many rows, and when."""

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from letters.exports import csv_cell, export_time
from letters.models import Letter, Signature
from registry.audit import Actor, audit_log
from registry.models import AuditEvent

PRIVATE_EXPORT_ACTION = "letters.letter.private_exported"
PRIVATE_EXPORT_FORMATS = ("csv", "json")
PRIVATE_COLUMNS = [
    "id",
    "name",
    "email",
    "title",
    "organization_typed",
    "organization",
    "name_shown",
    "status",
    "hold_reason",
    "verification_level",
    "version",
    "signed_at",
    "confirmed_at",
]


@dataclass(frozen=True)
class PrivateExport:
    content: str
    rows: int
    fmt: str
    exported_at: datetime


def signatures_private(*, letter: Letter) -> QuerySet[Signature]:
    """Every confirmed signature of the letter, held ones too (the organizers' view, not the public list)."""
    return (
        Signature.objects.filter(letter=letter, status=Signature.Status.CONFIRMED)
        .select_related("version", "organization")
        .order_by("confirmed_at", "id")
    )


def private_row(signature: Signature) -> dict[str, Any]:
    organization = signature.organization
    return {
        "id": signature.public_id,
        "name": signature.name,
        "email": signature.email,
        "title": signature.title,
        "organization_typed": signature.organization_name,
        "organization": organization.name if organization and organization.status == "reviewed" else "",
        "name_shown": signature.name_shown,
        "status": signature.status,
        "hold_reason": signature.hold_reason,
        "verification_level": signature.verification_level,
        "version": signature.version.number,
        "signed_at": export_time(signature.signed_at),
        "confirmed_at": export_time(signature.confirmed_at),
    }


def _render(rows: list[dict[str, Any]], *, fmt: str, letter: Letter, exported_at: datetime) -> str:
    if fmt == "json":
        return json.dumps(
            {"letter": letter.slug, "exported_at": exported_at, "private": True, "signatures": rows},
            cls=DjangoJSONEncoder,
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    out.write(f"# Undersigned private export: letter={letter.slug}; exported_at={export_time(exported_at)}\n")
    writer.writerow(PRIVATE_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(row[column]) for column in PRIVATE_COLUMNS])
    return out.getvalue()


@transaction.atomic
def private_export_create(*, letter: Letter, fmt: str, actor: Actor, at: datetime | None = None) -> PrivateExport:
    """Render the letter's confirmed signatures with their emails and audit the export (who, when, how many rows).

    The caller decides who may export (organizing.permissions: organizing.export_private)."""
    if fmt not in PRIVATE_EXPORT_FORMATS:
        raise ValueError(f"Not an export format: {fmt}")
    exported_at = (at or timezone.now()).replace(microsecond=0)
    rows = [private_row(signature) for signature in signatures_private(letter=letter)]
    content = _render(rows, fmt=fmt, letter=letter, exported_at=exported_at)
    audit_log(
        action=PRIVATE_EXPORT_ACTION,
        target=letter,
        actor=actor,
        data={"rows": len(rows), "format": fmt},
        at=exported_at,
    )
    return PrivateExport(content=content, rows=len(rows), fmt=fmt, exported_at=exported_at)


def private_exports_recorded(*, letter: Letter) -> QuerySet[AuditEvent]:
    """The letter's private exports, newest first, with who made them (audit rows written above)."""
    return AuditEvent.objects.filter(
        action=PRIVATE_EXPORT_ACTION, target_type=Letter._meta.label_lower, target_id=str(letter.pk)
    ).select_related("actor")

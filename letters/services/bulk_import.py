"""Many imported signatures at once: the set-based form of `letters.services.imports` for an import's batch.

The rows written are those the one-by-one path writes — a signature, its `created` event and audit row, and then
either its confirmation email (mode confirm) or its `confirmed` event (straight to level `vouched`), audit row and
verification record (mode vouched) — in a few multi-row statements per batch (on PostgreSQL each a COPY, through
registry.bulk.rows_insert / values_insert). Organizations and people are linked
by registry.bulk with the same rules as registry.services. Triggers keep export lines and the transparency-log
queue as for any other signature. Holds an organizer's word does not lift (protected names, mixed scripts) are
decided as at confirmation. Duplicate people are looked for once the whole import has run (one registry scan,
importing.services), not signer by signer.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from letters.models import (
    Letter,
    OutboxMessage,
    Signature,
    SignatureEvent,
    VerificationLevel,
    VerificationRecord,
)
from letters.services.events import SignatureState, signature_event_build
from letters.services.outbox import outbox_message_build, outbox_send_after_commit
from registry.audit import actor_user, audit_event_build
from registry.bulk import (
    PersonEntry,
    field_in,
    ids_reserve,
    organizations_link_bulk,
    people_for_emails_bulk,
    rows_insert,
    values_insert,
)
from registry.emails import email_normalize
from registry.models import AuditEvent
from registry.normalize import is_mixed_script
from registry.protected import protected_name_matcher
from registry.services import person_name_fields


@dataclass(frozen=True)
class ImportedSigner:
    number: int  # the row in the file
    name: str
    email: str  # normalized (registry.emails) when email_key is given
    email_key: str = ""
    title: str = ""
    organization_name: str = ""
    comment: str = ""
    signed_at: datetime | None = None
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class SignerPrepared:
    """What a signer's rows take that no query decides: the address and its key, the hold an organizer's word does
    not lift, and (vouched) the name fields of a new person."""

    email: str
    email_key: str
    hold_reason: str = ""
    person_fields: dict[str, str] | None = None


def signers_prepare(
    *, signers: list[ImportedSigner], vouched: bool, protected: Callable[[str], object] | None = None
) -> dict[int, SignerPrepared]:
    """{row number: SignerPrepared}. Reads nothing from the database, so an import's job runs it for the next batch
    in another thread while the database writes this one (importing.services); `protected` is
    `registry.protected.protected_name_matcher()`, read by the caller (vouched only)."""
    prepared = {}
    for signer in signers:
        email, key = (signer.email, signer.email_key) if signer.email_key else email_normalize(signer.email)
        if not vouched:
            prepared[signer.number] = SignerPrepared(email=email, email_key=key)
            continue
        assert protected is not None
        hold = ""
        if protected(signer.name) is not None:
            hold = Signature.HoldReason.PROTECTED_NAME
        elif is_mixed_script(signer.name):
            hold = Signature.HoldReason.MIXED_SCRIPT
        prepared[signer.number] = SignerPrepared(
            email=email, email_key=key, hold_reason=hold, person_fields=person_name_fields(signer.name)
        )
    return prepared


@transaction.atomic
def signatures_import_bulk(
    *,
    letter: Letter,
    signers: list[ImportedSigner],
    vouched: bool,
    verifier: Any,
    at: datetime,
    prepared: Mapping[int, SignerPrepared] | None = None,
) -> dict[int, tuple[int, str]]:
    """{row number: (signature id, "created" | "already_signed")} for every signer; a repeated address (in the letter
    or earlier in `signers`) gets the live signature and "already_signed". Inputs are clean (letters.typed_text).
    `prepared`: `signers_prepare` of (some of) the signers, done ahead; the others are prepared here."""
    assert letter.current_version_id is not None  # a letter that takes signatures has a text
    ready = dict(prepared or {})
    missing = [signer for signer in signers if signer.number not in ready]
    if missing:
        ready |= signers_prepare(
            signers=missing, vouched=vouched, protected=protected_name_matcher() if vouched else None
        )
    normalized = {signer.number: (ready[signer.number].email, ready[signer.number].email_key) for signer in signers}
    keys = {key for _, key in normalized.values()}
    live = dict(
        Signature.objects.filter(field_in("email_key", keys), letter=letter, status__in=Signature.LIVE_STATUSES)
        .order_by()
        .values_list("email_key", "pk")
    )
    results: dict[int, tuple[int, str]] = {}
    fresh: list[ImportedSigner] = []
    first_of: dict[str, ImportedSigner] = {}
    for signer in signers:
        key = normalized[signer.number][1]
        if key in live or key in first_of:
            continue
        first_of[key] = signer
        fresh.append(signer)
    organizations = organizations_link_bulk(
        names=[s.organization_name for s in fresh if s.organization_name and vouched], at=at
    )
    people: dict[str, int] = {}
    if vouched:
        people, _ = people_for_emails_bulk(
            entries=[
                PersonEntry(
                    email=normalized[s.number][0],
                    email_key=normalized[s.number][1],
                    name=s.name,
                    title=s.title,
                    organization=organizations.get(s.organization_name),
                    organization_name=s.organization_name,
                    name_fields=ready[s.number].person_fields,
                )
                for s in fresh
            ],
            verified=False,
            at=at,
        )
    rows: list[dict[str, Any]] = []  # {attname: value}: a model instance per row was most of the Python time (P7)
    for signer in fresh:
        email, key = normalized[signer.number]
        organization = organizations.get(signer.organization_name)
        row: dict[str, Any] = {
            "letter_id": letter.pk,
            "version_id": letter.current_version_id,
            "name": signer.name,
            "title": signer.title,
            "organization_name": signer.organization_name,
            "organization_id": organization.pk if organization is not None else None,
            "email": email,
            "email_key": key,
            "comment": signer.comment,
            "source": Signature.Source.IMPORT,
            "signed_at": signer.signed_at if signer.signed_at and signer.signed_at < at else at,
            "emails_sent": 0 if vouched else 1,
            "person_id": None,
            "status": Signature.Status.PENDING,
            "confirmed_at": None,
            "verification_level": VerificationLevel.NONE,
            "hold_reason": "",
        }
        if vouched:
            row["person_id"] = people[key]
            row["status"] = Signature.Status.CONFIRMED
            row["confirmed_at"] = at
            row["verification_level"] = VerificationLevel.EMAIL  # raised to vouched with its record below
            row["hold_reason"] = ready[signer.number].hold_reason
        rows.append(row)
    records: list[dict[str, Any]] = []
    if vouched:
        verifier_id = getattr(actor_user(verifier), "pk", None)
        records = [
            {
                "level": VerificationLevel.VOUCHED,
                "method": VerificationRecord.Method.IMPORT,
                "evidence": signer.evidence,
                "verifier_id": verifier_id,
                "verified_at": at,
            }
            for signer in fresh
        ]
    created = _signatures_insert(rows, records)
    source = {"source": Signature.Source.IMPORT}  # one object for every row: values_insert encodes it once
    creations = [
        {
            "signature_id": row["id"],
            "letter_id": letter.pk,
            "kind": SignatureEvent.Kind.CREATED,
            "at": at,
            "data": source,
        }
        for row in created
    ]
    # Each kind of row is built once by its builder (audit_event_build, signature_event_build) per group of
    # signatures it would come out the same for, then given each signature's id.
    audits: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    if created:
        template = _values(
            audit_event_build(
                action="letters.signature.created",
                target=Signature(**created[0]),
                data={"source": Signature.Source.IMPORT},
                at=at,
            )
        )
        audits = [template | {"target_id": str(row["id"])} for row in created]
    if vouched:
        data = {"level": VerificationLevel.VOUCHED, "method": VerificationRecord.Method.IMPORT}
        built: dict[tuple[str, int | None, str], tuple[dict[str, Any], dict[str, Any]]] = {}
        for row in created:
            group = (row["hold_reason"], row["organization_id"], row["organization_name"])
            if group not in built:
                signature = Signature(**row)
                signature.organization = organizations.get(row["organization_name"])  # read by the event, not again
                event, audit = signature_event_build(
                    signature=signature,
                    kind=SignatureEvent.Kind.CONFIRMED,
                    before=SignatureState(visible=False, level=VerificationLevel.NONE),
                    actor=verifier,
                    at=at,
                    data=data,
                    audit_data={"hold_reason": row["hold_reason"]} if row["hold_reason"] else None,
                )
                built[group] = (_values(event), _values(audit))
            event_values, audit_values = built[group]
            events.append(event_values | {"signature_id": row["id"]})
            audits.append(audit_values | {"target_id": str(row["id"])})
    else:
        messages = rows_insert(
            OutboxMessage,
            [outbox_message_build(signature=Signature(**row), kind=OutboxMessage.Kind.CONFIRM) for row in created],
            with_ids=True,
        )
        for message in messages:
            outbox_send_after_commit(message.pk)
    values_insert(SignatureEvent, creations)  # not visible: no log entry, as for a pending signature
    values_insert(SignatureEvent, events)
    values_insert(AuditEvent, audits)
    by_key = {row["email_key"]: row["id"] for row in created}
    for signer in signers:
        key = normalized[signer.number][1]
        if key in live:
            results[signer.number] = (live[key], "already_signed")
        elif first_of[key] is signer:
            results[signer.number] = (by_key[key], "created")
        else:
            results[signer.number] = (by_key[key], "already_signed")
    return results


def _values(obj: Any) -> dict[str, Any]:
    """The unsaved row `obj` would insert, as {attname: value}, without its id and insert-time stamps."""
    meta = obj._meta
    return {
        field.attname: getattr(obj, field.attname)
        for field in meta.concrete_fields
        if field is not meta.pk and not getattr(field, "auto_now_add", False) and not getattr(field, "auto_now", False)
    }


def _signatures_insert(rows: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the signatures and their verification records (one each, when given), each pointing at the other;
    returns `rows`, each with its "id" (and "verification_id").

    A level above `email` needs its record (the database checks it on insert), and a record needs its signature.
    On PostgreSQL both get their ids first and the records go in first (foreign keys are checked at commit); on
    other databases the signatures go in at `email` and are raised with one UPDATE per row."""
    if connection.vendor == "postgresql":
        ids = ids_reserve(Signature, len(rows))
        for row, signature_id in zip(rows, ids, strict=True):
            row["id"] = signature_id
        if records:
            for row, record, record_id in zip(rows, records, ids_reserve(VerificationRecord, len(rows)), strict=True):
                record["id"], record["signature_id"] = record_id, row["id"]
                row["verification_id"] = record_id
                row["verification_level"] = VerificationLevel.VOUCHED
            values_insert(VerificationRecord, records)
        values_insert(Signature, rows)
        return rows
    created = Signature.objects.bulk_create([Signature(**row) for row in rows])
    for row, signature in zip(rows, created, strict=True):
        row["id"] = signature.pk
    if not records:
        return rows
    made = VerificationRecord.objects.bulk_create(
        [VerificationRecord(signature=signature, **values) for signature, values in zip(created, records, strict=True)]
    )
    for row, signature, made_record in zip(rows, created, made, strict=True):
        signature.verification = made_record
        signature.verification_level = row["verification_level"] = VerificationLevel.VOUCHED
        row["verification_id"] = made_record.pk
    Signature.objects.bulk_update(created, ["verification", "verification_level"], batch_size=500)
    return rows

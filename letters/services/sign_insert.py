"""A new signature in one PostgreSQL statement: the signature, its history event, audit row and confirmation email.

The rows are the model instances the ORM path would save (letters.services.events, letters.services.outbox build
them), so defaults and content have one home; only the transport differs. The insert happens only while the letter
is open at the version the caller read, and only if no live signature has the same email key: otherwise nothing is
written and the caller takes the ORM path, which explains why (closed letter, reminder, race).
"""

import functools
from datetime import datetime
from typing import Any

from django.db import connection, models

# Defined with psycopg 3 only; django-stubs leave it out.
from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]
from django.db.backends.utils import CursorWrapper

from letters.models import Letter, OutboxMessage, Signature, SignatureEvent
from registry.models import AuditEvent

# Fields whose plain Python values Django would pass to psycopg unchanged (aware datetimes included).
PLAIN_FIELDS = (models.CharField, models.TextField, models.BooleanField, models.IntegerField, models.ForeignKey)


def _driver_ready(kind: str, value: Any) -> bool:
    """Whether psycopg takes the value as is for a field of this kind (see _layout)."""
    if type(value) in (str, int, bool):
        return kind == "plain"
    return kind == "datetime" and type(value) is datetime and value.tzinfo is not None


def _prepared_cursor() -> CursorWrapper:
    """A server-binding cursor, so PostgreSQL parses and plans the statement once per connection.

    Django's own cursors bind on the client and are never prepared; psycopg prepares statements of server-binding
    cursors once `prepare_threshold` (config.settings) is set. Query logging and wrappers still apply.
    """
    connection.ensure_connection()
    raw = ServerBindingCursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def sign_insert_supported() -> bool:
    return connection.vendor == "postgresql"


@functools.cache
def _layout(model: type[models.Model], skip: tuple[str, ...]) -> list[tuple[models.Field, str, str, str]]:
    """A model's inserted fields with their quoted column, typed placeholder and kind (computed once per process)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in skip]
    return [
        (
            f,
            connection.ops.quote_name(f.column),
            f"%s::{f.db_type(connection)}",
            "plain" if isinstance(f, PLAIN_FIELDS) else "datetime" if isinstance(f, models.DateTimeField) else "",
        )
        for f in fields
    ]


def _columns(obj: models.Model, *, skip: tuple[str, ...] = ()) -> tuple[list[str], list[str], list[Any]]:
    """Column names, typed placeholders and values of an unsaved instance, prepared as Django would insert them.

    NULLs are left to the column (no column has a database default), which keeps the statement under psycopg's
    limit for caching its parsed form.
    """
    kept: tuple[list[str], list[str], list[Any]] = ([], [], [])
    for field, name, mark, kind in _layout(type(obj), skip):
        value = field.pre_save(obj, True)
        if value is None:
            continue
        if not _driver_ready(kind, value):
            value = field.get_db_prep_save(value, connection)
        if value is not None:
            kept[0].append(name)
            kept[1].append(mark)
            kept[2].append(value)
    return kept


def _insert(obj: models.Model, *, source: str, link: tuple[str, str] | None = None) -> tuple[str, list[Any]]:
    """`INSERT … SELECT` of one instance's values; `link` is (column, SQL expression over `source`)."""
    names, marks, values = _columns(obj, skip=(link[0],) if link else ())
    if link:
        names, marks = [connection.ops.quote_name(link[0]), *names], [link[1], *marks]
    table = connection.ops.quote_name(obj._meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(marks)} {source}"
    return sql, values


def signature_insert_new(
    *,
    signature: Signature,
    event: SignatureEvent,
    audit: AuditEvent,
    message: OutboxMessage | None,
    statuses: tuple[str, ...] = (Letter.Status.OPEN,),
) -> bool:
    """Insert all four rows, or none; True when inserted (the instances then carry their primary keys).

    `statuses`: the letter statuses that accept this signature (open; scheduled too for signing under embargo)."""
    letters = connection.ops.quote_name(Letter._meta.db_table)
    guard = "id = %s AND status = ANY(%s) AND current_version_id = %s"
    letter_open = f"WHERE EXISTS (SELECT 1 FROM {letters} WHERE {guard})"  # noqa: S608 - a model's table name
    s_sql, s_values = _insert(signature, source=letter_open)
    e_sql, e_values = _insert(event, source="FROM s", link=("signature_id", "s.id"))
    a_sql, a_values = _insert(audit, source="FROM s", link=("target_id", "s.id::text"))
    ctes = [
        f"s AS ({s_sql} ON CONFLICT DO NOTHING RETURNING id)",
        f"e AS ({e_sql} RETURNING id)",
        f"a AS ({a_sql} RETURNING id)",
    ]
    params = [*s_values, signature.letter_id, [str(s) for s in statuses], signature.version_id, *e_values, *a_values]
    returned = "s.id, (SELECT id FROM e), (SELECT id FROM a)"
    if message is not None:
        m_sql, m_values = _insert(message, source="FROM s", link=("signature_id", "s.id"))
        ctes.append(f"m AS ({m_sql} RETURNING id)")
        params += m_values
        returned += ", (SELECT id FROM m)"
    with _prepared_cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT {returned} FROM s", params)  # noqa: S608 - built above
        row = cursor.fetchone()
    if row is None:
        return False
    signature.pk, event.pk, audit.pk = row[0], row[1], row[2]
    event.signature_id, audit.target_id = signature.pk, str(signature.pk)
    if message is not None:
        message.pk, message.signature_id = row[3], signature.pk
    for obj in (signature, event, audit, message):
        if obj is not None:
            obj._state.adding = False
    return True

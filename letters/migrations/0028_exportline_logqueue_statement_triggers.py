"""Export lines of new signatures and the log queue of new events, once per statement instead of once per row.

The row triggers of 0007 (exportline_signature_insert) and 0019 (letters_signatureevent_logqueue) ran one plpgsql call
and one INSERT … SELECT per row: about 0.2 ms a signature, most of an import's database time (issue 15, P7). These
statement triggers read the rows the statement inserted (a transition table) and do the same in one statement: the
same lines (the same view), the same FOR SHARE locks (in id order, as the lock order wants), the same queue rows in
id order. One-row inserts (the sign form) cost no more than before (measured: 3,000 single inserts 2.2 s → 1.5 s).
Updates and deletes keep their row triggers. PostgreSQL only; SQLite has no statement triggers and no export lines,
and keeps its row trigger for the queue."""

from django.db import migrations

FORWARD = [
    """CREATE FUNCTION letters_exportline_of_new_signatures() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM registry_organization
            WHERE id IN (SELECT organization_id FROM new_signatures WHERE status = 'confirmed' AND hold_reason = '')
            ORDER BY id FOR SHARE;
        PERFORM 1 FROM letters_verificationrecord
            WHERE id IN (SELECT verification_id FROM new_signatures WHERE status = 'confirmed' AND hold_reason = '')
            ORDER BY id FOR SHARE;
        INSERT INTO letters_exportline (signature_id, letter_id, confirmed_at, line)
        SELECT signature_id, letter_id, confirmed_at, line FROM letters_exportline_source
        WHERE signature_id IN (SELECT id FROM new_signatures WHERE status = 'confirmed' AND hold_reason = '')
        ORDER BY signature_id
        ON CONFLICT (signature_id) DO UPDATE
            SET letter_id = EXCLUDED.letter_id, confirmed_at = EXCLUDED.confirmed_at, line = EXCLUDED.line;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER exportline_signature_insert ON letters_signature",
    """CREATE TRIGGER exportline_signature_insert AFTER INSERT ON letters_signature
    REFERENCING NEW TABLE AS new_signatures FOR EACH STATEMENT
    EXECUTE FUNCTION letters_exportline_of_new_signatures()""",
    """CREATE FUNCTION letters_logqueue_new_events() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO letters_logqueue (event_id)
        SELECT id FROM new_events WHERE visible_before OR visible_after ORDER BY id;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER letters_signatureevent_logqueue ON letters_signatureevent",
    """CREATE TRIGGER letters_signatureevent_logqueue AFTER INSERT ON letters_signatureevent
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION letters_logqueue_new_events()""",
]
BACKWARD = [
    "DROP TRIGGER exportline_signature_insert ON letters_signature",
    """CREATE TRIGGER exportline_signature_insert AFTER INSERT ON letters_signature FOR EACH ROW
    WHEN (NEW.status = 'confirmed' AND NEW.hold_reason = '')
    EXECUTE FUNCTION letters_exportline_of_signature()""",
    "DROP FUNCTION letters_exportline_of_new_signatures()",
    "DROP TRIGGER letters_signatureevent_logqueue ON letters_signatureevent",
    """CREATE TRIGGER letters_signatureevent_logqueue AFTER INSERT ON letters_signatureevent FOR EACH ROW
    WHEN (NEW.visible_before OR NEW.visible_after) EXECUTE FUNCTION letters_logqueue_event()""",
    "DROP FUNCTION letters_logqueue_new_events()",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("letters", "0027_announcement_queue_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]

"""The announcement queue's SignatureEvent trigger once per statement instead of once per row (PostgreSQL), as 0028
did for the log queue: a bulk insert of events (an import's COPY, a sweep's batch) queues its rows in one INSERT …
SELECT over the transition table, in id order. SQLite keeps its row trigger (no statement triggers there)."""

from django.db import migrations

FORWARD = [
    """CREATE FUNCTION letters_announce_new_events() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO letters_announcementqueue (kind, object_id)
        SELECT 'event', id FROM new_events WHERE visible_before <> visible_after ORDER BY id;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER letters_signatureevent_announce ON letters_signatureevent",
    """CREATE TRIGGER letters_signatureevent_announce AFTER INSERT ON letters_signatureevent
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION letters_announce_new_events()""",
]
BACKWARD = [
    "DROP TRIGGER letters_signatureevent_announce ON letters_signatureevent",
    """CREATE TRIGGER letters_signatureevent_announce AFTER INSERT ON letters_signatureevent FOR EACH ROW
    WHEN (NEW.visible_before <> NEW.visible_after) EXECUTE FUNCTION letters_announce_event()""",
    "DROP FUNCTION letters_announce_new_events()",
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
    dependencies = [("letters", "0029_export_lines_deferrable_receipts_email_kinds")]
    operations = [migrations.RunPython(forwards, backwards)]

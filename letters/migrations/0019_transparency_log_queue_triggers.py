"""Triggers that queue every public change for the transparency log in the transaction that makes it: a
SignatureEvent that touches the public list (visible before or after) and every new LetterVersion. Existing rows are
queued once, versions first, so a deployment's log starts with its whole history."""

from django.db import migrations

PG = [
    """CREATE FUNCTION letters_logqueue_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO letters_logqueue (event_id) VALUES (NEW.id); RETURN NULL; END $$""",
    """CREATE FUNCTION letters_logqueue_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO letters_logqueue (version_id) VALUES (NEW.id); RETURN NULL; END $$""",
    """CREATE TRIGGER letters_signatureevent_logqueue AFTER INSERT ON letters_signatureevent FOR EACH ROW
    WHEN (NEW.visible_before OR NEW.visible_after) EXECUTE FUNCTION letters_logqueue_event()""",
    """CREATE TRIGGER letters_letterversion_logqueue AFTER INSERT ON letters_letterversion FOR EACH ROW
    EXECUTE FUNCTION letters_logqueue_version()""",
]
SQLITE = [
    """CREATE TRIGGER letters_signatureevent_logqueue AFTER INSERT ON letters_signatureevent
    WHEN NEW.visible_before OR NEW.visible_after
    BEGIN INSERT INTO letters_logqueue (event_id) VALUES (NEW.id); END""",
    """CREATE TRIGGER letters_letterversion_logqueue AFTER INSERT ON letters_letterversion
    BEGIN INSERT INTO letters_logqueue (version_id) VALUES (NEW.id); END""",
]
BACKFILL = [
    "INSERT INTO letters_logqueue (version_id) SELECT id FROM letters_letterversion ORDER BY id",
    """INSERT INTO letters_logqueue (event_id) SELECT id FROM letters_signatureevent
    WHERE visible_before OR visible_after ORDER BY id""",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in BACKFILL + (PG if vendor == "postgresql" else SQLITE):
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS letters_signatureevent_logqueue ON letters_signatureevent")
        schema_editor.execute("DROP TRIGGER IF EXISTS letters_letterversion_logqueue ON letters_letterversion")
        schema_editor.execute("DROP FUNCTION IF EXISTS letters_logqueue_event()")
        schema_editor.execute("DROP FUNCTION IF EXISTS letters_logqueue_version()")
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS letters_signatureevent_logqueue")
        schema_editor.execute("DROP TRIGGER IF EXISTS letters_letterversion_logqueue")
    schema_editor.execute("DELETE FROM letters_logqueue")


class Migration(migrations.Migration):
    dependencies = [("letters", "0018_transparency_log_queue_and_commitments")]
    operations = [migrations.RunPython(forwards, backwards)]

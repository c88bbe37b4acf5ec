"""Triggers that queue every change the webhooks announce in the transaction that makes it (letters.AnnouncementQueue):
a SignatureEvent that moves its signature into or out of the public list, a new LetterVersion, a letter's first
opening (from draft or scheduled) or its closing, and a Milestone. Nothing existing is queued: webhooks announce what
happens from now on."""

from django.db import migrations

EVENT_WHEN = "NEW.visible_before <> NEW.visible_after"
STATUS_WHEN = "NEW.status <> OLD.status AND (NEW.status = 'closed' OR (NEW.status = 'open' AND OLD.status IN ('draft', 'scheduled')))"
PG = [
    """CREATE FUNCTION letters_announce_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO letters_announcementqueue (kind, object_id) VALUES ('event', NEW.id); RETURN NULL; END $$""",
    """CREATE FUNCTION letters_announce_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO letters_announcementqueue (kind, object_id) VALUES ('version', NEW.id); RETURN NULL; END $$""",
    """CREATE FUNCTION letters_announce_status() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO letters_announcementqueue (kind, object_id, status_before, status_after)
    VALUES ('status', NEW.id, OLD.status, NEW.status); RETURN NULL; END $$""",
    """CREATE FUNCTION letters_announce_milestone() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO letters_announcementqueue (kind, object_id) VALUES ('milestone', NEW.id); RETURN NULL; END $$""",
    f"""CREATE TRIGGER letters_signatureevent_announce AFTER INSERT ON letters_signatureevent FOR EACH ROW
    WHEN ({EVENT_WHEN}) EXECUTE FUNCTION letters_announce_event()""",
    """CREATE TRIGGER letters_letterversion_announce AFTER INSERT ON letters_letterversion FOR EACH ROW
    EXECUTE FUNCTION letters_announce_version()""",
    f"""CREATE TRIGGER letters_letter_announce AFTER UPDATE OF status ON letters_letter FOR EACH ROW
    WHEN ({STATUS_WHEN}) EXECUTE FUNCTION letters_announce_status()""",
    """CREATE TRIGGER letters_milestone_announce AFTER INSERT ON letters_milestone FOR EACH ROW
    EXECUTE FUNCTION letters_announce_milestone()""",
]
SQLITE = [
    f"""CREATE TRIGGER letters_signatureevent_announce AFTER INSERT ON letters_signatureevent WHEN {EVENT_WHEN}
    BEGIN INSERT INTO letters_announcementqueue (kind, object_id) VALUES ('event', NEW.id); END""",
    """CREATE TRIGGER letters_letterversion_announce AFTER INSERT ON letters_letterversion
    BEGIN INSERT INTO letters_announcementqueue (kind, object_id) VALUES ('version', NEW.id); END""",
    f"""CREATE TRIGGER letters_letter_announce AFTER UPDATE OF status ON letters_letter WHEN {STATUS_WHEN}
    BEGIN INSERT INTO letters_announcementqueue (kind, object_id, status_before, status_after)
    VALUES ('status', NEW.id, OLD.status, NEW.status); END""",
    """CREATE TRIGGER letters_milestone_announce AFTER INSERT ON letters_milestone
    BEGIN INSERT INTO letters_announcementqueue (kind, object_id) VALUES ('milestone', NEW.id); END""",
]
TRIGGERS = {
    "letters_signatureevent_announce": "letters_signatureevent",
    "letters_letterversion_announce": "letters_letterversion",
    "letters_letter_announce": "letters_letter",
    "letters_milestone_announce": "letters_milestone",
}


def forwards(apps, schema_editor):
    for statement in PG if schema_editor.connection.vendor == "postgresql" else SQLITE:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for trigger, table in TRIGGERS.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        for name in ("event", "version", "status", "milestone"):
            schema_editor.execute(f"DROP FUNCTION IF EXISTS letters_announce_{name}()")
    schema_editor.execute("DELETE FROM letters_announcementqueue")


class Migration(migrations.Migration):
    dependencies = [("letters", "0026_announcement_queue_and_milestones")]
    operations = [migrations.RunPython(forwards, backwards)]

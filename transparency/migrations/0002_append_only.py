"""The log's tables refuse UPDATE and DELETE in the database: PostgreSQL triggers refuse both; SQLite's refuse UPDATE
only, since Django empties SQLite tables between transactional tests with DELETE (PostgreSQL's TRUNCATE fires no row
trigger). LogHead is the one row that changes; it is created here (and again by the first append after a flush)."""

from django.db import migrations

TABLES = ("transparency_entry", "transparency_tilehash", "transparency_checkpoint")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION transparency_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the transparency log is append-only: %% on %% refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION transparency_append_only()"
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only: UPDATE on {table} refused'); END"
            )
    apps.get_model("transparency", "LogHead").objects.get_or_create(pk=1, defaults={"size": 0})


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_update")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS transparency_append_only()")


class Migration(migrations.Migration):
    dependencies = [("transparency", "0001_log")]
    operations = [migrations.RunPython(forwards, backwards)]

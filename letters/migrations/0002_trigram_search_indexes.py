"""Trigram indexes for the public list's `q` search on PostgreSQL (icontains uses UPPER(col) LIKE); no-op elsewhere."""

from django.db import migrations

COLUMNS = ("name", "organization_name", "title")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS signature_{column}_trgm_idx "
            f"ON letters_signature USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS signature_{column}_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("letters", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]

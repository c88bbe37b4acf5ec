"""Trigram indexes cover only public rows (what `q` searches): a pending signature's insert skips all three."""

from django.db import migrations

COLUMNS = ("name", "organization_name", "title")
PUBLIC = "status = 'confirmed' AND hold_reason = ''"


def partial(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS signature_{column}_trgm_idx")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS signature_{column}_public_trgm_idx "
            f"ON letters_signature USING gin (UPPER({column}) gin_trgm_ops) WHERE {PUBLIC}"
        )


def full(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS signature_{column}_public_trgm_idx")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS signature_{column}_trgm_idx "
            f"ON letters_signature USING gin (UPPER({column}) gin_trgm_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("letters", "0004_fewer_signature_indexes")]
    operations = [migrations.RunPython(partial, full)]

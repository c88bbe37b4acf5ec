"""The statement trigger of 0028 returns at once when the statement inserted no public signature.

A sign-form signature is inserted pending: 0028's function still ran its three statements on the empty selection,
about 0.2 ms a signature, where the row trigger's WHEN (checked in C) had cost nothing (measured: 3,000 pending
one-row inserts 1.05–1.18 s against 0.40–0.47 s with the row trigger; with this check 0.39–0.50 s). PostgreSQL only."""

from django.db import migrations

BODY = """
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
"""
EXIT = """
    IF NOT EXISTS (SELECT FROM new_signatures WHERE status = 'confirmed' AND hold_reason = '') THEN
        RETURN NULL;  -- pending (every signature from the sign form) or held: no line
    END IF;
"""


def function(fast_exit: bool) -> str:
    return f"""CREATE OR REPLACE FUNCTION letters_exportline_of_new_signatures() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN{EXIT if fast_exit else ""}{BODY}END $$"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(function(fast_exit=True))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(function(fast_exit=False))


class Migration(migrations.Migration):
    dependencies = [("letters", "0030_announcement_queue_statement_trigger")]
    operations = [migrations.RunPython(forwards, backwards)]

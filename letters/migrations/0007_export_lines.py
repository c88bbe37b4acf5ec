"""Export lines: the CSV line of every public signature, kept by triggers so an export reads one column in order.

See letters.models.ExportLine. PostgreSQL only; on SQLite the table stays empty and exports render in Python."""

import django.db.models.deletion
from django.db import migrations, models


# The rendering rule, in SQL, of letters.exports.export_row + csv_cell + csv.writer (tests prove the bytes equal):
# cells that could start a formula get an apostrophe, cells with a comma, a quote or a newline are quoted (as
# Python's csv module does), times are ISO 8601 in UTC with trailing zeros of the fraction trimmed.
FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION letters_csv_cell(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN value IS NULL THEN ''
        WHEN ascii(value) IN (61, 43, 45, 64, 9, 13) THEN letters_csv_quote('''' || value)
        ELSE letters_csv_quote(value)
    END;
"""
QUOTE = r"""
CREATE OR REPLACE FUNCTION letters_csv_quote(cell text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN strpos(cell, ',') > 0 OR strpos(cell, '"') > 0 OR strpos(cell, chr(10)) > 0
            THEN '"' || replace(cell, '"', '""') || '"'
        ELSE cell
    END;
CREATE OR REPLACE FUNCTION letters_export_time(moment timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || coalesce(nullif(rtrim(to_char(moment AT TIME ZONE 'UTC', '.US'), '0'), '.'), '') || 'Z';
"""
# Which signatures are public (signatures_public_now) and what each column shows (export_row).
VIEW = """
CREATE OR REPLACE VIEW letters_exportline_source AS
SELECT s.id AS signature_id, s.letter_id, s.confirmed_at, s.organization_id, s.verification_id, s.version_id,
       concat_ws(',',
           letters_csv_cell(s.public_id),
           letters_csv_cell(CASE WHEN s.is_public THEN s.name ELSE 'Name withheld' END),
           CASE WHEN s.is_public THEN 'false' ELSE 'true' END,
           letters_csv_cell(CASE WHEN s.is_public THEN s.title ELSE '' END),
           letters_csv_cell(coalesce(o.name, s.organization_name)),
           letters_csv_cell(o.slug),
           letters_csv_cell(s.verification_level),
           letters_csv_cell(CASE WHEN vr.level = s.verification_level THEN vr.method
                                 WHEN s.verification_level = 'email' THEN 'email' END),
           letters_csv_cell(letters_export_time(CASE WHEN vr.level = s.verification_level THEN vr.verified_at
                                                     WHEN s.verification_level = 'email' THEN s.confirmed_at END)),
           letters_csv_cell(letters_export_time(s.confirmed_at)),
           v.number::text
       ) AS line
FROM letters_signature s
JOIN letters_letterversion v ON v.id = s.version_id
LEFT JOIN registry_organization o ON o.id = s.organization_id AND o.status = 'reviewed'
LEFT JOIN letters_verificationrecord vr ON vr.id = s.verification_id
WHERE s.status = 'confirmed' AND s.hold_reason = '';
"""
UPSERT = """
    INSERT INTO letters_exportline (signature_id, letter_id, confirmed_at, line)
    SELECT signature_id, letter_id, confirmed_at, line FROM letters_exportline_source WHERE {where}
    ON CONFLICT (signature_id) DO UPDATE
        SET letter_id = EXCLUDED.letter_id, confirmed_at = EXCLUDED.confirmed_at, line = EXCLUDED.line;
"""
# What the line reads from a signature; a change to anything else (emails_sent, person, ...) leaves it alone.
SHOWN = (
    "status, hold_reason, letter_id, public_id, name, is_public, title, organization_name, organization_id, "
    "verification_level, verification_id, confirmed_at, version_id"
)
# A line reads its organization and verification record. So that a rename never races a signer going public into
# a stale line, the signature trigger first takes FOR SHARE on those rows (the old ones too, when they change): an
# UPDATE of such a row waits for that transaction's commit and its trigger then sees the signature as committed, and
# a signature write that comes second waits for the UPDATE's commit and then reads it (READ COMMITTED: each
# statement a new snapshot). Foreign-key checks already take KEY SHARE on the same rows, so no new lock order.
TRIGGERS = f"""
CREATE OR REPLACE FUNCTION letters_exportline_of_signature() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM letters_exportline WHERE signature_id = OLD.id;
        RETURN NULL;
    END IF;
    PERFORM 1 FROM registry_organization
        WHERE id IN (NEW.organization_id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.organization_id END)
        ORDER BY id FOR SHARE;
    PERFORM 1 FROM letters_verificationrecord
        WHERE id IN (NEW.verification_id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.verification_id END)
        ORDER BY id FOR SHARE;
    {UPSERT.format(where="signature_id = NEW.id")}
    IF NOT FOUND THEN  -- no longer public
        DELETE FROM letters_exportline WHERE signature_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION letters_exportline_of_organization() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {UPSERT.format(where="organization_id = NEW.id")}
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION letters_exportline_of_verification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {UPSERT.format(where="verification_id = NEW.id")}
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION letters_exportline_of_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {UPSERT.format(where="version_id = NEW.id")}
    RETURN NULL;
END $$;

-- A pending signature (every new signature from the sign form) fires nothing: the WHEN is checked in C.
CREATE TRIGGER exportline_signature_insert AFTER INSERT ON letters_signature FOR EACH ROW
    WHEN (NEW.status = 'confirmed' AND NEW.hold_reason = '')
    EXECUTE FUNCTION letters_exportline_of_signature();
CREATE TRIGGER exportline_signature_update AFTER UPDATE ON letters_signature FOR EACH ROW
    WHEN ((OLD.status = 'confirmed' OR NEW.status = 'confirmed')
          AND ROW({", ".join("OLD." + c for c in SHOWN.split(", "))})
              IS DISTINCT FROM ROW({", ".join("NEW." + c for c in SHOWN.split(", "))}))
    EXECUTE FUNCTION letters_exportline_of_signature();
CREATE TRIGGER exportline_signature_delete AFTER DELETE ON letters_signature FOR EACH ROW
    WHEN (OLD.status = 'confirmed')
    EXECUTE FUNCTION letters_exportline_of_signature();
CREATE TRIGGER exportline_organization AFTER UPDATE ON registry_organization FOR EACH ROW
    WHEN (ROW(OLD.name, OLD.slug, OLD.status) IS DISTINCT FROM ROW(NEW.name, NEW.slug, NEW.status))
    EXECUTE FUNCTION letters_exportline_of_organization();
CREATE TRIGGER exportline_verification AFTER UPDATE ON letters_verificationrecord FOR EACH ROW
    WHEN (ROW(OLD.level, OLD.method, OLD.verified_at) IS DISTINCT FROM ROW(NEW.level, NEW.method, NEW.verified_at))
    EXECUTE FUNCTION letters_exportline_of_verification();
CREATE TRIGGER exportline_version AFTER UPDATE ON letters_letterversion FOR EACH ROW
    WHEN (OLD.number IS DISTINCT FROM NEW.number)
    EXECUTE FUNCTION letters_exportline_of_version();
"""
DROP = """
DROP TRIGGER IF EXISTS exportline_signature_insert ON letters_signature;
DROP TRIGGER IF EXISTS exportline_signature_update ON letters_signature;
DROP TRIGGER IF EXISTS exportline_signature_delete ON letters_signature;
DROP TRIGGER IF EXISTS exportline_organization ON registry_organization;
DROP TRIGGER IF EXISTS exportline_verification ON letters_verificationrecord;
DROP TRIGGER IF EXISTS exportline_version ON letters_letterversion;
DROP FUNCTION IF EXISTS letters_exportline_of_signature, letters_exportline_of_organization,
    letters_exportline_of_verification, letters_exportline_of_version;
DROP VIEW IF EXISTS letters_exportline_source;
DROP FUNCTION IF EXISTS letters_export_time, letters_csv_cell, letters_csv_quote;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite exports through the Python path
    backfill = UPSERT.format(where="true ORDER BY letter_id, confirmed_at, signature_id")  # in export order
    for statement in (QUOTE, FUNCTIONS, VIEW, TRIGGERS, backfill):
        schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0006_partial_fk_indexes"),
        ("registry", "0002_partial_fk_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExportLine",
            fields=[
                (
                    "signature",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="letters.signature",
                    ),
                ),
                ("confirmed_at", models.DateTimeField()),
                ("line", models.TextField()),
                (
                    "letter",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="letters.letter",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["letter", "confirmed_at", "signature"], name="exportline_order_idx")],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]

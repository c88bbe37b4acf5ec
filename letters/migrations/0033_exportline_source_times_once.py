"""The export line's two time cells computed once per row (a LATERAL subquery) instead of once per use.

`letters_csv_cell` is inlined where the view calls it, and it reads its argument five times (NULL test, first
character, three `strpos`); with `letters_export_time(...)` as the argument, PostgreSQL pasted the whole time
rendering (two `to_char` each) into every use for the confirmation time, and could not inline the verification
time's call at all (a SQL function call per row). The subquery (`OFFSET 0`, so that it is not flattened back)
renders each time once; the cells are the same functions of the same values, so every line is byte for byte what
0007's view gives (tests/letters/test_export_lines.py compares them with the Python rendering; the migration's
test compares old and new views on the same rows). Measured (20k public signatures): the view's lines 830–975 ms
→ 360–435 ms; the import's signature COPY, whose statement trigger renders a batch's lines, about 20 µs a row
less (issue 15, P7). PostgreSQL only, as 0007."""

from django.db import migrations

HEAD = """
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
"""
JOINS = """
FROM letters_signature s
JOIN letters_letterversion v ON v.id = s.version_id
LEFT JOIN registry_organization o ON o.id = s.organization_id AND o.status = 'reviewed'
LEFT JOIN letters_verificationrecord vr ON vr.id = s.verification_id
"""
WHERE = "WHERE s.status = 'confirmed' AND s.hold_reason = '';"
VERIFIED_AT = """CASE WHEN vr.level = s.verification_level THEN vr.verified_at
                                WHEN s.verification_level = 'email' THEN s.confirmed_at END"""

TIMES_ONCE = f"""{HEAD}           letters_csv_cell(t.verified),
           letters_csv_cell(t.confirmed),
           v.number::text
       ) AS line{JOINS}CROSS JOIN LATERAL (
    SELECT letters_export_time({VERIFIED_AT}) AS verified,
           letters_export_time(s.confirmed_at) AS confirmed
    OFFSET 0  -- not flattened: each time rendered once
) t
{WHERE}"""

AS_0007 = f"""{HEAD}           letters_csv_cell(letters_export_time({VERIFIED_AT})),
           letters_csv_cell(letters_export_time(s.confirmed_at)),
           v.number::text
       ) AS line{JOINS}{WHERE}"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TIMES_ONCE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(AS_0007)


class Migration(migrations.Migration):
    dependencies = [("letters", "0032_signature_withheld_index")]
    operations = [migrations.RunPython(forwards, backwards)]

"""A sweep of many signatures can take their export lines off the per-row trigger: the update trigger skips while the
transaction's `letters.export_lines` setting is `deferred`, and the sweep refreshes the lines of the rows it changed in
one statement (letters.exports.export_lines_deferred). About 0.3 ms a row on a restore, most of an undo's database
time (issue 16, P9). Everyone else (the setting unset) gets the trigger exactly as before. PostgreSQL only.

Also an index on SignatureCommitment.entered_index (each checkpoint looks up the receipts it makes provable by range),
and the organizer side's email kinds among OutboxMessage's choices."""

from django.db import migrations, models

# What the line reads from a signature (as in 0007).
SHOWN = [
    *("status", "hold_reason", "letter_id", "public_id", "name", "is_public", "title", "organization_name"),
    *("organization_id", "verification_level", "verification_id", "confirmed_at", "version_id"),
]
OLD_ROW, NEW_ROW = (", ".join(f"{side}.{c}" for c in SHOWN) for side in ("OLD", "NEW"))
CHANGED = f"ROW({OLD_ROW}) IS DISTINCT FROM ROW({NEW_ROW})"


def trigger(deferrable: bool) -> str:
    skip = " AND current_setting('letters.export_lines', true) IS DISTINCT FROM 'deferred'" if deferrable else ""
    return f"""CREATE TRIGGER exportline_signature_update AFTER UPDATE ON letters_signature FOR EACH ROW
    WHEN ((OLD.status = 'confirmed' OR NEW.status = 'confirmed') AND {CHANGED}{skip})
    EXECUTE FUNCTION letters_exportline_of_signature()"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER exportline_signature_update ON letters_signature")
        schema_editor.execute(trigger(deferrable=True))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER exportline_signature_update ON letters_signature")
        schema_editor.execute(trigger(deferrable=False))


class Migration(migrations.Migration):
    dependencies = [("letters", "0028_exportline_logqueue_statement_triggers")]
    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.AlterField(
            model_name="outboxmessage",
            name="kind",
            field=models.CharField(
                choices=[
                    ("confirm", "Confirm your signature"),
                    ("already_signed", "You have already signed"),
                    ("confirmed", "Signature confirmed"),
                    ("reconsent", "The letter changed: consent to the new text or withdraw"),
                    ("receipt", "Your signature is in the public record"),
                    ("organizer_invitation", "Invitation to co-organize a letter"),
                    ("account", "Account email (verification, password reset)"),
                    ("signer_invitation", "Invitation to sign a letter"),
                    ("trending_alert", "Trending alert for moderators"),
                ],
                max_length=30,
            ),
        ),
        migrations.AddIndex(
            model_name="signaturecommitment",
            index=models.Index(
                condition=models.Q(("entered_index__isnull", False)),
                fields=["entered_index"],
                name="commitment_entered_idx",
            ),
        ),
    ]

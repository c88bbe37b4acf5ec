"""A letter opened in admin without a body had no version (signing, its page and exports answered 500): such
letters go back to draft, with an audit row each, before 0011 makes the state impossible."""

from django.db import migrations
from django.utils import timezone


def back_to_draft(apps, schema_editor):
    Letter = apps.get_model("letters", "Letter")
    AuditEvent = apps.get_model("registry", "AuditEvent")
    broken = Letter.objects.exclude(status="draft").filter(current_version__isnull=True)
    for letter in broken:
        AuditEvent.objects.create(
            action="letters.letter.status_changed",
            target_type="letters.letter",
            target_id=str(letter.pk),
            data={"from": letter.status, "to": "draft", "reason": "no published version (migration 0010)"},
            at=timezone.now(),
        )
    broken.update(status="draft")


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0009_signature_events_record_the_shown_organization"),
        ("registry", "0002_partial_fk_indexes"),
    ]

    operations = [migrations.RunPython(back_to_draft, migrations.RunPython.noop)]

"""Versions published before kinds existed: the first is the initial text, later ones were editorial (their signers
stayed bound to the version they signed, as an editorial change now does). A closed letter without closed_at gets its
last change as its closing time, so the next migration can require one."""

from django.db import migrations
from django.db.models import F


def forwards(apps, schema_editor):
    LetterVersion = apps.get_model("letters", "LetterVersion")
    Letter = apps.get_model("letters", "Letter")
    LetterVersion.objects.filter(number=1).update(kind="initial")
    LetterVersion.objects.filter(number__gt=1).update(kind="editorial")
    Letter.objects.filter(status="closed", closed_at=None).update(closed_at=F("updated_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0015_letter_schedule_and_version_kinds"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]

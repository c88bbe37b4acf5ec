"""Keyed hashes for the raw client addresses already stored (new signatures get theirs when they sign)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from letters.ipaddrs import ip_hashes

    Signature = apps.get_model("letters", "Signature")
    rows = Signature.objects.filter(ip_address__isnull=False, ip_hash="").only("pk", "ip_address")
    for signature in rows.iterator(chunk_size=2000):
        signature.ip_hash, signature.ip_prefix_hash = ip_hashes(signature.ip_address)
        signature.save(update_fields=["ip_hash", "ip_prefix_hash"])


class Migration(migrations.Migration):
    dependencies = [("letters", "0022_signature_ip_hashes")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

from importing.jobs import import_run_batch
from importing.models import SignatureImport
from importing.services import import_upload
from letters.models import Signature
from registry.models import AuditEvent

CSV = b"name,email\nAda Lovelace,ada@example.org\nGrace Hopper,grace@example.org\n"


def test_staff_undo_an_import_from_admin_through_the_service(staff_client, staff_user, open_letter):
    imp = import_upload(letter=open_letter, data=CSV, filename="x.csv", actor=staff_user).signature_import
    SignatureImport.objects.filter(pk=imp.pk).update(status="queued", mode="vouched")
    import_run_batch(signature_import_id=imp.pk)
    assert staff_client.get("/admin/importing/signatureimport/").status_code == 200
    assert staff_client.get(f"/admin/importing/signatureimport/{imp.pk}/change/").status_code == 200
    response = staff_client.post(
        "/admin/importing/signatureimport/", {"action": "undo", "_selected_action": [imp.pk]}, follow=True
    )
    assert response.status_code == 200
    assert set(Signature.objects.values_list("status", flat=True)) == {"rejected"}
    assert AuditEvent.objects.filter(action="importing.import.undone", actor=staff_user).count() == 1
    assert staff_client.get("/admin/importing/signerinvitation/").status_code == 200

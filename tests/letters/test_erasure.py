"""Withdrawal erases the signer everywhere (every table searched) while past counts and the log still verify; a
withdrawn signer shows as a placeholder in current and past lists, the change feed and exports."""

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.models.functions import Cast
from django.utils import timezone

from letters.models import SignatureCommitment
from letters.services.corrections import signature_correct
from letters.services.erasure import WITHDRAWN_PLACEHOLDER
from letters.services.signing import signature_withdraw
from registry.models import Affiliation, Person, PersonEmail
from tests.builders import signed
from transparency import services as log
from transparency.models import Entry

pytestmark = pytest.mark.django_db
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def tables_containing(text: str) -> list[str]:
    """Every model field whose stored value contains `text` (case-insensitively), over every table of the project."""
    hits, tables = [], set(connection.introspection.table_names())
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy or model._meta.db_table not in tables:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, TEXT_FIELDS):
                continue
            rows = model._default_manager.all()
            if isinstance(field, models.JSONField):
                rows = rows.annotate(as_text=Cast(field.attname, models.TextField())).filter(as_text__icontains=text)
            else:
                rows = rows.filter(**{f"{field.attname}__icontains": text})
            if rows.exists():
                hits.append(f"{model._meta.label}.{field.name}")
    return hits


def test_a_withdrawn_signer_is_erased_from_every_table_and_the_log_keeps_its_leaf(open_letter, client):
    past = timezone.now() - timedelta(hours=2)
    signature = signed(open_letter, name="Grace Hopper", email="Grace.Hopper@Example.org", title="Rear Admiral",
                       organization_name="Navy Labs", at=past)  # fmt: skip
    signed(open_letter, name="Ada Lovelace", email="ada@example.org", at=past)
    signature_correct(signature=signature, changes={"name": "Grace B. Hopper"}, reason="typo", at=past)
    log.log_sync()
    assert tables_containing("grace.hopper@example.org") != []
    assert Affiliation.objects.filter(person=signature.person).exists()

    signature_withdraw(signature=signature)
    log.log_sync()

    for secret in ("grace.hopper@example.org", "Grace Hopper", "Grace B. Hopper", "hopper"):
        assert tables_containing(secret) == [], secret
    assert not any(b"Hopper" in bytes(e.data) for e in Entry.objects.all())
    person = Person.objects.get(pk=signature.person_id)
    assert person.display_name == "Erased person"
    assert not PersonEmail.objects.filter(person=person).exists()
    assert not Affiliation.objects.filter(person=person).exists()
    assert SignatureCommitment.objects.get(signature=signature).salt is None
    assert Entry.objects.count() == 5  # version, two entered, changed (the correction), left

    as_of = (past + timedelta(minutes=1)).isoformat()
    listed = client.get(f"/api/v1/letters/{open_letter.slug}/signatures/", {"as_of": as_of}).json()["results"]
    assert sorted((r["name"], r["removed_later"]) for r in listed) == [
        ("A signature since withdrawn", True), ("Ada Lovelace", False)]  # fmt: skip
    assert client.get(f"/api/v1/letters/{open_letter.slug}/stats/", {"as_of": as_of}).json()["public"] == 2
    changes = client.get(f"/api/v1/letters/{open_letter.slug}/changes/").json()["results"]
    assert {c["signature"]["name"] for c in changes} == {WITHDRAWN_PLACEHOLDER, "Ada Lovelace"}
    export = json.loads(b"".join(client.get(f"/api/v1/letters/{open_letter.slug}/export.json", {"as_of": as_of})
                                 .streaming_content))  # fmt: skip
    row = next(r for r in export["signatures"] if r["id"] == signature.public_id)
    assert (row["name"], row["title"], row["organization"], row["name_salt"]) == (WITHDRAWN_PLACEHOLDER, "", "", None)


def test_a_person_with_another_live_signature_keeps_it_and_loses_only_the_withdrawn_address(open_letter):
    from tests.factories import LetterFactory

    other_letter = LetterFactory(status="open")
    kept = signed(other_letter, name="Grace Hopper", email="grace@example.org")
    withdrawn = signed(open_letter, name="Grace Hopper", email="grace@example.org")
    assert kept.person_id == withdrawn.person_id
    signature_withdraw(signature=withdrawn)
    person = Person.objects.get(pk=kept.person_id)
    assert person.display_name == "Grace Hopper"
    assert PersonEmail.objects.filter(person=person, email_key="grace@example.org").exists()  # still signs with it

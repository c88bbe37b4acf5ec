import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import (
    LetterFactory,
    OrganizationAliasFactory,
    OrganizationDomainFactory,
    PersonEmailFactory,
    ProtectedNameFactory,
    SignatureFactory,
)


@pytest.fixture
def some_of_everything(db):
    letter = LetterFactory()
    SignatureFactory(letter=letter)
    OrganizationAliasFactory()
    OrganizationDomainFactory()
    PersonEmailFactory()
    ProtectedNameFactory()
    return letter


@pytest.mark.django_db
@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_admin_changelist_and_change_pages_load_for_a_superuser(staff_client, some_of_everything, model):
    opts = model._meta
    changelist = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    obj = model.objects.first()
    if obj is not None:
        change = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        assert change.status_code == 200


@pytest.mark.django_db
def test_admin_requires_staff(client):
    response = client.get(reverse("admin:letters_signature_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")

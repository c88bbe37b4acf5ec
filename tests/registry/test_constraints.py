import pytest
from django.db import IntegrityError, transaction

from letters.models import Signature
from tests.factories import SignatureFactory


@pytest.mark.django_db
def test_second_live_signature_with_same_email_key_is_refused_by_the_database(open_letter):
    SignatureFactory(letter=open_letter, email="a@example.org", email_key="a@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        SignatureFactory(letter=open_letter, email="A@example.org", email_key="a@example.org")
    assert Signature.objects.filter(letter=open_letter, email_key="a@example.org").count() == 1


@pytest.mark.django_db
def test_withdrawn_signature_does_not_block_signing_again(open_letter):
    SignatureFactory(letter=open_letter, email_key="a@example.org", status=Signature.Status.WITHDRAWN)
    SignatureFactory(letter=open_letter, email_key="a@example.org")
    assert Signature.objects.filter(letter=open_letter, email_key="a@example.org").count() == 2


@pytest.mark.django_db
def test_verification_level_above_email_without_record_is_refused_by_the_database(open_letter):
    with pytest.raises(IntegrityError), transaction.atomic():
        SignatureFactory(letter=open_letter, verification_level="manual", verification=None)

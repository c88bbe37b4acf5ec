"""Releasing a hold (letters.services.verification.signature_release): a rate-limit hold, decided at signing time,
is released into the checks of the name and title it had hidden; a name held as a possible impersonation is released
only by verifying it."""

import pytest

from letters.models import Signature
from letters.services.signing import signature_confirm, signature_create
from letters.services.verification import VerificationError, signature_hold, signature_release
from registry.models import AuditEvent
from registry.protected import protected_name_add
from tests.builders import public_count, signed
from tests.organizing.conftest import member

pytestmark = pytest.mark.django_db


def rate_limited(letter, **fields) -> Signature:
    """Signed while the rate limit held it (the hold is decided at signing), then confirmed."""
    created = signature_create(letter=letter, send_email=False, check_rate_limits=False, **fields).signature
    Signature.objects.filter(pk=created.pk).update(hold_reason=Signature.HoldReason.RATE_LIMITED)
    created.refresh_from_db()
    return signature_confirm(signature=created)


@pytest.mark.parametrize(
    ("fields", "held"),
    [
        ({"name": "Tobias Renwick", "email": "tobias.fake@gmail.com"}, "protected_name"),
        ({"name": "Eloп Musk", "email": "elon@gmail.com"}, "mixed_script"),
        ({"name": "Tim Cook", "email": "tim@gmail.com", "title": "CEO"}, "senior_title"),
    ],
)
def test_a_released_rate_limit_hold_keeps_what_the_name_and_title_checks_hold(open_letter, fields, held):
    protected_name_add(name="Tobias Renwick")
    signature = rate_limited(open_letter, **fields)
    assert signature.hold_reason == "rate_limited"

    released = signature_release(signature=signature)
    assert (released.hold_reason, released.is_visible, public_count(open_letter)) == (held, False, 0)
    audit = AuditEvent.objects.get(action="letters.signature.hold_changed")
    assert audit.data == {"released": "rate_limited", "held": held}


def test_a_released_rate_limit_hold_of_a_plain_signer_goes_public(open_letter):
    signature = rate_limited(open_letter, name="Ada Lovelace", email="ada@example.org")
    released = signature_release(signature=signature)
    assert (released.hold_reason, released.is_visible, public_count(open_letter)) == ("", True, 1)


@pytest.mark.parametrize("reason", ["protected_name", "mixed_script"])
def test_a_possible_impersonation_is_released_only_by_verifying_it(open_letter, reason):
    signature = signature_hold(signature=signed(open_letter), reason=reason)
    with pytest.raises(VerificationError) as refused:
        signature_release(signature=signature)
    assert str(refused.value) == (
        "A name held as a possible impersonation is not released as it is: verify the signer (with evidence) or "
        "reject the signature."
    )
    signature.refresh_from_db()
    assert (signature.hold_reason, signature.is_visible) == (reason, False)


def test_a_moderator_releasing_a_look_alike_gets_a_conflict_and_it_stays_held(client, open_letter):
    from organizing.models import Membership

    client.force_login(member(open_letter, Membership.Role.MODERATOR, username="mod"))
    signature = signature_hold(signature=signed(open_letter, name="Мarcus Vellаcott"), reason="mixed_script")
    response = client.post(f"/api/v1/manage/letters/{open_letter.slug}/signatures/{signature.public_id}/release")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("A name held as a possible impersonation is not released")
    signature.refresh_from_db()
    assert (signature.hold_reason, signature.is_visible) == ("mixed_script", False)

from datetime import datetime

import pytest

from letters.models import Letter, Signature, SignatureEvent
from letters.services.signing import signature_confirm, signature_create
from registry.services import organization_alias_add, organization_domain_add
from tests.factories import OrganizationFactory


def public_count(letter: Letter) -> int:
    """The public count replayed from events, checked against the rows' own `is_visible`."""
    from_events = sum(
        int(after) - int(before)
        for before, after in SignatureEvent.objects.filter(letter=letter).values_list("visible_before", "visible_after")
    )
    from_rows = sum(s.is_visible for s in Signature.objects.filter(letter=letter))
    assert from_events == from_rows
    return from_rows


@pytest.fixture
def sign(open_letter):
    """Sign and confirm through the signing services, as a real signer would."""

    def _sign(
        name: str,
        email: str,
        *,
        title: str = "",
        organization: str = "",
        letter: Letter | None = None,
        at: datetime | None = None,
    ) -> Signature:
        result = signature_create(
            letter=letter or open_letter,
            name=name,
            email=email,
            title=title,
            organization_name=organization,
            send_email=False,
            check_rate_limits=False,
            at=at,
        )
        return signature_confirm(signature=result.signature, at=at)

    return _sign


@pytest.fixture
def nvidia(db):
    organization = OrganizationFactory(name="Nvidia", slug="nvidia", name_key="nvidia")
    organization_alias_add(organization=organization, name="NVIDIA Corporation")
    organization_domain_add(organization=organization, domain="nvidia.com")
    return organization

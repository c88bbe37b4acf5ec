"""A withdrawn signer is erased: nothing that names them or their address stays in any table, while every past count
stays reproducible (the history rows stay; the signature row shows a placeholder in current and past lists, feeds
and exports; the transparency log keeps its leaf, whose name commitment can no longer be opened)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from letters.models import Signature, SignatureEvent
from letters.transparency_log import signature_salt_erase
from registry.audit import audit_log
from registry.erasure import audit_scrub, person_erase

WITHDRAWN_PLACEHOLDER = "A signature since withdrawn"


@dataclass(frozen=True)
class Signer:
    """What must not survive the erasure, read before the withdrawal blanks the address."""

    names: tuple[str, ...]  # the name now and every name a correction replaced
    email: str
    email_key: str

    @property
    def strings(self) -> list[str]:
        return [s for s in (*self.names, self.email, self.email_key) if s]


def signature_signer(signature: Signature) -> Signer:
    corrections = SignatureEvent.objects.filter(signature=signature, kind=SignatureEvent.Kind.CORRECTED)
    earlier = [(e.data.get("before") or {}).get("name", "") for e in corrections]
    return Signer(names=(signature.name, *earlier), email=signature.email, email_key=signature.email_key)


class SignatureEraseParticipant(Protocol):
    def __call__(self, *, signature: Signature, signer: Signer, at: datetime) -> object: ...


# Apps above letters that keep a signer's text elsewhere register here in their AppConfig.ready (importing: the
# invitations to the letter), so that letters never imports them; each runs inside signature_erase.
signature_erase_participants: list[SignatureEraseParticipant] = []


def signature_erase(*, signature: Signature, signer: Signer, at: datetime) -> None:
    """Erase the signer of `signature` (being withdrawn): its typed text becomes the placeholder, corrections forget
    the text they replaced, the salt of its log commitment is deleted, its person loses this address (and, with no
    other live signature, its names, affiliations and duplicate candidates), audit rows drop the name and address.

    Call from signature_withdraw holding the signature's lock, after its tokens and outbox rows (lock order: the
    person, step 4, comes last)."""
    signature.name, signature.title, signature.organization_name = WITHDRAWN_PLACEHOLDER, "", ""
    Signature.objects.filter(pk=signature.pk).update(name=signature.name, title="", organization_name="")
    SignatureEvent.objects.filter(signature=signature, kind=SignatureEvent.Kind.CORRECTED).update(data={})
    signature_salt_erase(signature=signature)
    if signature.person_id is not None:
        live = Signature.objects.filter(status__in=Signature.LIVE_STATUSES).exclude(pk=signature.pk)
        address_in_use = bool(signer.email_key) and live.filter(email_key=signer.email_key).exists()
        person_erase(
            person=signature.person,  # type: ignore[arg-type]  # person_id is set
            email_key="" if address_in_use else signer.email_key,
            keep_person=live.filter(person_id=signature.person_id).exists(),
            secrets=signer.strings,
        )
    for participant in signature_erase_participants:
        participant(signature=signature, signer=signer, at=at)
    audit_scrub(targets=[("letters.signature", str(signature.pk))], secrets=signer.strings)
    audit_log(action="letters.signature.erased", target=signature, at=at)

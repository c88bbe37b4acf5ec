"""Invitations of named signers: create (one, or a spreadsheet's rows through an import in mode "invite"), email
through the outbox, open, sign with one click at level `invited`, decline, revoke, remind.

Tokens: 256 bits (`secrets.token_urlsafe(32)`), only their sha256 stored, one purpose (signing this letter as this
person), acted on by POST only. Lock order: the invitation row, then what letters' services lock for the signature.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from importing.models import SignatureImport, SignerInvitation
from letters.models import Letter, OutboxMessage, Signature
from letters.services.erasure import Signer
from letters.services.imports import signature_create_invited
from letters.typed_text import signer_input_clean
from organizing.emails import organizer_email_enqueue
from registry.audit import Actor, actor_user, audit_log
from registry.emails import email_key
from registry.erasure import ERASED

TOKEN_BYTES = 32
KIND_SIGNER_INVITATION = "signer_invitation"
# Letter statuses in which invitation links do not work (invitation_for_token), so none is emailed then either.
LINKS_DEAD = (Letter.Status.CLOSED, Letter.Status.DRAFT)


class InvitationInvalid(Exception):
    """The link is unknown, used, revoked, declined or expired: one message for all (nothing to probe)."""

    message = "This invitation link is not valid any more. Ask the organizers who invited you for a new one."


class InvitationNotAllowed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: SignerInvitation
    token: str  # for the email only (and tests); never stored


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _inviter(invitation: SignerInvitation) -> str:
    user = invitation.invited_by
    if user is None:
        return "The organizers"
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or "One of the letter's organizers"


def _email(invitation: SignerInvitation, token: str) -> OutboxMessage:
    context = {
        "invitation": invitation,
        "letter": invitation.letter,
        "inviter": _inviter(invitation),
        "sign_url": f"{settings.SITE_URL}/invitations/{token}/",
    }
    return organizer_email_enqueue(
        kind=KIND_SIGNER_INVITATION,
        to_email=invitation.email,
        subject=f"You are invited to sign “{invitation.letter.title}”"[:300],
        text=render_to_string("importing/emails/signer_invitation.txt", context),
    )


def invitation_fields_clean(values: dict[str, str | None]) -> dict[str, str]:
    """The invitee's prefilled fields, with the rules of public signing (ValidationError by field)."""
    cleaned, errors = signer_input_clean({**values, "comment": ""})
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def signer_invitation_create(
    *,
    letter: Letter,
    name: str,
    email: str,
    title: str = "",
    organization: str = "",
    actor: Actor,
    signature_import: SignatureImport | None = None,
    at: datetime | None = None,
) -> IssuedInvitation:
    """Invite one named person. Refused with a field error when the address has signed, has an open invitation,
    or declined an invitation to this letter before (a declined invitation is never re-sent)."""
    now = at or timezone.now()
    if letter.status in LINKS_DEAD:
        raise ValidationError(
            {NON_FIELD_ERRORS: [f"This letter is {letter.status}: an invitation link would not work."]}
        )
    cleaned = invitation_fields_clean({"name": name, "email": email, "title": title, "organization": organization})
    key = email_key(cleaned["email"])
    # A pending signature proves nothing about who typed the address: the invitation is sent, and its link replaces
    # that signature with the invitee's own (letters.services.imports.signature_create_invited).
    if Signature.objects.filter(letter=letter, email_key=key, status=Signature.Status.CONFIRMED).exists():
        raise ValidationError({"email": ValidationError("This address has already signed the letter.", code="signed")})
    earlier = SignerInvitation.objects.filter(letter=letter, email_key=key)
    if earlier.filter(declined_at__isnull=False).exists():
        raise ValidationError({"email": ["This person declined an invitation to this letter; it is not sent again."]})
    for old in earlier.filter(signed_at=None, declined_at=None, revoked_at=None).select_for_update(
        of=("self",), no_key=True
    ):
        if old.expires_at > now:
            raise ValidationError({"email": ["This address already has an open invitation: remind or revoke it."]})
        old.revoked_at = now  # expired: superseded by the new one
        old.save(update_fields=["revoked_at"])
        audit_log(action="importing.invitation.superseded", target=old, actor=actor, at=now, data={"expired": True})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        with transaction.atomic():
            invitation = SignerInvitation.objects.create(
                letter=letter,
                email=cleaned["email"],
                email_key=key,
                name=cleaned["name"],
                title=cleaned["title"],
                organization_name=cleaned["organization"],
                token_hash=token_hash(token),
                invited_by=actor_user(actor),
                signature_import=signature_import,
                created_at=now,
                expires_at=now + settings.SIGNER_INVITATION_TTL,
            )
    except IntegrityError:
        raise ValidationError(
            {"email": ["This address already has an open invitation: remind or revoke it."]}
        ) from None
    invitation.message = _email(invitation, token)
    invitation.save(update_fields=["message"])
    audit_log(
        action="importing.invitation.created",
        target=invitation,
        actor=actor,
        at=now,
        data={
            "letter": letter.slug,
            "invitation": invitation.public_id,
            "import": getattr(signature_import, "public_id", None),
        },
    )
    return IssuedInvitation(invitation=invitation, token=token)


def invitation_for_token(*, token: str, at: datetime | None = None) -> SignerInvitation:
    """The open invitation this link belongs to; InvitationInvalid for anything else."""
    now = at or timezone.now()
    if not token or len(token) > 100:
        raise InvitationInvalid
    invitation = (
        SignerInvitation.objects.select_related("letter", "letter__current_version", "invited_by")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if invitation is None or invitation.signed_at or invitation.declined_at or invitation.revoked_at:
        raise InvitationInvalid
    if invitation.expires_at <= now or invitation.letter.status in LINKS_DEAD:
        raise InvitationInvalid
    return invitation


def invitation_open(*, token: str, at: datetime | None = None) -> SignerInvitation:
    """The invitee opened the page (GET): the first time is recorded; nothing else changes."""
    now = at or timezone.now()
    invitation = invitation_for_token(token=token, at=now)
    if invitation.opened_at is None:
        SignerInvitation.objects.filter(pk=invitation.pk, opened_at=None).update(opened_at=now)
        invitation.opened_at = now
    return invitation


def _locked(token: str, now: datetime) -> SignerInvitation:
    invitation = invitation_for_token(token=token, at=now)
    locked = (
        SignerInvitation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("letter", "invited_by")
        .get(pk=invitation.pk)
    )
    # Another request used it, or a reminder replaced its link, meanwhile.
    if locked.signed_at or locked.declined_at or locked.revoked_at or locked.token_hash != token_hash(token):
        raise InvitationInvalid
    return locked


@transaction.atomic
def invitation_sign(
    *, token: str, name: str, title: str = "", organization: str = "", at: datetime | None = None
) -> Signature:
    """Sign with one click: the invitee may correct the prefilled name, title and organization (the address is the
    one invited). Confirmed at level `invited` at once; the link is spent."""
    now = at or timezone.now()
    invitation = _locked(token, now)
    cleaned = invitation_fields_clean(
        {"name": name, "email": invitation.email, "title": title, "organization": organization}
    )
    if invitation.letter.status == Letter.Status.PAUSED:
        raise InvitationNotAllowed("Signing this letter is paused for now; your link stays valid, try again later.")
    signature, _ = signature_create_invited(
        letter=invitation.letter,
        name=cleaned["name"],
        email=invitation.email,
        title=cleaned["title"],
        organization_name=cleaned["organization"],
        evidence=f"Invitation {invitation.public_id}, sent to this address by the organizer and opened from it.",
        verifier=invitation.invited_by,
        at=now,
    )
    invitation.signed_at = now
    invitation.signature = signature
    invitation.opened_at = invitation.opened_at or now
    invitation.save(update_fields=["signed_at", "signature", "opened_at"])
    audit_log(
        action="importing.invitation.signed",
        target=invitation,
        at=now,
        data={"signature": signature.public_id, "corrected": cleaned["name"] != invitation.name},
    )
    return signature


@transaction.atomic
def invitation_decline(*, token: str, at: datetime | None = None) -> SignerInvitation:
    now = at or timezone.now()
    invitation = _locked(token, now)
    invitation.declined_at = now
    invitation.opened_at = invitation.opened_at or now
    invitation.save(update_fields=["declined_at", "opened_at"])
    audit_log(action="importing.invitation.declined", target=invitation, at=now)
    return invitation


def _organizer_lock(invitation: SignerInvitation) -> SignerInvitation:
    return (
        SignerInvitation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("letter")
        .get(pk=invitation.pk)
    )


@transaction.atomic
def invitation_revoke(*, invitation: SignerInvitation, actor: Actor, at: datetime | None = None) -> SignerInvitation:
    now = at or timezone.now()
    invitation = _organizer_lock(invitation)
    if invitation.signed_at or invitation.declined_at or invitation.revoked_at:
        raise InvitationNotAllowed(f"This invitation is {invitation.state} already.")
    invitation.revoked_at = now
    invitation.revoked_by = actor_user(actor)
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    _unsent_dropped(invitation.message_id, at=now, why="the invitation was revoked")
    audit_log(action="importing.invitation.revoked", target=invitation, actor=actor, at=now)
    return invitation


@transaction.atomic
def invitation_remind(*, invitation: SignerInvitation, actor: Actor, at: datetime | None = None) -> IssuedInvitation:
    """Send the invitation again with a new link (the old one stops working) and a new validity, at most
    SIGNER_INVITATION_MAX_REMINDERS times; never to someone who signed, declined or was revoked."""
    now = at or timezone.now()
    invitation = _organizer_lock(invitation)
    if invitation.signed_at or invitation.declined_at or invitation.revoked_at:
        raise InvitationNotAllowed(f"This invitation is {invitation.state}; it is not sent again.")
    if invitation.letter.status in LINKS_DEAD:
        raise InvitationNotAllowed(f"This letter is {invitation.letter.status}: a new link would not work.")
    if invitation.reminders_sent >= settings.SIGNER_INVITATION_MAX_REMINDERS:
        raise InvitationNotAllowed(
            f"This invitation was already sent again {invitation.reminders_sent} times, the most allowed."
        )
    _unsent_dropped(invitation.message_id, at=now, why="a reminder with a new link replaced it")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation.token_hash = token_hash(token)
    invitation.reminders_sent += 1
    invitation.expires_at = now + settings.SIGNER_INVITATION_TTL
    invitation.message = _email(invitation, token)
    invitation.save(update_fields=["token_hash", "reminders_sent", "expires_at", "message"])
    audit_log(
        action="importing.invitation.reminded",
        target=invitation,
        actor=actor,
        at=now,
        data={"reminder": invitation.reminders_sent},
    )
    return IssuedInvitation(invitation=invitation, token=token)


def _unsent_dropped(message_id: int | None, *, at: datetime, why: str) -> None:
    """An invitation email still waiting in the outbox whose link no longer works is not sent (its body, which holds
    the link, goes); one a worker is sending this instant (claimed) goes out, its link refused when used."""
    if message_id is None:
        return
    OutboxMessage.objects.filter(pk=message_id, sent_at=None, failed_at=None, claimed_at=None).update(
        failed_at=at, last_error=f"Not sent: {why}.", body_text="", body_html=""
    )


def invitations_erase(*, signature: Signature, signer: Signer, at: datetime) -> int:
    """Forget the invitee whose `signature` is being withdrawn: their invitations to its letter keep no name, address
    or typed text (an open one is revoked first), and the invitation emails to the address keep no address or text
    (one still waiting is closed as if sent). A declined invitation keeps only the address key, so that the person is
    never invited to the letter again. Returns how many invitations were erased.

    Meant for letters.services.erasure.signature_erase to call, through a hook importing registers, holding the
    signature's lock (it then locks these invitations)."""
    if not signer.email_key:
        return 0
    mine = SignerInvitation.objects.filter(letter_id=signature.letter_id, email_key=signer.email_key)
    invitations = list(mine.select_for_update(of=("self",), no_key=True))
    if not invitations:
        return 0
    ids = [invitation.pk for invitation in invitations]
    addresses = {signer.email.casefold(), *(invitation.email.casefold() for invitation in invitations)} - {""}
    mine.filter(signed_at=None, declined_at=None, revoked_at=None).update(revoked_at=at)
    emails = OutboxMessage.objects.filter(kind=KIND_SIGNER_INVITATION)
    for address in addresses:
        waiting = emails.filter(to_email__iexact=address, sent_at=None, failed_at=None)
        waiting.filter(pk__in=[i.message_id for i in invitations if i.message_id]).update(sent_at=at)
        emails.filter(to_email__iexact=address).exclude(sent_at=None, failed_at=None).update(
            to_email="", body_text="", body_html=""
        )
    SignerInvitation.objects.filter(pk__in=ids).update(email="", name=ERASED, title="", organization_name="")
    SignerInvitation.objects.filter(pk__in=ids, declined_at=None).update(email_key="")
    for invitation in invitations:
        audit_log(action="importing.invitation.erased", target=invitation, at=at)
    return len(ids)

"""Organizer emails (co-organizer invitations, account emails) leave through letters' outbox.

They are composed when written: their links are issued with the row (an invitation's token exists nowhere else), so
the row carries its body from the start and the outbox sends it as it is, with the same claims, retries and
undeliverable marking as signer emails; a delivered row drops its body. The row has no signature: these emails are
outside the per-signature cap.
"""

from django.conf import settings
from django.core.mail.message import make_msgid
from django.template.loader import render_to_string

from letters.models import OutboxMessage
from letters.services.outbox import outbox_send_after_commit
from organizing.models import OrganizerInvitation

# OutboxMessage.kind values of the organizer side (no signature, composed when written).
KIND_ORGANIZER_INVITATION = OutboxMessage.Kind.ORGANIZER_INVITATION.value
KIND_ACCOUNT = OutboxMessage.Kind.ACCOUNT.value


def organizer_email_enqueue(*, kind: str, to_email: str, subject: str, text: str, html: str = "") -> OutboxMessage:
    """Write a composed email to the outbox; sent after the surrounding transaction commits."""
    message = OutboxMessage(
        signature=None,
        kind=kind,
        sequence=1,
        to_email=to_email,
        subject=subject[:300],
        body_text=text,
        body_html=html,
        message_id=make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN),
    )
    message.save(force_insert=True)
    outbox_send_after_commit(message.pk)
    return message


def invitation_email_enqueue(*, invitation: OrganizerInvitation, token: str) -> OutboxMessage:
    inviter = invitation.invited_by
    context = {
        "letter": invitation.letter,
        "role": invitation.get_role_display(),
        "inviter_email": inviter.email if inviter is not None else "",
        "accept_url": f"{settings.SITE_URL}/manage/invitations/{token}/",
        "expires_at": invitation.expires_at,
        "site_url": settings.SITE_URL,
    }
    return organizer_email_enqueue(
        kind=KIND_ORGANIZER_INVITATION,
        to_email=invitation.email,
        subject="You are invited to co-organize a letter on Undersigned",
        text=render_to_string("organizing/emails/invitation.txt", context),
    )

"""Rendering signer emails. Subjects are fixed text: user input never reaches a header."""

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string

from letters.models import OutboxMessage, Signature, SignatureToken

SUBJECTS: dict[str, str] = {
    OutboxMessage.Kind.CONFIRM: "Confirm your signature",
    OutboxMessage.Kind.ALREADY_SIGNED: "You have already signed this letter",
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def email_compose(*, signature: Signature, kind: str) -> RenderedEmail:
    """Issue fresh tokens for one email (a withdraw link always, a confirm link for confirmations) and render it."""
    from letters.services.tokens import token_issue

    purposes: list[str] = [SignatureToken.Purpose.WITHDRAW]
    if kind == OutboxMessage.Kind.CONFIRM:
        purposes.append(SignatureToken.Purpose.CONFIRM)
    tokens = token_issue(signature=signature, purposes=purposes)
    return email_render(
        signature=signature,
        kind=kind,
        confirm_token=tokens.get(SignatureToken.Purpose.CONFIRM),
        withdraw_token=tokens[SignatureToken.Purpose.WITHDRAW],
    )


def email_render(*, signature: Signature, kind: str, confirm_token: str | None, withdraw_token: str) -> RenderedEmail:
    context = {
        "signature": signature,
        "letter": signature.letter,
        "version": signature.version,
        "confirm_url": f"{settings.SITE_URL}/confirm/{confirm_token}/" if confirm_token else "",
        "withdraw_url": f"{settings.SITE_URL}/withdraw/{withdraw_token}/",
        "ttl_days": settings.SIGNATURE_CONFIRM_TOKEN_TTL.days,
    }
    template = "confirm" if kind == OutboxMessage.Kind.CONFIRM else "already_signed"
    return RenderedEmail(
        subject=SUBJECTS[kind],
        text=render_to_string(f"letters/emails/{template}.txt", context),
        html=render_to_string(f"letters/emails/{template}.html", context),
    )

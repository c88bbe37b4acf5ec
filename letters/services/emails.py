"""Rendering signer emails. Subjects are fixed text: user input never reaches a header."""

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string

from letters.models import LetterVersion, OutboxMessage, Signature, SignatureToken
from letters.transparency_log import signature_receipt_context

SUBJECTS: dict[str, str] = {
    OutboxMessage.Kind.CONFIRM: "Confirm your signature",
    OutboxMessage.Kind.ALREADY_SIGNED: "You have already signed this letter",
    OutboxMessage.Kind.RECONSENT: "The letter you signed has changed: confirm or withdraw your signature",
    OutboxMessage.Kind.RECEIPT: "Your signature is in the public record: your receipt",
}
TEMPLATES: dict[str, str] = {
    OutboxMessage.Kind.CONFIRM: "confirm",
    OutboxMessage.Kind.ALREADY_SIGNED: "already_signed",
    OutboxMessage.Kind.RECONSENT: "reconsent",
    OutboxMessage.Kind.RECEIPT: "receipt",
}
# The links each kind carries besides the withdraw link every email has.
LINK_PURPOSES: dict[str, tuple[str, ...]] = {
    OutboxMessage.Kind.CONFIRM: (SignatureToken.Purpose.CONFIRM,),
    OutboxMessage.Kind.RECONSENT: (SignatureToken.Purpose.RECONSENT,),
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def email_compose(*, signature: Signature, kind: str, version: LetterVersion | None = None) -> RenderedEmail:
    """Issue fresh tokens for one email (a withdraw link always, plus the kind's own link) and render it.

    `version` is the new version a re-consent request asks about."""
    from letters.services.tokens import token_issue

    purposes: list[str] = [SignatureToken.Purpose.WITHDRAW, *LINK_PURPOSES.get(kind, ())]
    tokens = token_issue(signature=signature, purposes=purposes)
    return email_render(
        signature=signature,
        kind=kind,
        confirm_token=tokens.get(SignatureToken.Purpose.CONFIRM),
        withdraw_token=tokens[SignatureToken.Purpose.WITHDRAW],
        reconsent_token=tokens.get(SignatureToken.Purpose.RECONSENT),
        new_version=version,
    )


def email_render(
    *,
    signature: Signature,
    kind: str,
    confirm_token: str | None,
    withdraw_token: str,
    reconsent_token: str | None = None,
    new_version: LetterVersion | None = None,
) -> RenderedEmail:
    site, letter = settings.SITE_URL, signature.letter
    context = {
        "signature": signature,
        "letter": letter,
        "version": signature.version,
        "new_version": new_version,
        "confirm_url": f"{site}/confirm/{confirm_token}/" if confirm_token else "",
        "withdraw_url": f"{site}/withdraw/{withdraw_token}/",
        "reconsent_url": f"{site}/reconsent/{reconsent_token}/" if reconsent_token else "",
        "diff_url": (
            f"{site}/letters/{letter.slug}/diff/{signature.version.number}/{new_version.number}/" if new_version else ""
        ),
        "ttl_days": settings.SIGNATURE_CONFIRM_TOKEN_TTL.days,
        "site_url": site,
    }
    if kind == OutboxMessage.Kind.RECEIPT:
        context.update(signature_receipt_context(signature=signature))
    template = TEMPLATES[kind]
    return RenderedEmail(
        subject=SUBJECTS[kind],
        text=render_to_string(f"letters/emails/{template}.txt", context),
        html=render_to_string(f"letters/emails/{template}.html", context),
    )

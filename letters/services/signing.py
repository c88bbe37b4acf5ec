"""Signing a letter: create (enumeration-safe), confirm, withdraw."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from letters.ipaddrs import ip_hashes
from letters.models import Letter, OutboxMessage, Signature, SignatureEvent, SignatureToken, VerificationLevel
from letters.services.erasure import signature_erase, signature_signer
from letters.services.events import SignatureState, signature_event_build, signature_event_record, signature_state
from letters.services.locking import signature_lock
from letters.services.outbox import outbox_enqueue, outbox_message_build, outbox_send_after_commit
from letters.services.ratelimit import signing_rate_exceeded
from letters.services.reconsent import signature_reconsent_request_on_confirm
from letters.services.sign_insert import sign_insert_supported, signature_insert_new
from letters.services.tokens import TokenInvalid, token_use
from letters.services.verification import signature_hold_reason, signature_verify_by_domain
from registry.audit import Actor
from registry.duplicate_scans import person_duplicates_check_request
from registry.emails import email_normalize
from registry.models import AuditEvent
from registry.services import organization_link, person_for_confirmed_email

SIGN_ACCEPTED_DETAIL = "Check your inbox to confirm your signature."


NOT_ACCEPTING_MESSAGES: dict[str, str] = {
    Letter.Status.PAUSED: "Signing this letter is paused for now; please try again later.",
    Letter.Status.CLOSED: "This letter is closed: it no longer accepts signatures, and its final count is frozen.",
}


class LetterNotAccepting(Exception):
    """The letter is paused, closed (or not yet open to this caller); `message` says which, for a 409."""

    message = "This letter is not accepting signatures."

    def __init__(self, status: str = "") -> None:
        super().__init__(status)
        self.message = not_accepting_message(status)


def not_accepting_message(status: str) -> str:
    """What a signer is told (409) when a letter in `status` refuses signatures."""
    return NOT_ACCEPTING_MESSAGES.get(status, LetterNotAccepting.message)


def accepts_signatures(letter: Letter, *, allow_embargoed: bool = False) -> bool:
    """Open letters take signatures; trusted callers (invitations, verification work) may sign a scheduled one."""
    return letter.status in (Letter.EMBARGO_SIGNING if allow_embargoed else (Letter.Status.OPEN,))


class SignatureNotConfirmable(TokenInvalid):
    """The signature behind a valid token was withdrawn, rejected or merged meanwhile."""


@dataclass(frozen=True)
class SignResult:
    """What happened, for the caller's logs and tests; the signer is told the same thing in every case."""

    signature: Signature
    outcome: str  # "created", "resent", "already_signed"
    email_sent: bool


def signature_create(
    *,
    letter: Letter,
    name: str,
    email: str,
    title: str = "",
    organization_name: str = "",
    name_shown: bool = True,
    comment: str = "",
    source: str = Signature.Source.WEB,
    ip_address: str | None = None,
    send_email: bool = True,
    check_rate_limits: bool = True,
    allow_embargoed: bool = False,
    at: datetime | None = None,
) -> SignResult:
    """Record a pending signature, or re-send to the live one with the same email key.

    Inputs are expected clean (letters.typed_text, registry.emails). The partial unique index on live
    (letter, email_key) decides races: a losing insert falls back to the row that won. On PostgreSQL a new
    signature costs one statement (letters.services.sign_insert); anything else takes the ORM path.

    `allow_embargoed` lets a trusted caller (invited signers, verification work; never the public form or API) sign
    a scheduled letter before it opens. Raises LetterNotAccepting otherwise.
    """
    if not accepts_signatures(letter, allow_embargoed=allow_embargoed):
        raise LetterNotAccepting(letter.status)
    assert letter.current_version_id is not None  # an open letter has a published version
    at = at or timezone.now()
    email, key = email_normalize(email)
    hold = ""
    if check_rate_limits and signing_rate_exceeded(ip_address=ip_address, email_key=key):
        hold = Signature.HoldReason.RATE_LIMITED
    hashes = ip_hashes(ip_address)
    signature = Signature(
        letter=letter,
        version_id=letter.current_version_id,
        name=name,
        title=title,
        organization_name=organization_name,
        email=email,
        email_key=key,
        name_shown=name_shown,
        comment=comment,
        source=source,
        ip_address=ip_address,
        ip_hash=hashes[0],
        ip_prefix_hash=hashes[1],
        hold_reason=hold,
        signed_at=at,
        emails_sent=1 if send_email else 0,
    )
    event, audit = signature_event_build(
        signature=signature,
        kind=SignatureEvent.Kind.CREATED,
        before=SignatureState(visible=False, level=signature.verification_level),
        at=at,
        data={"source": source},
        audit_data={"hold_reason": hold} if hold else None,
    )
    message = outbox_message_build(signature=signature, kind=OutboxMessage.Kind.CONFIRM) if send_email else None
    statuses = Letter.EMBARGO_SIGNING if allow_embargoed else (Letter.Status.OPEN,)
    if sign_insert_supported() and signature_insert_new(
        signature=signature, event=event, audit=audit, message=message, statuses=statuses
    ):
        if message is not None:
            outbox_send_after_commit(message.pk)
        return SignResult(signature=signature, outcome="created", email_sent=send_email)
    return _signature_create_or_remind(
        signature=signature, event=event, audit=audit, message=message, at=at, allow_embargoed=allow_embargoed
    )


@transaction.atomic
def _signature_create_or_remind(
    *,
    signature: Signature,
    event: SignatureEvent,
    audit: AuditEvent,
    message: OutboxMessage | None,
    at: datetime,
    allow_embargoed: bool,
) -> SignResult:
    """The ORM path: the same rows as sign_insert, or the reason they cannot be written."""
    letter = Letter.objects.only("status", "current_version_id").filter(pk=signature.letter_id).first()
    if letter is None:
        raise LetterNotAccepting
    if not accepts_signatures(letter, allow_embargoed=allow_embargoed):
        raise LetterNotAccepting(letter.status)
    assert letter.current_version_id is not None  # an open letter has a published version
    signature.version_id = letter.current_version_id
    try:
        with transaction.atomic():
            signature.save(force_insert=True)
    except IntegrityError:
        existing = (
            Signature.objects.select_for_update(of=("self",), no_key=True)
            .select_related("letter", "version")
            .filter(letter=letter, email_key=signature.email_key, status__in=Signature.LIVE_STATUSES)
            .first()
        )
        if existing is None:  # the winner rolled back between our insert and this read: try once more
            raise
        return _signature_remind(signature=existing, send_email=message is not None, at=at)
    event.signature, audit.target_id = signature, str(signature.pk)
    event.save(force_insert=True)
    audit.save(force_insert=True)
    if message is not None:
        message.signature = signature
        message.save(force_insert=True)
        outbox_send_after_commit(message.pk)
    return SignResult(signature=signature, outcome="created", email_sent=message is not None)


def _signature_remind(*, signature: Signature, send_email: bool, at: datetime) -> SignResult:
    if signature.status == Signature.Status.PENDING:
        sent = send_email and _send(signature=signature, kind=OutboxMessage.Kind.CONFIRM, at=at)
        return SignResult(signature=signature, outcome="resent", email_sent=sent)
    sent = send_email and _send(signature=signature, kind=OutboxMessage.Kind.ALREADY_SIGNED, at=at)
    return SignResult(signature=signature, outcome="already_signed", email_sent=sent)


def _send(*, signature: Signature, kind: str, at: datetime) -> bool:
    """Write the email to the outbox (tokens and body come when it is sent); False at the five-email cap."""
    if signature.emails_sent >= settings.SIGNATURE_MAX_EMAILS:
        return False
    return outbox_enqueue(signature=signature, kind=kind) is not None


@transaction.atomic(savepoint=False)  # no savepoint when nested: nothing inside is caught and retried
def signature_confirm(*, signature: Signature, actor: Actor = None, at: datetime | None = None) -> Signature:
    """Confirm a pending signature: link its person and organization, decide holds, verify by domain.

    Confirming a confirmed signature is a no-op, so it counts once. Raises SignatureNotConfirmable for
    withdrawn, rejected or merged signatures. Locks the signature row only (letters.services.locking).
    """
    at = at or timezone.now()
    signature = signature_lock(pk=signature.pk, related=("letter", "version"))
    if signature.status == Signature.Status.CONFIRMED:
        return signature
    if signature.status != Signature.Status.PENDING:
        raise SignatureNotConfirmable
    before = signature_state(signature)
    organization = organization_link(name=signature.organization_name) if signature.organization_name else None
    signature.organization = organization
    signature.person = person = person_for_confirmed_email(
        email=signature.email,
        email_key=signature.email_key,
        name=signature.name,
        title=signature.title,
        organization=organization,
        organization_name=signature.organization_name,
        at=at,
    )
    signature.status = Signature.Status.CONFIRMED
    signature.confirmed_at = at
    signature.verification_level = VerificationLevel.EMAIL
    signature.hold_reason = signature_hold_reason(signature=signature)
    signature.save()
    signature_event_record(
        signature=signature,
        kind=SignatureEvent.Kind.CONFIRMED,
        before=before,
        actor=actor,
        at=at,
        audit_data={"hold_reason": signature.hold_reason} if signature.hold_reason else None,
    )
    signature_verify_by_domain(signature=signature, at=at)
    signature_reconsent_request_on_confirm(signature=signature)
    person_duplicates_check_request(person_id=person.pk)
    return signature


@transaction.atomic
def signature_confirm_by_token(*, token: str, at: datetime | None = None) -> Signature:
    """Confirm from an email link. Raises TokenInvalid (one generic error) for anything wrong."""
    used = token_use(token=token, purpose=SignatureToken.Purpose.CONFIRM, at=at)
    return signature_confirm(signature=used.signature, at=at)


@transaction.atomic
def signature_withdraw(*, signature: Signature, actor: Actor = None, at: datetime | None = None) -> Signature:
    """Withdraw: the signature leaves every public list and count; its signer is erased (letters.services.erasure:
    name, email, comment, IP; the person's address, names and affiliations when nothing else stands on them).

    Locks the signature, then its tokens and outbox rows (letters.services.locking).
    """
    at = at or timezone.now()
    signature = signature_lock(pk=signature.pk)
    if signature.status == Signature.Status.WITHDRAWN:
        return signature
    if signature.status not in Signature.LIVE_STATUSES:
        raise SignatureNotConfirmable
    before = signature_state(signature)
    signer = signature_signer(signature)
    signature.status = Signature.Status.WITHDRAWN
    signature.withdrawn_at = at
    signature.email = ""
    signature.email_key = ""
    signature.comment = ""
    signature.ip_address = None
    signature.ip_hash = signature.ip_prefix_hash = ""
    signature.save()
    signature.tokens.filter(used_at=None).update(used_at=at)
    # Nothing more is sent, and no outbox row keeps the address: waiting rows are closed as if sent.
    signature.outbox_messages.filter(sent_at=None, failed_at=None).update(sent_at=at)
    signature.outbox_messages.update(body_text="", body_html="", to_email="")
    signature_erase(signature=signature, signer=signer, at=at)
    signature_event_record(signature=signature, kind=SignatureEvent.Kind.WITHDRAWN, before=before, actor=actor, at=at)
    return signature


@transaction.atomic
def signature_withdraw_by_token(*, token: str, at: datetime | None = None) -> Signature:
    used = token_use(token=token, purpose=SignatureToken.Purpose.WITHDRAW, at=at)
    return signature_withdraw(signature=used.signature, at=at)

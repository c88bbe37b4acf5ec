"""The held queue for moderators: filters, and bulk release / verify / reject with a confirmation step.

A first call (`held_bulk_preview`) names the selection (an explicit list of public ids, or every held signature
matching the filters), and returns its count, a sample and a confirmation: the sha256 of the action, the letter and
the selected ids. The second call (`held_bulk_apply`) recomputes the selection and acts only when its confirmation
is the same (a signature released, rejected or newly held in between changes it: refused, nothing done). Each
signature goes through its own service (letters.services.verification: one lock, one event, one audit row each), in
batches of BATCH per transaction, in ascending id (letters.services.locking); one summary audit row at the end.
"""

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from letters.models import Letter, Signature, VerificationRecord
from letters.services.verification import (
    VerificationError,
    signature_reject,
    signature_release,
    signature_verify_manual,
)
from moderation.criteria import criterion_clean, glob_regex, instant
from organizing.dashboard import letter_held_signatures
from registry.audit import Actor, audit_log

FILTERS = ("hold_reason", "source", "signed_after", "signed_before", "email_domain", "name")
ACTIONS = ("release", "verify", "reject")
VERIFY_METHODS = (VerificationRecord.Method.MANUAL, VerificationRecord.Method.INVITED)
BATCH = 100
SAMPLE = 20
MAX_SELECTION = 2000  # ~7.5 ms a signature through its service: ~15 s, inside a request
MAX_TEXT = 200
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")


class SelectionChanged(Exception):
    def __init__(self, count: int) -> None:
        self.count = count
        self.message = (
            f"The selection changed since it was confirmed (it is now {count} signature{'s' if count != 1 else ''}): "
            "preview it again."
        )
        super().__init__(self.message)


def held_filters_clean(raw: Any, *, letter: Letter) -> dict[str, str]:
    """The filters in canonical form (all optional), or ValidationError with errors by field."""
    if raw is None:
        return {}
    if not hasattr(raw, "get"):
        raise ValidationError({"filters": ["An object of filters."]})
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for field in FILTERS:
        value = raw.get(field)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
            errors[field] = [f"Text of at most {MAX_TEXT} characters (and no NUL)."]
            continue
        try:
            clean[field] = value.strip() if field == "name" else criterion_clean(field, value.strip(), letter)
        except ValidationError as exc:
            errors[field] = list(exc.messages)
    if "signed_after" in clean and "signed_before" in clean and clean["signed_after"] >= clean["signed_before"]:
        errors["signed_before"] = ["Must be later than signed_after."]
    if errors:
        raise ValidationError(errors)
    return dict(sorted(clean.items()))


def held_queryset(*, letter: Letter, filters: dict[str, str]) -> QuerySet[Signature]:
    """The letter's held queue (oldest first) narrowed by the (clean) filters; `name` is a case-blind search, or a
    glob (`*Musk*`, as the invalidation criterion) when it has * or ?."""
    q = Q()
    if "hold_reason" in filters:
        q &= Q(hold_reason=filters["hold_reason"])
    if "source" in filters:
        q &= Q(source=filters["source"])
    if "signed_after" in filters:
        q &= Q(signed_at__gte=instant(filters["signed_after"]))
    if "signed_before" in filters:
        q &= Q(signed_at__lt=instant(filters["signed_before"]))
    if "email_domain" in filters:
        q &= Q(email_key__iregex="@" + glob_regex(filters["email_domain"])[1:])
    if "name" in filters:
        name = filters["name"]
        q &= Q(name__iregex=glob_regex(name)) if "*" in name or "?" in name else Q(name__icontains=name)
    return letter_held_signatures(letter=letter).filter(q)


@dataclass(frozen=True)
class Selection:
    action: str
    ids: list[int]  # ascending
    sample: list[Signature]
    confirmation: str

    @property
    def count(self) -> int:
        return len(self.ids)


def _eligible(action: str) -> Q:
    # Verification needs a confirmed signature; release and reject take any held one.
    return Q(status=Signature.Status.CONFIRMED) if action == "verify" else Q()


def held_selection(
    *, letter: Letter, action: str, filters: Any = None, public_ids: list[str] | None = None, all_matching: bool = False
) -> Selection:
    """What the action would apply to now (reads only); ValidationError with field errors for a bad request."""
    if action not in ACTIONS:
        raise ValidationError({"action": [f"One of {', '.join(ACTIONS)}."]})
    clean = held_filters_clean(filters, letter=letter)
    if bool(public_ids) == bool(all_matching):
        raise ValidationError(
            {"signatures": ["Choose signatures (their ids), or every one matching the filters (all_matching)."]}
        )
    matching = held_queryset(letter=letter, filters=clean).filter(_eligible(action))
    if public_ids:
        wanted = set(public_ids)
        # Text that cannot be a public id matches nothing (and never reaches the database: NUL is a 500 there).
        matching = matching.filter(public_id__in={i for i in wanted if PUBLIC_ID.fullmatch(i)})
        found = set(matching.values_list("public_id", flat=True))
        if found != wanted:
            missing = len(wanted - found)
            what = "confirmed held signatures" if action == "verify" else "held signatures"
            raise ValidationError(
                {"signatures": [f"{missing} of the chosen signatures are not {what} of this letter (or its filters)."]}
            )
    ids = sorted(matching.values_list("pk", flat=True)[: MAX_SELECTION + 1])
    if len(ids) > MAX_SELECTION:
        raise ValidationError({"signatures": [f"More than {MAX_SELECTION} signatures: narrow the filters."]})
    if not ids:
        raise ValidationError({"signatures": ["No held signature matches."]})
    sample = list(Signature.objects.filter(pk__in=ids[:SAMPLE]).order_by("pk"))
    return Selection(action=action, ids=ids, sample=sample, confirmation=_confirmation(letter, action, ids))


def _confirmation(letter: Letter, action: str, ids: list[int]) -> str:
    return hashlib.sha256(f"{letter.pk}|{action}|{','.join(map(str, ids))}".encode()).hexdigest()


def _params_clean(action: str, params: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    if action == "verify":
        clean["method"] = params.get("method") or VerificationRecord.Method.MANUAL
        if clean["method"] not in VERIFY_METHODS:
            errors["method"] = [f"One of {', '.join(VERIFY_METHODS)}."]
        clean["evidence"] = (params.get("evidence") or "").strip()
        if not clean["evidence"]:
            errors["evidence"] = ["Say how these signers were checked (kept with each verification)."]
        clean["evidence_url"] = (params.get("evidence_url") or "").strip()
    if action == "reject":
        clean["reason"] = (params.get("reason") or "").strip()
        if not clean["reason"]:
            errors["reason"] = ["Say why (private, kept in the audit trail)."]
        clean["public_reason"] = (params.get("public_reason") or "").strip()
        if len(clean["public_reason"]) > 200:
            errors["public_reason"] = ["At most 200 characters."]
    if errors:
        raise ValidationError(errors)
    return clean


def held_bulk_preview(
    *,
    letter: Letter,
    action: str,
    filters: Any = None,
    public_ids: list[str] | None = None,
    all_matching: bool = False,
    params: dict[str, Any] | None = None,
) -> Selection:
    """The first call: the selection, its count, a sample and the confirmation the second call must bring back."""
    selection = held_selection(
        letter=letter, action=action, filters=filters, public_ids=public_ids, all_matching=all_matching
    )
    if params is not None:
        _params_clean(action, params)
    return selection


@dataclass(frozen=True)
class BulkResult:
    action: str
    done: int
    skipped: int  # changed by someone else between the check and its own lock


def held_bulk_apply(
    *,
    letter: Letter,
    action: str,
    confirmation: str,
    params: dict[str, Any],
    actor: Actor,
    filters: Any = None,
    public_ids: list[str] | None = None,
    all_matching: bool = False,
) -> BulkResult:
    """The second call: act on the selection if it is still the one confirmed (SelectionChanged otherwise)."""
    clean = _params_clean(action, params)
    try:
        selection = held_selection(
            letter=letter, action=action, filters=filters, public_ids=public_ids, all_matching=all_matching
        )
    except ValidationError as exc:
        if list(exc.message_dict) != ["signatures"]:
            raise
        still = held_queryset(letter=letter, filters=held_filters_clean(filters, letter=letter)).filter(
            _eligible(action), public_id__in=[i for i in public_ids or [] if PUBLIC_ID.fullmatch(i)]
        )
        raise SelectionChanged(still.count()) from None
    if selection.confirmation != confirmation:
        raise SelectionChanged(selection.count)
    done = skipped = 0
    for start in range(0, selection.count, BATCH):
        with transaction.atomic():
            for signature in Signature.objects.filter(pk__in=selection.ids[start : start + BATCH]).order_by("pk"):
                if _apply_one(signature, action, clean, actor):
                    done += 1
                else:
                    skipped += 1
    audit_log(
        action=f"moderation.held.bulk_{action}",
        target=letter,
        actor=actor,
        data={"selected": selection.count, "done": done, "skipped": skipped, "filters": held_filters_clean(
            filters, letter=letter), "all_matching": all_matching, "confirmation": confirmation},
    )  # fmt: skip
    return BulkResult(action=action, done=done, skipped=skipped)


def _apply_one(signature: Signature, action: str, params: dict[str, str], actor: Actor) -> bool:
    """One signature through its own service (which locks it and re-checks its state); False if it changed."""
    try:
        if action == "release":
            if not signature.hold_reason:
                return False
            signature_release(signature=signature, actor=actor)
        elif action == "verify":
            signature_verify_manual(
                signature=signature,
                method=params["method"],
                evidence=params["evidence"],
                evidence_url=params["evidence_url"],
                verifier=actor,
            )
        else:
            signature_reject(
                signature=signature, reason=params["reason"], public_reason=params["public_reason"], actor=actor
            )
    except VerificationError:
        return False
    return True

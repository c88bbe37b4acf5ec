"""Public reads: letters, their signers and counts, as of now or any earlier instant. No N+1: related rows joined."""

import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Lower

from letters.counts import STALE_AFTER, letter_count_fresh, letter_counts_as_of
from letters.diff import unified_diff, word_diff, words_changed
from letters.history import PUBLIC_CHANGE, as_of_settled, signatures_as_of
from letters.models import (
    VERIFIED_LEVELS,
    Letter,
    LetterCount,
    LetterCountBucket,
    LetterRecipient,
    LetterSponsor,
    LetterVersion,
    Signature,
    SignatureEvent,
    VerificationLevel,
)
from registry.models import Organization

STATS_CACHE_NOW = 2  # seconds: counts of now, and of an as_of that has not settled (letters.history.as_of_settled)
STATS_CACHE_PAST = 60  # a settled past changes only when an event commits later than AS_OF_SETTLE
ANSWER_ALLOWANCE = 1  # seconds for computing and sending one answer after its count was read
PUBLIC_SIGNATURE_RELATED = ("organization", "verification", "version")
# What public rows and exports read; everything else (emails, comments, IPs) is never even fetched.
PUBLIC_SIGNATURE_FIELDS = (
    "public_id", "letter_id", "name", "title", "name_shown", "organization_name", "verification_level", "status",
    "hold_reason", "confirmed_at", "organization__name", "organization__slug", "organization__status",
    "verification__level", "verification__method", "verification__verified_at", "version__number",
)  # fmt: skip
# The same, as values() for list pages (api.serializers.public.public_signature_row reads these keys).
PUBLIC_ROW_FIELDS = (
    "id", "public_id", "name", "title", "name_shown", "organization_name", "organization_id", "organization__name",
    "organization__slug", "organization__status", "verification_level", "verification_id", "verification__method",
    "verification__verified_at", "confirmed_at", "version__number", "public_name",
)  # fmt: skip
ORDERINGS = {"signed_at": ("confirmed_at", "id"), "-signed_at": ("-confirmed_at", "-id"), "name": ("public_name", "id")}


def letters_public() -> QuerySet[Letter]:
    return (
        Letter.objects.published()
        .select_related("count", "current_version")
        .prefetch_related(
            Prefetch("recipients", queryset=LetterRecipient.objects.order_by("position", "id")),
            Prefetch("sponsorships", queryset=LetterSponsor.objects.select_related("organization")),
        )
        .order_by("-opened_at", "slug")
    )


def letter_public_get(*, slug: str) -> Letter:
    """A letter with its recipients and sponsors. Raises Letter.DoesNotExist for unknown and draft letters."""
    return letters_public().get(slug=slug)


def letter_public_lookup(*, slug: str) -> Letter:
    """Just the letter and its current version (one query), for endpoints about its signatures."""
    return Letter.objects.published().select_related("count", "current_version").get(slug=slug)


LETTER_COPY_SECONDS = 2.0
_letter_copies: dict[str, tuple[float, Letter]] = {}


def _letter_copy(*, slug: str, open_only: bool) -> Letter | None:
    """This process's copy of a published letter (at most LETTER_COPY_SECONDS old), else a fresh read; with
    `open_only`, a copy that is not open is never trusted."""
    now = time.monotonic()
    cached = _letter_copies.get(slug)
    if cached is not None and cached[0] > now and (cached[1].is_accepting_signatures or not open_only):
        return cached[1]
    letter = Letter.objects.published().filter(slug=slug).first()
    if letter is None:
        _letter_copies.pop(slug, None)
    else:
        _letter_copies[slug] = (now + LETTER_COPY_SECONDS, letter)
    return letter


def letter_for_signing(*, slug: str) -> Letter | None:
    """The letter a sign request names (None for unknown and draft letters).

    An open letter may come from this process's copy: the insert re-checks status and version in the database
    (letters.services.sign_insert), so a letter paused meanwhile still refuses. Letters that are not open are always
    read fresh.
    """
    return _letter_copy(slug=slug, open_only=True)


def letter_for_listing(*, slug: str) -> Letter:
    """The letter whose signers a list page shows, possibly this process's copy (a page only needs its id; the rows
    are always read fresh). Raises Letter.DoesNotExist for unknown and draft letters."""
    letter = _letter_copy(slug=slug, open_only=False)
    if letter is None:
        raise Letter.DoesNotExist
    return letter


def letter_copies_forget(*, slug: str | None = None) -> None:
    """Drop this process's copies (of one letter, or all): its state changed under a request, or a test ends."""
    if slug is None:
        _letter_copies.clear()
    else:
        _letter_copies.pop(slug, None)


def staleness_bound_seconds() -> int:
    """How far behind the instant a reader receives an answer its counts' `counted_at` can be, at most.

    `counted_at` is the fold's horizon, the instant the counts are exactly true at; a read refolds when it is older
    than STALE_AFTER (letters.counts.letter_count_fresh). The stats are then kept STATS_CACHE_NOW (letter_stats), and
    the rendered answer shared for PUBLIC_RESPONSE_CACHE_SECONDS (config.response_cache, counted from before it was
    computed); ANSWER_ALLOWANCE covers computing and sending an answer after its count was read (an answer slower
    than that can be later by the difference). The letters' API entries (`/letters/`, `/letters/{slug}/`) read the
    counts without the stats cache, so theirs is lower, and this bound holds for them too. What an HTTP cache adds
    (`max-age`, `stale-while-revalidate`, the `Age` it reports) is the client's, not counted here."""
    seconds = STALE_AFTER.total_seconds() + STATS_CACHE_NOW + settings.PUBLIC_RESPONSE_CACHE_SECONDS + ANSWER_ALLOWANCE
    return int(-(-seconds // 1))  # whole seconds, rounded up


def letter_counts(*, letter: Letter, as_of: datetime | None = None) -> dict[str, Any]:
    """Public counts now (from the aggregates, true at `counted_at`: see staleness_bound_seconds) or as of an
    instant (exact; `counted_at` null)."""
    if as_of is not None:
        counts = letter_counts_as_of(letter=letter, as_of=as_of)
        counts.pop("by_organization")
        return {**counts, "as_of": as_of, "counted_at": None}
    return _counts_now(letter_count_fresh(letter=letter))


def _counts_now(count: LetterCount) -> dict[str, Any]:
    return {
        "public": count.public,
        "verified": count.verified,
        "by_level": count.by_level,
        "withdrawn": count.withdrawn,
        "rejected": count.rejected,
        "name_withheld": count.name_withheld,
        "as_of": None,
        "counted_at": count.counted_at,
        "staleness_bound_seconds": staleness_bound_seconds(),
    }


def signatures_public_now(*, letter: Letter) -> QuerySet[Signature]:
    return Signature.objects.visible().filter(letter=letter)


def letter_signatures_public(
    *,
    letter: Letter,
    as_of: datetime | None = None,
    organization: str | None = None,
    level: str | None = None,
    q: str | None = None,
    signed_after: datetime | None = None,
    signed_before: datetime | None = None,
    ordering: str = "signed_at",
    as_rows: bool = False,
) -> QuerySet[Signature, Any]:
    """The public list (or the list as of an instant), filtered and ordered; withheld names are never matched.

    `as_rows` gives value rows (PUBLIC_ROW_FIELDS) instead of instances: what list pages read."""
    rows = signatures_as_of(letter=letter, as_of=as_of) if as_of else signatures_public_now(letter=letter)
    if organization:
        rows = rows.filter(organization__slug=organization)
    if level:
        # level_then is annotated by signatures_as_of, which the plugin cannot see through its return type.
        rows = rows.filter(level_then=level) if as_of else rows.filter(verification_level=level)  # type: ignore[misc]
    if q:
        rows = rows.filter(
            Q(name_shown=True, name__icontains=q)
            | Q(name_shown=True, title__icontains=q)
            | Q(organization_name__icontains=q)
        )
    if signed_after:
        rows = rows.filter(confirmed_at__gte=signed_after)
    if signed_before:
        rows = rows.filter(confirmed_at__lt=signed_before)
    rows = rows.annotate(public_name=Case(When(name_shown=True, then=Lower("name")), default=Value("~"))).order_by(
        *ORDERINGS.get(ordering, ORDERINGS["signed_at"])
    )
    return (
        rows.values(*PUBLIC_ROW_FIELDS)
        if as_rows
        else rows.select_related(*PUBLIC_SIGNATURE_RELATED).only(*PUBLIC_SIGNATURE_FIELDS)
    )


def _organization_names(keys: list[str]) -> dict[str, dict[str, Any]]:
    slugs = [k[4:] for k in keys if k.startswith("org:")]
    orgs = {o.slug: o.name for o in Organization.objects.filter(slug__in=slugs).only("slug", "name")}
    described: dict[str, dict[str, Any]] = {}
    for key in keys:
        if key.startswith("org:"):
            described[key] = {"name": orgs.get(key[4:], key[4:]), "slug": key[4:]}
        else:
            described[key] = {"name": key[5:] or "No organization given", "slug": None}
    return described


def letter_stats(*, letter: Letter, as_of: datetime | None = None, top: int = 10) -> dict[str, Any]:
    """Totals, by level and by organization (top N plus "other"); shared by all processes for a second or two."""
    key = f"letter-stats:{letter.pk}:{as_of.isoformat() if as_of else 'now'}:{top}"
    cached = cache.get(key)
    if cached is None:
        cached = _letter_stats(letter=letter, as_of=as_of, top=top)
        settled = as_of is not None and as_of_settled(as_of)
        cache.set(key, cached, timeout=STATS_CACHE_PAST if settled else STATS_CACHE_NOW)
    return cached


def _letter_stats(*, letter: Letter, as_of: datetime | None, top: int) -> dict[str, Any]:
    if as_of is not None:
        counts = letter_counts_as_of(letter=letter, as_of=as_of)
        by_org = counts.pop("by_organization")
        counts.update(as_of=as_of, counted_at=None)
    else:
        count = letter_count_fresh(letter=letter)  # one fold's numbers, all true at its counted_at
        counts, by_org = _counts_now(count), count.by_organization
    ranked = sorted(((n, k) for k, n in by_org.items() if n > 0), key=lambda item: (-item[0], item[1]))
    shown = ranked[:top]
    described = _organization_names([k for _, k in shown])
    counts["by_organization"] = [{**described[k], "count": n} for n, k in shown]
    counts["other_organizations"] = sum(n for n, _ in ranked[top:])
    # Versions are bound as signatures stand now (a re-consent moves one); the history keeps no past binding.
    counts["by_version"] = (
        None if as_of is not None else letter_signatures_by_version(letter=letter, public=counts["public"])
    )
    return counts


def letter_timeline(*, letter: Letter, bucket: str = "hour") -> list[dict[str, Any]]:
    """Per UTC hour or day: public additions, removals and the cumulative public count at the bucket's end."""
    letter_count_fresh(letter=letter)
    span = LetterCountBucket.Span.HOUR if bucket == "hour" else LetterCountBucket.Span.DAY
    rows = (
        LetterCountBucket.objects.filter(letter=letter, span=span)
        .order_by("start")
        .values_list("start", "added", "removed")
    )
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    timeline, cumulative = [], 0
    for start, added, removed in rows:
        cumulative += added - removed
        timeline.append(
            {"start": start, "end": start + step, "added": added, "removed": removed, "cumulative": cumulative}
        )
    return timeline


def letter_changes(
    *, letter: Letter, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[SignatureEvent]:
    """Events the public could see (added, withdrawn, removed, merged, verified), in order."""
    events = SignatureEvent.objects.filter(letter=letter).filter(
        PUBLIC_CHANGE
        | Q(visible_before=True, visible_after=True)
        & (
            ~Q(level_before=F("level_after"))
            | Q(organization_before__isnull=False) & ~Q(organization_before=F("organization_after"))
            | Q(kind=SignatureEvent.Kind.CORRECTED)
        )
    )
    if since:
        events = events.filter(at__gte=since)
    if until:
        events = events.filter(at__lt=until)
    return events.select_related(*(f"signature__{r}" for r in PUBLIC_SIGNATURE_RELATED)).order_by("at", "id")


def organizations_public(*, q: str | None = None) -> QuerySet[Organization]:
    orgs = Organization.objects.filter(status=Organization.Status.REVIEWED).prefetch_related("aliases", "domains")
    if q:
        orgs = orgs.filter(Q(name__icontains=q) | Q(aliases__name__icontains=q)).distinct()
    return orgs.order_by("name")


def organization_public_signatures(*, organization: Organization) -> QuerySet[Signature]:
    """Public signatures linked to an organization, across non-draft letters."""
    return (
        Signature.objects.visible()
        .filter(organization=organization)
        .exclude(letter__status__in=Letter.UNPUBLISHED)
        .select_related("letter", *PUBLIC_SIGNATURE_RELATED)
        .order_by("confirmed_at", "id")
    )


def person_public_signatures(*, person_ids: list[int]) -> QuerySet[Signature]:
    return (
        Signature.objects.visible()
        .filter(person_id__in=person_ids, name_shown=True)
        .exclude(letter__status__in=Letter.UNPUBLISHED)
        .select_related("letter", *PUBLIC_SIGNATURE_RELATED)
        .order_by("confirmed_at", "id")
    )


def verification_queue() -> QuerySet[Signature]:
    """Confirmed signatures waiting for a person: held ones first, then those verified by email only."""
    return (
        Signature.objects.filter(status=Signature.Status.CONFIRMED)
        .exclude(Signature.VISIBLE & Q(verification_level__in=VERIFIED_LEVELS))
        .annotate(
            held_first=Case(When(Signature.VISIBLE, then=Value(1)), default=Value(0), output_field=IntegerField())
        )
        .select_related("letter", "organization")
        .order_by("held_first", "confirmed_at", "id")
    )


def letter_versions_public(*, letter: Letter) -> QuerySet[LetterVersion]:
    """Every version of a published letter, oldest first (readable forever)."""
    return LetterVersion.objects.filter(letter=letter).order_by("number")


def letter_version_public(*, letter: Letter, number: int) -> LetterVersion:
    """One version of a published letter. Raises LetterVersion.DoesNotExist."""
    return LetterVersion.objects.get(letter=letter, number=number)


def letter_signatures_by_version(*, letter: Letter, public: int | None = None) -> list[dict[str, Any]]:
    """Visible signatures per version, every version listed (0 when none); versions older than the latest material
    one are `awaiting_reconsent` ("signed version N" until their signers answer).

    Counted from the signatures (a scan of the letter's visible rows: ~65 ms per 100k), except that a letter with
    one version takes `public` (the aggregate count) when given, as every signature is on that version."""
    versions = list(LetterVersion.objects.filter(letter=letter).order_by("number").values_list("pk", "number", "kind"))
    if public is not None and len(versions) == 1:
        counted = {versions[0][0]: public}
    else:
        counted = dict(
            Signature.objects.visible()
            .filter(letter=letter)
            .values("version_id")
            .annotate(n=Count("id"))
            .values_list("version_id", "n")
        )
    # Read fresh: a caller's letter may predate the version just published.
    current_id, reconsent_from = (
        Letter.objects.filter(pk=letter.pk).values_list("current_version_id", "material_version_number").get()
    )
    return [
        {
            "number": number,
            "kind": kind,
            "count": counted.get(pk, 0),
            "current": pk == current_id,
            "awaiting_reconsent": number < reconsent_from,
        }
        for pk, number, kind in versions
    ]


def letter_dashboard_counts(*, letter: Letter) -> dict[str, Any]:
    """Live counts for the letter's organizers, straight from the signatures (not the public aggregates): by
    status, held, visible by level, per version, and how many visible signatures await re-consent."""
    by_status = {status: 0 for status in Signature.Status.values}
    by_status.update(
        Signature.objects.filter(letter=letter).values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    visible = Signature.objects.visible().filter(letter=letter)
    by_level = {level: 0 for level in VerificationLevel.values if level != VerificationLevel.NONE}
    by_level.update(visible.values("verification_level").annotate(n=Count("id")).values_list("verification_level", "n"))
    held = Signature.objects.filter(letter=letter, status__in=Signature.LIVE_STATUSES).exclude(hold_reason="").count()
    by_version = letter_signatures_by_version(letter=letter)
    return {
        "by_status": by_status,
        "held": held,
        "visible": sum(by_level.values()),
        "by_level": by_level,
        "verified": sum(by_level.get(level, 0) for level in VERIFIED_LEVELS),
        "by_version": by_version,
        "awaiting_reconsent": sum(v["count"] for v in by_version if v["awaiting_reconsent"]),
    }


def letter_version_diff(*, letter: Letter, old: int, new: int) -> dict[str, Any]:
    """What changed from version `old` to version `new` (any two, either order): word pieces, a unified line diff
    and word counts. Raises LetterVersion.DoesNotExist."""
    versions = {v.number: v for v in LetterVersion.objects.filter(letter=letter, number__in=(old, new))}
    if old not in versions or new not in versions:
        raise LetterVersion.DoesNotExist
    before, after = versions[old], versions[new]
    pieces = word_diff(before.body, after.body)
    return {
        "from": before,
        "to": after,
        "pieces": pieces,
        "unified": unified_diff(before.body, after.body, old_name=f"version {old}", new_name=f"version {new}"),
        **words_changed(pieces),
    }

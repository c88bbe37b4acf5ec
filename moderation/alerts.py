"""Trending alerts: per letter, sliding-window counts of new signatures by address (keyed hash), network (/24 or /64,
keyed hash) and email domain. Past a threshold an alert opens (one email to each of the letter's moderators, through
the outbox, in the alert's transaction); a continuing wave updates it; a quiet period resolves it. Alerts mark, they
never block: nothing here touches signing.

Each pass (a beat task, ALERT_SCAN_EVERY_SECONDS) runs one GROUP BY per dimension over the window's signatures of every
letter. The window is bounded below by id: the highest signature id recorded by the last pass older than the window
(AlertScan), so a pass reads only recent rows through the primary key and signing pays for no extra index.
Imported signatures are left out (an organizer's own list is not a wave), as are withdrawn and removed ones.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, QuerySet, Value
from django.db.models.functions import StrIndex, Substr
from django.template.loader import render_to_string
from django.utils import timezone

from letters.models import Letter, Signature
from moderation.models import AlertScan, AlertThresholds, TrendingAlert
from organizing.emails import organizer_email_enqueue
from organizing.models import Membership
from organizing.permissions import MODERATE_LETTER, ROLES_ALLOWED
from registry.audit import Actor, actor_user, audit_log

KIND_TRENDING_ALERT = "trending_alert"  # OutboxMessage.kind of the moderators' email
D = TrendingAlert.Dimension
FIELD = {D.IP: "ip_hash", D.IP_PREFIX: "ip_prefix_hash", D.EMAIL_DOMAIN: "domain"}


class AlertNotAllowed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Hit:
    letter_id: int
    dimension: str
    key: str
    count: int
    threshold: int


@dataclass(frozen=True)
class ScanResult:
    opened: int
    updated: int
    resolved: int


def is_webmail(domain: str) -> bool:
    return domain in settings.ALERT_WEBMAIL_DOMAINS


def domain_threshold(domain: str, *, override: int | None = None) -> int:
    """Webmail domains need ALERT_WEBMAIL_DOMAIN_THRESHOLD (0: never alerted on); others the letter's own threshold
    or ALERT_DOMAIN_THRESHOLD."""
    if is_webmail(domain):
        return settings.ALERT_WEBMAIL_DOMAIN_THRESHOLD
    return override or settings.ALERT_DOMAIN_THRESHOLD


DEFAULTS = {D.IP: "ALERT_IP_THRESHOLD", D.IP_PREFIX: "ALERT_PREFIX_THRESHOLD", D.EMAIL_DOMAIN: "ALERT_DOMAIN_THRESHOLD"}


def _overrides(dimension: str) -> dict[int, int]:
    """The letters with their own threshold for this dimension (AlertThresholds), by letter id."""
    return dict(AlertThresholds.objects.exclude(**{dimension: None}).values_list("letter_id", dimension))


def _floor(*, at: datetime) -> AlertScan | None:
    """The latest pass at or before the window's start: rows up to its id are older than the window."""
    since = at - timedelta(seconds=settings.ALERT_WINDOW_SECONDS)
    return AlertScan.objects.filter(scanned_at__lte=since).order_by("-scanned_at").first()


def _window(*, at: datetime, floor: AlertScan | None) -> QuerySet[Signature]:
    since = at - timedelta(seconds=settings.ALERT_WINDOW_SECONDS)
    recent = Signature.objects.filter(signed_at__gt=since, signed_at__lte=at, status__in=Signature.LIVE_STATUSES)
    if floor is not None:
        recent = recent.filter(pk__gt=floor.max_signature_id)
    return recent.exclude(source=Signature.Source.IMPORT)


def window_hits(*, at: datetime, floor: AlertScan | None = None) -> list[Hit]:
    """Every (letter, dimension, key) over its threshold in the window ending at `at`: three GROUP BY queries, and
    one more for the letters' window totals when a domain is over its count (the share rule)."""
    recent = _window(at=at, floor=floor)
    hits: list[Hit] = []
    for dimension in (D.IP, D.IP_PREFIX):
        field, default, overrides = FIELD[dimension], getattr(settings, DEFAULTS[dimension]), _overrides(dimension)
        rows = (
            recent.exclude(**{field: ""})
            .values("letter_id", field)
            .annotate(n=Count("id"))
            .filter(n__gte=min([default, *overrides.values()]))
            .order_by()
        )
        for r in rows:
            threshold = overrides.get(r["letter_id"], default)
            if r["n"] >= threshold:
                hits.append(Hit(r["letter_id"], dimension, r[field], r["n"], threshold))
    domains = _domain_rows(recent, overrides=_overrides(D.EMAIL_DOMAIN))
    if domains:
        totals = dict(
            recent.filter(letter_id__in={r["letter_id"] for r in domains})
            .values("letter_id")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("letter_id", "n")
        )
        hits += [
            Hit(r["letter_id"], D.EMAIL_DOMAIN, r["domain"], r["n"], r["threshold"])
            for r in domains
            if r["n"] >= settings.ALERT_DOMAIN_SHARE * totals[r["letter_id"]]
        ]
    return hits


def _domain_rows(recent: QuerySet[Signature], *, overrides: dict[int, int]) -> list[dict[str, Any]]:
    """(letter, domain, count, threshold) over the domain's own threshold."""
    candidates = [settings.ALERT_DOMAIN_THRESHOLD, settings.ALERT_WEBMAIL_DOMAIN_THRESHOLD, *overrides.values()]
    thresholds = [t for t in candidates if t > 0]
    if not thresholds:
        return []
    rows = (
        recent.exclude(email_key="")
        .annotate(domain=Substr("email_key", StrIndex("email_key", Value("@")) + 1))
        .values("letter_id", "domain")
        .annotate(n=Count("id"))
        .filter(n__gte=min(thresholds))
        .order_by()
    )
    found = []
    for r in rows:
        threshold = domain_threshold(r["domain"], override=overrides.get(r["letter_id"]))
        if 0 < threshold <= r["n"]:
            found.append({**r, "threshold": threshold})
    return found


def alerts_scan(*, at: datetime | None = None) -> ScanResult:
    """One pass: open or update the alerts of every hit, resolve those quiet for ALERT_QUIET_SECONDS, record the
    watermark. Each alert in its own transaction with its audit row and emails; safe to run twice."""
    at = at or timezone.now()
    max_id = Signature.objects.aggregate(m=Max("pk"))["m"] or 0
    floor = _floor(at=at)
    opened = updated = 0
    for hit in window_hits(at=at, floor=floor):
        if _alert_seen(hit, at=at):
            opened += 1
        else:
            updated += 1
    resolved = alerts_resolve_quiet(at=at)
    AlertScan.objects.create(scanned_at=at, max_signature_id=max_id)
    if floor is not None:  # passes before this floor can no longer be one
        AlertScan.objects.filter(scanned_at__lt=floor.scanned_at).delete()
    return ScanResult(opened=opened, updated=updated, resolved=resolved)


@transaction.atomic
def _alert_seen(hit: Hit, *, at: datetime) -> bool:
    """Update the wave's alert, or open one (True). Locks that alert row only."""
    current = (
        TrendingAlert.objects.select_for_update(of=("self",), no_key=True)
        .filter(letter_id=hit.letter_id, dimension=hit.dimension, key=hit.key, resolved_at=None)
        .first()
    )
    if current is not None:
        TrendingAlert.objects.filter(pk=current.pk).update(
            count=hit.count, peak=max(current.peak, hit.count), last_seen_at=at, threshold=hit.threshold
        )
        return False
    try:
        with transaction.atomic():
            alert = TrendingAlert.objects.create(
                letter_id=hit.letter_id,
                dimension=hit.dimension,
                key=hit.key,
                count=hit.count,
                peak=hit.count,
                window_seconds=settings.ALERT_WINDOW_SECONDS,
                threshold=hit.threshold,
                first_seen_at=at,
                last_seen_at=at,
            )
    except IntegrityError:
        return False  # a concurrent pass opened it
    audit_log(action="moderation.alert.opened", target=alert, at=at, data=_audit_data(alert))
    _email_moderators(alert)
    return True


def _audit_data(alert: TrendingAlert) -> dict[str, Any]:
    return {
        "letter": alert.letter.slug,
        "dimension": alert.dimension,
        "key": alert.key_shown,
        "count": alert.count,
        "peak": alert.peak,
        "threshold": alert.threshold,
    }


def alert_moderator_emails(*, letter: Letter) -> list[str]:
    """The addresses of the letter's members whose role may moderate it."""
    return list(
        Membership.objects.filter(letter=letter, role__in=ROLES_ALLOWED[MODERATE_LETTER], user__is_active=True)
        .exclude(user__email="")
        .order_by("user__email")
        .values_list("user__email", flat=True)
        .distinct()
    )


def _email_moderators(alert: TrendingAlert) -> int:
    letter = alert.letter
    context = {
        "letter": letter,
        "alert": alert,
        "minutes": alert.window_seconds // 60,
        "alerts_url": f"{settings.SITE_URL}/manage/{letter.slug}/alerts/",
        "site_url": settings.SITE_URL,
    }
    text = render_to_string("moderation/emails/trending_alert.txt", context)
    subject = f"Trending alert on “{letter.title}”: {alert.count} signatures from one {alert.get_dimension_display()}"
    addresses = alert_moderator_emails(letter=letter)
    for address in addresses:
        organizer_email_enqueue(kind=KIND_TRENDING_ALERT, to_email=address, subject=subject, text=text)
    return len(addresses)


def alerts_resolve_quiet(*, at: datetime) -> int:
    """End the waves not seen for ALERT_QUIET_SECONDS: open and acknowledged alerts become resolved; a dismissed one
    keeps its status. Each audited."""
    quiet = TrendingAlert.objects.filter(
        resolved_at=None, last_seen_at__lt=at - timedelta(seconds=settings.ALERT_QUIET_SECONDS)
    ).values_list("pk", flat=True)
    resolved = 0
    for pk in quiet:
        with transaction.atomic():
            alert = _lock(pk)
            if alert.resolved_at is not None:
                continue
            alert.resolved_at = at
            if alert.status in TrendingAlert.ACTIVE_STATUSES:
                alert.status = TrendingAlert.Status.RESOLVED
            alert.save(update_fields=["resolved_at", "status"])
            audit_log(action="moderation.alert.resolved", target=alert, at=at, data=_audit_data(alert))
            resolved += 1
    return resolved


def _lock(pk: int) -> TrendingAlert:
    return TrendingAlert.objects.select_for_update(of=("self",), no_key=True).select_related("letter").get(pk=pk)


def _decide(alert: TrendingAlert, *, status: str, allowed: tuple[str, ...], actor: Actor, at: datetime | None) -> Any:
    at = at or timezone.now()
    with transaction.atomic():
        alert = _lock(alert.pk)
        if alert.status not in allowed:
            raise AlertNotAllowed(f"This alert is {alert.get_status_display().lower()}.")
        before = alert.status
        alert.status = status
        alert.acknowledged_by = actor_user(actor)
        alert.acknowledged_at = at
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        audit_log(
            action=f"moderation.alert.{status}",
            target=alert,
            actor=actor,
            at=at,
            data={**_audit_data(alert), "before": before},
        )
    return alert


def alert_acknowledge(*, alert: TrendingAlert, actor: Actor, at: datetime | None = None) -> TrendingAlert:
    """A moderator has seen it and is on it; the wave keeps updating it."""
    return _decide(alert, status=TrendingAlert.Status.ACKNOWLEDGED, allowed=(TrendingAlert.Status.OPEN,),
                   actor=actor, at=at)  # fmt: skip


def alert_dismiss(*, alert: TrendingAlert, actor: Actor, at: datetime | None = None) -> TrendingAlert:
    """Not a problem (a real group signing together): off the dashboard; the same wave opens no new alert."""
    return _decide(alert, status=TrendingAlert.Status.DISMISSED, allowed=TrendingAlert.ACTIVE_STATUSES,
                   actor=actor, at=at)  # fmt: skip


@dataclass(frozen=True)
class Thresholds:
    own: dict[str, int | None]  # the letter's own, by dimension (None: the deployment's)
    defaults: dict[str, int]

    @property
    def effective(self) -> dict[str, int]:
        return {d: self.own[d] or self.defaults[d] for d in self.defaults}


def alert_thresholds_of(*, letter: Letter) -> Thresholds:
    row = AlertThresholds.objects.filter(letter=letter).first()
    return Thresholds(
        own={d: getattr(row, d) if row else None for d in DEFAULTS},
        defaults={d: getattr(settings, name) for d, name in DEFAULTS.items()},
    )


@transaction.atomic
def alert_thresholds_set(*, letter: Letter, thresholds: dict[str, Any], actor: Actor) -> Thresholds:
    """Set the letter's own thresholds (None or "": the deployment's); ValidationError with field errors."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, int | None] = {}
    for dimension in DEFAULTS:
        value = thresholds.get(dimension)
        clean[dimension] = None
        if value in (None, ""):
            continue
        whole = (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit())
        number = int(str(value)) if whole else 0
        if not 1 <= number <= 1_000_000:
            errors[dimension] = ["A whole number from 1 to 1000000, or empty for the default."]
        clean[dimension] = number
    if errors:
        raise ValidationError(errors)
    before = alert_thresholds_of(letter=letter).own
    AlertThresholds.objects.update_or_create(letter=letter, defaults=clean)
    audit_log(
        action="moderation.alert_thresholds.changed",
        target=letter,
        actor=actor,
        data={"before": before, "after": clean},
    )
    return alert_thresholds_of(letter=letter)


def alert_invalidation_criteria(alert: TrendingAlert) -> dict[str, str]:
    """Bulk invalidation criteria (moderation.criteria) for the alert's wave: its key and its time window."""
    criteria = {"signed_after": (alert.first_seen_at - timedelta(seconds=alert.window_seconds)).isoformat()}
    if alert.dimension == D.EMAIL_DOMAIN:
        criteria["email_domain"] = alert.key
    else:
        criteria["alert"] = alert.public_id
    if alert.resolved_at is not None:
        criteria["signed_before"] = (alert.last_seen_at + timedelta(seconds=1)).isoformat()
    return criteria

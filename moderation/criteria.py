"""What a bulk invalidation matches: criteria checked into one canonical form, and the queryset they select.

Criteria (any combination, at least one; the letter always): `ip` (an address: matched by its keyed hash),
`ip_prefix` (a /24 or /64 network, or an address standing for its own: by the keyed hash of the network),
`email_domain` (a domain glob: `*` and `?`, e.g. `*.example.com`), `name` (a glob on the name as signed, any case),
`signed_after` / `signed_before` (ISO 8601 instants), `source`, `import` (an import's id), `hold_reason`, `alert` (a
trending alert's id: the address, network or domain of its wave, without the hash leaving the server). Only live
signatures (pending or confirmed) ever match.
"""

import hashlib
import ipaddress
import json
import re
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from importing.models import SignatureImport, SignatureImportRow
from letters.ipaddrs import ip_hashes
from letters.models import Letter, Signature
from moderation.models import TrendingAlert

FIELDS = (
    "ip",
    "ip_prefix",
    "email_domain",
    "name",
    "signed_after",
    "signed_before",
    "source",
    "import",
    "hold_reason",
    "alert",
)
MAX_TEXT = 200
_DOMAIN_GLOB = re.compile(r"^[a-z0-9*?.-]+$")


def glob_regex(pattern: str) -> str:
    """A glob as an anchored regular expression that PostgreSQL (~*) and SQLite (Django's REGEXP) read alike."""
    return "^" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + "$"


def instant(value: Any) -> datetime:
    parsed = parse_datetime(str(value)) if value else None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationError("An ISO 8601 instant with its offset, e.g. 2026-11-17T09:00:00Z.")
    try:
        parsed.astimezone(UTC)  # what the database is given: 0001-01-01T00:00+01:00 is before year 1 in UTC
    except OverflowError as exc:
        raise ValidationError("Datetime value out of range.") from exc
    return parsed


def criteria_clean(raw: Any, *, letter: Letter) -> dict[str, str]:
    """The criteria in canonical form (strings), or ValidationError with errors by field."""
    if not isinstance(raw, dict):
        raise ValidationError({"criteria": ['An object of criteria, e.g. {"ip_prefix": "203.0.113.0/24"}.']})
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for field, value in raw.items():
        if field not in FIELDS:
            errors.setdefault("criteria", []).append(f"“{field}” is not a criterion; use {', '.join(FIELDS)}.")
            continue
        if value in (None, ""):
            continue
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            errors[field] = [f"Text of at most {MAX_TEXT} characters."]
            continue
        try:
            clean[field] = criterion_clean(field, value.strip(), letter)
        except ValidationError as exc:
            errors[field] = list(exc.messages)
    if not errors and not clean:
        errors["criteria"] = ["Give at least one criterion: an invalidation never matches a whole letter by default."]
    if "signed_after" in clean and "signed_before" in clean and clean["signed_after"] >= clean["signed_before"]:
        errors["signed_before"] = ["Must be later than signed_after."]
    if errors:
        raise ValidationError(errors)
    return dict(sorted(clean.items()))


def criterion_clean(field: str, value: str, letter: Letter) -> str:
    """One criterion in canonical form (ValidationError when it is not one); the held queue's filters use it too."""
    if field == "ip":
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValidationError("An IPv4 or IPv6 address.") from None
    if field == "ip_prefix":
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValidationError("A network such as 203.0.113.0/24 or 2001:db8:1:2::/64.") from None
        wanted = 24 if network.version == 4 else 64
        if "/" in value and network.prefixlen != wanted:
            raise ValidationError(f"Only /24 (IPv4) and /64 (IPv6) networks are kept; this is /{network.prefixlen}.")
        return str(ipaddress.ip_network(f"{network.network_address}/{wanted}", strict=False))
    if field == "email_domain":
        domain = value.lower().lstrip("@")
        if not _DOMAIN_GLOB.match(domain) or domain.strip("*?.") == "":
            raise ValidationError("A domain or domain glob such as example.com or *.example.com.")
        return domain
    if field == "name":
        if value.strip("*? ") == "":
            raise ValidationError("A name pattern needs some letters, e.g. *Musk*.")
        return value
    if field in ("signed_after", "signed_before"):
        return instant(value).isoformat()
    if field == "source":
        if value not in Signature.Source.values:
            raise ValidationError(f"One of {', '.join(Signature.Source.values)}.")
        return value
    if field == "hold_reason":
        if value not in Signature.HoldReason.values:
            raise ValidationError(f"One of {', '.join(reason for reason in Signature.HoldReason.values if reason)}.")
        return value
    if field == "alert":
        if not TrendingAlert.objects.filter(letter=letter, public_id=value).exists():
            raise ValidationError("No such alert on this letter.")
        return value
    # import: one of this letter's imports (another letter's id is unknown here)
    if not SignatureImport.objects.filter(letter=letter, public_id=value).exists():
        raise ValidationError("No such import of this letter.")
    return value


def criteria_sha256(criteria: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(criteria, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def criteria_queryset(*, letter: Letter, criteria: dict[str, str]) -> QuerySet[Signature]:
    """The live signatures of `letter` the (clean) criteria select."""
    q = Q(letter=letter, status__in=Signature.LIVE_STATUSES)
    if "ip" in criteria:
        q &= Q(ip_hash=ip_hashes(criteria["ip"])[0])
    if "ip_prefix" in criteria:
        q &= Q(ip_prefix_hash=ip_hashes(criteria["ip_prefix"].split("/")[0])[1])
    if "email_domain" in criteria:
        q &= Q(email_key__iregex="@" + glob_regex(criteria["email_domain"])[1:])
    if "name" in criteria:
        q &= Q(name__iregex=glob_regex(criteria["name"]))
    if "signed_after" in criteria:
        q &= Q(signed_at__gte=instant(criteria["signed_after"]))
    if "signed_before" in criteria:
        q &= Q(signed_at__lt=instant(criteria["signed_before"]))
    if "source" in criteria:
        q &= Q(source=criteria["source"])
    if "hold_reason" in criteria:
        q &= Q(hold_reason=criteria["hold_reason"])
    if "alert" in criteria:
        q &= _alert_q(letter, criteria["alert"])
    if "import" in criteria:
        q &= Q(
            pk__in=SignatureImportRow.objects.filter(
                signature_import__letter=letter,
                signature_import__public_id=criteria["import"],
                outcome=SignatureImportRow.Outcome.CREATED,
            ).values("signature_id")
        )
    return Signature.objects.filter(q)


def _alert_q(letter: Letter, public_id: str) -> Q:
    alert = TrendingAlert.objects.filter(letter=letter, public_id=public_id).first()
    if alert is None:
        return Q(pk__in=[])
    if alert.dimension == TrendingAlert.Dimension.EMAIL_DOMAIN:
        return Q(email_key__endswith="@" + alert.key)
    return Q(**{"ip_hash" if alert.dimension == TrendingAlert.Dimension.IP else "ip_prefix_hash": alert.key})

"""What a webhook says: `{"type", "timestamp", "data"}` (Standard Webhooks' payload shape), thin on purpose — the
letter's slug, a signature's public id and level, version numbers, counts, and links to the public pages and API.
Never an email, an IP address or hash, a token or a name (a withheld name must stay withheld)."""

from datetime import datetime
from typing import Any

from django.conf import settings


def letter_links(slug: str) -> dict[str, str]:
    return {
        "letter": f"{settings.SITE_URL}/letters/{slug}/",
        "api": f"{settings.SITE_URL}/api/v1/letters/{slug}/",
    }


def payload(*, event_type: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data}


def signature_event_type(*, kind: str, visible_before: bool, visible_after: bool) -> str | None:
    """The event a SignatureEvent is announced as: entering the public list is `signature.confirmed`; leaving it
    by withdrawal `signature.withdrawn`, any other way (rejected by a moderator or a sweep, held, merged)
    `signature.invalidated`."""
    if visible_after and not visible_before:
        return "signature.confirmed"
    if visible_before and not visible_after:
        return "signature.withdrawn" if kind == "withdrawn" else "signature.invalidated"
    return None


def signature_data(*, slug: str, public_id: str, kind: str, level: str) -> dict[str, Any]:
    return {
        "letter": slug,
        "signature": public_id,
        "level": level,
        "reason": kind,
        "links": {**letter_links(slug), "signatures": f"{settings.SITE_URL}/api/v1/letters/{slug}/signatures/"},
    }


def version_data(*, slug: str, number: int, kind: str) -> dict[str, Any]:
    return {
        "letter": slug,
        "version": number,
        "kind": kind,
        "links": {
            **letter_links(slug),
            "version": f"{settings.SITE_URL}/letters/{slug}/v/{number}/",
            "version_api": f"{settings.SITE_URL}/api/v1/letters/{slug}/versions/{number}/",
        },
    }


def letter_data(*, slug: str, status: str, count: int) -> dict[str, Any]:
    return {"letter": slug, "status": status, "counts": {"public": count}, "links": letter_links(slug)}


def milestone_data(*, slug: str, threshold: int, count: int) -> dict[str, Any]:
    return {"letter": slug, "threshold": threshold, "counts": {"public": count}, "links": letter_links(slug)}

"""Cache-backed fixed-window counters per client IP and per email domain (Redis when REDIS_URL is set).

Over the limit nothing is refused: the caller holds the signature for review, so a flood is never silently dropped
and a burst from one office network does not lose real signers.
"""

import ipaddress
import time

from django.conf import settings
from django.core.cache import cache


def _hit(key: str, limit: int, window: int) -> bool:
    """Count one hit in the current window; True when over `limit`."""
    bucket = f"ratelimit:{key}:{window}:{int(time.time() // window)}"
    cache.add(bucket, 0, timeout=window + 5)
    try:
        count = cache.incr(bucket)
    except ValueError:
        cache.set(bucket, 1, timeout=window + 5)
        count = 1
    return count > limit


def signing_rate_exceeded(*, ip_address: str | None, email_key: str) -> bool:
    """Record a signing attempt; True when its IP or email domain is over a burst or sustained limit."""
    over = False
    domain = email_key.rpartition("@")[2]
    checks = [("domain", domain)] + ([("ip", ip_address)] if ip_address else [])
    for kind, value in checks:
        for limit, window in settings.SIGN_RATE_LIMITS[kind]:
            over = _hit(f"sign:{kind}:{value}", limit, window) or over
    return over


def client_ip(meta: dict) -> str | None:
    """The client address: REMOTE_ADDR, or the entry NUM_PROXIES from the right of X-Forwarded-For."""
    remote = meta.get("REMOTE_ADDR") or None
    proxies = settings.NUM_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote

"""Sending deliveries (Standard Webhooks v1): claim → sign → POST → record, in batches run by beat.

- claim: one UPDATE takes a due row (attempts + 1), as letters.services.outbox does for email; a claim older than
  `claim_timeout()` belongs to a crashed worker and is due again.
- endpoints that are disabled, or whose last attempt failed and whose back-off has not run out (`backoff_until`),
  are skipped; at most WEBHOOK_ENDPOINT_CONCURRENCY deliveries per endpoint are taken per batch, so one endpoint's
  backlog cannot fill a batch.
- each claimed delivery is sent on its own thread with its own timeouts (connect WEBHOOK_CONNECT_TIMEOUT_SECONDS,
  each read or write WEBHOOK_TIMEOUT_SECONDS): a slow or dead receiver holds its thread only, and every answer is
  recorded as it arrives. Threads do no database work; the batch's thread records.
- every send resolves the host again and checks every address (webhooks.ssrf), then connects to the address it
  checked, sending the URL's host as Host header and TLS server name (certificates are verified against it).
- 2xx: delivered. 410: the endpoint is disabled (audited) and nothing more is sent to it. Anything else, a timeout or
  a refused address: retried on the spec's schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, with
  ±10 % jitter), then failed (audited, shown in the delivery log, redeliverable by hand).
- the `webhook-id` is made with the delivery and sent on every attempt; the timestamp is the attempt's; during a
  secret rotation's overlap `webhook-signature` carries a signature by each secret, space-separated.
"""

import json
import logging
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlunsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from registry.audit import audit_log
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.secrets import signing_secrets
from webhooks.ssrf import AddressRefused, target_resolve

logger = logging.getLogger(__name__)
BATCH_SIZE = 200
# Seconds before attempt n + 1 after n failed tries (index n); the first attempt is immediate.
RETRY_SCHEDULE_SECONDS = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE_SECONDS)
USER_AGENT = "Undersigned-Webhooks/1"
GONE = 410


def claim_timeout() -> timedelta:
    """Longer than one send can last (connect, write and read, each bounded), so a live claim is never taken."""
    return timedelta(seconds=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS + 3 * settings.WEBHOOK_TIMEOUT_SECONDS + 5)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try, with ±10 % jitter."""
    return timedelta(seconds=RETRY_SCHEDULE_SECONDS[attempts] * random.uniform(0.9, 1.1))


def _due(now: datetime) -> Q:
    return (
        Q(delivered_at=None, failed_at=None, next_attempt_at__lte=now)
        & (Q(claimed_at=None) | Q(claimed_at__lt=now - claim_timeout()))
        & Q(endpoint__active=True)
        & (Q(endpoint__backoff_until=None) | Q(endpoint__backoff_until__lte=now))
    )


@dataclass(frozen=True)
class Prepared:
    delivery_id: int
    endpoint_id: int
    attempts: int
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    status: int | None
    latency_ms: int
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def body_of(payload: dict) -> bytes:
    """The bytes sent and signed: the same for every attempt."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature_header(*, secrets: list[str], webhook_id: str, at: datetime, body: bytes) -> str:
    """`webhook-signature`: one `v1,<base64>` per signing secret, space-separated."""
    data = body.decode()
    return " ".join(Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=data) for secret in secrets)


def _prepare(delivery: Delivery, secrets: list[str]) -> Prepared:
    at = timezone.now()  # the attempt's time: receivers refuse timestamps more than minutes away from theirs
    body = body_of(delivery.payload)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature_header(secrets=secrets, webhook_id=delivery.webhook_id, at=at, body=body),
    }
    return Prepared(delivery.pk, delivery.endpoint_id, delivery.attempts, delivery.endpoint.url, body, headers)


def post(prepared: Prepared) -> Outcome:
    """Resolve, check and send one delivery; no database work (runs on a sender thread)."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = target_resolve(prepared.url)
    except AddressRefused as exc:
        return Outcome(None, elapsed(), str(exc)[:500])
    address = f"[{target.address}]" if target.address.version == 6 else str(target.address)
    parts = target.url
    pinned = urlunsplit((parts.scheme, f"{address}:{target.port}", parts.path or "/", parts.query, ""))
    host = parts.netloc.rsplit("@", 1)[-1]
    extensions = {"sni_hostname": target.host} if parts.scheme == "https" else {}
    timeout = httpx.Timeout(settings.WEBHOOK_TIMEOUT_SECONDS, connect=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "POST", pinned, content=prepared.body, headers={**prepared.headers, "host": host}, extensions=extensions
            )
            response = client.send(request, stream=True)
            response.close()  # the answer's status is all that counts; its body is not read
    except httpx.HTTPError as exc:
        return Outcome(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(response.status_code, elapsed())


def _claim(ids: list[int], now: datetime) -> list[int]:
    return [
        pk for pk in ids if Delivery.objects.filter(_due(now), pk=pk).update(claimed_at=now, attempts=F("attempts") + 1)
    ]


def _pick(now: datetime, limit: int) -> list[int]:
    """Due deliveries, oldest first, at most WEBHOOK_ENDPOINT_CONCURRENCY per endpoint."""
    per_endpoint: Counter[int] = Counter()
    picked = []
    for pk, endpoint_id in (
        Delivery.objects.filter(_due(now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", "endpoint_id")[: limit * 4]
    ):
        if per_endpoint[endpoint_id] < settings.WEBHOOK_ENDPOINT_CONCURRENCY:
            per_endpoint[endpoint_id] += 1
            picked.append(pk)
            if len(picked) >= limit:
                break
    return picked


def deliveries_send_due(*, now: datetime | None = None, limit: int = BATCH_SIZE) -> int:
    """Send one batch of due deliveries concurrently; the number delivered. Safe to run in several workers."""
    now = now or timezone.now()
    claimed = _claim(_pick(now, limit), now)
    if not claimed:
        return 0
    deliveries = list(Delivery.objects.filter(pk__in=claimed).select_related("endpoint"))
    secrets: dict[int, list[str]] = {}
    for delivery in deliveries:
        if delivery.endpoint_id not in secrets:
            secrets[delivery.endpoint_id] = signing_secrets(endpoint_id=delivery.endpoint_id, at=timezone.now())
    prepared = [_prepare(d, secrets[d.endpoint_id]) for d in deliveries]
    delivered = 0
    with ThreadPoolExecutor(max_workers=max(1, min(settings.WEBHOOK_SEND_THREADS, len(prepared)))) as pool:
        futures = {pool.submit(post, p): p for p in prepared}
        for future in as_completed(futures):
            outcome = future.result()
            attempt_record(prepared=futures[future], outcome=outcome, now=now)
            delivered += outcome.delivered
    return delivered


def attempt_record(*, prepared: Prepared, outcome: Outcome, now: datetime) -> None:
    """Log the attempt and move the delivery on: delivered, disabled endpoint (410), retry later, or failed."""
    with transaction.atomic():
        Attempt.objects.create(
            delivery_id=prepared.delivery_id,
            at=now,
            status_code=outcome.status,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
        )
        waiting = Delivery.objects.filter(pk=prepared.delivery_id, delivered_at=None, failed_at=None)
        common = {"claimed_at": None, "last_status": outcome.status, "last_error": outcome.error}
        if outcome.delivered:
            waiting.update(delivered_at=now, **common)
            Endpoint.objects.filter(pk=prepared.endpoint_id, backoff_until__isnull=False).update(backoff_until=None)
        elif outcome.status == GONE:
            waiting.update(failed_at=now, **common)
            endpoint_disable(endpoint_id=prepared.endpoint_id, reason="The receiver answered 410 Gone.", at=now)
        elif prepared.attempts >= MAX_ATTEMPTS:
            waiting.update(failed_at=now, **common)
            delivery = Delivery.objects.get(pk=prepared.delivery_id)
            audit_log(
                action="webhooks.delivery.failed",
                target=delivery,
                at=now,
                data={"attempts": prepared.attempts, "status": outcome.status, "error": outcome.error},
            )
            logger.warning("Webhook delivery %s failed after %s attempts", prepared.delivery_id, prepared.attempts)
        else:
            next_at = now + retry_delay(prepared.attempts)
            waiting.update(next_attempt_at=next_at, **common)
            Endpoint.objects.filter(pk=prepared.endpoint_id).update(backoff_until=next_at)


def endpoint_disable(*, endpoint_id: int, reason: str, at: datetime) -> bool:
    """The receiver asked to stop (410): no more sends until an owner enables the endpoint again. Audited."""
    changed = Endpoint.objects.filter(pk=endpoint_id, active=True).update(
        active=False, disabled_at=at, disabled_reason=reason, backoff_until=None
    )
    if changed:
        audit_log(
            action="webhooks.endpoint.disabled",
            target=Endpoint.objects.get(pk=endpoint_id),
            at=at,
            data={"reason": reason},
        )
    return bool(changed)

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

import functools
import json
import logging
import random
import ssl
import threading
import time
from collections import Counter, OrderedDict
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context for every send (making one loads the CA bundle: milliseconds of CPU each time)."""
    return httpx.create_ssl_context()


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
    client = _client((parts.scheme, str(target.address), target.port, target.host))
    try:
        request = client.build_request(
            "POST", pinned, content=prepared.body, headers={**prepared.headers, "host": host}, extensions=extensions,
            timeout=timeout,
        )  # fmt: skip
        response = client.send(request, stream=True)
        try:
            read = 0
            for chunk in response.iter_raw():  # a short answer is read, so the connection can be kept
                read += len(chunk)
                if read > ANSWER_READ_MAX:
                    break
        finally:
            response.close()
    except httpx.HTTPError as exc:
        return Outcome(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(response.status_code, elapsed())


ANSWER_READ_MAX = 64 * 1024
CLIENTS_KEPT = 64
_clients: OrderedDict[tuple[str, str, int, str], httpx.Client] = OrderedDict()
_clients_lock = threading.Lock()


def _client(key: tuple[str, str, int, str]) -> httpx.Client:
    """A client per (scheme, checked address, port, host name), so kept-alive connections are reused for that host
    only (a connection's TLS session was verified for one name). The least recently used are closed past
    CLIENTS_KEPT, more than the sends ever in flight at once."""
    with _clients_lock:
        client = _clients.pop(key, None)
        if client is None:
            client = httpx.Client(follow_redirects=False, trust_env=False, verify=_tls())
        _clients[key] = client
        while len(_clients) > CLIENTS_KEPT:
            _clients.popitem(last=False)[1].close()
        return client


def _claim(*, now: datetime, limit: int, busy: Counter[int]) -> list[Prepared]:
    """Claim up to `limit` due deliveries, oldest first, leaving each endpoint at most WEBHOOK_ENDPOINT_CONCURRENCY
    in flight (`busy` counts what this sender has in flight already), and prepare them for sending.

    One UPDATE claims the picked rows that are still due (another sender may have taken some); the claim time,
    unique to this call, finds them again."""
    if limit <= 0:
        return []
    room = Counter({e: settings.WEBHOOK_ENDPOINT_CONCURRENCY - n for e, n in busy.items()})
    picked = []
    for pk, endpoint_id in (
        Delivery.objects.filter(_due(now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", "endpoint_id")[: limit * 4]
    ):
        if room.get(endpoint_id, settings.WEBHOOK_ENDPOINT_CONCURRENCY) > 0:
            room[endpoint_id] = room.get(endpoint_id, settings.WEBHOOK_ENDPOINT_CONCURRENCY) - 1
            picked.append(pk)
            if len(picked) >= limit:
                break
    if not picked:
        return []
    mark = now + timedelta(microseconds=random.randrange(1, 999))  # tells this claim's rows from another's
    Delivery.objects.filter(_due(now), pk__in=picked).update(claimed_at=mark, attempts=F("attempts") + 1)
    deliveries = list(Delivery.objects.filter(pk__in=picked, claimed_at=mark).select_related("endpoint").order_by("pk"))
    secrets: dict[int, list[str]] = {}
    for delivery in deliveries:
        if delivery.endpoint_id not in secrets:
            secrets[delivery.endpoint_id] = signing_secrets(endpoint_id=delivery.endpoint_id, at=timezone.now())
    return [_prepare(d, secrets[d.endpoint_id]) for d in deliveries]


def deliveries_send_due(*, now: datetime | None = None, limit: int = BATCH_SIZE) -> int | None:
    """Send one batch of due deliveries concurrently and record every answer; the number delivered, None when
    nothing was due. `now` decides what is due and when retries are (tests pass it to move time)."""
    now = now or timezone.now()
    claimed = _claim(now=now, limit=limit, busy=Counter())
    if not claimed:
        return None
    with ThreadPoolExecutor(max_workers=max(1, min(settings.WEBHOOK_SEND_THREADS, len(claimed)))) as pool:
        outcomes = list(pool.map(post, claimed))
    return attempts_record(list(zip(claimed, outcomes, strict=True)), now=now)


def deliveries_send_until_done(*, budget_seconds: float = 25.0, poll_seconds: float = 0.2) -> int:
    """Keep WEBHOOK_SEND_THREADS sends in flight until nothing is due or the budget is spent (beat's task).

    A pipeline, not batches: whenever sends complete, their answers are recorded and the free threads take the next
    due deliveries, so a slow receiver holds only its own threads (at most WEBHOOK_ENDPOINT_CONCURRENCY) and never
    the others' deliveries."""
    deadline = time.monotonic() + budget_seconds
    threads = max(1, settings.WEBHOOK_SEND_THREADS)
    in_flight: dict[Future[Outcome], Prepared] = {}
    busy: Counter[int] = Counter()
    delivered = 0
    with ThreadPoolExecutor(max_workers=threads) as pool:
        while True:
            if time.monotonic() < deadline:
                for prepared in _claim(now=timezone.now(), limit=threads - len(in_flight), busy=busy):
                    in_flight[pool.submit(post, prepared)] = prepared
                    busy[prepared.endpoint_id] += 1
            if not in_flight:
                return delivered
            done, _ = wait(in_flight, timeout=poll_seconds, return_when=FIRST_COMPLETED)
            finished = [(in_flight.pop(f), f.result()) for f in done]
            for prepared, _outcome in finished:
                busy[prepared.endpoint_id] -= 1
            busy = +busy
            if finished:
                delivered += attempts_record(finished, now=timezone.now())


def attempts_record(results: list[tuple[Prepared, Outcome]], *, now: datetime) -> int:
    """Record a set of answers: the deliveries in a few statements, anything else one by one. The number delivered.
    Answers for deliveries deleted meanwhile (their endpoint was) are dropped."""
    still = set(Delivery.objects.filter(pk__in=[p.delivery_id for p, _ in results]).values_list("pk", flat=True))
    results = [(p, o) for p, o in results if p.delivery_id in still]
    delivered = [(p, o) for p, o in results if o.delivered]
    if delivered:
        with transaction.atomic():
            Attempt.objects.bulk_create(
                [
                    Attempt(delivery_id=p.delivery_id, at=now, status_code=o.status, latency_ms=o.latency_ms)
                    for p, o in delivered
                ]
            )
            by_status: dict[int | None, list[int]] = {}
            for p, o in delivered:
                by_status.setdefault(o.status, []).append(p.delivery_id)
            for status, ids in by_status.items():
                Delivery.objects.filter(pk__in=ids, delivered_at=None, failed_at=None).update(
                    delivered_at=now, claimed_at=None, last_status=status, last_error=""
                )
            Endpoint.objects.filter(pk__in={p.endpoint_id for p, _ in delivered}, backoff_until__isnull=False).update(
                backoff_until=None
            )
    for prepared, outcome in results:
        if not outcome.delivered:
            attempt_record(prepared=prepared, outcome=outcome, now=now)
    return len(delivered)


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

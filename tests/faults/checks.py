"""What every fault scenario asserts, read from the private database, the SMTP sink and the app's logs."""

import threading
import time
from collections.abc import Callable, Iterable

from letters.models import OutboxMessage
from letters.services.emails import SUBJECTS
from tests.faults.cluster import Delivery, Result, SmtpSink, statuses

RECEIPT = OutboxMessage.Kind.RECEIPT.value
RECEIPT_SUBJECT = SUBJECTS[OutboxMessage.Kind.RECEIPT]

DEADLOCK = r"deadlock detected"


def addresses(prefix: str, count: int, start: int = 0) -> list[str]:
    return [f"{prefix}-{i:04d}@faults.example.org" for i in range(start, start + count)]


def signatures(cluster, slug: str) -> dict[str, tuple[int, str, int]]:
    """Live and past signatures of the letter by address: (id, status, emails_sent)."""
    rows = cluster.postgres.query(
        "SELECT s.email, s.id, s.status, s.emails_sent FROM letters_signature s "
        "JOIN letters_letter l ON l.id = s.letter_id WHERE l.slug = %s AND s.email <> ''",
        [slug],
    )
    return {email.lower(): (pk, status, sent) for email, pk, status, sent in rows}


def outbox(cluster, slug: str) -> list[tuple]:
    """(id, to_email, kind, sent, attempts, last_error, signature_id) of the letter's outbox rows of the signing flow
    (receipts left out, see `signing_emails`)."""
    return cluster.postgres.query(
        "SELECT o.id, lower(o.to_email), o.kind, o.sent_at IS NOT NULL, o.attempts, o.last_error, o.signature_id "
        "FROM letters_outboxmessage o JOIN letters_signature s ON s.id = o.signature_id "
        "JOIN letters_letter l ON l.id = s.letter_id WHERE l.slug = %s AND o.kind <> %s ORDER BY o.id",
        [slug, RECEIPT],
    )


def token_count(cluster, slug: str) -> int:
    [(count,)] = cluster.postgres.query(
        "SELECT count(*) FROM letters_signaturetoken t JOIN letters_signature s ON s.id = t.signature_id "
        "JOIN letters_letter l ON l.id = s.letter_id WHERE l.slug = %s",
        [slug],
    )
    return count


def signing_emails(deliveries: list[Delivery]) -> list[Delivery]:
    """The signing flow's emails (confirm, reminders, already signed): a signer's receipt, sent once the log's next
    checkpoint covers the confirmation, is another story and arrives on its own schedule."""
    return [d for d in deliveries if d.subject != RECEIPT_SUBJECT]


def wait_deliveries(sink: SmtpSink, wanted: dict[str, int], timeout: float) -> tuple[dict[str, list[Delivery]], float]:
    """Wait until each address has at least its wanted number of distinct Message-IDs; return the deliveries and
    the seconds waited (the timeout when they never all came, so the assertions after it show what is missing)."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        found = {address: signing_emails(deliveries) for address, deliveries in sink.to(wanted).items()}
        if all(len({d.message_id for d in found[a]}) >= n for a, n in wanted.items()):
            return found, time.monotonic() - started
        if time.monotonic() > deadline:
            return found, timeout
        time.sleep(0.5)


def email_faults(found: dict[str, list[Delivery]], wanted: dict[str, int]) -> dict[str, list]:
    """Addresses missing emails and addresses with more distinct Message-IDs than emails written for them."""
    missing, duplicated = [], []
    for address, expected in sorted(wanted.items()):
        distinct = {d.message_id for d in found.get(address, [])}
        if len(distinct) < expected:
            missing.append((address, len(distinct), expected))
        elif len(distinct) > expected:
            duplicated.append((address, len(distinct), expected))
    return {"missing": missing, "duplicated": duplicated}


def lost_accepts(results: Iterable[Result], rows: dict[str, tuple]) -> list[str]:
    """Addresses that were answered 2xx but have no signature row."""
    return sorted({r.key for r in results if r.kind == "sign" and r.ok and r.key not in rows})


def server_errors(results: Iterable[Result]) -> list[Result]:
    return [r for r in results if r.status is not None and r.status >= 500]


def failures(results: Iterable[Result]) -> list[Result]:
    """5xx answers and transport errors (refused, reset, timed out)."""
    return [r for r in results if r.status is None or r.status >= 500]


def describe(results: Iterable[Result], limit: int = 5) -> str:
    results = list(results)
    lines = [f"{len(results)} answers: {statuses(results)}"]
    for r in results[:limit]:
        lines.append(f"  {r.kind} {r.key} -> {r.status or r.error} {r.content_type} {r.body[:160]!r}")
    return "\n".join(lines)


def log_evidence(cluster, pattern: str, limit: int = 8) -> str:
    lines = cluster.app.grep(pattern)
    return f"{len(lines)} log lines match {pattern!r}:\n" + "\n".join(lines[:limit])


def in_parallel(*calls: Callable[[], object]) -> list:
    """Run the calls on threads and return their results in order (an exception is re-raised)."""
    out: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], object]) -> None:
        try:
            out[i] = call()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return out


def paced(jobs: Iterable, per_second: float, stop: threading.Event | None = None):
    """Yield jobs at most `per_second` in total (the drive() lock serialises the generator), until `stop` is set."""
    interval = 1.0 / per_second
    next_at = time.monotonic()
    for job in jobs:
        if stop is not None and stop.is_set():
            return
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        next_at = max(next_at + interval, time.monotonic() - interval)
        yield job

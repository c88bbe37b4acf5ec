"""Launch-day concurrency against the real app: signing while confirming, re-signing, confirm racing withdraw.

Each scenario asserts from the private database, the SMTP sink and the server and worker logs: no accepted
signature lost, one email per email written (distinct Message-IDs per address), no 5xx, no deadlocks.
"""

import threading
import time

import pytest

from tests.faults.checks import (
    DEADLOCK,
    addresses,
    describe,
    email_faults,
    in_parallel,
    log_evidence,
    lost_accepts,
    outbox,
    server_errors,
    signatures,
    wait_deliveries,
)
from tests.faults.cluster import Result, create_open_letters, drive, sign_job, statuses

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]
CONFIRM = "POST /api/v1/signatures/confirm/"
WITHDRAW = "POST /api/v1/signatures/withdraw/"


def sign_all(cluster, slug: str, emails: list[str], clients: int = 8, seconds: float = 30) -> list[Result]:
    return drive(cluster.app.url, (sign_job(slug, a) for a in emails), clients=clients, seconds=seconds)


def test_signing_while_confirming_loses_nothing_and_never_deadlocks(cluster):
    """16 clients sign new addresses while 16 confirm with the links the sink received."""
    slug = "faults-sign-confirm"
    create_open_letters(cluster.app, [slug])
    early = addresses("early", 160)
    warm = sign_all(cluster, slug, early)
    assert [r for r in warm if r.status != 202] == [], describe(r for r in warm if r.status != 202)
    found, _ = wait_deliveries(cluster.sink, dict.fromkeys(early, 1), 60)

    signing_done = threading.Event()
    used: set[str] = set()
    late = addresses("late", 600)

    def confirm_jobs():
        """Confirm links as they arrive: the early ones at once, then each new signer's."""
        pool = list(late) + list(early)
        while not (signing_done.is_set() and not pool):
            deliveries = cluster.sink.to(pool)
            ready = [d for ds in deliveries.values() for d in ds if d.confirm_token and d.to not in used]
            if not ready:
                if signing_done.is_set():
                    return
                time.sleep(0.05)
                continue
            for delivery in ready:
                used.add(delivery.to)
                pool.remove(delivery.to)
                yield ("confirm", delivery.to, CONFIRM, {"token": delivery.confirm_token})

    def sign_late() -> list[Result]:
        try:
            return drive(cluster.app.url, (sign_job(slug, a) for a in late), clients=16, seconds=20)
        finally:
            signing_done.set()

    started = time.monotonic()
    signed, confirmed = in_parallel(sign_late, lambda: drive(cluster.app.url, confirm_jobs(), clients=16, seconds=40))
    signing_seconds = max(r.ended for r in signed) - started
    accepted = [r for r in signed if r.status == 202]
    rows = signatures(cluster, slug)
    wanted = {a: 1 for a in early + [r.key for r in accepted]}
    found, waited = wait_deliveries(cluster.sink, wanted, 60)
    faults = email_faults(found, wanted)
    rows = signatures(cluster, slug)
    confirmed_ok = {r.key for r in confirmed if r.status == 200}
    cluster.report(
        signs=len(signed),
        signs_per_second=round(len(accepted) / signing_seconds, 1),
        sign_statuses=statuses(signed),
        confirm_statuses=statuses(confirmed),
        email_wait_s=round(waited, 1),
        missing=len(faults["missing"]),
        duplicated=len(faults["duplicated"]),
        deadlocks=len(cluster.app.grep(DEADLOCK)),
    )

    assert len(signed) > 100, describe(signed)
    assert len(accepted) == len(signed), describe(r for r in signed if r.status != 202)
    assert lost_accepts(signed, rows) == []
    assert server_errors(confirmed) == [], describe(server_errors(confirmed))
    assert [r for r in confirmed if r.status != 200] == [], describe(r for r in confirmed if r.status != 200)
    assert len(confirmed_ok) >= len(early)
    assert [a for a in confirmed_ok if rows[a][1] != "confirmed"] == []
    assert faults == {"missing": [], "duplicated": []}
    assert cluster.app.grep(DEADLOCK) == [], log_evidence(cluster, DEADLOCK)


def test_re_signing_existing_addresses_while_others_sign_new_ones(cluster):
    """Pending and confirmed addresses sign again (reminders and "already signed" emails) beside new signers."""
    slug = "faults-re-sign"
    create_open_letters(cluster.app, [slug])
    existing = addresses("existing", 40)
    first = sign_all(cluster, slug, existing)
    assert [r for r in first if r.status != 202] == [], describe(first)
    found, _ = wait_deliveries(cluster.sink, dict.fromkeys(existing, 1), 60)
    confirms = [("confirm", a, CONFIRM, {"token": found[a][0].confirm_token}) for a in existing[:20] if found[a]]
    confirmed = drive(cluster.app.url, confirms, clients=4, seconds=30)
    assert [r for r in confirmed if r.status != 200] == [], describe(confirmed)

    again = [sign_job(slug, a) for _ in range(3) for a in existing]  # up to 4 emails each, under the cap of 5
    new = addresses("new", 300)
    resigned, signed = in_parallel(
        lambda: drive(cluster.app.url, again, clients=8, seconds=30),
        lambda: drive(cluster.app.url, (sign_job(slug, a) for a in new), clients=8, seconds=30),
    )
    everything = resigned + signed
    rows = signatures(cluster, slug)
    live = cluster.postgres.query(
        "SELECT s.email_key, count(*) FROM letters_signature s JOIN letters_letter l ON l.id = s.letter_id "
        "WHERE l.slug = %s AND s.status IN ('pending', 'confirmed') GROUP BY 1 HAVING count(*) > 1",
        [slug],
    )
    written: dict[str, int] = {}
    for _, to_email, _, _, _, _, _ in outbox(cluster, slug):
        written[to_email] = written.get(to_email, 0) + 1
    found, waited = wait_deliveries(cluster.sink, written, 60)
    faults = email_faults(found, written)
    unsent = [row for row in outbox(cluster, slug) if not row[3]]
    cluster.report(
        resign_statuses=statuses(resigned),
        sign_statuses=statuses(signed),
        emails_written=sum(written.values()),
        email_wait_s=round(waited, 1),
        unsent=len(unsent),
        missing=len(faults["missing"]),
        duplicated=len(faults["duplicated"]),
        deadlocks=len(cluster.app.grep(DEADLOCK)),
    )

    assert [r for r in everything if r.status != 202] == [], describe(r for r in everything if r.status != 202)
    assert lost_accepts(everything, rows) == []
    assert live == [], "more than one live signature for an address"
    assert all(n <= 5 for n in written.values()), "more than five emails for one signature"
    assert {a: written.get(a, 0) for a in new if a in rows} == dict.fromkeys([a for a in new if a in rows], 1)
    assert [a for a in existing if written.get(a, 0) < 2] == [], "a re-sign of a live address sent no email"
    assert unsent == []
    assert faults == {"missing": [], "duplicated": []}
    assert cluster.app.grep(DEADLOCK) == [], log_evidence(cluster, DEADLOCK)


def test_confirm_and_withdraw_of_one_signature_at_once_never_fail(cluster):
    """20 signatures, each confirmed and withdrawn at the same instant: 2xx or 4xx, never 5xx; all end withdrawn."""
    slug = "faults-confirm-withdraw"
    create_open_letters(cluster.app, [slug])
    emails = addresses("pair", 20)
    signed = sign_all(cluster, slug, emails, clients=4)
    assert [r for r in signed if r.status != 202] == [], describe(signed)
    found, _ = wait_deliveries(cluster.sink, dict.fromkeys(emails, 1), 60)
    assert all(found[a] for a in emails), "confirmation emails missing before the race"
    jobs = []
    for address in emails:
        delivery = found[address][0]
        jobs.append(("confirm", address, CONFIRM, {"token": delivery.confirm_token}))
        jobs.append(("withdraw", address, WITHDRAW, {"token": delivery.withdraw_token}))
    start = threading.Barrier(len(jobs))
    results: list[Result] = []

    def one(job) -> None:
        start.wait()
        results.extend(drive(cluster.app.url, [job], clients=1, seconds=20))

    threads = [threading.Thread(target=one, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(40)
    rows = cluster.postgres.query(
        "SELECT s.id, s.status, s.email FROM letters_signature s JOIN letters_letter l ON l.id = s.letter_id "
        "WHERE l.slug = %s",
        [slug],
    )
    cluster.report(
        statuses=statuses(results),
        final={status: sum(1 for r in rows if r[1] == status) for status in {r[1] for r in rows}},
        deadlocks=len(cluster.app.grep(DEADLOCK)),
    )

    assert len(results) == 40
    assert [r for r in results if r.status is None or not 200 <= r.status < 500] == [], describe(
        r for r in results if r.status is None or not 200 <= r.status < 500
    )
    assert [r for r in results if r.kind == "withdraw" and r.status != 200] == [], describe(
        r for r in results if r.kind == "withdraw"
    )
    assert sorted((status, email) for _, status, email in rows) == [("withdrawn", "")] * 20
    assert cluster.app.grep(DEADLOCK) == [], log_evidence(cluster, DEADLOCK)

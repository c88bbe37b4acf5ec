"""P10: P1 with webhooks — signing throughput (32 clients, gunicorn as in P1) while three endpoints subscribed to
`signature.confirmed` receive a delivery for every confirmation ÷ the same signing with no endpoint, alternating
rounds so a noisy neighbour slows both alike (median round ratio).

In both phases a confirmer confirms pending signatures of the signing letter at a fixed rate through the service (so
the triggers queue `signature.confirmed` for each) and a drain loop runs the fan-out and the sender as beat's tasks
would (nothing to send without endpoints: it only empties the queue). The receiver is a local threaded HTTP server
that verifies every signature with the standardwebhooks library; the run checks that every delivery arrived, each
webhook-id once per endpoint.

Target (issue 16): ≥ 0.95.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench python -m bench.webhooks
       [--seconds 8] [--rounds 5] [--confirms-per-second 20]
"""

import argparse
import json
import os
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.run import Server, purge_queue, setup_django

RESULTS = Path(__file__).resolve().parent / "results_p10.json"
TARGET = "sign with 3 endpoints ÷ without ≥ 0.95"
ENDPOINTS = 3


class Receiver:
    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}  # path → secret
        self.seen: Counter[tuple[str, str]] = Counter()
        self.bad = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as receivers behind any web server offer

            def do_POST(self) -> None:
                from standardwebhooks.webhooks import Webhook, WebhookVerificationError

                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secrets[self.path]).verify(body, headers)
                    ok = True
                except (WebhookVerificationError, KeyError):
                    ok = False
                with receiver.lock:
                    receiver.seen[(self.path, headers.get("webhook-id", ""))] += 1
                    receiver.bad += not ok
                self.send_response(200 if ok else 400)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Loop(threading.Thread):
    """Run `step` until stopped; sleep a little when it found nothing to do."""

    def __init__(self, step, pause: float) -> None:
        super().__init__(daemon=True)
        self.step, self.pause, self.stopping, self.errors = step, pause, threading.Event(), 0

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stopping.is_set():
                try:
                    busy = self.step()
                except Exception:  # counted: a bench must not die mid-run
                    self.errors += 1
                    busy = 0
                if not busy:
                    time.sleep(self.pause)
        finally:
            connection.close()


def confirmer(letter_id: int, per_second: float):
    from letters.models import Signature
    from letters.services.signing import SignatureNotConfirmable, signature_confirm

    state = {"due": 0.0, "confirmed": 0}

    def step() -> int:
        now = time.monotonic()
        state["due"] = state["due"] or now
        if now < state["due"]:
            time.sleep(min(0.05, state["due"] - now))
            return 1
        want = max(1, int((now - state["due"]) * per_second) + 1)
        pending = list(Signature.objects.filter(letter_id=letter_id, status="pending").order_by("-id")[:want])
        for signature in pending:
            try:
                signature_confirm(signature=signature)
                state["confirmed"] += 1
            except SignatureNotConfirmable:
                pass
        state["due"] += want / per_second
        return 1

    return step, state


def drain() -> int:
    """What beat's two tasks do, back to back: fan out a batch, then send until nothing is due (or 1 s passed)."""
    from webhooks.delivery import deliveries_send_until_done
    from webhooks.fanout import announcements_fan_out

    return announcements_fan_out() + deliveries_send_until_done(budget_seconds=1.0)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--confirms-per-second", type=float, default=20.0)
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    database_url = os.environ["DATABASE_URL"]
    setup_django(database_url)
    from django.conf import settings
    from django.core.management import call_command

    from bench.load import load
    from letters.models import Letter
    from webhooks.models import Delivery, Endpoint
    from webhooks.services import endpoint_create

    call_command("migrate", verbosity=0)
    if not Letter.objects.filter(slug="bench-sign").exists():
        call_command("bench_seed", signatures=0, letter="bench-sign", stdout=open(os.devnull, "w"))  # noqa: SIM115
    letter = Letter.objects.get(slug="bench-sign")
    # The receiver is on loopback over http: allowed for this process only (the sender runs here).
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver = Receiver()
    Endpoint.objects.filter(letter=letter).delete()
    endpoints = []
    for n in range(ENDPOINTS):
        path = f"/hook/{n}"
        created = endpoint_create(
            letter=letter, url=f"http://127.0.0.1:{receiver.port}{path}", event_types=["signature.confirmed"]
        )
        receiver.secrets[path] = created.secret
        endpoints.append(created.endpoint)
    Endpoint.objects.filter(letter=letter).update(active=False)

    server = Server(database_url)
    step, confirmed = confirmer(letter.pk, args.confirms_per_second)
    loops = [Loop(step, 0.05), Loop(drain, 0.2)]
    sign_url = f"{server.url}/api/v1/letters/bench-sign/signatures/"
    without, with_hooks, ratios = [], [], []

    def sign(clients: int, seconds: float):
        return load(sign_url, method="POST", body="sign", clients=clients, seconds=seconds, expect=(202,))

    try:
        sign(8, 1.0)  # warm-up, and pending signatures for the confirmer
        for loop in loops:
            loop.start()
        for _ in range(args.rounds):
            Endpoint.objects.filter(letter=letter).update(active=False)
            bare = sign(args.clients, args.seconds)
            Endpoint.objects.filter(letter=letter).update(active=True)
            hooked = sign(args.clients, args.seconds)
            without.append(bare.summary())
            with_hooks.append(hooked.summary())
            ratios.append(hooked.rps / bare.rps)
        loops[0].stopping.set()  # no more confirmations
        deadline = time.time() + 60  # let the sender catch up, then check every delivery arrived once
        while time.time() < deadline and Delivery.objects.filter(delivered_at=None, failed_at=None).exists():
            time.sleep(0.5)
    finally:
        for loop in loops:
            loop.stopping.set()
        for loop in loops:
            loop.join(timeout=30)
        server.stop()
        purge_queue()
    deliveries = Delivery.objects.filter(endpoint__in=endpoints)
    ratios.sort()
    results = {
        "ratio": round(ratios[len(ratios) // 2], 3),
        "round_ratios": [round(r, 3) for r in ratios],
        "pooled_ratio": round(sum(r["requests"] for r in with_hooks) / max(1, sum(r["requests"] for r in without)), 3),
        "without": without,
        "with_webhooks": with_hooks,
        "confirmed": confirmed["confirmed"],
        "deliveries": deliveries.count(),
        "delivered": deliveries.filter(delivered_at__isnull=False).count(),
        "received": sum(receiver.seen.values()),
        "received_twice": sum(1 for n in receiver.seen.values() if n > 1),
        "bad_signatures": receiver.bad,
        "loop_errors": [loop.errors for loop in loops],
        "target": TARGET,
        "settings": {"seconds": args.seconds, "rounds": args.rounds, "clients": args.clients,
                     "confirms_per_second": args.confirms_per_second},
    }  # fmt: skip
    Path(args.output).write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k not in ("without", "with_webhooks")}, indent=2))
    return results


if __name__ == "__main__":
    main()

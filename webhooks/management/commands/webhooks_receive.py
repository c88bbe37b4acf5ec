"""A receiver for development and demos: listens on 127.0.0.1, verifies every delivery's signature with the
standardwebhooks library and prints the event (or why it was refused)."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.core.management.base import BaseCommand
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Command(BaseCommand):
    help = "Receive webhooks on 127.0.0.1:<port>, verify their signatures and print them."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--secret", required=True, help="The endpoint's whsec_… secret.")
        parser.add_argument("--port", type=int, default=8900)
        parser.add_argument("--status", type=int, default=200, help="Status to answer (e.g. 500, 410).")

    def handle(self, *args: Any, secret: str, port: int, status: int, **options: Any) -> None:
        webhook, out = Webhook(secret), self.stdout

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                try:
                    event = webhook.verify(body, dict(self.headers.items()))
                    out.write(f"{self.headers.get('webhook-id')} verified: {json.dumps(event)}")
                    answer = status
                except WebhookVerificationError as exc:
                    out.write(f"{self.headers.get('webhook-id')} REFUSED: {exc}")
                    answer = 400
                self.send_response(answer)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        out.write(f"Listening on http://127.0.0.1:{port}/ (Ctrl-C stops)")
        with ThreadingHTTPServer(("127.0.0.1", port), Handler) as server:
            server.serve_forever()

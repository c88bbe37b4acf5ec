"""Baseline views for benchmarks, mounted only when BENCH=1: the floor each product endpoint is compared with."""

import secrets

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

BASELINE_TABLE = "bench_signature_baseline"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {BASELINE_TABLE} (
    id bigserial PRIMARY KEY, public_id varchar(24) NOT NULL, letter_id bigint NOT NULL, name varchar(200) NOT NULL,
    email varchar(254) NOT NULL, email_key varchar(254) NOT NULL, status varchar(20) NOT NULL,
    signed_at timestamptz NOT NULL DEFAULT now(), UNIQUE (letter_id, email_key)
)"""


def trivial(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


@csrf_exempt
def bare_insert(request: HttpRequest) -> HttpResponse:
    """One INSERT ... ON CONFLICT DO NOTHING into a table shaped like signatures."""
    key = f"{secrets.token_hex(8)}@example.org"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BASELINE_TABLE} (public_id, letter_id, name, email, email_key, status) "
            "VALUES (%s, 1, %s, %s, %s, 'pending') ON CONFLICT DO NOTHING",
            [secrets.token_urlsafe(12), "Bench Signer", key, key],
        )
    return JsonResponse({"detail": "Check your inbox to confirm your signature."}, status=202)


def bare_list(request: HttpRequest) -> HttpResponse:
    """One keyset query for 100 rows in the public list's order, serialized by hand."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public_id, name, title, organization_name, confirmed_at FROM letters_signature "
            "WHERE letter_id = %s AND status = 'confirmed' AND (confirmed_at, id) > (%s, %s) "
            "ORDER BY confirmed_at, id LIMIT 100",
            [int(request.GET.get("letter", 0)), request.GET.get("at"), int(request.GET.get("id", 0))],
        )
        rows = [
            {"id": r[0], "name": r[1], "title": r[2], "organization": r[3], "signed_at": r[4].isoformat()}
            for r in cursor.fetchall()
        ]
    return JsonResponse({"results": rows})

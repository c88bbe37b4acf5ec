"""/healthz (the process answers), /readyz (its dependencies do) and /metrics (Prometheus, token-protected)."""

import asyncio
import contextlib
import hashlib
import hmac
from concurrent.futures import Executor
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from health_check.base import HealthCheckResult
from health_check.views import HealthCheckView
from prometheus_client import CONTENT_TYPE_LATEST

from ops.checks import PROBE_THREADS, READINESS_CHECKS, ReadinessCheck
from ops.metrics import metrics_render


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Alive: touches no database, cache or broker, so a dependency outage never restarts healthy processes."""
    return JsonResponse({"status": "ok"})


def readiness_body(results: list[HealthCheckResult]) -> tuple[dict[str, Any], int]:
    checks: dict[str, str] = {}
    for result in results:
        check: ReadinessCheck = result.check
        checks[check.name] = str(result.error) if result.error else ("skipped" if check.skipped else "ok")
    failing = [result.check.name for result in results if result.error]
    if failing:
        return {"status": "unavailable", "failing": failing, "checks": checks}, 503
    return {"status": "ok", "checks": checks}, 200


class ReadinessView(HealthCheckView):
    """Every check at once, each within its budget; 200 naming them all, or 503 naming the failing ones too."""

    checks = READINESS_CHECKS
    http_method_names = ["get", "head"]

    def get_executor(self) -> contextlib.AbstractContextManager[Executor | None]:
        return contextlib.nullcontext(PROBE_THREADS)

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        with self.get_executor() as executor:
            results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        body, status = readiness_body(list(results))
        return JsonResponse(body, status=status)


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def _bearer_token(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def metrics_allowed(request: HttpRequest, expected: str) -> bool:
    """The bearer token matches (compared in constant time, as digests, so not even its length shows) or a staff
    member is signed in."""
    given = _bearer_token(request)
    if given is not None and hmac.compare_digest(_digest(given), _digest(expected)):
        return True
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_staff)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text for a holder of METRICS_TOKEN or a staff session; a 404 like any unknown page while the token
    is unset."""
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404
    if not metrics_allowed(request, expected):
        error = ', error="invalid_token"' if _bearer_token(request) else ""
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = f'Bearer realm="metrics"{error}'
        return response
    try:
        body = metrics_render()
    except DatabaseError:
        return HttpResponse("Database unavailable\n", status=503, content_type="text/plain; charset=utf-8")
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)

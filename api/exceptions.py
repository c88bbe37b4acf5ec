"""One error shape everywhere: {"detail": "...", "errors": {field: [messages]}}.

DRF's errors come through `exception_handler`; whatever Django answers itself under /api/ (a missing path, a CSRF
failure, a body over the limit, an unhandled exception) is reshaped by api.middleware with `error_body`.
"""

import logging
from typing import Any

import redis
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.cache import CacheUnavailable

VALIDATION_DETAIL = "Invalid input."
STATUS_DETAIL = {
    400: "Bad request.",
    401: "Not authenticated.",
    403: "Forbidden.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "Request body too large.",
    500: "Server error.",
    503: "Service temporarily unavailable; try again shortly.",
}
RETRY_UNAVAILABLE_SECONDS = 5
# A dependency that did not answer (database, Redis, network): the request may well succeed when retried.
UNAVAILABLE = (
    CacheUnavailable,
    OperationalError,
    InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
    ConnectionError,
    TimeoutError,
)


def _flatten(errors: Any) -> dict[str, list[str]]:
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for field, value in errors.items():
            if isinstance(value, dict):
                for sub, messages in _flatten(value).items():
                    flat[f"{field}.{sub}"] = messages
            elif isinstance(value, list):
                flat[field] = [str(m) for m in value if not isinstance(m, dict | list)] or [
                    str(m) for sub in value for m in (sub.values() if isinstance(sub, dict) else sub)
                ]
            else:
                flat[field] = [str(value)]
        return flat
    if isinstance(errors, list):
        return {"non_field_errors": [str(m) for m in errors]}
    return {"non_field_errors": [str(errors)]}


def error_status(exc: BaseException | None, default: int) -> int:
    """The answer's status for an exception DRF does not know (`default`, Django's choice, for anything else)."""
    if isinstance(exc, RequestDataTooBig):
        return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    if isinstance(exc, SuspiciousOperation):
        return status.HTTP_400_BAD_REQUEST
    if isinstance(exc, UNAVAILABLE):
        return status.HTTP_503_SERVICE_UNAVAILABLE
    return default


def error_body(code: int, exc: BaseException | None = None) -> dict[str, Any]:
    """The error shape for an answer Django (not DRF) gives; it names no internals of the exception."""
    errors: dict[str, list[str]] = {}
    if isinstance(exc, RequestDataTooBig):
        errors = {"body": [f"At most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."]}
    detail = STATUS_DETAIL.get(code) or ("Client error." if code < 500 else "Server error.")
    return {"detail": detail, "errors": errors}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        if not isinstance(exc, SuspiciousOperation):
            return None  # a server error: Django logs it and api.middleware answers in the error shape
        # Django would log these to django.security and answer 400; a body over the limit is a 413 here.
        logging.getLogger(f"django.security.{exc.__class__.__name__}").warning("%s", exc)
        code = error_status(exc, status.HTTP_400_BAD_REQUEST)
        return Response(error_body(code, exc), status=code)
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": VALIDATION_DETAIL, "errors": _flatten(exc.detail)}
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.ParseError):
        response.data = {"detail": VALIDATION_DETAIL, "errors": {"body": [str(exc.detail)]}}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"detail": str(detail), "errors": {}}
    return response

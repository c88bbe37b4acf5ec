"""Whatever answers under /api/ — DRF, Django itself, or an unhandled exception — answers in the error shape
{"detail": ..., "errors": {...}}, as JSON, in development too; the traceback goes to the log, never to the client."""

import json
import logging

import pytest
import redis
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseServerError
from django.test import Client, RequestFactory

from api.middleware import APIErrorShapeMiddleware
from letters.models import Signature

pytestmark = pytest.mark.django_db

SERVER_ERROR = {"detail": "Server error.", "errors": {}}
UNAVAILABLE = {"detail": "Service temporarily unavailable; try again shortly.", "errors": {}}


@pytest.fixture
def client(client):
    client.raise_request_exception = False
    return client


def fail_with(monkeypatch, target: str, exc: Exception) -> None:
    def failing(*args, **kwargs):
        raise exc

    monkeypatch.setattr(target, failing)


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_in_a_view_is_a_json_500_and_the_traceback_is_logged(client, settings, monkeypatch, caplog, debug):
    settings.DEBUG = debug
    fail_with(monkeypatch, "api.views.reporter.organizations_public", RuntimeError("secret internals"))
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/api/v1/organizations/")
    assert (response.status_code, response["Content-Type"]) == (500, "application/json")
    assert response.json() == SERVER_ERROR
    assert b"secret internals" not in response.content
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert len(logged) == 1 and logged[0].exc_info[1].args == ("secret internals",)


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("connection to server at 127.0.0.1 failed"),
        redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379"),
        redis.TimeoutError("Timeout reading from socket"),
    ],
    ids=["database", "redis", "redis-timeout"],
)
def test_an_unreachable_dependency_is_a_json_503_with_retry_after(client, monkeypatch, exc):
    fail_with(monkeypatch, "api.views.reporter.organizations_public", exc)
    response = client.get("/api/v1/organizations/")
    assert (response.status_code, response.json(), response["Retry-After"]) == (503, UNAVAILABLE, "5")


def test_signing_with_the_database_down_is_a_503_and_stores_nothing(client, open_letter, monkeypatch):
    fail_with(monkeypatch, "api.views.signing.signature_create", OperationalError("the database system is starting"))
    body = json.dumps({"name": "Ada Lovelace", "email": "ada@example.org"})
    response = client.post(f"/api/v1/letters/{open_letter.slug}/signatures/", body, content_type="application/json")
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    assert Signature.objects.count() == 0


def test_a_disallowed_host_is_a_json_400(client):
    response = client.get("/api/v1/letters/", HTTP_HOST="evil.example")
    assert (response.status_code, response["Content-Type"]) == (400, "application/json")
    assert response.json() == {"detail": "Bad request.", "errors": {}}


def test_a_csrf_failure_of_a_session_is_a_json_403(staff_user, open_letter):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    response = client.post("/api/v1/signatures/abc/verify", "{}", content_type="application/json")
    assert (response.status_code, response["Content-Type"]) == (403, "application/json")
    assert response.json() == {"detail": "CSRF Failed: CSRF cookie not set.", "errors": {}}


def test_a_method_not_allowed_is_a_json_405(client, open_letter):
    response = client.delete(f"/api/v1/letters/{open_letter.slug}/signatures/")
    assert (response.status_code, response.json()) == (405, {"detail": 'Method "DELETE" not allowed.', "errors": {}})


def shaped(response: HttpResponse, path: str = "/api/v1/anything", exc: Exception | None = None) -> HttpResponse:
    """An answer Django built itself, passed through the middleware (as from a plain Django view under /api/)."""
    request = RequestFactory().post(path)
    middleware = APIErrorShapeMiddleware(lambda _request: response)
    if exc is not None:
        middleware.process_exception(request, exc)
    return middleware(request)


def test_django_answers_under_api_are_reshaped():
    not_allowed = shaped(HttpResponseNotAllowed(["GET"]))
    assert (not_allowed.status_code, not_allowed["Allow"]) == (405, "GET")
    assert json.loads(not_allowed.content) == {"detail": "Method not allowed.", "errors": {}}
    forbidden = shaped(HttpResponse("<h1>CSRF verification failed</h1>", status=403))
    assert json.loads(forbidden.content) == {"detail": "Forbidden.", "errors": {}}
    assert json.loads(shaped(HttpResponseServerError("<h1>Server Error</h1>")).content) == SERVER_ERROR


def test_a_body_over_the_limit_outside_drf_is_a_413():
    response = shaped(HttpResponseBadRequest("<h1>Bad Request (400)</h1>"), exc=RequestDataTooBig("too big"))
    assert response.status_code == 413
    too_large = {"detail": "Request body too large.", "errors": {"body": ["At most 262144 bytes."]}}
    assert json.loads(response.content) == too_large


def test_answers_outside_api_and_successes_are_left_alone():
    page = HttpResponseBadRequest("<h1>Bad Request (400)</h1>")
    assert shaped(page, path="/letters/x/sign/") is page
    ok = HttpResponse("<p>fine</p>")
    assert shaped(ok) is ok

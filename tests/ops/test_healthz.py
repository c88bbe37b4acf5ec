import pytest


def test_healthz_answers_ok_without_touching_any_database(probe_client):
    """No `db` fixture: pytest-django fails the test on any query."""
    response = probe_client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_exempt_from_the_https_redirect(settings, path):
    """A load balancer probes over plain HTTP; SecurityMiddleware must not answer it with a redirect."""
    from django.http import HttpResponse
    from django.middleware.security import SecurityMiddleware
    from django.test import RequestFactory

    settings.SECURE_SSL_REDIRECT = True
    middleware = SecurityMiddleware(lambda request: HttpResponse("probe"))

    assert middleware(RequestFactory().get(path, HTTP_HOST="localhost")).status_code == 200
    for redirected in ("/letters/", "/metrics"):  # the metrics token must not travel in clear
        assert middleware(RequestFactory().get(redirected, HTTP_HOST="localhost")).status_code == 301

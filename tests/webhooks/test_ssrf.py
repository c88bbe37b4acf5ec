"""The SSRF guard: URLs checked when saved, addresses checked at every send (and the checked one connected to)."""

import ipaddress

import pytest

from tests.builders import signed
from tests.factories import LetterFactory
from tests.webhooks.helpers import drain, forget_queued, subscribe
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.ssrf import AddressRefused, address_refusal, target_resolve, url_errors


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fd00:ec2::254", "private"),  # AWS metadata over IPv6
        ("fe80::1", "link-local"),
        ("100.64.0.1", "not public"),  # CGNAT
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("240.0.0.1", "private"),  # reserved (Python counts it private too)
    ],
)
def test_addresses_that_are_not_public_are_refused(address, why, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    refusal = address_refusal(ipaddress.ip_address(address))
    assert refusal is not None and refusal.endswith(f"is {why}")


def test_a_public_address_and_an_allow_listed_one_are_accepted(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.9.0.0/16"]
    assert address_refusal(ipaddress.ip_address("93.184.216.34")) is None
    assert address_refusal(ipaddress.ip_address("10.9.8.7")) is None
    assert address_refusal(ipaddress.ip_address("10.8.0.1")) == "10.8.0.1 is private"


def test_a_host_that_resolves_to_loopback_is_refused_without_the_allow_list(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(AddressRefused, match=r"refused: localhost resolves to .* is loopback"):
        target_resolve("http://localhost:8080/hook")


@pytest.mark.parametrize(
    ("url", "allow_http", "error"),
    [
        ("http://hooks.example/in", False, "The URL must start with https://."),
        ("ftp://hooks.example/in", True, "The URL must start with https://."),
        (
            "https://user:pw@hooks.example/in",
            False,
            "Put no user name or password in the URL; verify the signature instead.",
        ),
        ("https:///in", False, "The URL needs a host."),
        ("https://hooks.example/" + "a" * 500, False, "At most 500 characters."),
        ("https://hooks.example:99999/", False, "Enter a valid URL."),
        ("https://hooks.example/in#x", False, "Remove the #fragment."),
    ],
)
def test_endpoint_urls_are_checked_when_saved(url, allow_http, error, settings):
    settings.WEBHOOK_ALLOW_HTTP = allow_http
    assert url_errors(url) == [error]


def test_https_urls_pass_and_http_only_in_development(settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    assert url_errors("https://hooks.example:8443/in?letter=1") == []
    settings.WEBHOOK_ALLOW_HTTP = True
    assert url_errors("http://hooks.example/in") == []


@pytest.mark.django_db
def test_a_receiver_on_loopback_gets_nothing_unless_allow_listed(receiver, settings):
    letter = LetterFactory()
    forget_queued()
    endpoint = subscribe(letter, receiver, ["signature.confirmed"])
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    signed(letter)
    drain()
    assert receiver.received == []
    attempt = Attempt.objects.get()
    assert (attempt.status_code, attempt.error) == (None, "refused: 127.0.0.1 resolves to 127.0.0.1 is loopback")
    assert Delivery.objects.get().next_attempt_at > attempt.at  # retried on the schedule, like any failure
    assert Endpoint.objects.get(pk=endpoint.pk).active

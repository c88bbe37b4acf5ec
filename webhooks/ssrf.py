"""Where a webhook may be sent. Checked when an endpoint is saved (the URL's shape) and again before every send (where
its host resolves now): https only (http when WEBHOOK_ALLOW_HTTP, development), and no address that is not public —
loopback, private, link-local (cloud metadata 169.254.169.254, fd00:ec2::254), CGNAT, multicast, reserved,
unspecified — unless it lies in WEBHOOK_ALLOWED_NETWORKS. The sender connects to the very address checked here (no
second lookup a rebinding DNS server could answer differently)."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

URL_MAX_LENGTH = 500
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The receiver's host resolves to an address webhooks are not sent to (or does not resolve)."""


@dataclass(frozen=True)
class Target:
    url: SplitResult
    host: str  # as written in the URL (the Host header and TLS server name)
    port: int
    address: IPAddress  # the checked address the sender connects to


def url_errors(url: str) -> list[str]:
    """What is wrong with an endpoint URL as written (no lookup): the field errors of the create and update forms."""
    if len(url) > URL_MAX_LENGTH:
        return [f"At most {URL_MAX_LENGTH} characters."]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  raises ValueError for a port out of range
    except ValueError:
        return ["Enter a valid URL."]
    allowed = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        return ["The URL must start with https://."]
    if not parts.hostname:
        return ["The URL needs a host."]
    if parts.username is not None or parts.password is not None:
        return ["Put no user name or password in the URL; verify the signature instead."]
    if parts.fragment:
        return ["Remove the #fragment."]
    if any(c.isspace() for c in url):
        return ["Enter a valid URL."]
    return []


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.WEBHOOK_ALLOWED_NETWORKS]


def address_refusal(address: IPAddress) -> str | None:
    """Why webhooks are not sent to `address`, or None when they may be."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in _allowed_networks()):
        return None
    for label, test in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not public", not address.is_global),  # CGNAT 100.64/10, documentation ranges and the like
    ):
        if test:
            return f"{address} is {label}"
    return None


def target_resolve(url: str) -> Target:
    """Resolve the URL's host and check every address it has; raise AddressRefused if any is refused."""
    errors = url_errors(url)
    if errors:
        raise AddressRefused(errors[0])
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"{host} does not resolve: {exc}") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise AddressRefused(f"{host} does not resolve")
    for address in addresses:
        refusal = address_refusal(address)
        if refusal:
            raise AddressRefused(f"refused: {host} resolves to {refusal}")
    return Target(url=parts, host=host, port=port, address=addresses[0])

"""Client addresses of signers: kept raw only for a retention window (fraud work), and as keyed hashes for good.

The hashes (HMAC-SHA256 with IP_HASH_KEY) let moderators match "every signature from this address" or "from this
/24 (IPv4) or /64 (IPv6)" and trend detection count by address, without keeping the address: without the key the
hash cannot be reversed by trying the 2^32 IPv4 addresses. Nothing here is ever public.
"""

import hashlib
import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings

IPV4_PREFIX = 24
IPV6_PREFIX = 64


@lru_cache(maxsize=1)
def _key() -> bytes:
    configured = settings.IP_HASH_KEY
    if configured:
        return configured.encode()
    # Unset: a key derived from SECRET_KEY (stable across restarts, different per deployment).
    return hmac.new(settings.SECRET_KEY.encode(), b"undersigned ip hash key", hashlib.sha256).digest()


def _hash(text: str) -> str:
    return hmac.new(_key(), text.encode(), hashlib.sha256).hexdigest()


def ip_prefix(address: str) -> str:
    """The network an address belongs to for grouping: its /24 (IPv4) or /64 (IPv6), as text."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    bits = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


def ip_hashes(address: str | None) -> tuple[str, str]:
    """(hash of the address, hash of its prefix); empty strings for no or an unparsable address."""
    if not address:
        return "", ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "", ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return _hash(f"ip:{ip}"), _hash(f"net:{ip_prefix(str(ip))}")

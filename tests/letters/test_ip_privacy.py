from datetime import timedelta

import pytest
from django.utils import timezone

from letters.ipaddrs import ip_hashes, ip_prefix
from letters.models import Signature
from letters.services.privacy import signatures_raw_ip_expire
from letters.services.signing import signature_withdraw
from registry.models import AuditEvent
from tests.builders import signed


def test_prefixes_group_an_ipv4_slash_24_and_an_ipv6_slash_64():
    assert ip_prefix("203.0.113.77") == "203.0.113.0/24"
    assert ip_prefix("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert ip_prefix("::ffff:203.0.113.9") == "203.0.113.0/24"
    one, two = ip_hashes("203.0.113.1"), ip_hashes("203.0.113.200")
    assert one[0] != two[0] and one[1] == two[1]
    assert ip_hashes("::ffff:203.0.113.1") == one
    assert ip_hashes(None) == ("", "") == ip_hashes("not an address")
    assert len(one[0]) == 64 and "203.0.113" not in one[0]


def test_the_hash_is_keyed(settings):
    from letters import ipaddrs

    ipaddrs._key.cache_clear()
    settings.IP_HASH_KEY = "one key"
    first = ip_hashes("198.51.100.4")
    ipaddrs._key.cache_clear()
    settings.IP_HASH_KEY = "another key"
    assert ip_hashes("198.51.100.4") != first
    ipaddrs._key.cache_clear()


def test_signing_keeps_the_address_and_its_hashes(open_letter):
    signature = signed(open_letter, name="Ada Lovelace", email="ada@example.org", ip_address="203.0.113.5")
    stored = Signature.objects.get(pk=signature.pk)
    assert stored.ip_address == "203.0.113.5"
    assert (stored.ip_hash, stored.ip_prefix_hash) == ip_hashes("203.0.113.5")


def test_raw_addresses_past_retention_are_dropped_and_hashes_stay(open_letter, settings):
    settings.IP_RETENTION_DAYS = 30
    now = timezone.now()
    old = signed(open_letter, name="Old Signer", email="old@example.org", ip_address="203.0.113.5",
                 at=now - timedelta(days=31))  # fmt: skip
    recent = signed(open_letter, name="New Signer", email="new@example.org", ip_address="203.0.113.6",
                    at=now - timedelta(days=29))  # fmt: skip
    assert signatures_raw_ip_expire(now=now, window=1) == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.ip_address, old.ip_hash) == (None, ip_hashes("203.0.113.5")[0])
    assert recent.ip_address == "203.0.113.6"
    audit = AuditEvent.objects.get(action="letters.signatures.raw_ip_expired")
    assert (audit.target_id, audit.data) == (str(open_letter.pk), {"signatures": 1, "retention_days": 30})
    assert signatures_raw_ip_expire(now=now) == 0


def test_withdrawal_erases_the_address_and_its_hashes(open_letter):
    signature = signed(open_letter, name="Ada Lovelace", email="ada@example.org", ip_address="203.0.113.5")
    signature_withdraw(signature=signature)
    signature.refresh_from_db()
    assert (signature.ip_address, signature.ip_hash, signature.ip_prefix_hash) == (None, "", "")


@pytest.mark.parametrize("path", ["/api/v1/letters/{slug}/signatures/", "/api/v1/letters/{slug}/export.json"])
def test_public_answers_hold_no_address_or_hash(client, open_letter, path):
    signature = signed(open_letter, name="Ada Lovelace", email="ada@example.org", ip_address="203.0.113.5")
    response = client.get(path.format(slug=open_letter.slug))
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    body = raw.decode()
    assert "Ada Lovelace" in body
    for secret in ("203.0.113", signature.ip_hash, signature.ip_prefix_hash):
        assert secret not in body

"""Sign and confirm N signatures on the demo letter now, as a bot wave would: every one from one /24 network (by
default 203.0.113.0/24, a documentation range) and one throwaway email domain, a few seconds apart (`--every`),
ending now.

For the moderation demo (the trending alert, "every signature from 203.0.113.0/24 in the last hour", undo) and to
push the count past a milestone. `load_demo` runs it once with 24 signatures.
"""

import ipaddress
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from faker import Faker

from letters.demo import DEMO_SLUG
from letters.models import Letter, Signature
from letters.services.signing import signature_confirm, signature_create

WAVE_NETWORK = "203.0.113.0/24"
WAVE_DOMAIN = "mail-drop.example"


def demo_wave_sign(
    *,
    letter: Letter,
    count: int,
    every: float = 5.0,
    network: str = WAVE_NETWORK,
    domain: str = WAVE_DOMAIN,
    now: datetime | None = None,
) -> list[Signature]:
    """`count` confirmed signatures from `network`, signed `every` seconds apart and ending at `now` (rate limits
    off: a real wave would be held by them, and the demo is about what moderators do next)."""
    now = now or timezone.now()
    hosts = list(ipaddress.ip_network(network, strict=False).hosts())
    fake = Faker("en_US")
    fake.seed_instance(int(now.timestamp()))
    made = []
    for n in range(count):
        at = now - timedelta(seconds=every * (count - 1 - n))
        first, last = fake.first_name(), fake.last_name()
        signature = signature_create(
            letter=letter,
            name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower()}.{int(at.timestamp())}{n}@{domain}",
            title="Security Researcher",
            ip_address=str(hosts[(10 + n) % len(hosts)]),
            source=Signature.Source.WEB,
            send_email=False,
            check_rate_limits=False,
            at=at,
        ).signature
        made.append(signature_confirm(signature=signature, at=min(at + timedelta(seconds=every / 2), now)))
    return made


class Command(BaseCommand):
    help = "Sign and confirm N signatures on the demo letter now, from one /24 network (a bot wave)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, default=24)
        parser.add_argument("--every", type=float, default=5.0, help="Seconds between two signatures (default 5).")
        parser.add_argument("--network", default=WAVE_NETWORK)
        parser.add_argument("--letter", default=DEMO_SLUG)

    def handle(self, *args, count: int, every: float, network: str, letter: str, **options) -> None:
        target = Letter.objects.filter(slug=letter).first()
        if target is None:
            raise CommandError(f"No letter {letter}: run `manage.py load_demo` first.")
        if not 1 <= count <= 10_000:
            raise CommandError("--count is between 1 and 10000.")
        if not 0 <= every <= 3600:
            raise CommandError("--every is between 0 and 3600 seconds.")
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as error:
            raise CommandError(f"--network: {error}") from None
        demo_wave_sign(letter=target, count=count, every=every, network=network)
        self.stdout.write(f"Signed and confirmed {count} signatures from {network} on /letters/{letter}/ just now")

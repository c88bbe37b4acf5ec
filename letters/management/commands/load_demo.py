"""Load the demo letter the news reports describe, with its signing history, through the real services."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from faker import Faker

from letters.counts import FOLD_MARGIN, letter_counts_reconcile
from letters.demo import DEMO_DAY1_END, DEMO_OPENED_AT, DEMO_SLUG
from letters.demo_identity import identity_demo_seed
from letters.management.commands.demo_wave import demo_wave_sign
from letters.models import Letter, Signature
from letters.services.letters import letter_create, letter_status_set
from letters.services.signing import signature_confirm, signature_create, signature_withdraw
from registry.models import Organization, OrganizationAlias, OrganizationDomain
from registry.normalize import organization_name_key

TITLE = "Restore defenders' access to the best AI models"
SUMMARY = (
    "Security researchers and leaders urge the Secretary of Commerce and the National Cyber Director to reverse the "
    "export restrictions on the Fable 5 and Mythos 5 models, which took the best tools away from defenders."
)
BODY = """Dear Secretary Lutnick and Director Cairncross,

We are security researchers, engineers and leaders who defend American networks, products and critical
infrastructure every day. We write to urge you to **reverse the export restrictions** that forced the suspension of
the Fable 5 and Mythos 5 models.

The capabilities cited to justify the ban — finding known vulnerabilities, writing patches and testing them — are
the daily work of defenders. They are not unique to these models: other widely available systems, including
open-source and foreign models, can already do the same.

> To pull the best capabilities away from defenders without a good reason when our adversaries are rapidly
> advancing is dangerous.

It is essential to provide AI to coders and security teams so they can find and fix flaws in their own
newly-written as well as decades-old legacy code faster than our adversaries. This action has taken the best models
away from defenders, created market uncertainty, and risked America's AI leadership without any real risk to
justify it.

We ask for:

1. the restrictions to be lifted while a transparent risk assessment is carried out;
2. a published method for evaluating AI risk, developed together with the security community;
3. standing cooperation between policy makers and industry before such measures are taken.

Respectfully,

*The undersigned* (affiliations for identification only)
"""
RECIPIENTS = [("Howard Lutnick", "Secretary of Commerce"), ("Sean Cairncross", "National Cyber Director")]

# name, kind, website, verified email domains, aliases
ORGANIZATIONS = [
    ("Adobe", "company", "https://www.adobe.com", ["adobe.com"], ["Adobe Inc.", "Adobe Systems"]),
    ("Nvidia", "company", "https://www.nvidia.com", ["nvidia.com"], ["NVIDIA Corporation"]),
    ("Zoom", "company", "https://zoom.us", ["zoom.us"], ["Zoom Video Communications"]),
    ("Apple", "company", "https://www.apple.com", ["apple.com"], ["Apple Inc."]),
    ("Meta", "company", "https://about.meta.com", ["meta.com"], ["Meta Platforms", "Facebook"]),
    ("Bugcrowd", "company", "https://www.bugcrowd.com", ["bugcrowd.com"], []),
    ("HackerOne", "company", "https://www.hackerone.com", ["hackerone.com"], ["Hacker One"]),
    ("Luta Security", "company", "https://www.lutasecurity.com", ["lutasecurity.com"], []),
    ("Google", "company", "https://www.google.com", ["google.com"], ["Google LLC"]),
    ("Microsoft", "company", "https://www.microsoft.com", ["microsoft.com"], ["Microsoft Corporation"]),
    ("CrowdStrike", "company", "https://www.crowdstrike.com", [], ["CrowdStrike Holdings"]),
    ("Cloudflare", "company", "https://www.cloudflare.com", ["cloudflare.com"], []),
    ("Trail of Bits", "company", "https://www.trailofbits.com", [], []),
    ("Rapid7", "company", "https://www.rapid7.com", [], []),
    ("Stanford University", "academic", "https://www.stanford.edu", ["stanford.edu"], ["Stanford"]),
    ("Electronic Frontier Foundation", "nonprofit", "https://www.eff.org", [], ["EFF"]),
]
SPONSORS = ["Bugcrowd", "HackerOne", "Luta Security"]
TITLES = [
    "Security Researcher",
    "Principal Security Engineer",
    "Staff Software Engineer",
    "Red Team Lead",
    "Application Security Engineer",
    "Vulnerability Researcher",
    "Incident Responder",
    "Security Architect",
    "Penetration Tester",
    "Threat Intelligence Analyst",
    "Professor of Computer Science",
    "Product Security Engineer",
]
SENIOR_TITLES = ["Chief Information Security Officer", "Director of Product Security", "VP of Security Engineering"]


@dataclass
class DemoSigner:
    name: str
    email: str
    title: str
    organization: str
    name_shown: bool
    signed_at: datetime
    confirmed_at: datetime | None
    ip_address: str = ""
    withdrawn_at: datetime | None = None


def demo_signers(seed: int = 2026) -> list[DemoSigner]:
    """The demo's signers: 76 confirmed by the end of day 1, 113 public by the end of day 3."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    day1, day2, day3 = DEMO_OPENED_AT, DEMO_DAY1_END + timedelta(hours=7), DEMO_DAY1_END + timedelta(days=1, hours=7)
    names: set[str] = set()
    signers: list[DemoSigner] = []

    def add(signed_at: datetime, confirmed_at: datetime | None) -> DemoSigner:
        name = fake.name()
        while name in names or any(p in name for p in ("Dr.", "MD", "DDS", "PhD", "Jr.", "Mr.", "Mrs.", "Ms.")):
            name = fake.name()
        names.add(name)
        org_name, _, _, domains, _ = ORGANIZATIONS[rng.randrange(len(ORGANIZATIONS))]
        first, last = name.lower().split()[0], name.lower().split()[-1]
        at_work = bool(domains) and rng.random() < 0.55
        email = f"{first}.{last}@{domains[0]}" if at_work else f"{first}.{last}{rng.randrange(10, 99)}@gmail.com"
        title = rng.choice(SENIOR_TITLES) if at_work and rng.random() < 0.15 else rng.choice(TITLES)
        # Addresses from the documentation ranges 192.0.2.0/24 and 198.51.100.0/24, one per signer.
        ip_address = f"{('192.0.2', '198.51.100')[len(signers) % 2]}.{len(signers) // 2 + 1}"
        signer = DemoSigner(name, email, title, org_name, True, signed_at, confirmed_at, ip_address)
        signers.append(signer)
        return signer

    for i in range(80):  # day 1: 76 confirm the same day, 4 late-evening signers confirm the next morning
        signed = day1 + timedelta(minutes=10 * i + rng.randrange(0, 8))
        confirmed = (
            signed + timedelta(minutes=rng.randrange(2, 60))
            if i < 76
            else DEMO_DAY1_END + timedelta(hours=8, minutes=i)
        )
        if i >= 76:
            signed = DEMO_DAY1_END - timedelta(minutes=40 - 5 * (i - 76))
        add(signed, confirmed)
    for i in range(20):  # day 2
        signed = day2 + timedelta(minutes=30 * i + rng.randrange(0, 20))
        add(signed, signed + timedelta(minutes=rng.randrange(3, 90)))
    for i in range(14):  # day 3
        signed = day3 + timedelta(minutes=40 * i + rng.randrange(0, 20))
        add(signed, signed + timedelta(minutes=rng.randrange(3, 90)))
    for i in range(3):  # never confirmed
        add(day3 + timedelta(hours=2, minutes=50 * i), None)
    for index in (5, 40, 90):
        signers[index].name_shown = False
    signers[10].withdrawn_at = DEMO_DAY1_END + timedelta(hours=15)
    return signers


class Command(BaseCommand):
    help = (
        "Load the demo letter (idempotent): 76 public signers at the end of day 1, over 100 by day 3, and a wave of 24"
        " from 203.0.113.0/24 in the last hour."
    )

    def handle(self, *args, **options) -> None:
        letter = Letter.objects.filter(slug=DEMO_SLUG).first()
        if letter is None:
            letter = self._load()
            # Today's bot wave, for the moderation demo: 24 confirmed signatures from 203.0.113.0/24 this last hour.
            # It ends a moment before now, past the fold's margin: the counts folded below include all of it.
            demo_wave_sign(letter=letter, count=24, every=90, now=timezone.now() - 2 * FOLD_MARGIN)
            self.stdout.write(self.style.SUCCESS(f"Loaded the demo letter /letters/{letter.slug}/"))
        else:
            self.stdout.write(f"The demo letter /letters/{letter.slug}/ is already loaded.")
        identity_demo_seed(letter=letter)
        # Made-up signers at real domains (gmail.com, the companies' own): none of them ever gets an email, whatever
        # runs later (a worker's checkpoint writes receipts with the worker's EMAIL_URL, not this command's).
        Signature.objects.filter(letter=letter).update(emails_sent=settings.SIGNATURE_MAX_EMAILS)
        letter_counts_reconcile()

    @transaction.atomic
    def _load(self) -> Letter:
        organizations = {}
        for name, kind, website, domains, aliases in ORGANIZATIONS:
            org, _ = Organization.objects.get_or_create(
                slug=slugify(name),
                defaults={"name": name, "kind": kind, "website": website, "name_key": organization_name_key(name)},
            )
            organizations[name] = org
            for domain in domains:
                OrganizationDomain.objects.get_or_create(
                    domain=domain, defaults={"organization": org, "verified": True}
                )
            for alias in aliases:
                OrganizationAlias.objects.get_or_create(
                    name_key=organization_name_key(alias), defaults={"organization": org, "name": alias}
                )
        letter = letter_create(
            slug=DEMO_SLUG,
            title=TITLE,
            summary=SUMMARY,
            body=BODY,
            recipients=RECIPIENTS,
            sponsors=[organizations[name] for name in SPONSORS],
            at=DEMO_OPENED_AT - timedelta(hours=1),
        )
        letter_status_set(letter=letter, status=Letter.Status.OPEN, at=DEMO_OPENED_AT)
        letter.refresh_from_db()
        actions: list[tuple[datetime, int, str, DemoSigner]] = []
        for order, signer in enumerate(demo_signers()):
            actions.append((signer.signed_at, order, "sign", signer))
            if signer.confirmed_at:
                actions.append((signer.confirmed_at, order, "confirm", signer))
            if signer.withdrawn_at:
                actions.append((signer.withdrawn_at, order, "withdraw", signer))
        signatures: dict[int, Signature] = {}
        for at, order, action, signer in sorted(actions, key=lambda a: (a[0], a[1])):
            if action == "sign":
                signatures[order] = signature_create(
                    letter=letter,
                    name=signer.name,
                    email=signer.email,
                    title=signer.title,
                    organization_name=signer.organization,
                    name_shown=signer.name_shown,
                    ip_address=signer.ip_address,
                    source=Signature.Source.WEB,
                    send_email=False,
                    check_rate_limits=False,
                    at=at,
                ).signature
            elif action == "confirm":
                signature_confirm(signature=signatures[order], at=at)
            else:
                signature_withdraw(signature=signatures[order], at=at)
        return letter

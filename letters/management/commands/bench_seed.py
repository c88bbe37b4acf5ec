"""Seed a letter with N confirmed signatures (and their history) through PostgreSQL COPY, for benchmarks.

`--pending` adds pending signatures with known confirmation tokens (written to `--tokens-file`), for load that
confirms; bench.launch_day calls `pending_signatures_seed` directly to get fresh ones on every run.
"""

import hashlib
import json
import secrets
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from letters.exports import export_lines_rebuild
from letters.models import Letter, LetterCount, LetterVersion, Signature, SignatureToken
from registry.models import Organization, new_public_id

ORGS = ["Adobe", "Nvidia", "Zoom", "Apple", "Meta", "Bugcrowd", "Google", "Microsoft", "Cloudflare", "HackerOne"]
GIVEN = [
    "Ada",
    "Grace",
    "Alan",
    "Katie",
    "Bruce",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Radia",
    "Whitfield",
]
SURNAMES = ["Lovelace", "Hopper", "Turing", "Moussouris", "Schneier", "Torvalds", "Hamilton", "Ritchie", "Liskov",
            "Thompson", "Perlman", "Diffie", "Hellman", "Rivest", "Shamir", "Adleman", "Lampson", "Knuth"]  # fmt: skip
START = datetime(2026, 1, 1, tzinfo=UTC)


class Command(BaseCommand):
    help = "Seed a benchmark letter with N confirmed signatures and M people via COPY (PostgreSQL only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--signatures", type=int, default=10_000)
        parser.add_argument("--people", type=int, default=0)
        parser.add_argument("--letter", default="bench-letter")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--pending", type=int, default=0, help="Also add this many pending signatures.")
        parser.add_argument("--tokens-file", default="var/bench_confirm_tokens.txt",
                            help="Where the pending signatures' confirmation tokens go, one a line.")  # fmt: skip

    def handle(
        self, *args, signatures: int, people: int, letter: str, days: int, pending: int, tokens_file: str, **options
    ) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_seed needs PostgreSQL (it uses COPY): set DATABASE_URL=postgres://...")
        started = time.perf_counter()
        with transaction.atomic():
            bench_letter = self._letter(letter)
            orgs = self._organizations()
            self._signatures(bench_letter, orgs, signatures, days)
            if people:
                self._people(people)
            tokens = pending_signatures_seed(letter=bench_letter, count=pending, tag="seed") if pending else []
        if tokens:
            path = Path(tokens_file)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{token}\n" for token in tokens))
        # What autovacuum does after a bulk load in production: planner statistics, and a visibility map and hint
        # bits, so the first reader of a fresh table does not pay for setting them.
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM (ANALYZE) letters_signature, letters_signatureevent, letters_exportline, registry_person, "
                "registry_personemail"
            )
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Seeded {signatures} signatures and {people} people into {letter} in {elapsed:.1f} s")
        if tokens:
            self.stdout.write(f"and {pending} pending signatures, their confirmation tokens in {tokens_file}")

    def _letter(self, slug: str) -> Letter:
        if Letter.objects.filter(slug=slug).exists():
            raise CommandError(f"Letter {slug} exists already; use another --letter or a fresh database.")
        body = "Benchmark letter."
        letter = Letter.objects.create(slug=slug, title=f"Benchmark {slug}", opened_at=START)
        version = LetterVersion.objects.create(
            letter=letter, number=1, body=body, sha256=hashlib.sha256(body.encode()).hexdigest(), published_at=START
        )
        Letter.objects.filter(pk=letter.pk).update(current_version=version, status=Letter.Status.OPEN)
        letter.current_version, letter.status = version, Letter.Status.OPEN
        return letter

    def _organizations(self) -> list[Organization]:
        return [
            Organization.objects.get_or_create(slug=name.lower(), defaults={"name": name, "name_key": name.lower()})[0]
            for name in ORGS
        ]

    def _signatures(self, letter: Letter, orgs: list[Organization], count: int, days: int) -> None:
        span = days * 86400
        buckets: dict[datetime, Counter] = defaultdict(Counter)
        by_org: dict[datetime, Counter] = defaultdict(Counter)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM letters_signature")
            first_id = cursor.fetchone()[0] + 1
            columns = (
                "id, public_id, letter_id, version_id, name, title, organization_name, organization_id, email, "
                "email_key, status, verification_level, is_public, hold_reason, rejection_reason, "
                "public_removal_reason, source, comment, emails_sent, signed_at, confirmed_at, updated_at"
            )
            # Confirmed rows arrive in bulk: their export lines are built in one statement afterwards instead of
            # by the per-row trigger (as pg_restore would), inside the same transaction.
            cursor.execute("ALTER TABLE letters_signature DISABLE TRIGGER exportline_signature_insert")
            with cursor.cursor.copy(f"COPY letters_signature ({columns}) FROM STDIN") as copy:
                for i in range(count):
                    at = START + timedelta(seconds=(i * span) // max(count, 1))
                    org = orgs[i % len(orgs)]
                    name = f"{GIVEN[i % len(GIVEN)]} {SURNAMES[(i // len(GIVEN)) % len(SURNAMES)]} {i}"
                    email = f"signer{first_id + i}@{org.slug}.example"
                    public = i % 50 != 0
                    copy.write_row((first_id + i, new_public_id(), letter.pk, letter.current_version_id,
                                    name, "Security Engineer", org.name, org.pk, email, email, "confirmed", "email",
                                    public, "", "", "", "web", "", 1, at, at, at))  # fmt: skip
                    minute = at.replace(second=0, microsecond=0)
                    buckets[minute]["added"] += 1
                    buckets[minute]["withheld"] += not public
                    by_org[minute][f"org:{org.slug}"] += 1
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses while FK checks are pending
            cursor.execute("ALTER TABLE letters_signature ENABLE TRIGGER exportline_signature_insert")
            export_lines_rebuild(letter_id=letter.pk)
            events = (
                "signature_id, letter_id, kind, at, visible_before, visible_after, level_before, level_after, data, "
                "recorded_at"
            )
            with cursor.cursor.copy(f"COPY letters_signatureevent ({events}) FROM STDIN") as copy:
                for i in range(count):
                    at = START + timedelta(seconds=(i * span) // max(count, 1))
                    copy.write_row((first_id + i, letter.pk, "confirmed", at, False, True, "none", "email", "{}", at))
            cursor.execute("SELECT setval(pg_get_serial_sequence('letters_signature', 'id'), %s)", [first_id + count])
            cursor.execute("SELECT MAX(id) FROM letters_signatureevent WHERE letter_id = %s", [letter.pk])
            last_event = cursor.fetchone()[0] or 0
            rollups = {"minute": (buckets, by_org)}
            for span, cut in (("hour", {"minute": 0}), ("day", {"hour": 0, "minute": 0})):
                span_buckets: dict[datetime, Counter] = defaultdict(Counter)
                span_orgs: dict[datetime, Counter] = defaultdict(Counter)
                for minute, tally in buckets.items():
                    span_buckets[minute.replace(**cut)].update(tally)
                    span_orgs[minute.replace(**cut)].update(by_org[minute])
                rollups[span] = (span_buckets, span_orgs)
            with cursor.cursor.copy(
                "COPY letters_lettercountbucket (letter_id, span, start, added, removed, withdrawn, rejected, "
                "name_withheld_delta, events, by_level, by_organization) FROM STDIN"
            ) as copy:
                for span, (span_buckets, span_orgs) in rollups.items():
                    for start, tally in span_buckets.items():
                        level, orgs = json.dumps({"email": tally["added"]}), json.dumps(span_orgs[start])
                        copy.write_row(
                            (
                                letter.pk,
                                span,
                                start,
                                tally["added"],
                                0,
                                0,
                                0,
                                tally["withheld"],
                                tally["added"],
                                level,
                                orgs,
                            )
                        )
        totals = Counter()
        for tally in by_org.values():
            totals.update(tally)
        LetterCount.objects.update_or_create(
            letter=letter,
            defaults={
                "public": count,
                "verified": 0,
                "by_level": {"email": count} if count else {},
                "name_withheld": sum(t["withheld"] for t in buckets.values()),
                "by_organization": dict(totals),
                "last_event_id": last_event,
                "counted_at": datetime.now(UTC),  # every event is older (one per signature, all in the past)
            },
        )

    def _people(self, count: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM registry_person")
            first_id = cursor.fetchone()[0] + 1
            now = datetime.now(UTC)
            with cursor.cursor.copy(
                "COPY registry_person (id, public_id, display_name, sort_name, name_key, name_skeleton, created_at, "
                "updated_at) FROM STDIN"
            ) as copy:
                for i in range(count):
                    given, surname = GIVEN[i % len(GIVEN)], f"{SURNAMES[i % len(SURNAMES)]}{i // 7}"
                    name = f"{given} {surname}"
                    key = name.lower()
                    copy.write_row((first_id + i, new_public_id(), name, key, key, key, now, now))
            with cursor.cursor.copy(
                "COPY registry_personemail (person_id, email, email_key, created_at) FROM STDIN"
            ) as copy:
                for i in range(count):
                    email = f"person{first_id + i}@example.org"
                    copy.write_row((first_id + i, email, email, now))
            cursor.execute("SELECT setval(pg_get_serial_sequence('registry_person', 'id'), %s)", [first_id + count])


@transaction.atomic
def pending_signatures_seed(*, letter: Letter, count: int, tag: str) -> list[str]:
    """Add `count` pending signatures to `letter` through COPY, each with its creation event and one confirmation
    token, and return the tokens (only their hashes are stored, as letters.services.tokens keeps them).

    Emails are `pending-<tag>-<i>@<organization>.example`, so a fresh `tag` never meets an earlier live signature.
    """
    if not count:
        return []
    now = timezone.now()
    orgs = [org.name for org in Organization.objects.filter(slug__in=[name.lower() for name in ORGS])] or ORGS
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    pending = Signature.Status.PENDING
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('letters_signature', 'id'))")
        first_id = cursor.fetchone()[0]
        cursor.execute("SELECT setval(pg_get_serial_sequence('letters_signature', 'id'), %s)", [first_id + count])
        columns = (
            "id, public_id, letter_id, version_id, name, title, organization_name, email, email_key, status, "
            "verification_level, is_public, hold_reason, rejection_reason, public_removal_reason, source, comment, "
            "emails_sent, signed_at, updated_at"
        )
        with cursor.cursor.copy(f"COPY letters_signature ({columns}) FROM STDIN") as copy:
            for i in range(count):
                org = orgs[i % len(orgs)]
                email = f"pending-{tag}-{i}@{org.lower()}.example"
                copy.write_row((first_id + i, new_public_id(), letter.pk, letter.current_version_id,
                                f"{GIVEN[i % len(GIVEN)]} Pending {tag} {i}", "Engineer", org, email, email,
                                pending, "none", True, "", "", "", "web", "", 1, now, now))  # fmt: skip
        events = "signature_id, letter_id, kind, at, visible_before, visible_after, level_before, level_after, data"
        with cursor.cursor.copy(f"COPY letters_signatureevent ({events}, recorded_at) FROM STDIN") as copy:
            for i in range(count):
                copy.write_row((first_id + i, letter.pk, "created", now, False, False, "none", "none",
                                '{"source": "web"}', now))  # fmt: skip
        expires = now + settings.SIGNATURE_CONFIRM_TOKEN_TTL
        with cursor.cursor.copy(
            "COPY letters_signaturetoken (signature_id, purpose, token_hash, expires_at, created_at) FROM STDIN"
        ) as copy:
            for i, token in enumerate(tokens):
                digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
                copy.write_row((first_id + i, SignatureToken.Purpose.CONFIRM, digest, expires, now))
    return tokens

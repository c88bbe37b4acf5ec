"""Rebuild the export lines (letters.models.ExportLine) from their source view, or check them against it."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from letters.exports import export_lines_differences, export_lines_rebuild
from letters.models import Letter


class Command(BaseCommand):
    help = "Rebuild the CSV export lines that triggers keep (PostgreSQL), or --check that they match their source."

    def add_arguments(self, parser):
        parser.add_argument("--letter", help="Only this letter's lines (its slug).")
        parser.add_argument("--check", action="store_true", help="Change nothing; fail if any line differs.")

    def handle(self, *args, letter: str | None, check: bool, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Export lines exist on PostgreSQL only; other databases export row by row.")
        letter_id = None
        if letter:
            found = Letter.objects.filter(slug=letter).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"No letter {letter}.")
            letter_id = found
        if check:
            differing = export_lines_differences(letter_id=letter_id)
            if differing:
                raise CommandError(f"{differing} export lines differ from their source; run rebuild_export_lines.")
            self.stdout.write("Export lines match their source.")
            return
        count = export_lines_rebuild(letter_id=letter_id)
        self.stdout.write(f"Rebuilt {count} export lines" + (f" of {letter}." if letter else "."))

"""Write a development signing key for the log to TRANSPARENCY_SIGNING_KEY_FILE unless a key is configured."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from transparency.keys import origin, signing_key
from transparency.note import signer_generate


class Command(BaseCommand):
    help = "Make a development signing key for the transparency log (var/transparency-signing.key) if none is set."

    def add_arguments(self, parser):
        parser.add_argument("--name", default="", help="Key name (default: the log's origin).")
        parser.add_argument("--print", action="store_true", help="Print a new key instead of writing the file.")

    def handle(self, *args, name: str, print: bool, **options) -> None:
        if print:
            self.stdout.write(signer_generate(name or origin()).encode())
            return
        existing = signing_key()
        if existing is not None:
            self.stdout.write(f"Transparency log key present; verifier key: {existing.verifier_key}")
            return
        path = Path(settings.TRANSPARENCY_SIGNING_KEY_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        signer = signer_generate(name or origin())
        path.write_text(signer.encode() + "\n")
        path.chmod(0o600)
        self.stdout.write(f"Wrote a development log key to {path}; verifier key: {signer.verifier_key}")

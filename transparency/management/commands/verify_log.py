"""Check the transparency log: from its rows (default) or, with --url, from the public HTTP interface only (runs
docs/verify.py, which needs nothing of this code base)."""

import importlib.util
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from transparency.integrity import log_problems
from transparency.keys import signing_key


class Command(BaseCommand):
    help = "Recompute every hash and checkpoint of the transparency log; --url verifies a running site instead."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="verify this site over HTTP with docs/verify.py (e.g. http://127.0.0.1:8000)")
        parser.add_argument("--state", help="with --url: the state file of the last verified checkpoint")

    def handle(self, *args, url: str | None, state: str | None, **options) -> None:
        if url:
            spec = importlib.util.spec_from_file_location("verify", Path(settings.BASE_DIR) / "docs" / "verify.py")
            assert spec is not None and spec.loader is not None
            verify = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(verify)
            signer = signing_key()
            argv = ["log", "--url", url] + (["--state", state] if state else [])
            argv += ["--key", signer.verifier_key] if signer else []
            if verify.main(argv) != 0:
                raise CommandError("the log does not verify")
            return
        problems = log_problems()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problems in the transparency log")
        self.stdout.write("The transparency log verifies: every leaf, tile hash and checkpoint.")

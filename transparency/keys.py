"""The log's signing key: TRANSPARENCY_SIGNING_KEY, else the file TRANSPARENCY_SIGNING_KEY_FILE (`make run` writes a
development key there with `manage.py transparency_keygen`). Without either, entries are appended but no checkpoint
is signed."""

from functools import cache
from pathlib import Path

from django.conf import settings

from transparency.note import Signer, signer_parse


@cache
def _signer_from(text: str) -> Signer:
    return signer_parse(text)


def signing_key() -> Signer | None:
    text = settings.TRANSPARENCY_SIGNING_KEY
    if not text:
        path = Path(settings.TRANSPARENCY_SIGNING_KEY_FILE)
        if not path.is_file():
            return None
        text = path.read_text()
    return _signer_from(text.strip())


def origin() -> str:
    return settings.TRANSPARENCY_ORIGIN

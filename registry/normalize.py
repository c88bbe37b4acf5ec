"""Text normalization shared by linking, matching and deduplication."""

import re
import unicodedata

from unidecode import unidecode

LEGAL_SUFFIXES = {
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "llc",
    "llp",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "sas",
    "bv",
    "nv",
    "srl",
    "pty",
    "oy",
    "ab",
    "as",
    "kk",
}
_NON_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFKC, accents folded to ASCII, casefolded, punctuation dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = unidecode(text).casefold()
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def organization_name_key(name: str) -> str:
    """Case-, accent- and punctuation-insensitive key without legal suffixes ("NVIDIA Corp." → "nvidia")."""
    words = fold(name.replace("&", " and ")).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)

"""Text normalization shared by linking, matching and deduplication."""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from confusable_homoglyphs import categories, confusables
from unidecode import unidecode

from registry.nicknames import canonical_given_name

LEGAL_SUFFIXES = {
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "llp", "plc",
    "gmbh", "ag", "sa", "sas", "bv", "nv", "srl", "pty", "oy", "ab", "as", "kk",
}  # fmt: skip
HONORIFICS = {"dr", "prof", "professor", "mr", "mrs", "ms", "mx", "miss", "sir", "dame", "rev", "hon"}
NAME_SUFFIXES = {"phd", "jr", "sr", "ii", "iii", "iv", "md", "msc", "mba", "esq", "cissp", "oscp", "dphil"}
_NON_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFKC, accents folded to ASCII, casefolded, punctuation dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = unidecode(text).casefold()
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def organization_name_key(name: str) -> str:
    """Case-, accent- and punctuation-insensitive key without legal suffixes ("NVIDIA Corp." → "nvidia").

    Dots are dropped before folding so that abbreviations stay one word ("S.A." → "sa", "N.V." → "nv")."""
    words = fold(name.replace("&", " and ").replace(".", "")).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)


@lru_cache(maxsize=1)
def _confusable_map() -> dict[int, str]:
    """Non-ASCII characters that look like an ASCII letter or digit, mapped to it (Unicode confusables data)."""
    table: dict[int, str] = {}
    for char, entries in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        for entry in entries:
            glyph = entry["c"]
            if len(glyph) == 1 and glyph.isascii() and glyph.isalnum():
                table[ord(char)] = glyph
                break
    return table


@lru_cache(maxsize=4096)  # a signer's name is skeletonized several times over (name keys, protected names)
def skeleton(text: str) -> str:
    """Confusable skeleton (in the spirit of Unicode TR39): look-alikes mapped to ASCII, then NFKC, casefold, accents.

    "Кatie Ⅿoussouris" (Cyrillic К, Roman numeral Ⅿ) and "Katie Moussouris" share one skeleton.
    """
    text = unicodedata.normalize("NFKC", text)
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = text.translate(_confusable_map())
    text = _INNER_CAPITAL_I.sub(lambda m: "l" * len(m.group(0)), text).replace("|", "l")
    return _ASCII_LOOKALIKES.sub(lambda m: _ASCII_LOOKALIKE_MAP[m.group(0)], fold(text))


# Look-alikes inside ASCII itself (TR39 lists them too): "BiII" for "Bill", "rn" for "m", "0" for "o".
_INNER_CAPITAL_I = re.compile(r"(?<=[a-z])I+")
_ASCII_LOOKALIKE_MAP = {"rn": "m", "vv": "w", "0": "o", "1": "l"}
_ASCII_LOOKALIKES = re.compile("|".join(_ASCII_LOOKALIKE_MAP))


def is_mixed_script(text: str) -> bool:
    """True when the letters of `text` come from more than one script (e.g. Latin with Cyrillic look-alikes)."""
    if text.isascii():  # ASCII letters are all Latin
        return False
    letters = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalpha())
    scripts = categories.unique_aliases(letters) - {"COMMON", "INHERITED"} if letters else set()
    return len(scripts) > 1


@dataclass(frozen=True)
class PersonName:
    given: str  # canonical given name ("katherine" for Katie), or an initial
    surname: str
    middle: tuple[str, ...]
    initial_only: bool
    given_as_written: str = ""  # first word not a title or suffix (a lone surname too), NFKC, unfolded: "Каtie"

    @property
    def key(self) -> str:
        return " ".join([self.given, *self.middle, self.surname]).strip()


@lru_cache(maxsize=4096)  # as skeleton; a PersonName is immutable
def person_name(raw: str) -> PersonName:
    """Parse a display name: honorifics and suffixes dropped, "Surname, Given" swapped, nickname canonical."""
    text = unicodedata.normalize("NFKC", raw)
    if text.count(",") == 1:
        left, right = (part.strip() for part in text.split(","))
        if left and right and fold(right) not in NAME_SUFFIXES:
            text = f"{right} {left}"
    words = [w for w in skeleton(text).split() if not _is_title(w)]
    written = next((w for w in text.replace(",", " ").split() if not _written_title(w)), "")
    if not words:
        return PersonName(given="", surname="", middle=(), initial_only=False)
    if len(words) == 1:
        return PersonName(given="", surname=words[0], middle=(), initial_only=False, given_as_written=written)
    given, surname = words[0], words[-1]
    return PersonName(
        given=canonical_given_name(given),
        surname=surname,
        middle=tuple(words[1:-1]),
        initial_only=len(given) == 1,
        given_as_written=written,
    )


@lru_cache(maxsize=65536)  # written words repeat (given names above all); a skeleton is costly
def _written_title(word: str) -> bool:
    """Whether a word as written is only honorifics or suffixes once folded ("Dr.", "Dг.", "PhD")."""
    return all(map(_is_title, skeleton(word).split()))


def _is_title(word: str) -> bool:
    """An honorific or a suffix, given as a skeleton word ("dr", "phd"): never a given name or a surname."""
    return word in HONORIFICS or word in NAME_SUFFIXES


def person_name_key(raw: str) -> str:
    return person_name(raw).key


def person_sort_name(raw: str) -> str:
    parsed = person_name(raw)
    return f"{parsed.surname} {parsed.given}".strip()

"""What dedup knows about a person: name parts as written (folded, not canonicalized), phonetic codes, organizations."""

import sys
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import jellyfish

from registry.nicknames import nickname_groups
from registry.normalize import HONORIFICS, NAME_SUFFIXES, fold, organization_name_key, skeleton

FREE_MAIL = {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "proton.me",
             "protonmail.com", "aol.com", "live.com", "me.com", "gmx.com", "fastmail.com"}  # fmt: skip
GENERIC_LOCAL_PARTS = {"info", "contact", "admin", "office", "mail", "hello", "team", "support", "sales", "press"}
ORG_STOPWORDS = {"of", "the", "and", "for", "de", "la", "le", "du", "der", "und", "at", "in"}
# Words many organizations share: compared without them, "University of Smithton" and "University of Newmanchester"
# are not similar names.
GENERIC_ORG_WORDS = ORG_STOPWORDS | {
    "university", "college", "institute", "school", "group", "sons", "foundation", "department", "center", "centre",
    "association", "society", "international", "labs", "lab", "technologies", "technology", "systems", "partners",
    "services",
}  # fmt: skip
TITLES = HONORIFICS | NAME_SUFFIXES


@lru_cache(maxsize=262144)
def phonetic(word: str) -> str:
    """Metaphone code of a folded word ("mccarthy" and "mccrathy" → MKKR0); the word itself when it has none."""
    return jellyfish.metaphone(word) or word if word.isascii() else word


def name_words(raw: str) -> list[str]:
    """Skeleton words of a display name, titles and suffixes dropped, "Surname, Given" put in order."""
    text = unicodedata.normalize("NFKC", raw)
    if text.count(",") == 1:
        left, right = (part.strip() for part in text.split(","))
        if left and right and fold(right) not in NAME_SUFFIXES:
            text = f"{right} {left}"
    return [word for word in skeleton(text).split() if word not in TITLES]


def acronyms(key: str) -> frozenset[str]:
    """Short forms of an organization key: initials of its significant words, of all words, and with the little
    words kept whole ("university of toronto" → "ut", "uot", "uoft")."""
    words = key.split()
    if len(words) < 2:
        return frozenset()
    forms = {
        "".join(w[0] for w in words if w not in ORG_STOPWORDS),
        "".join(w[0] for w in words),
        "".join(w if w in ORG_STOPWORDS else w[0] for w in words),
    }
    return frozenset(form for form in forms if len(form) >= 2)


@dataclass(frozen=True)
class OrgName:
    key: str  # organization_name_key of one name or alias, without generic words (compared by Jaro-Winkler)
    compact: str  # the whole key without spaces, compared with acronyms
    short: frozenset[str]  # its acronyms
    digits: str = ""  # its numbers ("Branch 12" and "Branch 21" are not similar names, whatever Jaro-Winkler says)


@lru_cache(maxsize=65536)
def org_name(name: str) -> OrgName:
    key = organization_name_key(name)
    distinctive = " ".join(w for w in key.split() if w not in GENERIC_ORG_WORDS) or key
    digits = " ".join(w for w in key.split() if w.isdigit())
    return OrgName(key=distinctive, compact=key.replace(" ", ""), short=acronyms(key), digits=digits)


EMPTY: frozenset = frozenset()
NO_ALIASES: dict[int, tuple[str, ...]] = {}  # shared by every record without aliases; never written to


@lru_cache(maxsize=65536)
def _interned(value: frozenset) -> frozenset:
    return value


def _shared(value: frozenset) -> frozenset:
    """One object for equal small sets (empty sets, the same domain or nickname groups): memory per record."""
    return _interned(value) if len(value) <= 1 else value


@dataclass(slots=True)
class PersonRecord:
    """A live person as dedup sees it. `organizations` maps organization id → display name; `aliases` adds other
    names of those organizations; `reviewed` lists the ones staff reviewed; `verified_domains` the email domains
    verified for an organization."""

    id: int
    name: str
    email_keys: frozenset[str] = frozenset()
    organizations: dict[int, str] = field(default_factory=dict)
    aliases: dict[int, tuple[str, ...]] = field(default_factory=dict)
    reviewed: frozenset[int] = frozenset()
    verified_domains: frozenset[str] = frozenset()
    words: tuple[str, ...] | None = field(default=None, repr=False, compare=False)  # name_words(name), if known
    # Derived in __post_init__ (slots: a million records must fit in memory).
    surname: str = field(init=False, repr=False, compare=False)
    given: str = field(init=False, repr=False, compare=False)
    middle: tuple[str, ...] = field(init=False, repr=False, compare=False)
    joined: str = field(init=False, repr=False, compare=False)
    initial_only: bool = field(init=False, repr=False, compare=False)
    given_groups: frozenset[int] = field(init=False, repr=False, compare=False)
    given_mask: int = field(init=False, repr=False, compare=False)
    raw_given: str = field(init=False, repr=False, compare=False)
    given_code: str = field(init=False, repr=False, compare=False)
    surname_code: str = field(init=False, repr=False, compare=False)
    domains: frozenset[str] = field(init=False, repr=False, compare=False)
    local_parts: frozenset[str] = field(init=False, repr=False, compare=False)
    org_names: dict[int, tuple[OrgName, ...]] = field(init=False, repr=False, compare=False)
    simple: bool = field(init=False, repr=False, compare=False)
    org_id: int = field(init=False, repr=False, compare=False)
    org_key: OrgName | None = field(init=False, repr=False, compare=False)
    domain: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = self.words if self.words is not None else [sys.intern(word) for word in name_words(self.name)]
        self.words = None
        self.surname = words[-1] if words else ""
        self.given = words[0] if len(words) > 1 else ""
        self.middle = tuple(words[1:-1])
        self.joined = "".join(words)  # "wil liam smith" and "william smith" join alike
        self.initial_only = len(self.given) == 1
        self.given_groups = _shared(frozenset(nickname_groups(self.given))) if len(self.given) > 1 else EMPTY
        self.given_mask = sum(1 << g for g in self.given_groups)  # the groups as bits, for comparing arrays
        self.raw_given = self.given
        self.given_code = sys.intern(phonetic(self.given)) if self.given else ""
        self.surname_code = sys.intern(phonetic(self.surname)) if self.surname else ""
        self.domains = _shared(frozenset(k.rpartition("@")[2] for k in self.email_keys) - FREE_MAIL)
        self.local_parts = _shared(
            frozenset(
                local.replace(".", "")
                for local in (k.rpartition("@")[0] for k in self.email_keys)
                if len(local) >= 4 and local not in GENERIC_LOCAL_PARTS
            )
        )
        if not self.aliases:
            self.aliases = NO_ALIASES
        self.org_names = {
            org_id: tuple(o for o in map(org_name, (name, *self.aliases.get(org_id, ()))) if o.compact)
            for org_id, name in self.organizations.items()
        }
        # One organization and at most one domain: the block scorer compares these records with arrays.
        self.simple = len(self.organizations) <= 1 and len(self.domains) <= 1 and not self.aliases
        self.org_id = next(iter(self.organizations), 0)
        first = self.org_names.get(self.org_id, ())
        self.org_key = first[0] if first else None
        self.domain = next(iter(self.domains), "")

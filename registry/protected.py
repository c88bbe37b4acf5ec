"""Protected names: famous or often impersonated people whose look-alikes are held until verified.

Registry owns the names and the matching; what a match means for signatures (holding them) is letters' business,
reached through registry.hooks.
"""

import re
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from registry.audit import Actor, audit_log
from registry.hooks import protected_name_participants
from registry.models import ProtectedName
from registry.nicknames import canonical_given_name
from registry.normalize import person_name, skeleton

# Digits and signs written for letters ("Kat1e Moussour1s", "K4tie"): Unicode's confusables map 1 to l, not to i,
# and know nothing of 4 for a. A name holding any is also read with each reading (at most MAX_READINGS of them).
_LETTER_LIKE = {
    "0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a", "$": "s", "!": "i",
    "|": "l",
}  # fmt: skip
MAX_READINGS = 16


# A word: letters and digits, with letter-like signs inside or before it ("Maximi|ian", "@lice").
_WORD = re.compile(r"[@$!|]*[^\W_]+(?:[@$!|]+[^\W_]*)*")


def _written_for_letters(name: str) -> bool:
    """Some word mixes letters with letter-like digits or signs ("Kat1e", "Maximi|ian"); a number of its own
    ("Lovelace-2", "Jr 3") is not read as letters."""
    return any(any(c.isalpha() for c in word) and any(c in _LETTER_LIKE for c in word) for word in _WORD.findall(name))


def _readings(name: str) -> list[str]:
    """`name`, and the names its letter-like digits and signs could stand for."""
    readings = [""]
    for char in name:
        options = _LETTER_LIKE.get(char, char)
        readings = [r + o for r in readings for o in options][:MAX_READINGS]
    return list(dict.fromkeys([name, *readings]))


def _skeleton_candidates(name: str) -> tuple[set[str], tuple[str, str] | None]:
    """The skeletons a protected name could have to match `name` (as written, honorifics dropped, order swapped, its
    letter-like digits read as letters), and the (given, surname) pair to compare with nickname variants (None when
    the name has no two parts)."""
    parsed = person_name(name)
    candidates: set[str] = set()
    for reading in _readings(name) if _written_for_letters(name) else [name]:
        read = person_name(reading)
        candidates |= {skeleton(reading), " ".join(filter(None, [read.given, read.surname]))}
        plain = skeleton(reading).split()
        if len(plain) >= 2:
            candidates.add(" ".join([plain[-1], *plain[:-1]]))
            candidates.add(" ".join([*plain[1:], plain[0]]))
    pair = (parsed.given, parsed.surname) if parsed.given and parsed.surname else None
    return {c for c in candidates if c}, pair


def _nickname_variants(pair: tuple[str, str]) -> set[tuple[str, str]]:
    given, surname = pair
    return {(given, surname), (canonical_given_name(surname), given)}


def protected_name_match(name: str) -> ProtectedName | None:
    """The protected name whose skeleton matches `name`'s (also with honorifics dropped or order swapped)."""
    candidates, pair = _skeleton_candidates(name)
    exact = ProtectedName.objects.filter(skeleton__in=candidates).first()
    if exact is not None or pair is None:
        return exact
    # Nickname variants ("Kate" for "Katherine"): the list is short, so compare parsed names one by one.
    wanted = _nickname_variants(pair)
    for protected in ProtectedName.objects.only("name", "skeleton"):
        other = person_name(protected.name)
        if (other.given, other.surname) in wanted:
            return protected
    return None


def protected_name_matcher() -> Callable[[str], ProtectedName | None]:
    """`protected_name_match` for many names (an import): the protected list is read once, here."""
    protected = list(ProtectedName.objects.only("name", "skeleton").order_by("pk"))
    by_skeleton = {p.skeleton: p for p in protected}
    by_pair: dict[tuple[str, str], ProtectedName] = {}
    for p in protected:
        other = person_name(p.name)
        by_pair.setdefault((other.given, other.surname), p)

    def match(name: str) -> ProtectedName | None:
        candidates, pair = _skeleton_candidates(name)
        exact = next((by_skeleton[c] for c in candidates if c in by_skeleton), None)
        if exact is not None or pair is None:
            return exact
        return next((by_pair[w] for w in _nickname_variants(pair) if w in by_pair), None)

    return match


@transaction.atomic
def protected_name_add(*, name: str, note: str = "", actor: Actor = None) -> ProtectedName:
    protected, _ = ProtectedName.objects.get_or_create(skeleton=skeleton(name), defaults={"name": name, "note": note})
    audit_log(action="registry.protected_name.added", target=protected, actor=actor, data={"name": name})
    return protected


@transaction.atomic
def protected_name_save(*, protected: ProtectedName, actor: Actor = None, at: datetime | None = None) -> int:
    """Store a protected name entered or edited by an admin, with its skeleton, and hold the public signatures
    that match it and no one has verified by hand yet. Returns how many were held."""
    adding = protected.pk is None
    protected.skeleton = skeleton(protected.name)[:200]
    protected.save()
    audit_log(
        action="registry.protected_name.added" if adding else "registry.protected_name.changed",
        target=protected,
        actor=actor,
        data={"name": protected.name},
    )
    at = at or timezone.now()
    return sum(
        participant.protected_name_saved(protected=protected, actor=actor, at=at)
        for participant in protected_name_participants
    )


@transaction.atomic
def protected_name_remove(*, protected: ProtectedName, actor: Actor = None) -> None:
    """Stop protecting a name; signatures held because of it stay held until someone reviews them."""
    audit_log(action="registry.protected_name.removed", target=protected, actor=actor, data={"name": protected.name})
    protected.delete()

"""Protected names: famous or often impersonated people whose look-alikes are held until verified.

Registry owns the names and the matching; what a match means for signatures (holding them) is letters' business,
reached through registry.hooks.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from registry.audit import Actor, audit_log
from registry.hooks import protected_name_participants
from registry.models import ProtectedName
from registry.nicknames import canonical_given_name
from registry.normalize import person_name, skeleton


def protected_name_match(name: str) -> ProtectedName | None:
    """The protected name whose skeleton matches `name`'s (also with honorifics dropped or order swapped)."""
    parsed = person_name(name)
    candidates = {skeleton(name), " ".join(filter(None, [parsed.given, parsed.surname]))}
    plain = [w for w in skeleton(name).split()]
    if len(plain) >= 2:
        candidates.add(" ".join([plain[-1], *plain[:-1]]))
        candidates.add(" ".join([*plain[1:], plain[0]]))
    exact = ProtectedName.objects.filter(skeleton__in=[c for c in candidates if c]).first()
    if exact is not None or not parsed.given or not parsed.surname:
        return exact
    # Nickname variants ("Kate" for "Katherine"): the list is short, so compare parsed names one by one.
    wanted = {(parsed.given, parsed.surname), (canonical_given_name(parsed.surname), parsed.given)}
    for protected in ProtectedName.objects.only("name", "skeleton"):
        other = person_name(protected.name)
        if (other.given, other.surname) in wanted:
            return protected
    return None


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

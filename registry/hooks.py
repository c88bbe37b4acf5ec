"""Extension points: how registry writes reach records that upper layers own (signatures), without registry
importing them.

An upper app registers an implementation once, in its AppConfig.ready() (letters/apps.py does). Registry calls every
registered implementation inside its own transaction, in registration order, and never learns what they change.

- `PersonMergeParticipant` — `registry.merge.person_merge` / `person_unmerge`:
  `lock(person_ids=…)` is called first, before registry locks the people (the lock order of docs/architecture.md:
  signatures before people); `merge(…)` returns what it moved, stored in the merge's audit row beside registry's own
  moves; `unmerge(…)` gets that record back and restores it.
- `OrganizationLinkParticipant` — `registry.services.organization_candidate_link`: `lock(candidate=…)` first,
  then `link(candidate=…, organization=…, …)` moves whatever points at the candidate before the candidate is deleted.
- `ProtectedNameParticipant` — `registry.protected.protected_name_save`: `protected_name_saved(…)` returns how many
  records it put on hold because they match the new or changed protected name.
- `OrganizationReviewParticipant` — `registry.services.organization_candidate_approve`: `lock(organization=…)` is
  called first, before registry locks and updates the organization (signatures before organizations), and returns
  the state of its records as the public saw them with the organization unreviewed; after the status change
  `organization_reviewed(…, before=…)` gets it back and records what the public now sees differently.
- `OrganizationDomainParticipant` — `registry.services.organization_domain_add`: `domain_verified(…)` runs after a
  domain became a verified domain of the organization (the row is written), so records it proves can be raised.
"""

from datetime import datetime
from typing import Any, Protocol

from registry.audit import Actor
from registry.models import Organization, Person, ProtectedName


class PersonMergeParticipant(Protocol):
    def lock(self, *, person_ids: list[int]) -> None: ...

    def merge(self, *, survivor: Person, duplicate: Person, actor: Actor, at: datetime) -> dict[str, Any]: ...

    def unmerge(
        self, *, duplicate: Person, survivor_id: int, moved: dict[str, Any], actor: Actor, at: datetime
    ) -> None: ...


class OrganizationLinkParticipant(Protocol):
    def lock(self, *, candidate: Organization) -> None: ...

    def link(self, *, candidate: Organization, organization: Organization, actor: Actor, at: datetime) -> None: ...


class ProtectedNameParticipant(Protocol):
    def protected_name_saved(self, *, protected: ProtectedName, actor: Actor, at: datetime) -> int: ...


class OrganizationReviewParticipant(Protocol):
    def lock(self, *, organization: Organization) -> Any: ...

    def organization_reviewed(self, *, organization: Organization, before: Any, actor: Actor, at: datetime) -> None: ...


class OrganizationDomainParticipant(Protocol):
    def domain_verified(self, *, organization: Organization, domain: str, actor: Actor, at: datetime) -> None: ...


person_merge_participants: list[PersonMergeParticipant] = []
organization_link_participants: list[OrganizationLinkParticipant] = []
protected_name_participants: list[ProtectedNameParticipant] = []
organization_review_participants: list[OrganizationReviewParticipant] = []
organization_domain_participants: list[OrganizationDomainParticipant] = []


def register(
    participants: list[Any],
    implementation: Any,
) -> None:
    """Add `implementation` once (AppConfig.ready() may run more than once in tests)."""
    if not any(type(existing) is type(implementation) for existing in participants):
        participants.append(implementation)

"""What a merge of two people means for their signatures (registry.merge calls this through registry.hooks).

Where both signed the same letter, the earliest confirmed live signature stays and the other becomes `merged`, so
each person counts once; every change is a SignatureEvent. Unmerge restores exactly what the merge recorded.
"""

from datetime import datetime
from typing import Any

from letters.models import Signature, SignatureEvent
from letters.services.events import signature_event_record, signature_state
from letters.services.locking import signatures_lock
from registry.audit import Actor
from registry.models import Person


class SignatureMerge:
    """registry.hooks.PersonMergeParticipant for signatures."""

    def lock(self, *, person_ids: list[int]) -> None:
        signatures_lock(Signature.objects.filter(person_id__in=person_ids))

    def merge(self, *, survivor: Person, duplicate: Person, actor: Actor, at: datetime) -> dict[str, Any]:
        moved: dict[str, Any] = {
            "signatures": list(Signature.objects.filter(person=duplicate).values_list("pk", flat=True)),
            "merged_signatures": [],
        }
        Signature.objects.filter(pk__in=moved["signatures"]).update(person=survivor)
        live = Signature.objects.filter(person=survivor, status__in=Signature.LIVE_STATUSES)  # locked by lock()
        by_letter: dict[int, list[Signature]] = {}
        for signature in live.order_by("letter_id", "confirmed_at", "id"):
            by_letter.setdefault(signature.letter_id, []).append(signature)
        for signatures in by_letter.values():
            confirmed = [s for s in signatures if s.status == Signature.Status.CONFIRMED]
            keep = confirmed[0] if confirmed else signatures[0]
            for extra in signatures:
                if extra.pk == keep.pk:
                    continue
                before = signature_state(extra)
                moved["merged_signatures"].append({"id": extra.pk, "status": extra.status})
                extra.status = Signature.Status.MERGED
                extra.merged_into = keep
                extra.save(update_fields=["status", "merged_into", "updated_at"])
                signature_event_record(
                    signature=extra,
                    kind=SignatureEvent.Kind.MERGED,
                    before=before,
                    actor=actor,
                    at=at,
                    data={"into": keep.public_id},
                )
        return moved

    def unmerge(
        self, *, duplicate: Person, survivor_id: int, moved: dict[str, Any], actor: Actor, at: datetime
    ) -> None:
        Signature.objects.filter(pk__in=moved.get("signatures", [])).update(person=duplicate)
        for entry in moved.get("merged_signatures", []):
            signature = Signature.objects.get(pk=entry["id"])  # locked by lock()
            if signature.status != Signature.Status.MERGED:
                continue
            before = signature_state(signature)
            signature.status = entry["status"]
            signature.merged_into = None
            signature.save(update_fields=["status", "merged_into", "updated_at"])
            signature_event_record(
                signature=signature, kind=SignatureEvent.Kind.UNMERGED, before=before, actor=actor, at=at
            )

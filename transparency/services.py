"""Writes to the log: appending entries (with the hashes of every 256-wide subtree they complete) and publishing
signed checkpoints. Both lock the one LogHead row, so appends are serialized and a checkpoint sees a whole batch."""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from transparency import hooks, merkle
from transparency.keys import origin, signing_key
from transparency.models import Checkpoint, Entry, LogHead, TileHash
from transparency.note import Checkpoint as CheckpointBody
from transparency.selectors import StoredHashes
from transparency.tiles import TILE_HEIGHT, TILE_WIDTH

MAX_ENTRY_BYTES = 0xFFFF  # an entry bundle prefixes each entry with a uint16 length


class LogInconsistent(RuntimeError):
    """The stored tree does not extend the last checkpoint: nothing is signed."""


def _head_lock() -> LogHead:
    """Lock the log's one LogHead row (FOR UPDATE): every append and checkpoint holds it."""
    try:
        return LogHead.objects.select_for_update().get(pk=1)
    except LogHead.DoesNotExist:  # a test flush removed the row migration 0002 made
        LogHead.objects.bulk_create([LogHead(pk=1, size=Entry.objects.count())], ignore_conflicts=True)
        return LogHead.objects.select_for_update().get(pk=1)


def log_lock() -> None:
    """Take the log's lock for the rest of the caller's transaction (a producer reading its own queue first)."""
    _head_lock()


@transaction.atomic
def entries_append(*, entries: Sequence[bytes], at: datetime | None = None) -> int:
    """Append `entries` in order; returns the index of the first. Holds the LogHead lock until commit."""
    if not entries:
        return -1
    if any(len(e) > MAX_ENTRY_BYTES for e in entries):
        raise ValueError(f"a log entry is at most {MAX_ENTRY_BYTES} bytes")
    head = _head_lock()
    start, at = head.size, at or timezone.now()
    Entry.objects.bulk_create(
        [
            Entry(index=start + i, data=bytes(e), leaf_hash=merkle.leaf_hash(e), appended_at=at)
            for i, e in enumerate(entries)
        ]
    )
    head.size = start + len(entries)
    _tile_hashes_complete(start, head.size)
    head.save(update_fields=["size"])
    return start


def _tile_hashes_complete(old_size: int, new_size: int) -> None:
    source = StoredHashes()
    level = TILE_HEIGHT
    while new_size >> level > old_size >> level:
        rows = []
        for index in range(old_size >> level, new_size >> level):
            below = source.stored(level - TILE_HEIGHT, index * TILE_WIDTH, TILE_WIDTH)
            rows.append(TileHash(level=level, index=index, hash=merkle.fold(below)))
        TileHash.objects.bulk_create(rows)
        level += TILE_HEIGHT


@transaction.atomic
def checkpoint_publish(*, at: datetime | None = None) -> Checkpoint | None:
    """Sign and store a checkpoint of the whole log when it grew since the last one (or when there is none).

    Refuses (LogInconsistent) unless a consistency proof from the last checkpoint to the new tree verifies, so two
    published checkpoints can never disagree. Returns None without a signing key or when nothing changed.
    """
    signer = signing_key()
    if signer is None:
        return None
    head = _head_lock()
    latest = Checkpoint.objects.order_by("-size").first()
    if latest is not None and latest.size == head.size:
        return None
    source = StoredHashes()
    root = merkle.root(source, head.size)
    if latest is not None:
        try:
            proof = merkle.consistency_proof(source, latest.size, head.size)
            merkle.verify_consistency(latest.size, head.size, bytes(latest.root), root, proof)
        except (merkle.ProofError, LookupError) as error:
            raise LogInconsistent(f"the log does not extend checkpoint {latest.size}: {error}") from error
    note = signer.sign(CheckpointBody(origin=origin(), size=head.size, root=root).text())
    checkpoint = Checkpoint.objects.create(size=head.size, root=root, note=note, created_at=at or timezone.now())
    for listener in hooks.checkpoint_listeners():
        listener(latest.size if latest is not None else 0, head.size)
    return checkpoint


def log_sync() -> Checkpoint | None:
    """Beat's task: run every registered producer (transparency.hooks) for one batch and sign a checkpoint, until no
    producer has anything left; so a backlog is checkpointed batch by batch, not only once it is all logged."""
    latest = checkpoint_publish()
    while sum(producer() for producer in hooks.producers()):
        latest = checkpoint_publish() or latest
    return latest

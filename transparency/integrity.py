"""The log checked from its own rows: every leaf hash, tile hash and checkpoint recomputed from the entries' bytes
(`manage.py verify_log`). Reads in chunks; a million entries hold ~32 MB of hashes in memory."""

from collections.abc import Iterator

from transparency import merkle
from transparency.keys import signing_key
from transparency.models import Checkpoint, Entry, TileHash
from transparency.note import NoteError, checkpoint_parse, note_open, verifier_parse
from transparency.tiles import TILE_HEIGHT, TILE_WIDTH

CHUNK = 10_000


def _leaves() -> Iterator[tuple[int, bytes, bytes]]:
    last = -1
    while True:
        rows = list(
            Entry.objects.filter(index__gt=last).order_by("index").values_list("index", "data", "leaf_hash")[:CHUNK]
        )
        if not rows:
            return
        for index, data, stored in rows:
            yield index, bytes(data), bytes(stored)
        last = rows[-1][0]


def log_problems() -> list[str]:
    """What is wrong with the stored log (empty when nothing is)."""
    problems: list[str] = []
    leaves: list[bytes] = []
    for index, data, stored in _leaves():
        if index != len(leaves):
            problems.append(f"entry {len(leaves)} is missing")
            return problems
        leaves.append(merkle.leaf_hash(data))
        if leaves[-1] != stored:
            problems.append(f"entry {index}: its stored leaf hash is not the hash of its data")
    level_hashes, level = leaves, TILE_HEIGHT
    stored_tiles = {(t.level, t.index): bytes(t.hash) for t in TileHash.objects.all()}
    while len(level_hashes) >= TILE_WIDTH:
        level_hashes = [merkle.fold(level_hashes[i : i + TILE_WIDTH])
                        for i in range(0, len(level_hashes) - TILE_WIDTH + 1, TILE_WIDTH)]  # fmt: skip
        for index, expected in enumerate(level_hashes):
            if stored_tiles.get((level, index)) != expected:
                problems.append(f"tile hash of level {level} at {index} differs from its entries")
        level += TILE_HEIGHT
    source = merkle.ListSource(leaves)
    signer = signing_key()
    verifier = verifier_parse(signer.verifier_key) if signer else None
    for checkpoint in Checkpoint.objects.order_by("size"):
        if checkpoint.size > len(leaves):
            problems.append(f"checkpoint {checkpoint.size} is larger than the log")
            continue
        if merkle.root(source, checkpoint.size) != bytes(checkpoint.root):
            problems.append(f"checkpoint {checkpoint.size}: the entries do not hash to its root")
        try:
            body = checkpoint_parse(note_open(checkpoint.note, verifier)) if verifier else None
        except NoteError as error:
            problems.append(f"checkpoint {checkpoint.size}: {error}")
            continue
        if body is not None and (body.size, body.root) != (checkpoint.size, bytes(checkpoint.root)):
            problems.append(f"checkpoint {checkpoint.size}: the signed note states another tree")
    return problems

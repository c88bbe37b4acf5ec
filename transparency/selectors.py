"""Reads of the log: hashes from the stored rows, tiles as served, proofs for receipts."""

import base64

from transparency import merkle
from transparency.models import Checkpoint, Entry, TileHash
from transparency.tiles import TILE_HEIGHT, TILE_WIDTH


class StoredHashes:
    """merkle.HashSource over the database: level-0 hashes are entries' leaf hashes, levels 8, 16, … are TileHash
    rows; any other perfect subtree is folded from at most 128 hashes of the tile level below it."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int], bytes] = {}

    def stored(self, level: int, start: int, count: int) -> list[bytes]:
        """Hashes of `level` (a multiple of 8) at indexes start … start+count-1, in order."""
        if level == 0:
            leaves = Entry.objects.filter(index__gte=start, index__lt=start + count).order_by("index")
            hashes = [bytes(h) for h in leaves.values_list("leaf_hash", flat=True)]
        else:
            nodes = TileHash.objects.filter(level=level, index__gte=start, index__lt=start + count).order_by("index")
            hashes = [bytes(h) for h in nodes.values_list("hash", flat=True)]
        if len(hashes) != count:
            raise LookupError(f"the log holds {len(hashes)} of {count} hashes of level {level} from {start}")
        return hashes

    def perfect(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self._cache:
            base = level - level % TILE_HEIGHT
            span = level - base
            self._cache[key] = merkle.fold(self.stored(base, index << span, 1 << span))
        return self._cache[key]


def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


def tile_hashes(*, level: int, n: int, width: int, size: int) -> bytes | None:
    """The hash tile (level, n) of width `width` in the tree of `size` leaves, or None when that tree has no such
    tile."""
    stored = size >> (TILE_HEIGHT * level)
    if width > stored - n * TILE_WIDTH:
        return None
    return b"".join(StoredHashes().stored(TILE_HEIGHT * level, n * TILE_WIDTH, width))


def tile_entries(*, n: int, width: int, size: int) -> bytes | None:
    """The entry bundle n of width `width`: each entry as a big-endian uint16 length and its bytes."""
    if width > size - n * TILE_WIDTH:
        return None
    rows = Entry.objects.filter(index__gte=n * TILE_WIDTH, index__lt=n * TILE_WIDTH + width).order_by("index")
    datas = [bytes(d) for d in rows.values_list("data", flat=True)]
    return b"".join(len(d).to_bytes(2, "big") + d for d in datas)


def inclusion_proof(*, index: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof(StoredHashes(), index, size)


def consistency_proof(*, size1: int, size2: int) -> list[bytes]:
    return merkle.consistency_proof(StoredHashes(), size1, size2)


def entry_leaf_hash(*, index: int) -> bytes:
    return bytes(Entry.objects.values_list("leaf_hash", flat=True).get(index=index))


def entry_proof(*, index: int) -> str | None:
    """A c2sp.org/tlog-proof@v1 proof that entry `index` is in the latest checkpoint (None until one covers it).
    Its `extra` line is the entry itself (base64), so the proof verifies with no other data."""
    checkpoint = checkpoint_latest()
    if checkpoint is None or checkpoint.size <= index:
        return None
    data = bytes(Entry.objects.values_list("data", flat=True).get(index=index))
    hashes = merkle.inclusion_proof(StoredHashes(), index, checkpoint.size)
    lines = ["c2sp.org/tlog-proof@v1", f"extra {base64.b64encode(data).decode()}", f"index {index}"]
    lines += [base64.b64encode(h).decode() for h in hashes]
    return "\n".join(lines) + "\n\n" + checkpoint.note

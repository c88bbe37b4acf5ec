"""RFC 6962 / RFC 9162 Merkle tree hashing and proofs over any store of perfect-subtree hashes.

Leaf hash = SHA-256(0x00 || entry), node hash = SHA-256(0x01 || left || right), the empty tree hashes to SHA-256("").
Proofs are built by the recursive definitions of RFC 9162 §2.1.3.1 (inclusion) and §2.1.4.1 (consistency) over
`HashSource.perfect(level, index)`: the hash of the complete subtree of 2**level leaves starting at index << level.
Verification uses the iterative algorithms of §2.1.3.2 and §2.1.4.2, which share no code with the builders.
"""

import hashlib
from collections.abc import Sequence
from typing import Protocol

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def fold(hashes: Sequence[bytes]) -> bytes:
    """The root of a perfect subtree from its 2**k hashes of one level, left to right."""
    level = list(hashes)
    if not level or len(level) & (len(level) - 1):
        raise ValueError("fold needs a power-of-two number of hashes")
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


class HashSource(Protocol):
    def perfect(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree of 2**level leaves starting at leaf index << level."""
        ...


class ListSource:
    """Leaf hashes held in memory (tests, the standalone verifier's cross-checks)."""

    def __init__(self, leaf_hashes: Sequence[bytes]):
        self.leaves = leaf_hashes

    def perfect(self, level: int, index: int) -> bytes:
        start = index << level
        return fold(self.leaves[start : start + (1 << level)])


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_hash(source: HashSource, lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) where lo is aligned as RFC 6962's recursion leaves it."""
    n = hi - lo
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and lo % n == 0:
        return source.perfect(n.bit_length() - 1, lo // n)
    k = _split(n)
    return node_hash(range_hash(source, lo, lo + k), range_hash(source, lo + k, hi))


def root(source: HashSource, size: int) -> bytes:
    return range_hash(source, 0, size)


def inclusion_proof(source: HashSource, index: int, size: int) -> list[bytes]:
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    return _path(source, index, 0, size)


def _path(source: HashSource, m: int, lo: int, hi: int) -> list[bytes]:
    n = hi - lo
    if n == 1:
        return []
    k = _split(n)
    if m - lo < k:
        return [*_path(source, m, lo, lo + k), range_hash(source, lo + k, hi)]
    return [*_path(source, m, lo + k, hi), range_hash(source, lo, lo + k)]


def consistency_proof(source: HashSource, size1: int, size2: int) -> list[bytes]:
    if not 0 <= size1 <= size2:
        raise ValueError(f"no consistency proof from {size1} to {size2}")
    if size1 == 0 or size1 == size2:
        return []
    return _subproof(source, size1, 0, size2, True)


def _subproof(source: HashSource, m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if whole else [range_hash(source, lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(source, m, lo, lo + k, whole), range_hash(source, lo + k, hi)]
    return [*_subproof(source, m - k, lo + k, hi, False), range_hash(source, lo, lo + k)]


class ProofError(ValueError):
    pass


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if len(p) != 32 or sn == 0:
            raise ProofError("malformed inclusion proof")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> None:
    if root_from_inclusion(index, size, leaf, proof) != root_hash:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the tree of size2 extends the tree of size1."""
    if size1 > size2:
        raise ProofError("the second tree is smaller")
    if size1 == size2:
        if proof or root1 != root2:
            raise ProofError("same size, different roots or a non-empty proof")
        return
    if size1 == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof or any(len(p) != 32 for p in proof):
        raise ProofError("malformed consistency proof")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != root1 or sr != root2:
        raise ProofError("consistency proof does not match the roots")

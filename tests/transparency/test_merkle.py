"""RFC 6962 hashing and proofs against the transparency-dev test vectors, and against a second implementation."""

import hashlib

import pytest

from transparency import merkle

# transparency-dev/merkle testonly/constants.go and proof/verify_test.go (RFC 6962 test data).
LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                      "606162636465666768696a6b6c6d6e6f"]]  # fmt: skip
ROOTS = [bytes.fromhex(h) for h in [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]]  # fmt: skip
H = bytes.fromhex
INCLUSION = [  # (leaf index, tree size, proof); the Go vectors number leaves from 1
    (0, 8, [H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (5, 8, [H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 3, [H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (1, 5, [H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
]  # fmt: skip
CONSISTENCY = [
    (1, 8, [H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (6, 8, [H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 5, [H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
    (6, 7, [H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
]  # fmt: skip

SOURCE = merkle.ListSource([merkle.leaf_hash(e) for e in LEAVES])


# A second implementation, straight from the recursive definitions of RFC 6962 §2.1 over lists of entries.
def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1 << ((len(d) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1 << ((len(d) - 1).bit_length() - 1)
    return [*ref_path(m, d[:k]), ref_mth(d[k:])] if m < k else [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = 1 << ((len(d) - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def test_roots_of_every_prefix_match_the_rfc_6962_vectors():
    assert [merkle.root(SOURCE, n) for n in range(9)] == ROOTS


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_vectors_and_verify(index, size, proof):
    assert merkle.inclusion_proof(SOURCE, index, size) == proof
    merkle.verify_inclusion(index, size, merkle.leaf_hash(LEAVES[index]), proof, ROOTS[size])


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors_and_verify(size1, size2, proof):
    assert merkle.consistency_proof(SOURCE, size1, size2) == proof
    merkle.verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_a_corrupted_inclusion_proof_is_refused(index, size, proof):
    leaf = merkle.leaf_hash(LEAVES[index])
    flipped = [bytes([proof[0][0] ^ 8]) + proof[0][1:], *proof[1:]]
    for bad_index, bad_size, bad_leaf, bad_proof in [
        (index + 1, size, leaf, proof), (index, size * 2, leaf, proof), (index, size, leaf[::-1], proof),
        (index, size, leaf, flipped), (index, size, leaf, proof[:-1]), (index, size, leaf, [*proof, ROOTS[size]]),
    ]:  # fmt: skip
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(bad_index, bad_size, bad_leaf, bad_proof, ROOTS[size])


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY)
def test_a_corrupted_consistency_proof_is_refused(size1, size2, proof):
    flipped = [bytes([proof[0][0] ^ 16]) + proof[0][1:], *proof[1:]]
    for s1, s2, r1, r2, p in [
        (size1 + 1, size2, ROOTS[size1], ROOTS[size2], proof), (size1, size2, ROOTS[size2], ROOTS[size1], proof),
        (size1, size2, ROOTS[size1], ROOTS[size2], flipped), (size1, size2, ROOTS[size1], ROOTS[size2], proof[:-1]),
        (size1, size2, ROOTS[size1], ROOTS[size2], []),
    ]:  # fmt: skip
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(s1, s2, r1, r2, p)


def test_proofs_agree_with_a_second_implementation_across_tile_boundaries():
    entries = [str(i).encode() for i in range(300)]
    source = merkle.ListSource([merkle.leaf_hash(e) for e in entries])
    for size in (1, 2, 7, 255, 256, 257, 300):
        assert merkle.root(source, size) == ref_mth(entries[:size])
        for index in {0, size // 2, size - 1}:
            assert merkle.inclusion_proof(source, index, size) == ref_path(index, entries[:size])
        for size1 in {1, size // 3 or 1, size - 1 or 1}:
            expected = [] if size1 == size else ref_subproof(size1, entries[:size], True)
            assert merkle.consistency_proof(source, size1, size) == expected
            merkle.verify_consistency(size1, size, ref_mth(entries[:size1]), ref_mth(entries[:size]), expected)

"""engine.integrity.merkle against RFC 6962's definition and the Certificate Transparency reference vectors.

The vectors (the 8-leaf tree of google/certificate-transparency's merkle_tree_test, repeated by transparency-dev
/merkle and by every other RFC 6962 implementation) are what an outside verifier's own tool computes: a tree no other
implementation agrees with proves nothing to anyone.
"""
from __future__ import annotations

import hashlib
import random

import pytest

from engine.integrity import merkle
from engine.integrity.canonical import leaf_hash

# Leaf inputs (before the 0x00 prefix) and the tree heads of sizes 0..8.
CT_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
_A = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
_B = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
_C = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
_D = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
_E = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
# (leaf index, tree size, audit path)
CT_INCLUSION = [(0, 8, [_A, _B, _C]), (5, 8, [_D, _E, CT_ROOTS[4]]), (2, 3, [CT_ROOTS[2]]),
                (1, 5, [CT_ROOTS[1], _B, _D])]
# (old size, new size, consistency proof)
CT_CONSISTENCY = [(1, 1, []), (1, 8, [_A, _B, _C]),
                  (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", _E, CT_ROOTS[4]]),
                  (2, 5, [_B, _D])]

LEAVES = [leaf_hash(bytes.fromhex(data)) for data in CT_INPUTS]
TREE = merkle.Tree(LEAVES)


def h(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text)


def naive_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 2.1, word for word: MTH({}) = SHA-256(), MTH of one leaf is it, else split at the largest power of
    two smaller than n."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def random_leaves(rng: random.Random, n: int) -> list[bytes]:
    return [leaf_hash(rng.randbytes(rng.randint(0, 12))) for _ in range(n)]


def test_leaf_hash_is_the_rfc_leaf_hash():
    assert LEAVES[0].hex() == CT_ROOTS[1]  # SHA-256(0x00): the tree of one empty entry


@pytest.mark.parametrize("size", range(len(CT_ROOTS)))
def test_roots_match_the_reference_tree_heads(size):
    assert merkle.root(LEAVES[:size]).hex() == CT_ROOTS[size]
    assert naive_mth(LEAVES[:size]).hex() == CT_ROOTS[size]
    assert TREE.root(size).hex() == CT_ROOTS[size]


@pytest.mark.parametrize("index, size, path", CT_INCLUSION)
def test_inclusion_proofs_match_the_reference_and_verify(index, size, path):
    proof = TREE.inclusion_proof(index, size)
    assert [p.hex() for p in proof] == path
    merkle.verify_inclusion(LEAVES[index], index, size, proof, h(CT_ROOTS[size]))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(LEAVES[index], index, size, proof, h(CT_ROOTS[size - 1]))


@pytest.mark.parametrize("old, new, path", CT_CONSISTENCY)
def test_consistency_proofs_match_the_reference_and_verify(old, new, path):
    proof = TREE.consistency_proof(old, new)
    assert [p.hex() for p in proof] == path
    merkle.verify_consistency(old, new, h(CT_ROOTS[old]), h(CT_ROOTS[new]), proof)
    if old < new:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, new, h(CT_ROOTS[old - 1]), h(CT_ROOTS[new]), proof)


def test_compact_range_gives_the_naive_root_at_every_size():
    leaves = random_leaves(random.Random(6962), 70)
    compact = merkle.CompactRange()
    assert compact.root() == merkle.EMPTY_ROOT
    for n, leaf in enumerate(leaves, start=1):
        compact.append(leaf)
        assert compact.size == n and compact.root() == naive_mth(leaves[:n])


def test_every_inclusion_proof_round_trips_and_a_changed_leaf_fails():
    rng = random.Random(9162)
    for n in (1, 2, 3, 5, 7, 8, 9, 16, 17, 31):
        leaves = random_leaves(rng, n)
        tree = merkle.Tree(leaves)
        for size in range(1, n + 1):
            root = naive_mth(leaves[:size])
            for index in range(size):
                proof = tree.inclusion_proof(index, size)
                merkle.verify_inclusion(leaves[index], index, size, proof, root)
                with pytest.raises(merkle.ProofError):
                    merkle.verify_inclusion(leaf_hash(b"forged"), index, size, proof, root)
                if size > 1:  # the same path claimed for another place does not hold
                    with pytest.raises(merkle.ProofError):
                        merkle.verify_inclusion(leaves[index], (index + 1) % size, size, proof, root)


def test_every_consistency_proof_round_trips_and_a_rewritten_prefix_fails():
    rng = random.Random(2026)
    leaves = random_leaves(rng, 21)
    tree = merkle.Tree(leaves)
    for new in range(1, 22):
        for old in range(1, new + 1):
            proof = tree.consistency_proof(old, new)
            merkle.verify_consistency(old, new, naive_mth(leaves[:old]), naive_mth(leaves[:new]), proof)
            rewritten = leaves[:old - 1] + [leaf_hash(b"rewritten")] + leaves[old:new]
            with pytest.raises(merkle.ProofError):
                merkle.verify_consistency(old, new, naive_mth(leaves[:old]), naive_mth(rewritten), proof)


def test_malformed_proofs_are_refused():
    proof = TREE.inclusion_proof(2, 8)
    for bad in (proof[:-1], proof + [proof[0]]):
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(LEAVES[2], 2, 8, bad, h(CT_ROOTS[8]))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(LEAVES[2], 8, 8, proof, h(CT_ROOTS[8]))
    with pytest.raises(merkle.ProofError):
        TREE.inclusion_proof(8, 8)
    consistency = TREE.consistency_proof(3, 7)
    for bad in (consistency[:-1], consistency + [consistency[0]], []):
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(3, 7, h(CT_ROOTS[3]), h(CT_ROOTS[7]), bad)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(4, 4, h(CT_ROOTS[4]), h(CT_ROOTS[4]), [h(_A)])
    with pytest.raises(merkle.ProofError):
        TREE.consistency_proof(0, 4)

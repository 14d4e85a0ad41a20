"""engine.audit.proofs: the proofs a case export carries, computed in one pass over the leaves, are merkle.Tree's."""
from __future__ import annotations

import hashlib
import random

import pytest

from engine.audit.proofs import StreamedTree, proofs
from engine.integrity import merkle


def leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(b"\x00" + i.to_bytes(4, "big")).digest() for i in range(n)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 100, 257, 1000, 1024, 1025, 3000, 5000])
def test_streamed_proofs_are_the_full_trees(size):
    rng = random.Random(size)
    data = leaves(size + 7)  # leaves past `size` are ignored
    indexes = sorted(rng.sample(range(size), min(size, 12)))  # most blocks of a large tree hold none
    sizes = sorted({rng.randint(1, size) for _ in range(5)} | {size})
    pairs = list(zip(sizes, sizes[1:]))
    tree = merkle.Tree(data[:size])
    root, inclusion, consistency = proofs(iter(data), size, indexes, pairs)
    assert root == tree.root()
    assert inclusion == [tree.inclusion_proof(i, size) for i in indexes]
    assert consistency == [tree.consistency_proof(a, b) for a, b in pairs]
    for i, proof in zip(indexes, inclusion):
        merkle.verify_inclusion(data[i], i, size, proof, root)


def test_it_keeps_only_the_nodes_the_proofs_need():
    tree = StreamedTree(1 << 12)
    tree.inclusion_proof(5, 1 << 12)
    tree.compute(leaves(1 << 12))
    assert len(tree.nodes) == 12


def test_too_few_leaves_is_an_error():
    with pytest.raises(merkle.ProofError):
        proofs(iter(leaves(3)), 4, [0], [])

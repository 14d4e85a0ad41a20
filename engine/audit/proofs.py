"""Inclusion and consistency proofs of a few leaves of a large log, in one pass over its leaf hashes.

merkle.Tree keeps every level of the tree (about 130 MB for a million events) to answer any proof. A case export
needs proofs for its own events only, so this tree first plans which perfect subtrees those proofs are made of
(RFC 6962's recursion, merkle.Tree's own, run with the hashes left out), then streams the leaves once keeping
just those nodes: memory in the proofs' size, time one hash per node like building the tree.
"""
from __future__ import annotations

from hashlib import sha256
from itertools import islice
from typing import Iterable

from engine.integrity import merkle

BLOCK_LEAVES = 1024  # a power of two


class StreamedTree(merkle.Tree):
    """A merkle.Tree of `size` leaves that holds only the nodes the proofs asked of it before `compute()`."""

    def __init__(self, size: int):  # no super().__init__: the levels are never built
        self._size = size
        self.needed: set[tuple[int, int]] = set()
        self.nodes: dict[tuple[int, int], bytes] | None = None

    @property
    def size(self) -> int:
        return self._size

    def subtree(self, start: int, end: int) -> bytes:
        n = end - start
        if n and n & (n - 1) == 0 and start % n == 0:  # a perfect subtree: (height, index)
            key = (n.bit_length() - 1, start // n)
            if self.nodes is None:
                self.needed.add(key)
                return b""
            return self.nodes[key]
        return super().subtree(start, end)  # split into perfect ones, back through this method

    def compute(self, leaves: Iterable[bytes]) -> None:
        """Read the leaves 0..size-1 in order and keep the planned nodes. Aligned blocks of BLOCK_LEAVES that hold
        no planned node are hashed level by level in one go (most of the log); the others node by node."""
        needed, nodes, stack = self.needed, {}, []
        block_height = BLOCK_LEAVES.bit_length() - 1
        planned_blocks = {(position << height) >> block_height for height, position in needed if height < block_height}

        def push(height: int, position: int, value: bytes) -> None:
            if (height, position) in needed:
                nodes[height, position] = value
            while stack and stack[-1][0] == height:
                value = merkle.node(stack.pop()[1], value)
                height, position = height + 1, position >> 1
                if (height, position) in needed:
                    nodes[height, position] = value
            stack.append((height, value))

        leaves, count = iter(leaves), 0
        while count < self._size:
            block = list(islice(leaves, min(BLOCK_LEAVES, self._size - count)))
            if len(block) == BLOCK_LEAVES and count >> block_height not in planned_blocks:
                push(block_height, count >> block_height, _perfect_root(block))
            else:
                for offset, leaf in enumerate(block):
                    push(0, count + offset, leaf)
            if not block:
                break
            count += len(block)
        for _past_size in leaves:  # read to its end: a database cursor behind it closes there
            pass
        if count != self._size:
            raise merkle.ProofError(f"{count} leaves given for a tree of {self._size}")
        self.nodes = nodes


def _perfect_root(level: list[bytes]) -> bytes:
    """MTH of a power-of-two number of leaves, a level at a time."""
    while len(level) > 1:
        level = [sha256(b"\x01" + left + right).digest() for left, right in zip(level[::2], level[1::2])]
    return level[0]


def proofs(leaves: Iterable[bytes], size: int, indexes: list[int],
           pairs: list[tuple[int, int]]) -> tuple[bytes, list[list[bytes]], list[list[bytes]]]:
    """The root of the first `size` leaves, the inclusion proof of each leaf index in it, and the consistency
    proof between each (old size, new size) pair (new size <= size)."""
    tree = StreamedTree(size)
    tree.root(size)
    for index in indexes:
        tree.inclusion_proof(index, size)
    for old, new in pairs:
        tree.consistency_proof(old, new)
    tree.compute(leaves)
    return (tree.root(size), [tree.inclusion_proof(i, size) for i in indexes],
            [tree.consistency_proof(old, new) for old, new in pairs])

"""RFC 6962 / RFC 9162 Merkle tree hashing, with domain separation between leaves and nodes.

A leaf's hash is SHA-256(0x00 || leaf) and an interior node's is SHA-256(0x01 || left || right), so
that no leaf can be passed off as a node. The tree over n > 1 leaves is the tree over the first k
leaves and the tree over the rest, k being the largest power of two smaller than n; the root of the
empty tree is SHA-256 of the empty string.

A tree of n leaves is therefore a row of perfect subtrees, one per set bit of n, largest on the
left, and its root folds their roots from the right. `CompactRange` keeps only that row (at most
64 hashes), so leaves can be appended one at a time and the root asked for at any point in
O(log n) time and memory, with no recursion.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_CHUNK_HEIGHT = 12  # appending aligned blocks of 4,096 leaf hashes level by level is faster


def leaf_hash(leaf: bytes) -> bytes:
    """The hash of one leaf's bytes (an entry of the log)."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node from its two children's hashes."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {value!r:.80}")


def _perfect_root(hashes: list[bytes]) -> bytes:
    """Root of a perfect subtree (the number of hashes is a power of two), level by level."""
    sha = hashlib.sha256
    while len(hashes) > 1:
        hashes = [sha(NODE_PREFIX + hashes[i] + hashes[i + 1]).digest()
                  for i in range(0, len(hashes), 2)]
    return hashes[0]


class CompactRange:
    """The right edge of a growing Merkle tree: the roots of its perfect subtrees, left to right.

    `size` is the number of leaves; `hashes[i]` is the root of the i-th perfect subtree, their
    sizes being the set bits of `size` from the highest down. Persist (size, hashes) to resume.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_state(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Resume from a saved (size, hashes); the number of hashes must match size's set bits."""
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {max(size, 0).bit_count()} subtree "
                             f"roots on its right edge, got {len(hashes)}")
        for i, h in enumerate(hashes):
            _check_hash(h, f"subtree root {i}")
        cr = cls()
        cr._size = size
        cr._hashes = list(hashes)
        return cr

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf, given by its leaf hash (see `leaf_hash`)."""
        _check_hash(leaf_hash, "leaf hash")
        self._push(leaf_hash, 0)

    def _push(self, subtree_root: bytes, height: int) -> None:
        """Append a perfect subtree of 2**height leaves; size must be a multiple of that."""
        sha, hashes, h = hashlib.sha256, self._hashes, subtree_root
        bits = self._size >> height
        while bits & 1:
            h = sha(NODE_PREFIX + hashes.pop() + h).digest()
            bits >>= 1
        hashes.append(h)
        self._size += 1 << height

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes: one by one up to a block boundary, then whole blocks."""
        block = 1 << _CHUNK_HEIGHT
        pending: list[bytes] = []
        for h in leaf_hashes:
            _check_hash(h, "leaf hash")
            if pending or self._size % block == 0:
                pending.append(h)
                if len(pending) == block:
                    self._push(_perfect_root(pending), _CHUNK_HEIGHT)
                    pending = []
            else:
                self._push(h, 0)
        for h in pending:
            self._push(h, 0)

    def root(self) -> bytes:
        """The root of the tree of all leaves appended so far."""
        if not self._hashes:
            return EMPTY_ROOT
        sha = hashlib.sha256
        it = reversed(self._hashes)
        r = next(it)
        for h in it:
            r = sha(NODE_PREFIX + h + r).digest()
        return r


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """The Merkle tree hash of a list of leaf hashes, in O(log n) memory."""
    cr = CompactRange()
    cr.extend(leaf_hashes)
    return cr.root()


def subtree_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """The Merkle tree hash of leaf_hashes[start:end], without copying the slice."""
    return root(map(leaf_hashes.__getitem__, range(start, end)))

"""Inclusion and consistency proofs (RFC 6962 section 2.1, verified as in RFC 9162 section 2.1).

An inclusion proof (audit path) shows that a leaf is at a given index of a tree with a given root;
a consistency proof shows that a tree of old_size leaves is a prefix of a tree of new_size leaves,
that is, that the log only ever grew. Proof generation walks the tree from the top, iteratively;
verification never needs the leaves, only the hashes in the proof.
"""

from __future__ import annotations

from collections.abc import Sequence

from matchgate.errors import InputError
from matchgate.transparency.errors import VerificationError
from matchgate.transparency.merkle import EMPTY_ROOT, HASH_SIZE, node_hash, subtree_root


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_tree_size(leaf_hashes: Sequence[bytes], tree_size: int) -> None:
    if not 0 <= tree_size <= len(leaf_hashes):
        raise InputError(f"tree size {tree_size} is outside the log, which holds "
                         f"{len(leaf_hashes)} leaves")


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree over the first tree_size leaf hashes."""
    _check_tree_size(leaf_hashes, tree_size)
    if not 0 <= index < tree_size:
        raise InputError(f"leaf index {index} is outside a tree of {tree_size} leaves")
    path: list[bytes] = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            path.append(subtree_root(leaf_hashes, mid, hi))
            hi = mid
        else:
            path.append(subtree_root(leaf_hashes, lo, mid))
            lo = mid
    path.reverse()
    return path


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of old_size leaves is a prefix of the tree of new_size leaves."""
    _check_tree_size(leaf_hashes, new_size)
    if not 0 <= old_size <= new_size:
        raise InputError(f"old tree size {old_size} is not between 0 and new size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    lo, hi, m, old_is_whole_subtree = 0, new_size, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(subtree_root(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree_root(leaf_hashes, lo, lo + k))
            lo, m, old_is_whole_subtree = lo + k, m - k, False
    if not old_is_whole_subtree:
        proof.append(subtree_root(leaf_hashes, lo, hi))
    proof.reverse()
    return proof


def _check_hashes(proof: Sequence[bytes], **named: bytes) -> None:
    for name, value in named.items():
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise VerificationError(f"{name} is not a {HASH_SIZE}-byte hash: {value!r:.80}")
    for i, h in enumerate(proof):
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise VerificationError(f"proof element {i} is not a {HASH_SIZE}-byte hash: {h!r:.80}")


def _shift_while_right_child(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until fn's lowest bit is set or fn is 0 (we were a left child)."""
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def _strip_low_set_bits(fn: int, sn: int) -> tuple[int, int]:
    """RFC 9162 2.1.4.2 step 4: right-shift both while fn's lowest bit is set."""
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes],
                     root: bytes) -> None:
    """Check that leaf_hash sits at index in the tree of tree_size leaves whose root is root."""
    where = f"leaf {index} of a tree of {tree_size} leaves"
    _check_hashes(proof, leaf_hash=leaf_hash, root=root)
    if not 0 <= index < tree_size:
        raise VerificationError(f"inclusion proof for {where}: the index is outside the tree")
    fn, sn, r = index, tree_size - 1, leaf_hash
    for i, p in enumerate(proof):
        if sn == 0:
            raise VerificationError(f"inclusion proof for {where} is too long: {len(proof)} "
                                    f"hashes, no more than {i} expected")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_while_right_child(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError(f"inclusion proof for {where} is too short: {len(proof)} hashes")
    if r != root:
        raise VerificationError(f"inclusion proof for {where} does not lead to the expected root:"
                                f" computed {r.hex()}, expected {root.hex()}")


def _trivial_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                         proof: Sequence[bytes]) -> None:
    """The cases with an empty proof: an empty old tree, or two trees of the same size."""
    what = f"consistency of {old_size} with {new_size} leaves"
    if proof:
        raise VerificationError(f"{what}: the proof must be empty, got {len(proof)} hashes")
    if old_size == 0 and old_root != EMPTY_ROOT:
        raise VerificationError(f"{what}: the old root {old_root.hex()} is not the empty root")
    if old_size == new_size and old_root != new_root:
        raise VerificationError(f"{what}: two trees of the same size have different roots "
                                f"{old_root.hex()} and {new_root.hex()}")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Check that the tree of old_size leaves with old_root is a prefix of the one with new_root."""
    what = f"consistency of {old_size} with {new_size} leaves"
    _check_hashes(proof, old_root=old_root, new_root=new_root)
    if not 0 <= old_size <= new_size:
        raise VerificationError(f"{what}: the old size is not between 0 and the new size")
    if old_size in (0, new_size):
        _trivial_consistency(old_size, new_size, old_root, new_root, proof)
        return
    if not proof:
        raise VerificationError(f"{what}: the proof is empty")
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = _strip_low_set_bits(old_size - 1, new_size - 1)
    fr = fi = path[0]
    for i, c in enumerate(path[1:], start=1):
        if sn == 0:
            raise VerificationError(f"{what}: the proof is too long, {len(proof)} hashes where "
                                    f"{i - len(path) + len(proof)} were expected")
        if fn & 1 or fn == sn:
            fr, fi = node_hash(c, fr), node_hash(c, fi)
            fn, sn = _shift_while_right_child(fn, sn)
        else:
            fi = node_hash(fi, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError(f"{what}: the proof is too short, {len(proof)} hashes")
    if fr != old_root:
        raise VerificationError(f"{what}: the proof does not lead to the old root: computed "
                                f"{fr.hex()}, expected {old_root.hex()}")
    if fi != new_root:
        raise VerificationError(f"{what}: the proof does not lead to the new root: computed "
                                f"{fi.hex()}, expected {new_root.hex()}")

from __future__ import annotations

import base64
import hashlib
import re
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from matchgate.errors import AuditChainBroken, InputError, NotFound
from matchgate.transparency import (
    EMPTY_ROOT,
    Checkpoint,
    CompactRange,
    VerificationError,
    consistency_proof,
    generate_key,
    inclusion_proof,
    key_id,
    leaf_hash,
    load_private_key,
    load_public_key,
    node_hash,
    open_note,
    public_key_path,
    root,
    sign_checkpoint,
    sign_note,
    subtree_root,
    verify_checkpoint,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 33
ORIGIN = "matchgate.example/audit"


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 MTH, written as recursively as the RFC states it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    left, right = reference_root(leaves[:k]), reference_root(leaves[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def entries(n: int, salt: bytes = b"") -> list[bytes]:
    return [salt + i.to_bytes(4, "big") for i in range(n)]


def hashes(data: list[bytes]) -> list[bytes]:
    return [leaf_hash(d) for d in data]


LEAVES = hashes(entries(MAX_SIZE))
ROOTS = [root(LEAVES[:n]) for n in range(MAX_SIZE + 1)]


def flip(h: bytes, at: int = 0) -> bytes:
    return h[:at] + bytes([h[at] ^ 1]) + h[at + 1:]


# --- tree hashing -------------------------------------------------------------------------------

def test_roots_match_the_recursive_definition_for_0_to_20_leaves() -> None:
    for n in range(21):
        data = entries(n)
        assert root(hashes(data)) == reference_root(data), n


def test_empty_tree_and_domain_separation() -> None:
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert a == hashlib.sha256(b"\x00a").digest()
    # a leaf whose bytes are two hashes side by side is not the node over those hashes
    assert root([leaf_hash(a + b)]) != root([a, b]) == node_hash(a, b)


def test_certificate_transparency_known_roots() -> None:
    # RFC 6962 test vectors of the certificate-transparency reference implementations
    data = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
            bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
    expected = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
    assert [root(hashes(data[:n])).hex() for n in range(1, 9)] == expected


def test_compact_range_root_after_every_append_and_resumed_from_state() -> None:
    data = entries(40)
    cr = CompactRange()
    for n, h in enumerate(hashes(data), start=1):
        cr.append(h)
        assert (cr.size, cr.root()) == (n, reference_root(data[:n]))
        assert len(cr.hashes) == bin(n).count("1")
    resumed = CompactRange.from_state(cr.size, cr.hashes)
    resumed.append(leaf_hash(b"next"))
    assert resumed.root() == reference_root([*data, b"next"])


@pytest.mark.parametrize(("size", "hashes_given"), [(3, 1), (4, 2), (-1, 0)])
def test_compact_range_refuses_an_inconsistent_state(size: int, hashes_given: int) -> None:
    with pytest.raises(ValueError, match="subtree"):
        CompactRange.from_state(size, [leaf_hash(b"x")] * hashes_given)


def test_non_hash_leaves_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        root([b"too short"])


@pytest.mark.parametrize("start", [0, 1, 4095])
def test_extend_across_block_boundaries_matches_appending_one_by_one(start: int) -> None:
    data = hashes(entries(start + 9000))
    one_by_one = CompactRange()
    for h in data:
        one_by_one.append(h)
    in_bulk = CompactRange()
    in_bulk.extend(data[:start])
    in_bulk.extend(data[start:])
    assert in_bulk.hashes == one_by_one.hashes and in_bulk.root() == one_by_one.root()


def test_subtree_root_is_the_root_of_the_slice() -> None:
    assert subtree_root(LEAVES, 5, 17) == root(LEAVES[5:17])
    assert subtree_root(LEAVES, 7, 7) == EMPTY_ROOT


# --- inclusion proofs ---------------------------------------------------------------------------

def test_inclusion_proofs_verify_for_every_index_of_trees_of_1_to_33() -> None:
    for n in range(1, MAX_SIZE + 1):
        for i in range(n):
            verify_inclusion(LEAVES[i], i, n, inclusion_proof(LEAVES, i, n), ROOTS[n])


def test_inclusion_proof_of_a_prefix_of_a_longer_log() -> None:
    proof = inclusion_proof(LEAVES, 3, 6)  # the log holds 33 leaves; prove against its first 6
    verify_inclusion(LEAVES[3], 3, 6, proof, ROOTS[6])
    with pytest.raises(VerificationError):
        verify_inclusion(LEAVES[3], 3, MAX_SIZE, proof, ROOTS[MAX_SIZE])


def inclusion_failures(n: int, i: int) -> list[tuple[str, bytes, int, int, list[bytes], bytes]]:
    proof = inclusion_proof(LEAVES, i, n)
    cases = [("wrong leaf", LEAVES[(i + 1) % MAX_SIZE], i, n, proof, ROOTS[n]),
             ("wrong root", LEAVES[i], i, n, proof, ROOTS[n - 1]),
             ("too long", LEAVES[i], i, n, [*proof, ROOTS[0]], ROOTS[n]),
             ("index out of tree", LEAVES[i], n, n, proof, ROOTS[n])]
    cases += [("wrong index", LEAVES[i], j, n, proof, ROOTS[n]) for j in range(n) if j != i]
    cases += [("tampered", LEAVES[i], i, n, [*proof[:k], flip(p, k), *proof[k + 1:]], ROOTS[n])
              for k, p in enumerate(proof)]
    if proof:
        cases.append(("too short", LEAVES[i], i, n, proof[:-1], ROOTS[n]))
    return cases


def test_inclusion_proofs_fail_for_wrong_leaf_index_root_or_tampered_proof() -> None:
    checked = 0
    for n in range(1, MAX_SIZE + 1):
        for i in range(n):
            for what, leaf, index, size, proof, expected_root in inclusion_failures(n, i):
                with pytest.raises(VerificationError):
                    verify_inclusion(leaf, index, size, proof, expected_root)
                    pytest.fail(f"{what} verified: leaf {i} of {n}")
                checked += 1
    assert checked > 10_000


def test_inclusion_failure_says_what_went_wrong() -> None:
    proof = inclusion_proof(LEAVES, 2, 7)
    with pytest.raises(VerificationError, match=r"leaf 2 of a tree of 7 leaves .* computed"):
        verify_inclusion(LEAVES[3], 2, 7, proof, ROOTS[7])
    with pytest.raises(VerificationError, match="too short"):
        verify_inclusion(LEAVES[2], 2, 7, proof[:1], ROOTS[7])
    with pytest.raises(VerificationError, match="proof element 1 is not a 32-byte hash"):
        verify_inclusion(LEAVES[2], 2, 7, [proof[0], b"short", proof[2]], ROOTS[7])


def test_inclusion_failure_is_an_audit_error_with_an_exit_code() -> None:
    with pytest.raises(AuditChainBroken) as info:
        verify_inclusion(LEAVES[0], 0, 1, [], ROOTS[2])
    assert info.value.exit_code == 4 and info.value.code == "transparency_verification_failed"


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (0, MAX_SIZE + 1)])
def test_inclusion_proof_requests_outside_the_log_are_input_errors(index: int, size: int) -> None:
    with pytest.raises(InputError, match="outside"):
        inclusion_proof(LEAVES, index, size)


# --- consistency proofs -------------------------------------------------------------------------

def test_consistency_proofs_verify_for_every_pair_up_to_33() -> None:
    for n in range(1, MAX_SIZE + 1):
        for m in range(1, n + 1):
            verify_consistency(m, n, ROOTS[m], ROOTS[n], consistency_proof(LEAVES, m, n))


def test_consistency_with_an_empty_or_equal_tree() -> None:
    assert consistency_proof(LEAVES, 0, 9) == [] == consistency_proof(LEAVES, 9, 9)
    verify_consistency(0, 9, EMPTY_ROOT, ROOTS[9], [])
    verify_consistency(9, 9, ROOTS[9], ROOTS[9], [])
    with pytest.raises(VerificationError, match="same size have different roots"):
        verify_consistency(9, 9, ROOTS[9], ROOTS[8], [])
    with pytest.raises(VerificationError, match="not the empty root"):
        verify_consistency(0, 9, ROOTS[1], ROOTS[9], [])
    with pytest.raises(VerificationError, match="must be empty"):
        verify_consistency(9, 9, ROOTS[9], ROOTS[9], [ROOTS[1]])


def test_consistency_fails_when_any_leaf_of_the_old_tree_was_altered() -> None:
    for n in range(2, MAX_SIZE + 1):
        for m in range(1, n):
            proof = consistency_proof(LEAVES, m, n)
            for changed in range(m):
                rewritten = [*LEAVES[:changed], leaf_hash(b"rewritten"), *LEAVES[changed + 1:m]]
                with pytest.raises(VerificationError, match=r"does not lead to the (old|new) root"):
                    verify_consistency(m, n, root(rewritten), ROOTS[n], proof)


def test_consistency_fails_for_a_history_rewritten_in_the_new_tree() -> None:
    for n in range(2, MAX_SIZE + 1):
        for m in range(1, n):
            forked = [*LEAVES[:m - 1], leaf_hash(b"forked"), *LEAVES[m:n]]
            proof = consistency_proof(forked, m, n)
            with pytest.raises(VerificationError):
                verify_consistency(m, n, ROOTS[m], root(forked), proof)


def test_consistency_fails_for_a_tampered_proof_or_wrong_sizes() -> None:
    for n in range(2, MAX_SIZE + 1):
        for m in range(1, n):
            proof = consistency_proof(LEAVES, m, n)
            bad = [[*proof[:k], flip(p, 31), *proof[k + 1:]] for k, p in enumerate(proof)]
            bad += [proof[:-1], [*proof, ROOTS[1]], []]
            for tampered in bad:
                with pytest.raises(VerificationError):
                    verify_consistency(m, n, ROOTS[m], ROOTS[n], tampered)
            with pytest.raises(VerificationError):
                verify_consistency(m, n, ROOTS[m], ROOTS[n - 1], proof)
            with pytest.raises(VerificationError, match="not between"):
                verify_consistency(n, m, ROOTS[n], ROOTS[m], proof)


# --- property tests -----------------------------------------------------------------------------

leaf_lists = st.lists(st.binary(max_size=40), min_size=1, max_size=70)


@given(leaf_lists)
def test_root_matches_reference_for_random_leaves(data: list[bytes]) -> None:
    assert root(hashes(data)) == reference_root(data)


@given(leaf_lists, st.data())
def test_inclusion_verifies_and_only_for_its_own_leaf(data: list[bytes], draw: st.DataObject
                                                      ) -> None:
    n = draw.draw(st.integers(1, len(data)), label="tree size")
    i = draw.draw(st.integers(0, n - 1), label="index")
    leaves, other = hashes(data), draw.draw(st.binary(max_size=40), label="other leaf")
    proof = inclusion_proof(leaves, i, n)
    verify_inclusion(leaves[i], i, n, proof, reference_root(data[:n]))
    if other != data[i]:
        with pytest.raises(VerificationError):
            verify_inclusion(leaf_hash(other), i, n, proof, reference_root(data[:n]))


@given(leaf_lists, st.data())
def test_consistency_verifies_and_catches_a_changed_old_leaf(data: list[bytes],
                                                              draw: st.DataObject) -> None:
    n = draw.draw(st.integers(1, len(data)), label="new size")
    m = draw.draw(st.integers(1, n), label="old size")
    old, new = reference_root(data[:m]), reference_root(data[:n])
    proof = consistency_proof(hashes(data), m, n)
    verify_consistency(m, n, old, new, proof)
    j = draw.draw(st.integers(0, m - 1), label="changed leaf")
    altered = [*data[:j], data[j] + b"!", *data[j + 1:m]]
    with pytest.raises(VerificationError):
        verify_consistency(m, n, reference_root(altered), new, proof)


# --- signed notes and checkpoints ---------------------------------------------------------------

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
STAMP = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def test_go_signed_note_vector_verifies() -> None:
    # the example of golang.org/x/mod/sumdb/note: an independent implementation of the format
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    name, kid, encoded = vkey.split("+")
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded)[1:])
    text = ("If you think cryptography is the answer to your problem,\n"
            "then you don't know what your problem is.\n")
    note = (text + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgY"
            "N1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")
    assert key_id(name, public).hex() == kid
    assert open_note(note, name, public) == text
    with pytest.raises(VerificationError, match="does not verify"):
        open_note(note.replace("don't", "do"), name, public)


def test_checkpoint_text_is_the_c2sp_body() -> None:
    cp = Checkpoint(ORIGIN, 33, ROOTS[33])
    assert cp.to_text() == f"{ORIGIN}\n33\n{base64.b64encode(ROOTS[33]).decode()}\n"
    signed = sign_checkpoint(cp, KEY)
    body, blank, signature_line = signed.partition("\n\n")
    assert body + "\n" == cp.to_text() and blank
    dash, name, sig = signature_line.rstrip("\n").split(" ")
    raw = base64.b64decode(sig)
    assert (dash, name, len(raw)) == ("\u2014", ORIGIN, 4 + 64)
    assert raw[:4] == key_id(ORIGIN, KEY.public_key())


@pytest.mark.parametrize("cp", [Checkpoint(ORIGIN, 0, EMPTY_ROOT),
                                Checkpoint(ORIGIN, 33, ROOTS[33], STAMP),
                                Checkpoint(ORIGIN, 7, ROOTS[7], STAMP, ("Region: east",))])
def test_checkpoint_round_trips_and_verifies(cp: Checkpoint) -> None:
    assert Checkpoint.from_text(cp.to_text()) == cp
    assert verify_checkpoint(sign_checkpoint(cp, KEY), KEY.public_key(), origin=ORIGIN) == cp


def test_timestamp_is_stored_in_utc() -> None:
    east = STAMP.astimezone(timezone(timedelta(hours=5)))
    cp = Checkpoint(ORIGIN, 1, ROOTS[1], east)
    assert "Timestamp: 2025-03-04T05:06:07.890123Z\n" in cp.to_text()
    assert Checkpoint.from_text(cp.to_text()).timestamp == STAMP


def test_checkpoint_signed_by_another_key_fails() -> None:
    signed = sign_checkpoint(Checkpoint(ORIGIN, 5, ROOTS[5]), OTHER_KEY)
    with pytest.raises(VerificationError, match="no signature by"):
        verify_checkpoint(signed, KEY.public_key())


def edits(signed: str) -> list[str]:
    root_b64 = base64.b64encode(ROOTS[5]).decode()
    return [signed.replace("\n5\n", "\n6\n", 1),
            signed.replace(root_b64, base64.b64encode(ROOTS[6]).decode(), 1),
            signed.replace(root_b64, base64.b64encode(flip(ROOTS[5], 31)).decode(), 1),
            signed.replace("Timestamp: 2025", "Timestamp: 2024", 1),
            signed.replace("\n\n", "\nRegion: east\n\n", 1)]


def test_edited_checkpoint_fails() -> None:
    signed = sign_checkpoint(Checkpoint(ORIGIN, 5, ROOTS[5], STAMP), KEY)
    for edited in edits(signed):
        assert edited != signed
        with pytest.raises(VerificationError, match="does not verify"):
            verify_checkpoint(edited, KEY.public_key())


def test_forged_signature_fails() -> None:
    signed = sign_checkpoint(Checkpoint(ORIGIN, 5, ROOTS[5]), KEY)
    body, _, line = signed.partition("\n\n")
    raw = base64.b64decode(line.rstrip("\n").split(" ")[2])
    forged_sig = raw[:4] + OTHER_KEY.sign((body + "\n").encode())
    forged = f"{body}\n\n\u2014 {ORIGIN} {base64.b64encode(forged_sig).decode()}\n"
    with pytest.raises(VerificationError, match="forged"):
        verify_checkpoint(forged, KEY.public_key())


def test_checkpoint_for_another_log_fails() -> None:
    signed = sign_checkpoint(Checkpoint("other.example/log", 5, ROOTS[5]), KEY)
    with pytest.raises(VerificationError, match=re.escape(f"expected {ORIGIN!r}")):
        verify_checkpoint(signed, KEY.public_key(), origin=ORIGIN)


def test_a_cosigned_checkpoint_verifies_with_either_key() -> None:
    cp = Checkpoint(ORIGIN, 5, ROOTS[5])
    signed = sign_checkpoint(cp, KEY)
    cosigned = signed + sign_checkpoint(cp, OTHER_KEY).partition("\n\n")[2]
    assert verify_checkpoint(cosigned, KEY.public_key()) == cp
    assert verify_checkpoint(cosigned, OTHER_KEY.public_key()) == cp


@pytest.mark.parametrize("text", [
    "", "no blank line\n", f"{ORIGIN}\n5\n\n", f"{ORIGIN}\n5\nAAAA\n\n\u2014 x AAAA\n",
    f"{ORIGIN}\n5\nroot\n\nnot a signature line\n", f"{ORIGIN}\n5\nroot\n\n\u2014 a b\n",
])
def test_malformed_signed_notes_fail_cleanly(text: str) -> None:
    with pytest.raises(VerificationError):
        verify_checkpoint(text, KEY.public_key())


@pytest.mark.parametrize("body", [
    f"{ORIGIN}\n5\n", f"{ORIGIN}\n05\nROOT\n", f"{ORIGIN}\n+5\nROOT\n", f"{ORIGIN}\n-1\nROOT\n",
    f"{ORIGIN}\n5\n{base64.b64encode(b'short').decode()}\n", "has space\n5\nROOT\n",
    f"{ORIGIN}\n5\nROOT\n\n", f"{ORIGIN}\n5\nROOT\nTimestamp: yesterday\n",
    f"{ORIGIN}\n5\nROOT\nTimestamp: 2025-01-01T00:00:00\n", f"{ORIGIN}\n5\nROOT",
    f"{ORIGIN}\n5\n{base64.b64encode(ROOTS[5]).decode().rstrip('=')}\n",
])
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    body = body.replace("ROOT", base64.b64encode(ROOTS[5]).decode())
    with pytest.raises(VerificationError, match="checkpoint"):
        Checkpoint.from_text(body)


def test_sign_note_refuses_what_it_could_not_verify() -> None:
    with pytest.raises(ValueError, match="newline"):
        sign_note("no newline", "name", KEY)
    with pytest.raises(ValueError, match="key name"):
        sign_note("text\n", "two words", KEY)
    with pytest.raises(ValueError, match="origin"):
        Checkpoint("a+b", 1, ROOTS[1])


origins = st.from_regex(r"[a-z0-9.\-/]{1,40}", fullmatch=True)
timestamps = st.none() | st.datetimes(timezones=st.just(UTC))


@settings(max_examples=50)
@given(origins, st.integers(0, 2**63), st.binary(min_size=32, max_size=32), timestamps)
def test_signed_checkpoints_round_trip(origin: str, size: int, root_hash: bytes,
                                       stamp: datetime | None) -> None:
    cp = Checkpoint(origin, size, root_hash, stamp)
    signed = sign_checkpoint(cp, KEY)
    assert verify_checkpoint(signed, KEY.public_key(), origin=origin) == cp
    with pytest.raises(VerificationError):
        verify_checkpoint(signed.replace(f"\n{size}\n", f"\n{size + 1}\n", 1), KEY.public_key())


# --- key files ----------------------------------------------------------------------------------

def test_generate_key_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    key = generate_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_path(path) == tmp_path / "log.pub"
    signed = sign_checkpoint(Checkpoint(ORIGIN, 3, ROOTS[3]), load_private_key(path))
    assert verify_checkpoint(signed, load_public_key(tmp_path / "log.pub")).tree_size == 3
    assert verify_checkpoint(signed, key.public_key()).root == ROOTS[3]


def test_generate_key_never_overwrites_a_key(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    generate_key(path)
    before = path.read_bytes()
    with pytest.raises(InputError, match="refusing to overwrite"):
        generate_key(path)
    assert path.read_bytes() == before
    (tmp_path / "new.pub").write_text("someone's public key")
    with pytest.raises(InputError, match=r"new\.pub: already exists"):
        generate_key(tmp_path / "new.key")
    assert not (tmp_path / "new.key").exists()


def test_loading_bad_key_files_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"missing\.key"):
        load_private_key(tmp_path / "missing.key")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(InputError, match=r"garbage\.pem"):
        load_private_key(garbage)
    with pytest.raises(InputError, match=r"garbage\.pem"):
        load_public_key(garbage)
    ec = tmp_path / "ec.pem"
    ec.write_bytes(generate_private_key(SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    with pytest.raises(InputError, match="not an Ed25519 key"):
        load_private_key(ec)

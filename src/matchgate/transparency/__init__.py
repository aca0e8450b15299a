"""The transparency log's cryptographic core: RFC 6962 Merkle trees, inclusion and consistency
proofs, and signed checkpoints in the C2SP signed-note format. Pure, apart from the key files."""

from matchgate.transparency.checkpoint import (
    Checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from matchgate.transparency.errors import VerificationError
from matchgate.transparency.keys import (
    generate_key,
    load_private_key,
    load_public_key,
    public_key_path,
)
from matchgate.transparency.merkle import (
    EMPTY_ROOT,
    CompactRange,
    leaf_hash,
    node_hash,
    root,
    subtree_root,
)
from matchgate.transparency.note import key_id, open_note, sign_note
from matchgate.transparency.proofs import (
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "Checkpoint",
    "CompactRange",
    "VerificationError",
    "consistency_proof",
    "generate_key",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "load_private_key",
    "load_public_key",
    "node_hash",
    "open_note",
    "public_key_path",
    "root",
    "sign_checkpoint",
    "sign_note",
    "subtree_root",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
]

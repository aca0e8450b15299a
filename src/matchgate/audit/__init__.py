"""The audit log: event types, the hash chain, its verifier, and references safe to log."""

from matchgate.audit.canonical import GENESIS_HASH, canonical_record, chain_hash
from matchgate.audit.chain import AuditLog
from matchgate.audit.events import AuditEvent, EventType
from matchgate.audit.redact import SensitiveDetail, check_details, tin_ref
from matchgate.audit.verify import ChainReport, Head, check_chain

__all__ = [
    "GENESIS_HASH",
    "AuditEvent",
    "AuditLog",
    "ChainReport",
    "EventType",
    "Head",
    "SensitiveDetail",
    "canonical_record",
    "chain_hash",
    "check_chain",
    "check_details",
    "tin_ref",
]

"""The one error every verifier in this package raises."""

from __future__ import annotations

from matchgate.errors import AuditChainBroken


class VerificationError(AuditChainBroken):
    """A proof, root or signed checkpoint does not verify; the message says what and where.

    A subclass of AuditChainBroken, so that whatever maps a broken audit chain to an exit code or
    an HTTP status maps this one the same way.
    """

    code = "transparency_verification_failed"

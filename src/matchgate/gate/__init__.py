"""The gate: whether a request is lawful and well formed before anything about it is looked up.

Pure functions over a request's fields, the batch manifest and the agreement:
- check_manifest(manifest, agreement, *, today) -> list[Rejection]   (batch level)
- check_request(fields, manifest, agreement, *, today) -> list[Rejection]   (legal elements,
  then the address gate; the first rejection decides the response)
- check_batch(requests, manifest, agreement, prior_keys, *, official_prior_count=0)
  -> dict[request_id, Rejection]   (volume limits, duplicates)
- dedupe_key(fields) -> str
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from matchgate.agreement import Agreement
from matchgate.gate.address import check_address
from matchgate.gate.basis import check_manifest
from matchgate.gate.batch import check_batch, dedupe_key
from matchgate.gate.legal import check_legal_elements
from matchgate.gate.rejection import Rejection, reject

if TYPE_CHECKING:
    from matchgate.intake.manifest import Manifest


def check_request(fields: Mapping[str, str | None], manifest: Manifest, agreement: Agreement,
                  *, today: date) -> list[Rejection]:
    """Every problem of one request: its legal elements first, then its address. A basis the
    agreement does not allow rejects the request (check_manifest says why in full)."""
    basis = agreement.basis(manifest.legal_basis)
    if basis is None:
        return [reject("legal_basis_not_in_agreement", "legal_basis",
                       f"'{manifest.legal_basis}'")]
    return [*check_legal_elements(fields, basis, today=today),
            *check_address(fields, agreement.address_gate)]


__all__ = ["Rejection", "check_batch", "check_manifest", "check_request", "dedupe_key"]

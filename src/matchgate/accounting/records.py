"""The accounting record of one disclosure, built from what the pipeline knows (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AUTOMATIC_APPROVAL = "matchgate (automatic)"
#: the columns of the accounting report, in order
ACCOUNTING_COLUMNS: tuple[str, ...] = (
    "id", "taxpayer_tin", "disclosed_at", "recipient_agency", "legal_basis",
    "statutory_authority", "purpose", "request_id", "batch_id", "agreement_id",
    "agreement_version", "approved_by", "disclosed_fields", "incident_id",
)


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def disclosure_record(*, tin: str, batch_id: str, request_id: str, recipient_agency: str,
                      legal_basis: str, agreement_id: str, agreement_version: str,
                      request_fields: Mapping[str, Any], disclosed: Mapping[str, Any],
                      approved_by: str = AUTOMATIC_APPROVAL) -> dict[str, Any]:
    """One accounting record (the store sets its id and disclosed_at, the decision's time).

    The statutory authority and the purpose are those the request itself states
    (6103(i)(2)(B)(iii) and (iv)). `disclosed` holds the address fields disclosed, if any (the only
    disclosable information, DISCLOSABLE in matchgate.agreement); without them the response code
    alone was disclosed, which tells that the person is a taxpayer."""
    fields = "last_known_address" if disclosed else "verification_code"
    return {
        "taxpayer_tin": tin, "recipient_agency": recipient_agency, "legal_basis": legal_basis,
        "statutory_authority": _text(request_fields.get("statutory_authority")),
        "purpose": _text(request_fields.get("reason")), "request_id": request_id,
        "batch_id": batch_id, "agreement_id": agreement_id,
        "agreement_version": agreement_version, "approved_by": approved_by,
        "disclosed_fields": fields[:256],
    }

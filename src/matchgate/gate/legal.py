"""The legal elements: what the request's basis requires, present and well formed.

Pure functions of the request's fields, the manifest and the agreement. Each rule returns a
Rejection with a stable reason; `check_request` returns all of a row's problems, the legal
elements before the address.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING

from matchgate.agreement import Agreement, LegalBasis
from matchgate.gate.address import ADDRESS_FIELDS, check_address
from matchgate.gate.placeholders import is_placeholder, is_placeholder_name
from matchgate.gate.rejection import Rejection
from matchgate.gate.tin import is_valid_tin
from matchgate.standardize import standardize_dob, standardize_tin
from matchgate.standardize.text import clean

if TYPE_CHECKING:
    from matchgate.intake import Manifest

Fields = Mapping[str, str | None]

MISSING_REASON = {
    "first_name": "missing_first_name", "last_name": "missing_last_name",
    "tax_periods": "missing_tax_periods", "statutory_authority": "missing_statutory_authority",
    "reason": "missing_reason", "case_number": "missing_case_number",
    "order_date": "missing_order_date",
}
EARLIEST_TAX_YEAR = 1913
_LETTER = re.compile(r"[^\W\d_]")
_VAGUE_REASONS = frozenset({"INVESTIGATION", "ENFORCEMENT", "LAW ENFORCEMENT", "SEE FILE",
                            "SEE ATTACHED", "PER REQUEST", "REMOVAL", "OFFICIAL BUSINESS",
                            "OTHER", "VARIOUS", "CASE", "AS NEEDED", "REQUESTED"})


def _norm_authority(text: str) -> str:
    return re.sub(r"[^A-Z0-9()]", "", text.upper().replace("USC", "U.S.C."))


def check_names(fields: Fields) -> list[Rejection]:
    out = []
    for name in ("first_name", "last_name"):
        value = fields.get(name)
        if value and (not _LETTER.search(value) or is_placeholder_name(value)):
            out.append(Rejection("invalid_name", name,
                                 f"'{value}' is not a plausible personal name"))
    return out


def check_tax_periods(value: str, today: date) -> Rejection | None:
    parts = [p.strip() for p in re.split(r"[;,\s]+", value) if p.strip()]
    bad = [p for p in parts
           if not (p.isdigit() and len(p) == 4 and EARLIEST_TAX_YEAR <= int(p) <= today.year)]
    if not parts or bad:
        return Rejection("invalid_tax_periods", "tax_periods",
                         f"'{value}' is not a list of tax years between {EARLIEST_TAX_YEAR} "
                         f"and {today.year}")
    return None


def check_reason(value: str) -> Rejection | None:
    text = clean(value) or ""
    if is_placeholder(value) or text in _VAGUE_REASONS or len(text.split()) < 4:
        return Rejection("reason_too_vague", "reason",
                         "the reason must state specifically why the information is relevant")
    return None


def check_order_date(value: str, today: date, field: str = "order_date") -> Rejection | None:
    try:
        when = date.fromisoformat(value)
    except ValueError:
        return Rejection("invalid_order_date", field,
                         f"'{value}' is not a date (use YYYY-MM-DD)")
    if when > today or when.year < 1900:
        return Rejection("invalid_order_date", field, f"{when} is not a past date")
    return None


def check_dob(value: str, today: date) -> Rejection | None:
    iso = standardize_dob(value, reference_year=today.year)
    if iso is None or date.fromisoformat(iso) > today or today.year - int(iso[:4]) > 125:
        return Rejection("invalid_date_of_birth", "date_of_birth",
                         f"'{value}' is not a valid date of birth")
    return None


def check_tin(value: str) -> Rejection | None:
    tin = standardize_tin(value)
    if tin is None or not is_valid_tin(tin):
        return Rejection("invalid_tin", "tin", "not a valid SSN or ITIN")
    return None


def _element_checks(basis: LegalBasis, today: date
                    ) -> dict[str, Callable[[str], Rejection | None]]:
    def authority(value: str) -> Rejection | None:
        allowed = {_norm_authority(a) for a in basis.allowed_statutory_authorities}
        if allowed and _norm_authority(value) not in allowed:
            return Rejection("statutory_authority_not_allowed", "statutory_authority",
                             f"'{value}' is not among the authorities the agreement allows: "
                             + "; ".join(basis.allowed_statutory_authorities))
        return None

    def case_number(value: str) -> Rejection | None:
        pattern = basis.case_number_pattern
        if pattern and not re.fullmatch(pattern, value.strip().upper()):
            return Rejection("invalid_case_number", "case_number",
                             f"'{value}' does not have the form the agreement requires")
        return None

    return {
        "tax_periods": lambda v: check_tax_periods(v, today),
        "statutory_authority": authority,
        "reason": check_reason,
        "case_number": case_number,
        "order_date": lambda v: check_order_date(v, today),
        "date_of_birth": lambda v: check_dob(v, today),
        "tin": check_tin,
    }


def check_request(fields: Fields, manifest: Manifest, agreement: Agreement, *,
                  today: date) -> list[Rejection]:
    """Every problem of one request, in the order that decides its code."""
    basis = agreement.basis(manifest.legal_basis)
    if basis is None:
        return [Rejection("legal_basis_not_in_agreement", "legal_basis",
                          f"'{manifest.legal_basis}' is not a basis of this agreement")]
    out: list[Rejection] = []
    for name in basis.required_request_fields:
        if name in MISSING_REASON and not fields.get(name):
            out.append(Rejection(MISSING_REASON[name], name, f"'{name}' is required"))
    out += check_names(fields)
    for name, check in _element_checks(basis, today).items():
        value = fields.get(name)
        if value:
            problem = check(value)
            if problem:
                out.append(problem)
    if any(f in basis.required_request_fields for f in ADDRESS_FIELDS):
        problem = check_address(fields, allow_po_box=agreement.address_gate.allow_po_box)
        if problem:
            out.append(problem)
    return out


def check_manifest(manifest: Manifest, agreement: Agreement, *, today: date
                   ) -> list[Rejection]:
    """Problems of the batch as a whole: each rejects every request of the batch."""
    out = []
    if manifest.agreement_id != agreement.agreement_id:
        out.append(Rejection("agreement_mismatch", "agreement_id",
                             f"the manifest names '{manifest.agreement_id}', the agreement in "
                             f"force is '{agreement.agreement_id}'"))
    basis = agreement.basis(manifest.legal_basis)
    if basis is None:
        out.append(Rejection("legal_basis_not_in_agreement", "legal_basis",
                             f"'{manifest.legal_basis}' is not a basis of this agreement"))
    if not agreement.in_force(today):
        out.append(Rejection("agreement_not_in_force", "agreement_id",
                             f"the agreement is in force from {agreement.effective_from} to "
                             f"{agreement.effective_to}"))
    if agreement.safeguards.status != "current":
        out.append(Rejection("safeguards_lapsed", None,
                             f"the recipient's safeguard status is "
                             f"'{agreement.safeguards.status}'"))
    required = set(basis.required_manifest_fields if basis else ())
    if agreement.certification_required:
        required.add("certification")
    if "certification" in required and not (manifest.certification or "").strip():
        out.append(Rejection("certification_missing", "certification",
                             "the batch carries no certification"))
    for name in sorted(required - {"certification"}):
        if getattr(manifest, name, None) in (None, ""):
            out.append(Rejection("manifest_incomplete", name,
                                 f"the manifest lacks '{name}', which the legal basis requires"))
    if manifest.order_date is not None:
        problem = check_order_date(manifest.order_date.isoformat(), today)
        if problem:
            out.append(problem)
    return out

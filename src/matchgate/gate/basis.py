"""Batch-level checks of the manifest against the agreement: the right agreement, in force, with
current safeguards, under a basis it allows, with the certification and court-order elements the
basis requires. Pure functions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from matchgate.agreement import Agreement, SafeguardStatus
from matchgate.gate.rejection import Rejection, reject
from matchgate.gate.text import informative, is_placeholder, tokens
from matchgate.gate.values import past_date_problem

if TYPE_CHECKING:
    from matchgate.intake.manifest import Manifest

MIN_CERTIFICATION_WORDS = 8


def _agreement_problems(manifest: Manifest, agreement: Agreement, today: date
                        ) -> list[Rejection]:
    out = []
    if manifest.agreement_id != agreement.agreement_id:
        out.append(reject("manifest_agreement_mismatch", "agreement_id",
                          f"'{manifest.agreement_id}', not '{agreement.agreement_id}'"))
    if not agreement.in_force(today):
        out.append(reject("agreement_not_in_force", None,
                          f"in force {agreement.effective_from} to {agreement.effective_to}, "
                          f"today is {today}"))
    s = agreement.safeguards
    if s.status is not SafeguardStatus.CURRENT:
        out.append(reject("safeguards_lapsed", None, f"status is {s.status.value}"))
    elif s.reviewed_on + timedelta(days=s.max_review_age_days) < today:
        out.append(reject("safeguards_lapsed", None,
                          f"last reviewed {s.reviewed_on}, more than "
                          f"{s.max_review_age_days} days ago"))
    return out


def certification_problem(text: str | None) -> str | None:
    if text is None:
        return "no certification"
    if is_placeholder(text) or len(informative(tokens(text))) < MIN_CERTIFICATION_WORDS:
        return f"'{text}' is not a certification of the authorised use"
    return None


def check_manifest(manifest: Manifest, agreement: Agreement, *, today: date
                   ) -> list[Rejection]:
    """Every batch-level problem; any one of them rejects every request of the batch."""
    out = _agreement_problems(manifest, agreement, today)
    basis = agreement.basis(manifest.legal_basis)
    if basis is None:
        allowed = ", ".join(b.id for b in agreement.legal_bases)
        out.append(reject("legal_basis_not_in_agreement", "legal_basis",
                          f"'{manifest.legal_basis}' (allowed: {allowed})"))
        return out
    if basis.certification_required and (
            problem := certification_problem(manifest.value("certification"))):
        out.append(reject("certification_missing", "certification", problem))
    for field in basis.required_manifest_fields:
        if field == "certification":
            continue
        if manifest.value(field) is None:
            out.append(reject("manifest_incomplete", field, f"'{field}' is missing"))
    if manifest.order_date is not None and (
            problem := past_date_problem(manifest.order_date.isoformat(), today=today)):
        out.append(reject("manifest_incomplete", "order_date", problem))
    return out

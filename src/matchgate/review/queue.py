"""The review queue as a service: list, claim, view, decide; every step audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from matchgate.accounting.records import disclosure_record
from matchgate.agreement import Agreement
from matchgate.audit import AuditEvent, AuditLog, EventType
from matchgate.errors import InputError
from matchgate.respond import disclosable_under
from matchgate.review.lookup import address_is_last_known, taxpayer, taxpayers
from matchgate.review.outcome import OUTCOMES, released_answer
from matchgate.review.sidebyside import candidate_views, considered, field_pairs
from matchgate.store import Store, StoreNotFound
from matchgate.store import reviews as repo
from matchgate.users import User


@dataclass
class ReviewQueue:
    store: Store
    master_path: Path
    claim_ttl: timedelta

    def _event(self, user: User, event_type: str, *, batch_id: str, request_id: str,
               outcome: str = "success", details: dict[str, Any] | None = None) -> AuditEvent:
        return AuditEvent(event_type=event_type, actor=user.name, role=user.role, origin="api",
                          outcome=outcome, batch_id=batch_id, request_id=request_id,
                          details=details or {})

    def pending(self, *, batch_id: str | None = None, reason: str | None = None
                ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        return repo.pending_items(self.store, batch_id=batch_id, reason=reason)

    def claim(self, user: User, *, batch_id: str, request_id: str) -> datetime:
        until = repo.claim(self.store, batch_id=batch_id, request_id=request_id,
                           reviewer=user.name, ttl=self.claim_ttl)
        AuditLog(self.store).append([self._event(
            user, EventType.REVIEW_CLAIMED, batch_id=batch_id, request_id=request_id,
            details={"until": until.isoformat()})])
        return until

    def view(self, *, batch_id: str, request_id: str) -> dict[str, Any]:
        """The request beside each candidate considered (best first), field by field, with the
        model's evidence; `fields` and `evidence` repeat the best candidate's."""
        item = repo.review_item(self.store, batch_id=batch_id, request_id=request_id)
        request = self._request(batch_id, request_id)
        listed = considered(item["matched_tin"], item["match_probability"],
                            item.get("evidence") or {})
        records = taxpayers(self.master_path, [str(c["tin"]) for c in listed])
        candidates = candidate_views(request, listed, records)
        best = candidates[0] if candidates else None
        return {
            "batch_id": batch_id, "request_id": request_id, "reason": item["reason"],
            "match_probability": item["match_probability"],
            "runner_up_probability": item["runner_up_probability"],
            "claimed_by": item["claimed_by"], "claim_until": item["claim_until"],
            "outcome": item["outcome"], "review_reason": item["review_reason"],
            "reviewer": item["reviewer"],
            "candidate_tin_last4": best["tin_last4"] if best else None,
            "fields": best["fields"] if best else field_pairs(request, None),
            "evidence": best["evidence"] if best else [],
            "candidates": candidates,
        }

    def _request(self, batch_id: str, request_id: str) -> dict[str, Any]:
        payload = self.store.request_payload(batch_id=batch_id, request_id=request_id)
        if payload is not None:
            return payload
        raise StoreNotFound(f"request {request_id!r} of batch {batch_id!r} does not exist")

    def decide(self, user: User, *, batch_id: str, request_id: str, outcome: str,
               reason: str) -> dict[str, Any]:
        """Approve or deny (with a reason); returns the answer released for the request."""
        if outcome not in OUTCOMES:
            raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}")
        if not reason.strip():
            raise InputError("a review decision needs a reason")
        item = repo.review_item(self.store, batch_id=batch_id, request_id=request_id)
        agreement = self._agreement(batch_id)
        candidate = taxpayer(self.master_path, item["matched_tin"]) \
            if outcome == "approved" and item["matched_tin"] else None
        if outcome == "approved" and candidate is None:
            raise InputError("there is no candidate to approve; deny the request instead")
        request = self._request(batch_id, request_id)
        released = released_answer(
            outcome, address_is_last_known=bool(candidate) and address_is_last_known(
                request, candidate or {}),
            last_address=_last_address(candidate),
            disclosable=disclosable_under(agreement.disclosure))
        accounting = None
        if released["code"] != "DENIED":
            batch = self.store.get_batch(batch_id=batch_id) or {}
            accounting = disclosure_record(
                tin=item["matched_tin"], batch_id=batch_id, request_id=request_id,
                recipient_agency=agreement.requesting_agency,
                legal_basis=str((batch.get("manifest") or {}).get("legal_basis", "")),
                agreement_id=agreement.agreement_id, agreement_version=agreement.version,
                request_fields=request, disclosed=released["disclosed"], approved_by=user.name)
        log = AuditLog(self.store)
        events = self._decision_events(user, batch_id, request_id, item, released, agreement,
                                       log)
        repo.decide(self.store, batch_id=batch_id, request_id=request_id, reviewer=user.name,
                    outcome=outcome, reason=reason, released=released, accounting=accounting,
                    also=lambda conn: log.append_in(conn, events))
        return released

    def _decision_events(self, user: User, batch_id: str, request_id: str,
                         item: dict[str, Any], released: dict[str, Any], agreement: Agreement,
                         log: AuditLog) -> list[AuditEvent]:
        """review.decided and, for an approval, its disclosure: written in the transaction of
        the decision itself, so neither exists without the other."""
        events = [self._event(user, EventType.REVIEW_DECIDED, batch_id=batch_id,
                              request_id=request_id,
                              details={"code": released["code"], "reason": released["reason"]})]
        if released["code"] != "DENIED":
            events.append(self._event(user, EventType.DISCLOSURE, batch_id=batch_id,
                                      request_id=request_id, details={
                                          "taxpayer": log.tin_ref(item["matched_tin"]),
                                          "recipient": agreement.requesting_agency,
                                          "fields": sorted(released["disclosed"])
                                          or ["verification_code"]}))
        return events

    def _agreement(self, batch_id: str) -> Agreement:
        batch = self.store.get_batch(batch_id=batch_id)
        if batch is None:
            raise StoreNotFound(f"batch {batch_id!r} does not exist")
        text = self.store.agreement_text(agreement_id=batch["agreement_id"],
                                         version=batch["agreement_version"])
        if text is None:
            raise StoreNotFound(f"agreement {batch['agreement_id']!r} version "
                                f"{batch['agreement_version']} is not in the store")
        return Agreement.from_toml_text(text, source=f"agreement {batch['agreement_id']}")


def _last_address(candidate: dict[str, Any] | None) -> dict[str, Any] | None:
    if candidate is None:
        return None
    return {f: candidate.get(f"last_{f}") for f in ("street", "unit", "city", "state", "zip")}

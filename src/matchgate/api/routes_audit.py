"""The agreement in force and, for auditors, the audit log and its verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from matchgate.api.access import CurrentUser, ServicesDep
from matchgate.api.batch_ops import agreement_for
from matchgate.api.errors import errors
from matchgate.api.schemas import AuditEventView, ChainStatus
from matchgate.audit import AuditLog

router = APIRouter(prefix="/api/v1")


@router.get("/agreements/{agreement_id}", responses=errors(404))
def agreement_in_force(agreement_id: str, user: CurrentUser,
                       services: ServicesDep) -> dict[str, str]:
    """The agreement in force, as lines of description (a requester sees its own only)."""
    agreement = agreement_for(services, user, agreement_id)
    return dict(agreement.describe())


@router.get("/audit/events", response_model=list[AuditEventView], responses=errors())
def audit_events(user: CurrentUser, services: ServicesDep,
                 after_seq: Annotated[int, Query(ge=0, le=2**62)] = 0,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 event_type: Annotated[str | None, Query(max_length=128)] = None
                 ) -> list[AuditEventView]:
    """Audit events after a sequence number, oldest first, optionally of one type."""
    rows = AuditLog(services.store).read(after_seq=after_seq, limit=limit)
    return [AuditEventView(**r) for r in rows
            if event_type is None or r["event_type"] == event_type]


@router.get("/audit/verify", response_model=ChainStatus, responses=errors())
def audit_verify(user: CurrentUser, services: ServicesDep) -> ChainStatus:
    report = AuditLog(services.store).verify()
    return ChainStatus(ok=report.ok, events=report.events, message=report.summary())

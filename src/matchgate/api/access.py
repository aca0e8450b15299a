"""Who may call what: one table (route name -> roles) and one dependency that enforces it.

Every API route takes `user: CurrentUser`; the dependency authenticates the bearer token, counts
the call against the token's and the agency's rate limits (429 beyond them), and checks the
route's name against ACCESS. A route missing from the table is refused to everyone.

The answers are chosen so that a caller learns nothing it may not know:
- 401: no token, a token of the wrong scheme or shape, an unknown or revoked token (one answer
  for all of these), or an expired one (code token_expired);
- 403: a valid token whose role may not call the route (the role is public to its holder);
- 404: a batch that does not exist and another agency's batch, with the same body. A requester's
  404 on a batch is recorded in the audit log (access.denied), so that probing shows up there.
Which batches a requester may see (its own agency's) is decided in one place: `visible_job`.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from matchgate.api.errors import Forbidden
from matchgate.api.ratelimit import RateLimiter
from matchgate.audit import AuditEvent, AuditLog, EventType
from matchgate.errors import NotFound
from matchgate.service import Services
from matchgate.settings import Settings
from matchgate.store import jobs
from matchgate.users import Unauthenticated, User, authenticate

REQUESTER, REVIEWER, OFFICER, AUDITOR = "requester", "reviewer", "disclosure_officer", "auditor"
ALL = frozenset({REQUESTER, REVIEWER, OFFICER, AUDITOR})
STAFF = frozenset({REVIEWER, OFFICER})

ACCESS: dict[str, frozenset[str]] = {
    "whoami": ALL,
    "submit_batch": frozenset({REQUESTER}),
    "verify_one": frozenset({REQUESTER}),
    "list_batches": ALL,
    "batch_status": ALL,
    "batch_responses": frozenset({REQUESTER, OFFICER, AUDITOR}),
    "batch_summary": frozenset({OFFICER, AUDITOR}),
    "release_batch": frozenset({OFFICER}),
    "review_queue": frozenset({REVIEWER, OFFICER, AUDITOR}),
    "review_item": frozenset({REVIEWER, OFFICER, AUDITOR}),
    "claim_item": STAFF,
    "decide_item": STAFF,
    "agreement_in_force": ALL,
    "audit_events": frozenset({AUDITOR}),
    "audit_verify": frozenset({AUDITOR}),
    # the web pages (matchgate.web)
    "web_reviews": frozenset({REVIEWER, OFFICER, AUDITOR}),
    "web_review": frozenset({REVIEWER, OFFICER, AUDITOR}),
    "web_claim": STAFF,
    "web_decide": STAFF,
    "web_batches": ALL,
    "web_agreement": ALL,
    "web_audit": frozenset({AUDITOR}),
}

bearer = HTTPBearer(auto_error=False, description="an API token (mg_...)")


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def current_user(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(bearer)] = None) -> User:
    if credentials is None:
        raise Unauthenticated("an API token is required (Authorization: Bearer mg_...)")
    user = authenticate(services_of(request).store, credentials.credentials)
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.check(user, credentials.credentials)
    route: Any = request.scope.get("route")
    name = getattr(route, "name", "")
    if user.role not in ACCESS.get(name, frozenset()):
        raise Forbidden(f"the {user.role} role may not call {name or 'this route'}")
    return user


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


CurrentUser = Annotated[User, Depends(current_user)]
ServicesDep = Annotated[Services, Depends(services_of)]
SettingsDep = Annotated[Settings, Depends(settings_of)]


def visible_job(services: Services, user: User, batch_id: str) -> dict[str, Any]:
    """The batch job, if this user may see it; another agency's batch is 'not found', and a
    requester's 'not found' is audited (without the probed id unless it is a real batch's)."""
    job = jobs.get_job(services.store, batch_id=batch_id)
    if job is None or (user.role == REQUESTER and job["agency"] != user.agency):
        if user.role == REQUESTER:
            AuditLog(services.store).append([AuditEvent(
                event_type=EventType.ACCESS_DENIED, actor=user.name, role=user.role,
                origin="api", outcome="failure", batch_id=job["batch_id"] if job else None,
                details={"reason": "batch not visible to the requester",
                         "exists": job is not None,
                         "probe": hashlib.sha256(batch_id.encode()).hexdigest()[:16]})])
        raise NotFound(f"batch {batch_id!r} not found")
    return job

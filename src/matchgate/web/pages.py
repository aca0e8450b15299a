"""Pages for people: sign in with a token (kept in an HttpOnly, SameSite=Strict cookie), the
review queue and review page, batches, the agreement in force, and the audit log for auditors.
Access follows the same table as the API (matchgate.api.access.ACCESS)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from matchgate.api import batch_ops
from matchgate.api.access import ACCESS, services_of
from matchgate.api.errors import Forbidden
from matchgate.api.ratelimit import RateLimiter
from matchgate.audit import AuditLog
from matchgate.errors import MatchgateError
from matchgate.review import ReviewQueue
from matchgate.store import jobs
from matchgate.users import Unauthenticated, User, authenticate

HERE = Path(__file__).parent
COOKIE = "matchgate_token"
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/web", include_in_schema=False)

HOME = {"requester": "/web/batches", "reviewer": "/web/reviews",
        "disclosure_officer": "/web/reviews", "auditor": "/web/audit"}


class SignInRequired(Exception):
    pass


def web_user(request: Request) -> User:
    """The signed-in user, counted against the token's and the agency's rate limits as an API
    call is (429 with Retry-After beyond them), and allowed to open the page."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequired
    try:
        user = authenticate(services_of(request).store, token)
    except Unauthenticated:
        raise SignInRequired from None
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.check(user, token)
    name = getattr(request.scope.get("route"), "name", "")
    if user.role not in ACCESS.get(name, frozenset()):
        raise Forbidden(f"the {user.role} role may not open this page")
    return user


WebUser = Annotated[User, Depends(web_user)]


def page(request: Request, name: str, user: User | None, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"user": user, **context})


def queue_of(request: Request) -> ReviewQueue:
    queue: ReviewQueue = request.app.state.review_queue
    return queue


@router.get("/login")
def web_login_form(request: Request) -> HTMLResponse:
    return page(request, "login.html", None, error=None)


@router.post("/login")
def web_login(request: Request, token: Annotated[str, Form(max_length=200)]) -> Response:
    try:
        user = authenticate(services_of(request).store, token.strip())
    except Unauthenticated as exc:
        return page(request, "login.html", None, error=exc.message)
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.check(user, token.strip())
    response = RedirectResponse(HOME[user.role], status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict")
    return response


@router.post("/logout")
def web_logout() -> Response:
    response = RedirectResponse("/web/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/reviews")
def web_reviews(request: Request, user: WebUser, reason: str | None = None) -> HTMLResponse:
    items, counts = queue_of(request).pending(reason=reason or None)
    reasons = sorted(k.removeprefix("reason:") for k in counts if k.startswith("reason:"))
    return page(request, "reviews.html", user, items=items, counts=counts, reasons=reasons,
                reason=reason)


@router.get("/reviews/{batch_id}/{request_id}")
def web_review(request: Request, batch_id: str, request_id: str, user: WebUser,
               message: str | None = None) -> HTMLResponse:
    view = queue_of(request).view(batch_id=batch_id, request_id=request_id)
    items, _ = queue_of(request).pending()
    following = [i for i in items if (i["batch_id"], i["request_id"]) != (batch_id, request_id)]
    nxt = f"/web/reviews/{following[0]['batch_id']}/{following[0]['request_id']}" \
        if following else "/web/reviews"
    top = max((abs(e["match_weight"] or 0) for c in view["candidates"] for e in c["evidence"]),
              default=1) or 1
    return page(request, "review.html", user, v=view, next_url=nxt, top=top, message=message,
                can_decide=user.role in ACCESS["web_decide"])


@router.post("/reviews/{batch_id}/{request_id}/claim")
def web_claim(request: Request, batch_id: str, request_id: str, user: WebUser) -> Response:
    return _act(request, batch_id, request_id, lambda: queue_of(request).claim(
        user, batch_id=batch_id, request_id=request_id), "claimed")


@router.post("/reviews/{batch_id}/{request_id}/decision")
def web_decide(request: Request, batch_id: str, request_id: str, user: WebUser,
               outcome: Annotated[str, Form(max_length=16)],
               reason: Annotated[str, Form(max_length=2000)]) -> Response:
    return _act(request, batch_id, request_id, lambda: queue_of(request).decide(
        user, batch_id=batch_id, request_id=request_id, outcome=outcome, reason=reason),
        "decided")


def _act(request: Request, batch_id: str, request_id: str, action: Any, done: str) -> Response:
    try:
        action()
        message = done
    except MatchgateError as exc:
        message = exc.message
    url = request.url_for("web_review", batch_id=batch_id, request_id=request_id)
    return RedirectResponse(f"{url.path}?message={message}", status_code=303)


@router.get("/batches")
def web_batches(request: Request, user: WebUser) -> HTMLResponse:
    services = services_of(request)
    agency = user.agency if user.role == "requester" else None
    rows = batch_ops.statuses(services, jobs.list_jobs(services.store, agency=agency))
    return page(request, "batches.html", user, batches=rows)


@router.get("/agreements/{agreement_id}")
def web_agreement(request: Request, agreement_id: str, user: WebUser) -> HTMLResponse:
    agreement = batch_ops.agreement_for(services_of(request), user, agreement_id)
    return page(request, "agreement.html", user, agreement=agreement,
                lines=agreement.describe())


@router.get("/audit")
def web_audit(request: Request, user: WebUser, event_type: str | None = None,
              batch_id: str | None = None, after_seq: int = 0) -> HTMLResponse:
    log = AuditLog(services_of(request).store)
    events = [e for e in log.read(after_seq=max(after_seq, 0), limit=1000)
              if (not event_type or e["event_type"] == event_type)
              and (not batch_id or e["batch_id"] == batch_id)]
    return page(request, "audit.html", user, events=events[:500], report=log.verify(),
                event_type=event_type or "", batch_id=batch_id or "")


async def _sign_in(request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/web/login", status_code=303)


def _front_door() -> Response:
    return RedirectResponse("/web/login", status_code=307)


def install(app: FastAPI) -> None:
    app.add_api_route("/", _front_door, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_exception_handler(SignInRequired, _sign_in)
    app.include_router(router)

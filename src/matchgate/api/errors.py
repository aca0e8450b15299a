"""Every error as JSON {code, message, field, problems}, with the status its class carries."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from matchgate.diskspace import is_no_space
from matchgate.errors import MatchgateError, NoSpace

log = logging.getLogger("matchgate.api")


class Forbidden(MatchgateError):
    code = "forbidden"
    status = 403


class PayloadTooLarge(MatchgateError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(MatchgateError):
    code = "unsupported_media_type"
    status = 415


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    problems: list[str] = []


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a route can return."""
    return {s: {"model": ErrorBody} for s in sorted({401, 403, 422, 429, *statuses})}


def _body(code: str, message: str, field: str | None = None,
          problems: list[str] | None = None) -> dict[str, Any]:
    return ErrorBody(code=code, message=message, field=field,
                     problems=problems or []).model_dump()


async def _matchgate_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MatchgateError)
    field = next((p.field for p in exc.problems if p.field), None)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status >= 500:
        log.error("%s: %s", type(exc).__name__, exc.code)
    return JSONResponse(_body(exc.code, exc.message, field, [str(p) for p in exc.problems]),
                        status_code=exc.status, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errs = exc.errors()
    first = errs[0] if errs else {}
    field = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
    problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errs]
    return JSONResponse(_body("invalid_request", str(first.get("msg", "invalid request")),
                              field, problems), status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
            413: "payload_too_large"}.get(exc.status_code, "http_error")
    return JSONResponse(_body(code, str(exc.detail)), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _os_error(request: Request, exc: Exception) -> JSONResponse:
    """A full disk (an upload met a full temporary folder) is 507, try again later."""
    if is_no_space(exc):
        return await _matchgate_error(request, NoSpace(
            "the server's temporary storage is full; nothing was stored, try again later"))
    return await _unexpected(request, exc)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("internal error: %s", type(exc).__name__)
    return JSONResponse(_body("internal_error", "internal error"), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(MatchgateError, _matchgate_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OSError, _os_error)
    app.add_exception_handler(Exception, _unexpected)

"""The request body's size limit, applied before the body is read: a Content-Length over the
limit is answered 413 at once (nothing is read or spooled to disk); a body sent without one is
counted as it arrives and refused when it passes the limit. Both answers are the API's JSON
error body (code payload_too_large)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matchgate.api.errors import ErrorBody


def too_large(limit: int) -> str:
    return (f"the request body is larger than the {limit:,} bytes allowed (the request file "
            "up to max_upload_bytes, and its manifest); it was refused before it was read")


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            body = ErrorBody(code="payload_too_large", message=too_large(self.limit))
            await JSONResponse(body.model_dump(), status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, detail=too_large(self.limit))
            return message

        await self.app(scope, counted, send)

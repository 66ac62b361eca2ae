"""A cap on the size of request bodies, checked before anything is parsed.

The declared Content-Length is checked up front; a body without one (chunked) is
counted as it arrives and refused as soon as it passes the limit. Either way the
client gets the same JSON 413 as every other error, naming the limit.
"""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import too_large_body
from app.responses import JSONResponse


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit; app.errors turns it into the 413."""

    def __init__(self, limit: int):
        super().__init__(status_code=413, detail=f"request body is too large: at most {limit} bytes")
        self.limit = limit


class BodySizeLimitMiddleware:
    """Plain ASGI middleware: refuses HTTP request bodies over ``max_body_bytes`` with a JSON 413."""

    def __init__(self, app: ASGIApp, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            response = JSONResponse(too_large_body(limit), status_code=413, headers={"connection": "close"})
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)

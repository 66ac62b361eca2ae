"""Limits on what a request may send, checked before anything is parsed: size, nesting, time.

The body is read here, whole, before the app sees it (it is at most ``max_body_bytes``):

- a declared Content-Length over the limit is refused up front, and a body without one
  (chunked) is counted as it arrives and refused as soon as it passes the limit (413);
- a body that does not arrive within ``read_timeout`` seconds is refused (408), so a client
  trickling its body holds nothing for long (uvicorn bounds the headers: app.core.server);
- JSON nested deeper than ``max_json_depth`` is refused (400) before any parser recurses into it.

Every refusal is the same JSON as every other error, naming the limit and its setting.
"""

from __future__ import annotations

import asyncio
import re

import numpy as np
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_response, too_large_body

#: A JSON string, escapes included: its brackets are text, not nesting.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


class BodyTooLarge(HTTPException):
    """A body over the limit; app.errors turns it into the 413."""

    def __init__(self, limit: int):
        super().__init__(status_code=413, detail=f"request body is too large: at most {limit} bytes")
        self.limit = limit


def json_depth(text: bytes | str, limit: int) -> int | None:
    """The nesting depth of a JSON text if it is deeper than ``limit``, else None; never recurses.

    >>> json_depth(b'{"a": [[1], "[[[["]}', 3), json_depth(b'{"a": [[1], "[[[["]}', 2)  # brackets in strings don't count
    (None, 3)
    >>> json_depth(b"[" * 50 + b"]" * 50, 32)
    50
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= limit:
        return None  # the common case, in microseconds
    a = np.frombuffer(_JSON_STRING.sub(b'""', data), dtype=np.uint8)
    step = (a == ord("[")).astype(np.int32) + (a == ord("{")) - (a == ord("]")) - (a == ord("}"))
    depth = int(np.cumsum(step).max(initial=0))
    return depth if depth > limit else None


def too_deep(depth: int, limit: int, where: str = "body") -> list[dict]:
    return [{"loc": [where], "msg": f"JSON nested {depth} levels deep is not allowed: at most {limit} levels "
             "(LOSSLAB_MAX_JSON_DEPTH)", "type": "json_too_deep", "input": None}]


def _has_body(headers: Headers) -> bool:
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


class BodySizeLimitMiddleware:
    """Plain ASGI middleware: reads each HTTP request body within the limits above, then hands it on."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_json_depth: int = 32, read_timeout: float = 10.0):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not _has_body(headers):
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            await self._refuse(scope, receive, send, too_large_body(limit)["detail"], 413)
            return
        chunks, received, more = [], 0, True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.read_timeout
        while more:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                await self._refuse(scope, receive, send, [{
                    "loc": ["body"], "msg": f"the request body did not arrive within {self.read_timeout:g} s "
                    "(LOSSLAB_REQUEST_TIMEOUT)", "type": "timeout", "input": None}], 408)
                return
            if message["type"] != "http.request":  # the client left: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            body = message.get("body", b"")
            received += len(body)
            if received > limit:
                await self._refuse(scope, receive, send, too_large_body(limit)["detail"], 413)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        depth = json_depth(body, self.max_json_depth)
        if depth is not None:
            await self._refuse(scope, receive, send, too_deep(depth, self.max_json_depth), 400)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, detail: list[dict], status: int) -> None:
        await error_response(detail, status, headers={"connection": "close"})(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` first, then waits on the real one (for a disconnect)."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay

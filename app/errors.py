"""Every error leaves as a 4xx JSON body that names the field, the value and the allowed range."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.config import get_settings
from app.responses import JSONResponse

log = logging.getLogger("losslab")


class RequestError(Exception):
    """A request that validated structurally but asks for something the engine refuses."""

    def __init__(self, loc: list, msg: str, value: Any = None, status: int = 422):
        self.loc, self.msg, self.value, self.status = loc, msg, value, status
        super().__init__(msg)

    def detail(self) -> list[dict]:
        return [{"loc": self.loc, "msg": self.msg, "type": "value_error", "input": safe_value(self.value)}]


def safe_value(v: Any, depth: int = 0) -> Any:
    """A JSON-safe, size-bounded echo of a client's value (NaN and Infinity become strings)."""
    if depth > 3:
        return "…"
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    if isinstance(v, (str, bytes)):
        s = v if isinstance(v, str) else v.decode("utf-8", "replace")
        return s if len(s) <= 80 else s[:77] + "…"
    if isinstance(v, dict):
        return {str(k)[:40]: safe_value(x, depth + 1) for k, x in list(v.items())[:8]}
    if isinstance(v, (list, tuple)):
        return [safe_value(x, depth + 1) for x in list(v)[:8]]
    if isinstance(v, int) and not isinstance(v, bool) and not -(2**63) <= v < 2**64:
        # JSON writers (orjson) cannot carry integers beyond 64 bits: echo them as text.
        s = str(v)
        return s if len(s) <= 80 else s[:77] + "…"
    if v is None or isinstance(v, (bool, int, float)):
        return v
    return str(v)[:80]


def describe(detail: list[dict]) -> str:
    """One line for people: 'body.steps: Input should be less than or equal to 20000 (got 999999)'."""
    parts = []
    for d in detail[:3]:
        loc = ".".join(str(x) for x in d.get("loc", []) if x != "body")
        got = d.get("input")
        got_s = f" (got {got!r})" if got is not None and not isinstance(got, (dict, list)) else ""
        parts.append(f"{loc}: {d.get('msg')}{got_s}" if loc else f"{d.get('msg')}{got_s}")
    return "; ".join(parts)


def validation_detail(exc: RequestValidationError) -> list[dict]:
    out = []
    for e in exc.errors()[:20]:
        item = {"loc": list(e.get("loc", [])), "msg": e.get("msg", "invalid"), "type": e.get("type", "value_error"),
                "input": safe_value(e.get("input"))}
        ctx = e.get("ctx")
        if ctx:
            item["ctx"] = {k: safe_value(v) for k, v in ctx.items() if k != "error"}
        out.append(item)
    return out


def too_large_body(limit: int) -> dict:
    """The 413 response body: names the body and its size limit, like every other error."""
    detail = [{"loc": ["body"], "msg": f"request body is too large: at most {limit} bytes", "type": "too_long",
               "input": None}]
    return {"detail": detail, "message": describe(detail)}


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        detail = validation_detail(exc)
        return JSONResponse({"detail": detail, "message": describe(detail)}, status_code=422)

    @app.exception_handler(RequestError)
    async def _request_error(request: Request, exc: RequestError):
        detail = exc.detail()
        return JSONResponse({"detail": detail, "message": describe(detail)}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 413:  # a body over the limit (app.core.limits): say what the limit is
            return JSONResponse(too_large_body(getattr(exc, "limit", get_settings().max_body_bytes)), status_code=413)
        return JSONResponse({"detail": exc.detail, "message": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"detail": "internal error; it has been logged", "message": "internal error"}, status_code=500)

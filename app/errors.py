"""Every error leaves as a 4xx JSON body that names the field, the value and the allowed range.

An error path must never raise: whatever a client sends (a lone UTF-16 surrogate, an integer
with a thousand digits, JSON nested ten thousand deep), the refusal is built from text made
safe here, and ``error_response`` falls back to a fixed body should anything still fail.
"""

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

#: Longest echo of a client's text in an error, and of a dictionary key.
MAX_ECHO, MAX_KEY = 80, 40


class RequestError(Exception):
    """A request that validated structurally but asks for something the engine refuses."""

    def __init__(self, loc: list, msg: str, value: Any = None, status: int = 422, type: str = "value_error",
                 headers: dict | None = None):
        self.loc, self.msg, self.value, self.status, self.type, self.headers = loc, msg, value, status, type, headers
        super().__init__(msg)

    def detail(self) -> list[dict]:
        return [{"loc": self.loc, "msg": self.msg, "type": self.type, "input": safe_value(self.value)}]


def safe_text(s: Any, limit: int | None = None) -> str:
    """``s`` as text any UTF-8 writer accepts: lone surrogates become ``\\udXXX`` escapes; cut to ``limit``."""
    if not isinstance(s, str):
        try:
            s = s.decode("utf-8", "replace") if isinstance(s, (bytes, bytearray)) else str(s)
        except Exception:  # a __str__ that fails: say what it was instead
            s = f"<{type(s).__name__}>"
    if limit is not None and len(s) > limit:
        s = s[:limit - 3] + "…"
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return s


def _short_int(v: int) -> int | str:
    """Integers JSON writers (orjson) can carry pass; longer ones are echoed as text, cut if huge."""
    if -(2**63) <= v < 2**64:
        return v
    digits = v.bit_length() * 0.30103
    if digits > 4000:  # str() of a huge int is quadratic, and Python refuses past 4300 digits
        return f"{'-' if v < 0 else ''}an integer of about {digits:.0f} digits"
    return safe_text(str(v), MAX_ECHO)


def safe_value(v: Any, depth: int = 0) -> Any:
    """A JSON-safe, size-bounded echo of a client's value (NaN and Infinity become strings)."""
    if depth > 3:
        return "…"
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else repr(v)
    if isinstance(v, int):
        return _short_int(v)
    if isinstance(v, (str, bytes, bytearray)):
        return safe_text(v, MAX_ECHO)
    if isinstance(v, dict):
        return {safe_text(k, MAX_KEY): safe_value(x, depth + 1) for k, x in list(v.items())[:8]}
    if isinstance(v, (list, tuple)):
        return [safe_value(x, depth + 1) for x in list(v)[:8]]
    return safe_text(v, MAX_ECHO)


def _got(v: Any) -> str:
    return f" (got {v!r})" if v is not None and not isinstance(v, (dict, list)) else ""


def describe(detail: list[dict]) -> str:
    """One line for people: 'body.steps: Input should be less than or equal to 20000 (got 999999)'."""
    parts = []
    for d in detail[:3]:
        loc = ".".join(str(x) for x in d.get("loc", []) if x != "body")
        msg = f"{d.get('msg')}{_got(d.get('input'))}"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return safe_text("; ".join(parts))


def _safe_loc(loc) -> list:
    return [x if isinstance(x, int) and not isinstance(x, bool) else safe_text(x, MAX_KEY) for x in loc]


def clean_detail(errors: list[dict]) -> list[dict]:
    """pydantic's errors as our detail items: tags of discriminated unions out of the location,
    engine-style messages for unknown names and parameters, every string made safe."""
    from app.params import restate  # the typed parameters know their owners' names

    out = []
    for e in errors[:20]:
        loc, msg = restate(list(e.get("loc", [])), e)
        item = {"loc": _safe_loc(loc), "msg": safe_text(msg), "type": safe_text(e.get("type", "value_error")),
                "input": safe_value(e.get("input"))}
        ctx = e.get("ctx")
        if ctx:
            item["ctx"] = {safe_text(k, MAX_KEY): safe_value(v) for k, v in ctx.items() if k not in ("error", "message")}
        out.append(item)
    return out


def validation_detail(exc: RequestValidationError) -> list[dict]:
    return clean_detail(list(exc.errors()))


def too_large_body(limit: int) -> dict:
    """The 413 response body: names the body and its size limit, like every other error."""
    return error_body([{"loc": ["body"], "msg": f"request body is too large: at most {limit} bytes", "type": "too_long",
                        "input": None}])


def error_body(detail: list[dict] | str) -> dict:
    return {"detail": detail, "message": describe(detail) if isinstance(detail, list) else safe_text(detail)}


#: What is sent if even an error body cannot be written (it never should be).
FALLBACK = {"detail": "the error could not be described; it has been logged", "message": "internal error"}


def error_response(detail: list[dict] | str, status: int, headers: dict | None = None) -> JSONResponse:
    """The JSON error response; never raises (a body that fails to render is logged and replaced)."""
    try:
        return JSONResponse(error_body(detail), status_code=status, headers=headers)
    except Exception:
        log.exception("could not render an error body")
        return JSONResponse(FALLBACK, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return error_response(validation_detail(exc), 422)

    @app.exception_handler(RequestError)
    async def _request_error(request: Request, exc: RequestError):
        return error_response(exc.detail(), exc.status, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 413:  # a body over the limit (app.core.limits): say what the limit is
            return error_response(too_large_body(getattr(exc, "limit", get_settings().max_body_bytes))["detail"], 413)
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            e = exc.__cause__
            return error_response([{"loc": ["body"], "msg": f"There was an error parsing the body: not valid UTF-8 "
                                    f"at byte {e.start} ({e.reason})", "type": "json_invalid", "input": None}], 400)
        return error_response(safe_text(exc.detail), exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", safe_text(request.url.path, 200))
        return JSONResponse({"detail": "internal error; it has been logged", "message": "internal error"}, status_code=500)

"""Security headers on every HTTP response."""

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import get_settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors {ancestors}; "
    "form-action 'self'"
)
# A CSP host source: scheme://host[:port], the host possibly starting with "*." (no path, no ';' or ',').
_SOURCE = re.compile(r"(https?)://(\*\.)?[A-Za-z0-9.-]+(:(\d{1,5}|\*))?/?")


def frame_ancestors(value: str) -> str:
    """LOSSLAB_FRAME_ANCESTORS checked: 'self', 'none' or http(s) origins; anything else is refused at start-up.

    >>> frame_ancestors("'self' https://course.example.edu http://localhost:8888")
    "'self' https://course.example.edu http://localhost:8888"
    >>> frame_ancestors("*")
    Traceback (most recent call last):
    ...
    ValueError: LOSSLAB_FRAME_ANCESTORS: '*' is not allowed: use 'self', 'none' or origins such as https://course.example.edu
    """
    tokens = value.replace(",", " ").split() or ["'self'"]
    for t in tokens:
        if t not in ("'self'", "'none'") and not _SOURCE.fullmatch(t):
            raise ValueError(f"LOSSLAB_FRAME_ANCESTORS: {t!r} is not allowed: use 'self', 'none' or origins such as "
                             "https://course.example.edu")
    if "'none'" in tokens and len(tokens) > 1:
        raise ValueError("LOSSLAB_FRAME_ANCESTORS: 'none' cannot go with other sources")
    return " ".join(tokens)


def security_headers(ancestors: str = "'self'") -> list[tuple[bytes, bytes]]:
    """The headers for a frame-ancestors policy; X-Frame-Options says the same to browsers without CSP."""
    ancestors = frame_ancestors(ancestors)
    headers = [
        (b"content-security-policy", CSP.format(ancestors=ancestors).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]
    # X-Frame-Options knows only DENY and SAMEORIGIN: with other origins allowed it is left out (CSP decides).
    xfo = {"'none'": b"DENY", "'self'": b"SAMEORIGIN"}.get(ancestors)
    if xfo:
        headers.append((b"x-frame-options", xfo))
    return headers


class SecurityHeadersMiddleware:
    """Plain ASGI middleware (no BaseHTTPMiddleware): adds the headers and leaves WebSockets alone."""

    def __init__(self, app: ASGIApp, frame_ancestors: str | None = None):
        self.app = app
        self.headers = security_headers(get_settings().frame_ancestors if frame_ancestors is None else frame_ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

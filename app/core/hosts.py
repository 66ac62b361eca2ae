"""Who may talk to the server: the Host of every request, and the Origin of every WebSocket handshake.

Loss Lab listens on the learner's own machine while they browse other sites, so:

- **Host** (DNS rebinding): a page on ``evil.example`` whose name is re-pointed at 127.0.0.1 reaches
  the server with ``Host: evil.example``. Answered are only names a rebinding page cannot use:
  any IP address, ``localhost`` and ``*.localhost`` (browsers resolve those themselves), the
  name the server binds to, and ``LOSSLAB_ALLOWED_HOSTS`` (a class server's name; ``*`` for any).
  Anything else gets a 400 naming the setting.
- **Origin** (cross-site WebSocket): browsers apply no CORS to WebSockets, so any page could
  open ``ws://127.0.0.1:8000/ws/run``. A handshake whose Origin is neither the server's own
  (the Host it was sent to) nor in ``LOSSLAB_ALLOWED_ORIGINS`` / ``LOSSLAB_CORS_ORIGINS`` is
  refused with a 403 before it is accepted. Clients that are not browsers send no Origin and
  are not affected.

Nothing the server sends is built from the Host header (no absolute redirects: the app is built
with ``redirect_slashes=False``).

Starlette's in-process TestClient (``Host: testserver``, peer ``testclient``) is let through: no
browser can reach the app without a socket, and a socket's peer is always an address.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import error_response, safe_text

DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
#: The peer Starlette's TestClient names itself: never an address, so never a request from a socket.
IN_PROCESS_CLIENT = "testclient"


def split_host(value: str) -> tuple[str, int | None] | None:
    """``'Example.COM:8000'`` → ``('example.com', 8000)``; ``'[::1]'`` → ``('::1', None)``; None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
    else:
        name, _, port = value.partition(":")
    name = name.rstrip(".")
    if not name or (port and not (port.isdigit() and len(port) <= 5)):
        return None
    return name, int(port) if port else None


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class HostPolicy:
    """The names and origins a server answers to, from its settings."""

    def __init__(self, allowed_hosts: list[str], allowed_origins: list[str], bind_host: str = ""):
        self.any_host = "*" in allowed_hosts
        names = {h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip() and h.strip() != "*"}
        if bind_host and not is_ip(bind_host.strip("[]")):
            names.add(bind_host.lower())
        self.names = {n for n in names if not n.startswith("*.")}
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*."))  # '*.example.com' → '.example.com'
        self.any_origin = "*" in allowed_origins
        self.origins = {o for o in (self._origin(x) for x in allowed_origins if x != "*") if o}
        self.allowed_hosts = sorted(names)

    @staticmethod
    def _origin(value: str) -> tuple[str, str, int] | None:
        try:
            u = urlsplit(value.strip().lower())
            if u.scheme not in DEFAULT_PORTS or not u.hostname:
                return None
            return u.scheme, u.hostname.rstrip("."), u.port or DEFAULT_PORTS[u.scheme]
        except ValueError:
            return None

    def host_allowed(self, host: str | None) -> bool:
        if host is None or self.any_host:
            return True  # no Host at all: not a browser (HTTP/1.0)
        parts = split_host(host)
        if parts is None:
            return False
        name = parts[0]
        ok = is_ip(name) or name == "localhost" or name.endswith(".localhost") or name in self.names
        return ok or (bool(self.suffixes) and name.endswith(self.suffixes))

    def origin_allowed(self, origin: str | None, host: str | None, scheme: str) -> bool:
        if origin is None or self.any_origin:
            return True  # not a browser: browsers always send Origin on a WebSocket handshake
        o = self._origin(origin)
        if o is None:
            return False  # 'null' (a file, a sandboxed frame) or garbage
        if o in self.origins:
            return True
        parts = split_host(host or "")
        if parts is None:
            return False
        port = parts[1] or DEFAULT_PORTS["https" if scheme in ("https", "wss") else "http"]
        # The server's own origin: the page was loaded from the Host this handshake was sent to.
        return (o[1], o[2]) == (parts[0], port)


class HostOriginMiddleware:
    """Plain ASGI middleware applying a HostPolicy to HTTP requests and WebSocket handshakes."""

    def __init__(self, app: ASGIApp, policy: HostPolicy):
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host")
        if (scope.get("client") or ("",))[0] == IN_PROCESS_CLIENT:
            await self.app(scope, receive, send)
            return
        if not self.policy.host_allowed(host):
            shown = ", ".join(self.policy.allowed_hosts) or "none"
            # The refused name is not echoed: nothing the server sends is built from a foreign Host.
            await self._refuse(scope, receive, send, 400, "host", host, (
                "the Host header is not a name this server answers to: it answers to IP addresses, "
                f"localhost and LOSSLAB_ALLOWED_HOSTS (now: {shown})"))
            return
        if scope["type"] == "websocket":
            origin = headers.get("origin")
            if not self.policy.origin_allowed(origin, host, scope.get("scheme", "ws")):
                await self._refuse(scope, receive, send, 403, "origin", origin, (
                    f"a page from {safe_text(origin, 80)!r} may not open this WebSocket: only the server's own pages "
                    "and LOSSLAB_ALLOWED_ORIGINS may"))
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, header: str, value, msg: str) -> None:
        detail = [{"loc": ["header", header], "msg": msg, "type": f"{header}_not_allowed", "input": None}]
        if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1008, "reason": msg[:120]})  # a bare 403 to the client
            return
        await error_response(detail, status, headers={"connection": "close"} if scope["type"] == "http" else None)(
            scope, receive, send)

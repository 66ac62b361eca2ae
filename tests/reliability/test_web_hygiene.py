"""Web hygiene: CSP without inline script, nosniff, no framing, static files stay in their folder,
a loopback default bind, and CORS only when configured.

Paths are sent byte for byte over a raw socket to a real uvicorn server: HTTP client libraries
normalize '..' and would never send the requests an attacker writes by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from html.parser import HTMLParser

import pytest

from app.core.config import Settings

from .conftest import CORS_ORIGIN
from .server import ROOT, free_port, raw_http

#: Pages, assets, JSON and errors: every kind of response carries the security headers.
PATHS = ["/", "/docs", "/static/js/api.js", "/static/css/app.css", "/api/surfaces", "/healthz", "/no-such-page",
         "/openapi.json"]
#: Ways out of /static (and /docs-static): dot segments plain, percent-encoded, double-encoded, with encoded
#: slashes, backslashes, overlong UTF-8, NUL, and from a subfolder.
ESCAPES = [
    "/static/../app/main.py",
    "/static/%2e%2e/app/main.py",
    "/static/.%2e/app/main.py",
    "/static/%2e%2e%2fapp%2fmain.py",
    "/static/..%2fapp%2fmain.py",
    "/static/..%2Fapp%2Fmain.py",
    "/static/%252e%252e/app/main.py",
    "/static/..%5capp%5cmain.py",
    "/static/..\\app\\main.py",
    "/static/....//app/main.py",
    "/static/..%c0%afapp/main.py",
    "/static/js/../../app/main.py",
    "/static/js/%2e%2e/%2e%2e/pyproject.toml",
    "/static/js/..%2f..%2fpyproject.toml",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/%00",
    "/docs-static/../../app/main.py",
    "/docs-static/%2e%2e%2f%2e%2e%2fapp%2fmain.py",
]
#: Bytes of the files those paths aim at: none may ever come back.
SECRETS = [b"root:x:0:0", b"def create_app", b"[build-system]"]


def csp_directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


class ScriptAudit(HTMLParser):
    """Collects <script> tags, their inline text, and any on* event-handler attribute."""

    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.handlers += [f"<{tag} {k}=…>" for k, _ in attrs if k.lower().startswith("on")]
        if tag == "script":
            self.scripts.append(dict(attrs))
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(data.strip()[:80])


@pytest.mark.parametrize("path", PATHS)
def test_every_response_has_the_security_headers(capped_server, path):
    status, headers, _ = raw_http(capped_server.port, "GET", path)
    assert status in (200, 404)
    csp = csp_directives(headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"], "scripts: the app's own files only (no inline, no eval, no hosts)"
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'self'"], "framed only by its own pages unless LOSSLAB_FRAME_ANCESTORS says more"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "SAMEORIGIN"


@pytest.mark.parametrize("path", ["/", "/docs"])
def test_pages_have_no_inline_script_and_no_event_handler_attributes(capped_server, path):
    """The CSP forbids inline script; the pages must not need any."""
    status, headers, body = raw_http(capped_server.port, "GET", path)
    assert status == 200 and headers["content-type"].startswith("text/html")
    audit = ScriptAudit()
    audit.feed(body.decode())
    assert audit.scripts, "the page loads its scripts"
    assert audit.inline == [], f"inline script: {audit.inline}"
    assert audit.handlers == [], f"inline event handlers: {audit.handlers}"
    for script in audit.scripts:
        src = script.get("src", "")
        assert src.startswith("/") and not src.startswith("//"), f"script from elsewhere: {src!r}"
    assert b"javascript:" not in body.lower()


@pytest.mark.parametrize("path", ["/", "/docs"])
def test_pages_do_not_build_urls_from_the_host_header(capped_server, path):
    """A forged Host must not pick where scripts load from (cache poisoning), nor force http:// behind TLS."""
    _, _, body = raw_http(capped_server.port, "GET", path, {"X-Forwarded-Host": "evil.example"}, host="evil.example")
    assert b"evil.example" not in body
    assert b"http://" not in body


@pytest.mark.parametrize("target", ESCAPES)
def test_static_files_cannot_escape_their_folder(capped_server, target):
    status, _, body = raw_http(capped_server.port, "GET", target)
    assert status == 404, (status, body[:200])
    assert not any(secret in body for secret in SECRETS), body[:200]


def test_static_files_inside_the_folder_are_served(capped_server):
    status, headers, body = raw_http(capped_server.port, "GET", "/static/js/api.js")
    assert status == 200 and body.startswith(b"// Talking to the server")
    assert headers["content-type"].startswith("text/javascript") and headers["x-content-type-options"] == "nosniff"


# --- the bind address ----------------------------------------------------------

def _listening(port: int) -> list[str]:
    """Local addresses (hex, as /proc/net/tcp{,6} write them) of the sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    found.append(local.rsplit(":", 1)[0])
    return found


def test_the_default_bind_is_loopback(monkeypatch):
    monkeypatch.delenv("LOSSLAB_HOST", raising=False)
    assert Settings().host == "127.0.0.1"
    assert Settings.model_fields["host"].default == "127.0.0.1"


def test_python_m_app_binds_and_prints_127_0_0_1_by_default():
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "LOSSLAB_HOST"}
    proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env={**env, "LOSSLAB_PORT": str(port)},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout.readline().strip() == f"Loss Lab: open http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while not _listening(port) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _listening(port) == ["0100007F"], "listening somewhere other than 127.0.0.1 only"
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_container_opts_into_all_interfaces():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "LOSSLAB_HOST=0.0.0.0" in dockerfile


# --- CORS -------------------------------------------------------------------------

def test_cors_is_off_by_default(client, monkeypatch):
    monkeypatch.delenv("LOSSLAB_CORS_ORIGINS", raising=False)
    assert Settings().cors_origins == []
    r = client.get("/api/surfaces", headers={"origin": "http://elsewhere.example"})
    assert r.status_code == 200
    assert not [h for h in r.headers if h.lower().startswith("access-control-")]
    pre = client.options("/api/run", headers={"origin": "http://elsewhere.example",
                                              "access-control-request-method": "POST"})
    assert pre.status_code >= 400
    assert not [h for h in pre.headers if h.lower().startswith("access-control-")]


def test_cors_allows_exactly_the_configured_origins(capped_server):
    """The capped server runs with LOSSLAB_CORS_ORIGINS='["http://class.example"]'."""
    status, headers, _ = raw_http(capped_server.port, "GET", "/api/surfaces", {"Origin": CORS_ORIGIN})
    assert status == 200 and headers["access-control-allow-origin"] == CORS_ORIGIN
    status, headers, _ = raw_http(capped_server.port, "OPTIONS", "/api/run",
                                  {"Origin": CORS_ORIGIN, "Access-Control-Request-Method": "POST",
                                   "Access-Control-Request-Headers": "content-type"})
    assert status == 200 and headers["access-control-allow-origin"] == CORS_ORIGIN
    assert "POST" in headers["access-control-allow-methods"]
    status, headers, _ = raw_http(capped_server.port, "GET", "/api/surfaces", {"Origin": "http://elsewhere.example"})
    assert status == 200 and "access-control-allow-origin" not in headers


def test_cors_origins_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("LOSSLAB_CORS_ORIGINS", '["http://a.example", "http://b.example"]')
    assert Settings().cors_origins == ["http://a.example", "http://b.example"]

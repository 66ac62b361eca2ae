"""Other web pages cannot drive the local server: Host checks (DNS rebinding) and WebSocket Origin checks.

Against real uvicorn servers on loopback: the default one, and one configured for a class under
another name (LOSSLAB_ALLOWED_HOSTS) with an extra allowed origin (LOSSLAB_ALLOWED_ORIGINS). Requests
are written by hand (raw_http, RawWebSocket) so the Host and Origin headers are exactly what a
hostile page's browser would send.
"""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import InvalidStatus

from .bodies import small_run
from .conftest import parse_strict
from .server import RawWebSocket, Server, raw_http

CLASS_HOST = "losslab.school.example"
EXTRA_ORIGIN = "http://teacher.example:3000"


@pytest.fixture(scope="module")
def default_server():
    # The default settings: nothing allowed beyond the server's own names ('testserver' too is refused
    # from a socket; only Starlette's in-process TestClient passes, app.core.hosts).
    with Server(LOSSLAB_ALLOWED_HOSTS="[]") as server:
        yield server
    assert "Traceback" not in server.log(), server.log()[-3000:]


@pytest.fixture(scope="module")
def class_server():
    with Server(LOSSLAB_ALLOWED_HOSTS=json.dumps([CLASS_HOST]),
                LOSSLAB_ALLOWED_ORIGINS=json.dumps([EXTRA_ORIGIN])) as server:
        yield server
    assert "Traceback" not in server.log(), server.log()[-3000:]


def ws(server, origin: str | None = None, host: str | None = None) -> RawWebSocket:
    headers = {}
    if origin is not None:
        headers["Origin"] = origin
    return RawWebSocket(server.ws_url, headers=headers, host=host)


def run_over(sock: RawWebSocket) -> dict:
    sock.send_json(small_run("r"))
    return sock.read_until(lambda m: m.get("id") == "r" and m["type"] in ("done", "error"))


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}",
                                  "class.localhost:{port}", "192.168.1.20:{port}", "127.0.0.1"])
def test_own_names_and_ip_addresses_are_answered(default_server, host):
    status, _, body = raw_http(default_server.port, "GET", "/api/surfaces", host=host.format(port=default_server.port))
    assert status == 200 and parse_strict(body)["surfaces"]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "attacker.com.:{port}", "localhost.evil.example",
                                  "127.0.0.1.nip.io:{port}", "testserver", "[::1", "a b"])
def test_other_host_names_are_refused_with_a_400_naming_the_setting(default_server, host):
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: refused before any route runs."""
    for method, path in [("GET", "/api/surfaces"), ("GET", "/"), ("POST", "/api/run"), ("GET", "/healthz")]:
        status, headers, body = raw_http(default_server.port, method, path, host=host.format(port=default_server.port),
                                         headers={"content-type": "application/json", "content-length": "0"})
        assert status == 400, (method, path, status)
        out = parse_strict(body)
        assert "is not a name this server answers to" in out["message"] and "LOSSLAB_ALLOWED_HOSTS" in out["message"]
        assert headers["x-content-type-options"] == "nosniff"  # refusals carry the security headers too


def test_a_websocket_for_another_host_is_refused(default_server):
    with pytest.raises(InvalidStatus) as info:
        ws(default_server, host="evil.example")
    assert info.value.response.status_code == 400


@pytest.mark.parametrize("origin", ["http://evil.example", "https://evil.example", "http://localhost:1",
                                    "http://127.0.0.1", "null", "file://", "http://127.0.0.1:{port}.evil.example"])
def test_a_page_from_another_origin_cannot_open_the_socket(default_server, origin):
    with pytest.raises(InvalidStatus) as info:
        ws(default_server, origin=origin.format(port=default_server.port))
    response = info.value.response
    assert response.status_code == 403
    out = parse_strict(response.body)
    assert "may not open this WebSocket" in out["message"] and "LOSSLAB_ALLOWED_ORIGINS" in out["message"]


@pytest.mark.parametrize("origin, host", [("http://127.0.0.1:{port}", None), ("http://localhost:{port}", "localhost:{port}"),
                                          (None, None)])
def test_the_servers_own_pages_and_non_browser_clients_may(default_server, origin, host):
    port = default_server.port
    sock = ws(default_server, origin=origin and origin.format(port=port), host=host and host.format(port=port))
    try:
        assert run_over(sock)["type"] == "done"
    finally:
        sock.shutdown()


def test_nothing_redirects_to_the_request_host(default_server):
    """A trailing slash used to be redirected to the Host the request named (an attacker's)."""
    for path in ["/api/surfaces/", "/healthz/", "/docs/", "/static/js", "/static/"]:
        status, headers, _ = raw_http(default_server.port, "GET", path)
        assert "location" not in headers, (path, status, headers.get("location"))
        assert status in (404, 405), (path, status)


def test_a_class_server_answers_to_its_name_and_its_pages_may_open_the_socket(class_server):
    port = class_server.port
    status, _, body = raw_http(port, "GET", "/", host=f"{CLASS_HOST}:{port}")
    assert status == 200 and b"<html" in body.lower()
    for origin in [f"http://{CLASS_HOST}:{port}", EXTRA_ORIGIN]:
        sock = ws(class_server, origin=origin, host=f"{CLASS_HOST}:{port}")
        try:
            assert run_over(sock)["type"] == "done"
        finally:
            sock.shutdown()
    # Still no one else.
    assert raw_http(port, "GET", "/healthz", host=f"evil.example:{port}")[0] == 400
    with pytest.raises(InvalidStatus):
        ws(class_server, origin="http://evil.example", host=f"{CLASS_HOST}:{port}")


@pytest.fixture
def chromium():
    playwright = pytest.importorskip("playwright.sync_api")
    from testkit import launch_chromium

    with playwright.sync_playwright() as p:
        browser = launch_chromium(p, [f"--host-resolver-rules=MAP {CLASS_HOST} 127.0.0.1"])
        yield browser
        browser.close()


def test_the_page_works_on_a_class_server_under_its_name(class_server, chromium):
    """The whole page, under http://losslab.school.example:PORT/: catalogs, the socket, the runs drawn."""
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"http://{CLASS_HOST}:{class_server.port}/#s=quadratic&o=gd:lr=0.1&steps=30")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    page.wait_for_function("() => window.lossLab && window.lossLab.store && !window.lossLab.running "
                           "&& window.lossLab.store.runs.length > 0 && window.lossLab.store.runs[0].xs.length > 1",
                           timeout=20_000)
    assert errors == []


def test_a_page_from_another_site_cannot_drive_the_server(default_server, chromium):
    """A real browser on a foreign page: its WebSocket to the local server is refused, and it learns nothing."""
    page = chromium.new_page()
    page.route("http://evil.example/", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                   body="<html><body>hi</body></html>"))
    page.goto("http://evil.example/")
    outcome = page.evaluate("""(url) => new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => resolve('open');
        ws.onerror = () => resolve('error');
        setTimeout(() => resolve('timeout'), 5000);
    })""", default_server.ws_url)
    assert outcome == "error"

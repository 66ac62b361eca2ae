"""Byte and time bounds on what a connection may hold, against a real uvicorn server (app.core.server).

Header sections are bounded (LOSSLAB_MAX_HEADER_BYTES), a request head or body that does not arrive in
time is refused (LOSSLAB_REQUEST_TIMEOUT), a connection that sends nothing is closed, and the grid
cache stays within its byte budget (LOSSLAB_GRID_CACHE_BYTES) however many distinct grids are asked for.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from .conftest import parse_strict
from .server import Server, raw_http

HEADER_BYTES = 16 * 1024
READ_TIMEOUT = 1.0
GRID_CACHE = 8 << 20


@pytest.fixture(scope="module")
def server():
    with Server(LOSSLAB_MAX_HEADER_BYTES=str(HEADER_BYTES), LOSSLAB_REQUEST_TIMEOUT=str(READ_TIMEOUT),
                LOSSLAB_GRID_CACHE_BYTES=str(GRID_CACHE)) as s:
        yield s
    assert "Traceback" not in s.log(), s.log()[-3000:]


def rss(server) -> int:
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def read_all(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes; and how long that took."""
    sock.settimeout(timeout)
    t0, data = time.monotonic(), b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return data, time.monotonic() - t0


def test_headers_under_the_limit_are_fine(server):
    status, _, _ = raw_http(server.port, "GET", "/healthz", headers={"X-Pad": "a" * (HEADER_BYTES // 2)})
    assert status == 200


@pytest.mark.parametrize("size", [2 * HEADER_BYTES, 8 << 20])
def test_a_header_section_over_the_limit_is_refused_and_the_connection_closed(server, size):
    before = rss(server)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as c:
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sent = 0
        try:
            while sent < size:  # the server stops reading (and closes) long before 8 MB
                c.sendall(b"X-Pad: " + b"a" * 8000 + b"\r\n")
                sent += 8009
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, _ = read_all(c, 5)
    assert data.startswith(b"HTTP/1.1 400"), data[:200]
    # Held, an 8 MB block would add 8 MB; a fresh server's own start-up (the engine compiling in the
    # background) adds a few MB of its own, so the bound is 6 MB, not the 4 MB it once was.
    assert rss(server) - before < 6 << 20, "the server held the header block in memory"


def test_a_client_that_sends_nothing_is_closed(server):
    with socket.create_connection(("127.0.0.1", server.port)) as c:
        data, took = read_all(c, 10)
    assert data == b"" and READ_TIMEOUT * 0.8 < took < READ_TIMEOUT + 2


def test_a_request_head_trickled_byte_by_byte_gets_a_408(server):
    """Slowloris: each byte resets no timer; the whole head must arrive within the deadline."""
    with socket.create_connection(("127.0.0.1", server.port)) as c:
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        t0 = time.monotonic()
        closed = False
        while time.monotonic() - t0 < READ_TIMEOUT + 3:
            try:
                c.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            c.settimeout(0.2)
            try:
                data = c.recv(65536)
            except TimeoutError:
                continue
            closed = True
            break
        took = time.monotonic() - t0
    assert closed and took < READ_TIMEOUT + 2
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert b"LOSSLAB_REQUEST_TIMEOUT" in data


def test_a_keep_alive_connection_gets_the_same_deadline_for_its_next_request(server):
    with socket.create_connection(("127.0.0.1", server.port)) as c:
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        c.settimeout(5)
        first = b""
        while not first.endswith(b'{"status":"ok"}'):
            first += c.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        c.sendall(b"GET /healthz HTTP/1.1\r\n")  # half a head, then nothing
        data, took = read_all(c, 10)
    assert took < READ_TIMEOUT + 2 and data.startswith(b"HTTP/1.1 408"), data[:200]


def test_a_body_that_does_not_arrive_gets_a_408_naming_the_setting(server):
    with socket.create_connection(("127.0.0.1", server.port)) as c:
        c.sendall(b"POST /api/run HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                  b"content-length: 500\r\n\r\n{\"surface\": ")
        data, took = read_all(c, 10)
    assert data.startswith(b"HTTP/1.1 408"), data[:300]
    body = parse_strict(data.split(b"\r\n\r\n", 1)[1])
    assert body["message"] == f"the request body did not arrive within {READ_TIMEOUT:g} s (LOSSLAB_REQUEST_TIMEOUT)"
    assert took < READ_TIMEOUT + 2


def test_a_normal_slow_client_is_not_cut(server):
    """A client that sends its request in a few pieces within the deadline is served."""
    body = json.dumps({"surface": {"name": "quadratic"}, "optimizers": [{"name": "gd"}], "start": [1, 1],
                       "steps": 5}).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as c:
        for piece in [b"POST /api/run HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"content-type: application/json\r\n",
                      b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body), body[:20], body[20:]]:
            c.sendall(piece)
            time.sleep(READ_TIMEOUT / 8)
        data, _ = read_all(c, 10)
    assert data.startswith(b"HTTP/1.1 200"), data[:300]


def test_the_grid_cache_stays_within_its_byte_budget(server):
    """Thirty distinct 400 × 400 grids (3.5 MB of JSON each): the server grows by its budget, not by 100 MB."""
    import urllib.request

    def grid(i):
        body = json.dumps({"surface": {"name": "quadratic", "params": {"rotation": i}}, "n": 400}).encode()
        req = urllib.request.Request(server.url + "/api/grid", data=body, headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            assert r.status == 200
            return len(r.read())

    size = grid(0)
    assert size > 2 << 20
    before = rss(server)
    for i in range(1, 31):
        grid(i)
    grown = rss(server) - before
    assert grown < GRID_CACHE + (24 << 20), f"grew by {grown / 2**20:.0f} MB for an {GRID_CACHE >> 20} MB cache"

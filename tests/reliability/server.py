"""A real Loss Lab server in a subprocess (`python -m app`, uvicorn) on a loopback port, and a raw WebSocket.

The reliability tests need what the in-process TestClient cannot show: real sockets with kernel
buffers, uvicorn's own WebSocket handling, a process whose CPU time can be read, and a server that
can be killed and started again on the same port.
"""

from __future__ import annotations

import json
import socket
import time

from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.uri import parse_uri

from testkit import ROOT, Server, _reject_constant, free_port  # noqa: F401  (re-exported for the tests)


def cpu_flat(server: Server, seconds: float = 0.4) -> bool:
    """True when the server burns (almost) no CPU for ``seconds``: nothing is computing."""
    before = server.cpu_seconds()
    time.sleep(seconds)
    return server.cpu_seconds() - before < 0.25 * seconds


def wait_idle(server: Server, timeout: float = 60) -> None:
    """Until the server burns no CPU (the engine compiles its fast path in the background at start)."""
    deadline = time.monotonic() + timeout
    while not cpu_flat(server, 0.3):
        assert time.monotonic() < deadline, f"the server was still busy {timeout:g} s after starting"


class RawWebSocket:
    """A WebSocket client on a plain socket: it reads only when told to (websockets' sans-I/O protocol).

    ``rcvbuf`` shrinks the kernel's receive buffer, so a client that does not read pushes back on the
    server after a few kilobytes instead of megabytes.
    """

    def __init__(self, url: str, rcvbuf: int | None = None, timeout: float = 10, headers: dict | None = None,
                 host: str | None = None):
        """``headers`` (e.g. an Origin) are added to the handshake; ``host`` replaces its Host header."""
        host_port = url.split("//", 1)[1].split("/", 1)[0]
        hostname, port = host_port.rsplit(":", 1)
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((hostname, int(port)))
        self.proto = ClientProtocol(parse_uri(url), max_size=None)
        request = self.proto.connect()
        for k, v in (headers or {}).items():
            request.headers[k] = v
        if host is not None:
            del request.headers["Host"]
            request.headers["Host"] = host
        self.proto.send_request(request)
        self._flush()
        self.messages: list[dict] = []
        self.close: Close | None = None
        self.eof = False
        while self.proto.state.name == "CONNECTING":
            self._feed(self.sock.recv(65536))
        if self.proto.handshake_exc is not None:
            raise self.proto.handshake_exc

    def _flush(self) -> None:
        data = b"".join(self.proto.data_to_send())
        if data:
            self.sock.sendall(data)

    def _feed(self, data: bytes) -> None:
        if not data:
            self.eof = True
            self.proto.receive_eof()
        else:
            self.proto.receive_data(data)
        for event in self.proto.events_received():
            if isinstance(event, Frame) and event.opcode == Opcode.TEXT:
                # Strict, as a browser's JSON.parse: NaN and Infinity are errors, not numbers.
                self.messages.append(json.loads(event.data, parse_constant=_reject_constant))
            elif isinstance(event, Frame) and event.opcode == Opcode.CLOSE:
                self.close = self.proto.close_rcvd
        self._flush()  # answers pings and the close handshake

    def send_json(self, body: dict) -> None:
        """Send ``body``, unless the server has already closed the socket (then there is nobody to send to)."""
        if self.proto.state.name != "OPEN":
            return
        self.proto.send_text(json.dumps(body).encode())
        self._flush()

    def read_until_closed(self) -> None:
        """Read everything the server sends until it closes the connection."""
        while not self.eof:
            self._feed(self.sock.recv(1 << 20))

    def read_until(self, predicate, timeout: float = 10) -> dict:
        """Read until a message satisfies ``predicate``; returns it."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline and not self.eof:
            for m in self.messages[seen:]:
                if predicate(m):
                    return m
            seen = len(self.messages)
            self._feed(self.sock.recv(1 << 20))
        raise AssertionError(f"no such message; got {self.messages[-3:]}, close {self.close}")

    def shutdown(self) -> None:
        self.sock.close()


def raw_http(port: int, method: str, target: str, headers: dict[str, str] | None = None,
             host: str = "127.0.0.1") -> tuple[int, dict, bytes]:
    """One request written byte for byte (no client library normalizes ``target``): status, headers, body."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := c.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found = {}
    for line in header_lines:
        k, _, v = line.partition(":")
        found[k.strip().lower()] = v.strip()
    return int(status_line.split()[1]), found, body


def open_socket(url: str, timeout: float = 5) -> RawWebSocket:
    """A RawWebSocket the server has accepted and kept: retries while the server is at its cap (1013)."""
    deadline = time.monotonic() + timeout
    while True:
        ws = RawWebSocket(url)
        ws.sock.settimeout(0.1)
        try:
            ws._feed(ws.sock.recv(65536))  # a refusal is a close frame right after the handshake
        except TimeoutError:
            pass
        ws.sock.settimeout(10)
        if ws.close is None:
            return ws
        ws.shutdown()
        assert time.monotonic() < deadline, f"the server refused every socket for {timeout:g} s: {ws.close}"
        time.sleep(0.1)

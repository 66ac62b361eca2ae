"""How uvicorn serves Loss Lab: one set of options for ``python -m app`` and ``losslab serve``.

uvicorn alone holds an unfinished header block in memory without limit (with httptools) and
never times out a connection that sends nothing, or trickles its request line and headers. So
Loss Lab runs uvicorn's h11 protocol, whose buffer for an unfinished request head is bounded
(``LOSSLAB_MAX_HEADER_BYTES``: past it, a 400 and the connection closed), with one addition: a
connection has ``LOSSLAB_REQUEST_TIMEOUT`` seconds, from when it opens or its last response
ended, to deliver a whole request head; then it gets a 408 and is closed. (The body has its own
deadline in app.core.limits; WebSocket messages are bounded by ``ws_max_size``.)
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.core.config import Settings, get_settings

REQUEST_TIMEOUT_BODY = b'{"detail":"the request line and headers did not arrive in time (LOSSLAB_REQUEST_TIMEOUT)",' \
                       b'"message":"request timeout"}'


class LossLabH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on reading each request head."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.head_timeout = get_settings().request_timeout
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the head is in (or the connection is done or upgraded)
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on this keep-alive connection gets its own deadline

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.our_state is h11.IDLE and self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
            # Part of a request head arrived: say why it is refused (a client that sent nothing gets no answer).
            head = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                    b"content-length: %d\r\n\r\n" % len(REQUEST_TIMEOUT_BODY))
            self.transport.write(head + REQUEST_TIMEOUT_BODY)
        self.transport.close()


def uvicorn_options(settings: Settings | None = None) -> dict:
    """Keyword arguments for ``uvicorn.run`` that apply Loss Lab's limits."""
    s = settings or get_settings()
    return dict(
        http=LossLabH11Protocol,
        h11_max_incomplete_event_size=s.max_header_bytes,
        limit_concurrency=s.max_connections,
        # Above the app's own limit, so an oversized message gets an 'error' reply, not a dropped socket.
        ws_max_size=max(4 * s.max_body_bytes, 1 << 20),
        # No per-message deflate on the run socket: the server's CPU is what a class waits for, and
        # compressing every chunk cost more than it saves on a LAN (a streamed 4 × 500-step run, best of 12:
        # 4.3 → 2.7 ms; 4 × 10,000 steps: 52 → 43 ms, on loopback). HTTP responses still gzip when asked.
        ws_per_message_deflate=False,
        timeout_keep_alive=5,
    )

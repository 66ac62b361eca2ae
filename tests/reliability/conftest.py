"""Fixtures for the reliability tests: a real server with small caps, and the app in-process."""

from __future__ import annotations

import json

import anyio
import pytest
from fastapi.testclient import TestClient

from app.main import app

from .server import Server

#: Settings of the shared real server: a few sockets, half a second of compute per request, one CORS origin.
MAX_WEBSOCKETS = 3
COMPUTE_TIMEOUT = 0.5
CORS_ORIGIN = "http://class.example"


def _reject_constant(name: str):
    raise ValueError(f"non-finite JSON constant {name}")


def parse_strict(text: str):
    """json.loads that refuses NaN, Infinity and -Infinity, as a browser's JSON.parse does."""
    return json.loads(text, parse_constant=_reject_constant)


@pytest.fixture(scope="session")
def capped_server():
    """A real server with the settings above (LOSSLAB_MAX_WEBSOCKETS, _COMPUTE_TIMEOUT, _CORS_ORIGINS)."""
    with Server(LOSSLAB_MAX_WEBSOCKETS=str(MAX_WEBSOCKETS), LOSSLAB_COMPUTE_TIMEOUT=str(COMPUTE_TIMEOUT),
                LOSSLAB_CORS_ORIGINS=f'["{CORS_ORIGIN}"]') as server:
        yield server
    assert "Traceback" not in server.log(), server.log()[-3000:]


@pytest.fixture(scope="session")
def client():
    # raise_server_exceptions=False: a server error must show up as the 500 a client would see.
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def ws_recv():
    """Receive one WebSocket message within a time limit (TestClient's own receive can wait forever)."""

    def recv(ws, timeout: float = 10.0) -> dict:
        async def _get():
            with anyio.fail_after(timeout):
                return await ws._send_rx.receive()

        message = ws.portal.call(_get)
        assert message["type"] == "websocket.send", f"socket closed: {message}"
        return parse_strict(message["text"])

    return recv

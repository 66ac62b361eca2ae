"""Fixtures for the reliability tests: a real server with small caps, and the app in-process."""

from __future__ import annotations


import pytest
from fastapi.testclient import TestClient
from testkit import parse_strict, receive_json  # noqa: F401  (parse_strict: re-exported for the tests)

from app.main import app

from .server import Server

#: Settings of the shared real server: a few sockets, half a second of compute per request, one CORS origin.
MAX_WEBSOCKETS = 3
COMPUTE_TIMEOUT = 0.5
CORS_ORIGIN = "http://class.example"




@pytest.fixture(scope="session")
def capped_server():
    """A real server with the settings above (LOSSLAB_MAX_WEBSOCKETS, _COMPUTE_TIMEOUT, _CORS_ORIGINS), on the
    numpy reference (LOSSLAB_ACCEL=0), whose big runs and sweeps really take seconds: the caps are what is tested."""
    with Server(LOSSLAB_ACCEL="0", LOSSLAB_MAX_WEBSOCKETS=str(MAX_WEBSOCKETS), LOSSLAB_COMPUTE_TIMEOUT=str(COMPUTE_TIMEOUT),
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

    return receive_json

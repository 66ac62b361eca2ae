"""Fixtures for the API tests: one TestClient on the real app, a strict JSON parser and the public example."""

from __future__ import annotations

import copy
import time

import pytest
from fastapi.testclient import TestClient
from testkit import parse_strict, receive_json  # noqa: F401  (parse_strict: re-exported for the tests)

from app.main import app as _app

#: The public example of POST /api/run (issue 3), also the schema's example.
EXAMPLE = {
    "surface": {"name": "quadratic", "params": {"lambda_1": 1, "lambda_2": 10, "rotation": 30}},
    "optimizers": [{"name": "momentum", "params": {"lr": 0.05, "momentum": 0.9}}],
    "start": [-1.5, 2.0], "steps": 200, "tol": 0, "seed": 0,
}




@pytest.fixture(scope="session")
def app():
    return _app


@pytest.fixture(scope="session")
def client(app):
    # raise_server_exceptions=False: a server error must show up as a 500 the tests assert against.
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def example() -> dict:
    """A fresh deep copy of the public example body."""
    return copy.deepcopy(EXAMPLE)


@pytest.fixture(scope="session")
def strict_json():
    return parse_strict


@pytest.fixture(scope="session")
def ws_recv():
    """Receive one WebSocket message within a time limit (TestClient's own receive can wait forever)."""

    return receive_json


@pytest.fixture(scope="session")
def wait_until():
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; returns its last value."""

    def wait(predicate, timeout: float = 5.0, interval: float = 0.01):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(interval)

    return wait

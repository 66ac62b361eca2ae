"""The formula workers are shared fairly: a bounded queue, deadlines that count the wait, dead workers replaced.

In-process, with the pool's knobs turned down: every worker slot is held by the test (as slow formulas
would hold them), so what a new formula meets is exactly a full pool.
"""

from __future__ import annotations

import time

import pytest

from engine.formula import workers

from .conftest import parse_strict

_n = iter(range(10**6))


def fresh(base: str = "x**2 + y**2") -> str:
    return f"{base} + {next(_n)}*x*y"  # each its own text: answers are cached by text


@pytest.fixture
def full_pool(monkeypatch):
    """Every worker slot taken, as by MAX_WORKERS slow formulas; released afterwards."""
    monkeypatch.setattr(workers, "QUEUE_TIMEOUT", 0.5)
    held = 0
    while workers._slots.acquire(blocking=False):
        held += 1
    assert held == workers.MAX_WORKERS
    yield
    for _ in range(held):
        workers._slots.release()


def test_a_full_queue_answers_503_with_retry_after_at_once(client, full_pool, monkeypatch):
    monkeypatch.setattr(workers, "QUEUE_LIMIT", 0)
    client.post("/api/formula", json={"formula": fresh()})  # the route's first call warms up (imports, threads)
    t0 = time.monotonic()
    r = client.post("/api/formula", json={"formula": fresh()})
    took = time.monotonic() - t0
    assert r.status_code == 503 and took < 0.3, (r.status_code, took)
    assert r.headers["retry-after"] == "1"
    out = parse_strict(r.text)
    assert out["message"].startswith("formula: custom.formula: every formula worker is busy and 0 formulas are waiting")


def test_a_formula_that_waits_too_long_for_a_worker_gets_a_503_within_its_deadline(client, full_pool):
    t0 = time.monotonic()
    r = client.post("/api/run", json={"surface": {"name": "custom", "formula": fresh()}, "optimizers": [{"name": "gd"}],
                                      "start": [1, 1], "steps": 3})
    took = time.monotonic() - t0
    assert r.status_code == 503, r.text[:300]
    assert 0.4 < took < 1.5
    assert "stayed busy for 0.5 s" in parse_strict(r.text)["message"]
    assert r.headers["retry-after"] == "1"


def test_busy_is_not_cached_against_the_formula(client, full_pool):
    text = fresh()
    assert client.post("/api/formula", json={"formula": text}).status_code == 503
    for _ in range(workers.MAX_WORKERS):
        workers._slots.release()
    try:
        r = client.post("/api/formula", json={"formula": text})
        assert r.status_code == 200, r.text[:300]
    finally:
        for _ in range(workers.MAX_WORKERS):
            workers._slots.acquire()


def test_the_streamed_run_gets_the_503_as_an_error_message(client, ws_recv, full_pool, monkeypatch):
    monkeypatch.setattr(workers, "QUEUE_LIMIT", 0)
    with client.websocket_connect("/ws/run") as ws:
        ws.send_json({"id": 5, "surface": {"name": "custom", "formula": fresh()}, "optimizers": [{"name": "gd"}],
                      "start": [1, 1], "steps": 3})
        m = ws_recv(ws)
        assert (m["type"], m["id"], m["status"]) == ("error", 5, 503)


def test_a_worker_killed_while_idle_is_replaced_before_it_is_needed(client):
    assert client.post("/api/formula", json={"formula": fresh()}).status_code == 200
    with workers._pool_lock:
        idle = list(workers._idle)
    assert idle
    for worker in idle:
        worker.proc.kill()  # as the kernel's OOM killer might
        worker.proc.wait()
    r = client.post("/api/formula", json={"formula": fresh()})
    assert r.status_code == 200, r.text[:300]  # not "the formula worker stopped before it answered"


def test_a_worker_that_dies_mid_formula_is_replaced_at_once(client, monkeypatch):
    assert client.post("/api/formula", json={"formula": fresh()}).status_code == 200
    real_ask = workers.Worker.ask

    def dying_ask(self, text):
        self.proc.kill()
        self.proc.wait()
        return real_ask(self, text)

    monkeypatch.setattr(workers.Worker, "ask", dying_ask)
    r = client.post("/api/formula", json={"formula": fresh()})
    assert r.status_code == 422 and "worker stopped" in parse_strict(r.text)["message"]
    monkeypatch.setattr(workers.Worker, "ask", real_ask)
    with workers._pool_lock:
        assert any(w.proc.poll() is None for w in workers._idle), "no replacement was started"
    r = client.post("/api/formula", json={"formula": fresh()})
    assert r.status_code == 200

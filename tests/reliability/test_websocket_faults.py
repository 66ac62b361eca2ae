"""WS /ws/run against a real uvicorn server: a client that never reads, many sockets at once, and bugs.

tests/api/routes/test_stream.py covers the protocol in-process (bad messages, floods, cancellation,
a disconnect stopping the work). These are the cases that need real sockets and kernel buffers, or
that make the server itself fail.
"""

from __future__ import annotations

import math
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.services import compute

from .bodies import big_run, small_run
from .conftest import MAX_WEBSOCKETS
from .server import RawWebSocket, Server, cpu_flat, open_socket, wait_idle

SEND_TIMEOUT = 0.5


def _done(rid):
    return lambda m: m.get("id") == rid and m["type"] in ("done", "error")


def test_a_client_that_never_reads_is_dropped():
    """Bounded buffering: once a send waits SEND_TIMEOUT, the run stops, the slot frees, and the socket closes 1008."""
    with Server(LOSSLAB_WS_SEND_TIMEOUT=str(SEND_TIMEOUT), LOSSLAB_MAX_WEBSOCKETS="1") as server:
        wait_idle(server)  # so that the CPU check below sees this run, not start-up work
        # A 4 KiB receive buffer: the server's buffers fill after a few megabytes of a ~12 MB stream.
        reader = RawWebSocket(server.ws_url, rcvbuf=4096)
        reader.send_json(big_run("never-read", surface="quadratic"))

        # The only slot comes free once the server gives up on the reader: a new client runs normally.
        deadline = time.monotonic() + 10
        while True:
            other = RawWebSocket(server.ws_url)
            other.send_json(small_run("other"))
            try:
                assert other.read_until(_done("other"))["type"] == "done"
                break
            except AssertionError:
                assert other.close is not None and other.close.code == 1013, other.close
                assert time.monotonic() < deadline, "the server kept the non-reading client's slot"
                time.sleep(0.2)
            finally:
                other.shutdown()
        assert cpu_flat(server), "the non-reading client's run kept computing"

        # Reading at last, the client gets the backlog (part of the run, never its end), then a clear close.
        reader.read_until_closed()
        assert reader.messages and all(m["id"] == "never-read" and m["type"] == "chunk" for m in reader.messages)
        assert reader.close is not None, "the connection ended without a close frame"
        assert reader.close.code == 1008
        assert reader.close.reason == (f"the client did not read for {SEND_TIMEOUT:g} s (LOSSLAB_WS_SEND_TIMEOUT); "
                                       "dropped")
        reader.shutdown()
    assert "Traceback" not in server.log(), server.log()[-3000:]


def test_many_sockets_at_once_beyond_the_cap_are_refused_cleanly():
    """Twelve sockets at once: MAX_WEBSOCKETS are served, the rest closed with 1013 and the limit."""
    with Server(LOSSLAB_MAX_WEBSOCKETS=str(MAX_WEBSOCKETS)) as server:  # its own: no slot held by another test
        _many_sockets_at_once(server)
    assert "Traceback" not in server.log(), server.log()[-3000:]


def _many_sockets_at_once(server: Server) -> None:
    def attempt(i):
        ws = RawWebSocket(server.ws_url)
        ws.send_json(small_run(i))
        try:
            ws.read_until(_done(i), timeout=15)
        except AssertionError:
            pass
        return ws

    with ThreadPoolExecutor(12) as pool:
        sockets = list(pool.map(attempt, range(12)))
    served = [ws for ws in sockets if ws.close is None]
    refused = [ws for ws in sockets if ws.close is not None]
    assert len(served) == MAX_WEBSOCKETS
    for ws in served:
        assert ws.messages[-1]["type"] == "done"
    for ws in refused:
        assert ws.messages == []
        assert (ws.close.code, ws.close.reason) == (1013, f"too many connections (limit {MAX_WEBSOCKETS}); "
                                                          "try again later")
    # Plain HTTP is not part of the cap, and a freed slot is taken by the next socket.
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as r:
        assert r.status == 200
    served[0].shutdown()
    deadline = time.monotonic() + 5
    while True:
        again = RawWebSocket(server.ws_url)
        again.send_json(small_run("again"))
        try:
            assert again.read_until(_done("again"))["type"] == "done"
            break
        except AssertionError:
            assert time.monotonic() < deadline, "the closed socket's slot was not released"
            time.sleep(0.1)
        finally:
            again.shutdown()
    for ws in sockets:
        ws.shutdown()


@pytest.mark.parametrize("optimizers, surface, params, start", [
    ([{"name": "newton", "params": {"lr": 1.0}}], "saddle", {}, [0.5, 0.5]),          # indefinite Hessian
    ([{"name": "adam", "params": {"eps": 0.0}}], "quadratic", {}, [0.0, 0.0]),         # 0 / 0 at the minimum
    ([{"name": "gd", "params": {"lr": 10.0}}, {"name": "adam", "params": {"lr": 10.0}}], "logistic_neuron",
     {"loss": "l2"}, [26.0, -18.0]),                                                   # exp overflow
    ([{"name": "newton", "params": {"lr": 10.0}}], "two_weight_net", {"activation": "relu"}, [-12.0, 18.0]),
    ([{"name": "gd", "params": {"lr": 10.0}}], "quadratic", {"lambda_2": 1000}, [1.0, 1.0]),  # blows up at once
])
def test_streamed_blowups_carry_only_finite_numbers(capped_server, optimizers, surface, params, start):
    """What the engine cannot compute ends the run 'diverged'; no message ever carries NaN or Infinity."""
    ws = open_socket(capped_server.ws_url)  # parses every message strictly, as JSON.parse does
    try:
        ws.send_json({"id": 1, "surface": {"name": surface, "params": params}, "optimizers": optimizers,
                      "start": start, "steps": 300})
        done = ws.read_until(_done(1))
        assert done["type"] == "done"
        assert all(r["status"] in ("converged", "diverged", "max_steps") for r in done["runs"])
        for m in ws.messages[:-1]:
            values = [v for p in m["points"] for v in p] + m["losses"] + m["grad_norms"]
            assert all(isinstance(v, float) and math.isfinite(v) for v in values), m
    finally:
        ws.shutdown()


# --- bugs: the server's own failures still answer -----------------------------------

@pytest.fixture
def broken_chunks(monkeypatch):
    """Runs of exactly 13 steps raise inside the engine after their first chunk; others run as usual."""
    original = compute.RunPlan.chunks

    def chunks(self, chunk_size):
        gen = original(self, chunk_size)
        if self.req.steps != 13:
            return gen

        def failing():
            yield next(gen)
            raise RuntimeError("boom: a bug in the engine")
        return failing()

    monkeypatch.setattr(compute.RunPlan, "chunks", chunks)


def test_an_unexpected_error_mid_stream_becomes_an_error_message(client, ws_recv, broken_chunks, caplog):
    with client.websocket_connect("/ws/run") as ws:
        ws.send_json(small_run("bug", steps=13))
        first = ws_recv(ws)
        assert first["type"] == "chunk" and first["id"] == "bug"
        err = ws_recv(ws)
        assert err == {"type": "error", "id": "bug", "status": 500,
                       "detail": "internal error while running; it has been logged",
                       "message": "internal error while running; it has been logged"}
        # The socket still serves the next request.
        ws.send_json(small_run("next"))
        while (m := ws_recv(ws))["type"] == "chunk":
            pass
        assert m["type"] == "done" and m["id"] == "next"
    assert "boom: a bug in the engine" in caplog.text  # logged for the operator, never sent to the client


def test_an_unexpected_error_building_the_scene_becomes_an_error_message(client, ws_recv, monkeypatch):
    def broken(self, req):
        raise ZeroDivisionError("a bug in scene building")

    with client.websocket_connect("/ws/run") as ws:
        monkeypatch.setattr(compute.RunPlan, "__init__", broken)
        ws.send_json(small_run(7))
        err = ws_recv(ws)
        assert (err["type"], err["id"], err["status"]) == ("error", 7, 500)
        assert err["message"] == "internal error while reading the request; it has been logged"
        monkeypatch.undo()
        ws.send_json(small_run(8))
        while (m := ws_recv(ws))["type"] == "chunk":
            pass
        assert m["type"] == "done"


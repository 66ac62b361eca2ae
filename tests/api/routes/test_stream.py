"""WS /ws/run: chunks, done, errors, cancellation by a new request, and a disconnect stopping the work."""

import math
import time

import pytest
from starlette.websockets import WebSocketDisconnect

from app.core.config import get_settings

ALL_EIGHT = [{"name": "gd", "params": {"lr": 0.01}}, {"name": "momentum"}, {"name": "nesterov"}, {"name": "adam"},
             {"name": "rmsprop"}, {"name": "adagrad"}, {"name": "newton", "params": {"lr": 0.001}},
             {"name": "sgd", "params": {"lr": 0.01, "noise": 0.5}}]


def long_body(rid):
    """8 optimizers × 20000 steps on a surface the compiled fast path does not cover (the numpy
    reference, ~50-step chunks): seconds of work, far longer than any test waits for."""
    return {"id": rid, "surface": {"name": "landscape"}, "optimizers": ALL_EIGHT, "start": [-1.5, 2.0],
            "steps": 20000, "tol": 0}


def short_body(rid, steps=20):
    return {"id": rid, "surface": {"name": "quadratic"}, "optimizers": [{"name": "gd"}], "start": [1.0, 1.0],
            "steps": steps}


def until_done(ws, recv, rid, timeout=10.0):
    """Messages up to and including the 'done' (or 'error') of request ``rid``."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        msg = recv(ws, timeout=max(0.1, deadline - time.monotonic()))
        out.append(msg)
        if msg.get("id") == rid and msg["type"] in ("done", "error"):
            return out


def request(ws, recv, body) -> list[dict]:
    """Send one request and return its messages, up to its 'done' or 'error'."""
    ws.send_json(body)
    return until_done(ws, recv, body["id"])


def assert_usable(ws, recv, rid="after"):
    """A valid request on this socket still runs to the end."""
    msgs = request(ws, recv, short_body(rid))
    assert msgs[-1]["type"] == "done", msgs[-1]
    assert msgs[-1]["runs"] == [{"status": "max_steps", "steps_taken": 20}]


def test_chunks_concatenate_to_the_post_result(client, ws_recv, strict_json, example):
    example["optimizers"].append({"name": "gd", "params": {"lr": 0.21}})        # diverges part-way
    example["optimizers"].append({"name": "adam", "params": {"lr": 0.1}})
    example["steps"] = 600
    post = client.post("/api/run", json=example)
    assert post.status_code == 200
    runs = strict_json(post.text)["runs"]

    with client.websocket_connect("/ws/run") as ws:
        ws.send_json({**example, "id": "abc"})
        msgs = until_done(ws, ws_recv, "abc")

    assert all(m["id"] == "abc" for m in msgs)
    *chunks, done = msgs
    assert done["type"] == "done"
    assert all(m["type"] == "chunk" for m in chunks)
    assert len(chunks) > 1, "a 600-step run should arrive in more than one message"
    streamed = {i: {"points": [], "losses": [], "grad_norms": []} for i in range(len(runs))}
    for m in chunks:
        s = streamed[m["run"]]
        assert m["first"] == len(s["points"]), "chunks must arrive in order, without gaps"
        assert len(m["points"]) == len(m["losses"]) == len(m["grad_norms"]) > 0
        for key in s:
            s[key].extend(m[key])
    for i, run in enumerate(runs):
        assert streamed[i]["points"] == run["points"], i
        assert streamed[i]["losses"] == run["losses"], i
        assert streamed[i]["grad_norms"] == run["grad_norms"], i
    assert done["runs"] == [{"status": r["status"], "steps_taken": r["steps_taken"]} for r in runs]
    assert [r["status"] for r in runs] == ["max_steps", "diverged", "max_steps"]


def test_first_message_is_the_start_point(client, ws_recv):
    with client.websocket_connect("/ws/run") as ws:
        ws.send_json(short_body(5))
        first = ws_recv(ws)
        # Default bowl: λ = 1, 10 at 30°, so ½ xᵀAx at (1, 1) is ½ (11 − 9 sin 60°).
        assert first == {"type": "chunk", "id": 5, "run": 0, "first": 0, "points": [[1.0, 1.0]],
                         "losses": [pytest.approx(0.5 * (11 - 9 * math.sin(math.pi / 3)), rel=1e-12)],
                         "grad_norms": first["grad_norms"]}
        until_done(ws, ws_recv, 5)


def test_request_without_id_gets_null_id(client, ws_recv):
    with client.websocket_connect("/ws/run") as ws:
        body = short_body(None)
        del body["id"]
        ws.send_json(body)
        msgs = until_done(ws, ws_recv, None)
        assert msgs[-1]["type"] == "done" and all(m["id"] is None for m in msgs)


def test_binary_frames_are_accepted(client, ws_recv):
    with client.websocket_connect("/ws/run") as ws:
        ws.send_json(short_body("bin"), mode="binary")
        assert until_done(ws, ws_recv, "bin")[-1]["type"] == "done"


def test_second_request_cancels_the_first(client, app, ws_recv, wait_until):
    metrics = app.state.metrics
    with client.websocket_connect("/ws/run") as ws:
        ws.send_json(long_body(1))
        assert ws_recv(ws)["id"] == 1
        ws.send_json(short_body(2))
        seen_second = False
        for msg in until_done(ws, ws_recv, 2):
            if msg["id"] == 2:
                seen_second = True
            else:
                assert msg["id"] == 1 and msg["type"] == "chunk"
                assert not seen_second, "a chunk of the cancelled run arrived after the new run's first message"
        # The socket is still in order, and the first run never comes back.
        msgs = request(ws, ws_recv, short_body(3))
        assert all(m["id"] == 3 for m in msgs)
        assert msgs[-1]["type"] == "done"
    assert wait_until(lambda: metrics.computing == 0, timeout=5), "the cancelled run is still computing"


def test_a_flood_of_requests_runs_only_the_latest(client, app, ws_recv, wait_until):
    with client.websocket_connect("/ws/run") as ws:
        for rid in range(10):
            ws.send_json(long_body(rid) if rid < 9 else short_body(rid, steps=200))
        msgs = until_done(ws, ws_recv, 9)
        dones = [m for m in msgs if m["type"] == "done"]
        assert [d["id"] for d in dones] == [9]
        first9 = next(i for i, m in enumerate(msgs) if m["id"] == 9)
        assert all(m["id"] == 9 for m in msgs[first9:])
        old = [m for m in msgs if m["id"] != 9]
        assert all(m["type"] == "chunk" and m["first"] == 0 for m in old), "an old run went past its start point"
    assert wait_until(lambda: app.state.metrics.computing == 0, timeout=5)


def test_invalid_json_gets_an_error_and_the_socket_stays_usable(client, ws_recv):
    with client.websocket_connect("/ws/run") as ws:
        ws.send_text("{not json")
        err = ws_recv(ws)
        assert err["type"] == "error" and err["status"] == 400 and err["id"] is None
        assert err["message"].startswith("message: not valid JSON")
        assert_usable(ws, ws_recv)


def test_invalid_body_gets_an_error_naming_the_field(client, ws_recv):
    with client.websocket_connect("/ws/run") as ws:
        ws.send_json({**short_body(7), "steps": 10**6})
        err = ws_recv(ws)
        assert err["type"] == "error" and err["status"] == 422 and err["id"] == 7
        assert err["message"] == f"steps: Input should be less than or equal to {get_settings().max_steps} (got 1000000)"
        ws.send_json({**short_body(8), "optimizers": [{"name": "lion"}]})
        err = ws_recv(ws)
        assert err["type"] == "error" and err["id"] == 8
        assert err["message"].startswith("optimizers.0.name: optimizer = 'lion' is not allowed: one of gd")
        ws.send_json({**short_body(9), "start": [1e5, 0]})
        err = ws_recv(ws)
        assert err["type"] == "error" and err["id"] == 9 and "start" in err["message"] and "too far off" in err["message"]
        assert_usable(ws, ws_recv)


def test_json_that_is_not_an_object_gets_an_error(client, ws_recv):
    with client.websocket_connect("/ws/run") as ws:
        for text in ["[]", "null", "42", '"run"']:
            ws.send_text(text)
            err = ws_recv(ws)
            assert err["type"] == "error" and err["status"] == 422 and err["id"] is None, text
            assert "valid dictionary" in err["message"], err["message"]
        assert_usable(ws, ws_recv)


def test_nan_in_a_websocket_request_is_refused(client, ws_recv):
    with client.websocket_connect("/ws/run") as ws:
        ws.send_text('{"id": 4, "surface": {"name": "quadratic"}, "optimizers": [{"name": "gd"}], "start": [NaN, 0]}')
        err = ws_recv(ws)
        assert err["type"] == "error" and err["id"] == 4
        assert err["message"].startswith("start.0: Input should be a finite number")
        assert_usable(ws, ws_recv)


def test_oversized_message_gets_an_error_and_the_socket_stays_usable(client, ws_recv):
    limit = get_settings().max_body_bytes
    with client.websocket_connect("/ws/run") as ws:
        ws.send_text(" " * (limit + 1))
        err = ws_recv(ws)
        assert err["type"] == "error" and err["status"] == 413
        assert err["message"] == f"message: message of {limit + 1} characters is too long: at most {limit}"
        assert_usable(ws, ws_recv)


def test_deeply_nested_message_gets_an_error(client, ws_recv):
    with client.websocket_connect("/ws/run") as ws:
        ws.send_text("[" * 10000 + "]" * 10000)
        err = ws_recv(ws)
        assert err["type"] == "error" and err["status"] in (400, 422)
        assert_usable(ws, ws_recv)


@pytest.mark.parametrize("rid", [2**64 + 1, -(2**64), 10**30])
def test_an_id_json_cannot_echo_is_refused(client, ws_recv, rid):
    """An id the server could not write back must be refused, not crash the stream silently."""
    with client.websocket_connect("/ws/run") as ws:
        ws.send_json(short_body(rid))
        err = ws_recv(ws, timeout=5)
        assert err["type"] == "error" and err["status"] == 422 and err["id"] is None
        assert err["message"].startswith("id"), err["message"]
        assert_usable(ws, ws_recv)


def test_a_bool_id_is_not_turned_into_a_number(client, ws_recv):
    with client.websocket_connect("/ws/run") as ws:
        ws.send_json(short_body(True))
        err = ws_recv(ws)
        assert err["type"] == "error" and err["status"] == 422
        assert err["message"].startswith("id"), err["message"]


def test_a_disconnect_stops_the_work(client, app, ws_recv, wait_until):
    metrics = app.state.metrics
    assert wait_until(lambda: metrics.computing == 0)
    sockets_before = metrics.websockets
    start_chunks = metrics.chunks_computed
    with client.websocket_connect("/ws/run") as ws:
        ws.send_json(long_body("bye"))
        assert ws_recv(ws)["id"] == "bye"
        # Let the run get well under way in its worker thread before hanging up.
        assert wait_until(lambda: metrics.chunks_computed >= start_chunks + 5), "the run did not start"
    # The socket is closed: the worker must notice at its next chunk and stop.
    assert wait_until(lambda: metrics.computing == 0, timeout=5), "the runner kept computing after the disconnect"
    settled = metrics.chunks_computed
    time.sleep(0.2)  # 8 engine chunks' worth of time: a live runner would have advanced
    assert metrics.chunks_computed == settled, "chunks were still computed after the disconnect"
    total = 20000 // 50 + 1
    assert settled - start_chunks < total / 2, "the run went on long after the disconnect"
    assert wait_until(lambda: metrics.websockets == sockets_before), "the connection was not released"


def test_too_many_sockets_are_refused_cleanly(client, app, ws_recv, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "max_websockets", app.state.metrics.websockets + 1)
    with client.websocket_connect("/ws/run") as first:
        # Accepted, then closed at once: a browser sees the code and reason only on an open socket.
        with client.websocket_connect("/ws/run") as over, pytest.raises(WebSocketDisconnect) as refused:
            over.receive_text()
        assert refused.value.code == 1013
        assert f"limit {settings.max_websockets}" in refused.value.reason
        assert_usable(first, ws_recv)
    # Once one closes, a new connection is welcome again.
    with client.websocket_connect("/ws/run") as again:
        assert_usable(again, ws_recv)

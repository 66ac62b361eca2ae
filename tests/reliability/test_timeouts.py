"""The compute-time cap (LOSSLAB_COMPUTE_TIMEOUT): a request that runs too long stops, and says why.

Against a real server started with a 0.5 s cap: whole runs, streamed runs and sweeps that would take
seconds end near the cap with a 422 (or an 'error' message) naming the limit and what to ask for instead.
"""

from __future__ import annotations

import importlib
import json
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import engine
from engine import accel
from app.core.config import get_settings
from app.services import compute

from .bodies import big_run, small_run
from .conftest import COMPUTE_TIMEOUT, parse_strict
from .server import open_socket

SWEEPS = importlib.import_module("engine.sweep")  # the module (engine.sweep is also its function)

RUN_MESSAGE = (f"steps: the computation took longer than the {COMPUTE_TIMEOUT:g} s limit on compute time per request; "
               "ask for fewer steps or optimizers")
SWEEP_MESSAGE = (f"steps: the computation took longer than the {COMPUTE_TIMEOUT:g} s limit on compute time per "
                 "request; ask for fewer steps or a smaller grid")
#: A 200 × 200 (η, β) sweep of 250 steps on the two-weight network: about two minutes without the cap.
BIG_SWEEP = {"surface": {"name": "two_weight_net"}, "start": [0.5, 0.5], "steps": 250,
             "lrs": {"min": 0.001, "max": 1, "n": 200}, "betas": {"n": 200}}


def post(server, path: str, body: dict) -> tuple[int, dict, float]:
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    return status, parse_strict(text), time.monotonic() - t0


def test_a_run_over_the_cap_gets_a_422_naming_the_limit(capped_server):
    status, out, took = post(capped_server, "/api/run", big_run())
    assert status == 422
    assert out["message"] == RUN_MESSAGE
    assert out["detail"][0]["loc"] == ["body", "steps"]
    assert took < 4, f"the run went on for {took:.1f} s past a {COMPUTE_TIMEOUT} s cap"
    # A small run on the same server is unaffected.
    status, out, _ = post(capped_server, "/api/run", small_run())
    assert status == 200 and out["runs"][0]["steps_taken"] == 20


def test_a_streamed_run_over_the_cap_gets_an_error_message(capped_server):
    ws = open_socket(capped_server.ws_url)
    try:
        ws.send_json(big_run("big"))
        err = ws.read_until(lambda m: m["type"] != "chunk", timeout=10)
        assert (err["type"], err["id"], err["status"], err["message"]) == ("error", "big", 422, RUN_MESSAGE)
        ws.send_json(small_run("small"))
        assert ws.read_until(lambda m: m["id"] == "small" and m["type"] != "chunk")["type"] == "done"
    finally:
        ws.shutdown()


def test_a_sweep_over_the_cap_gets_a_422_naming_the_limit(capped_server):
    status, out, took = post(capped_server, "/api/sweep", BIG_SWEEP)
    assert status == 422
    assert out["message"] == SWEEP_MESSAGE
    assert took < 4, f"the sweep went on for {took:.1f} s past a {COMPUTE_TIMEOUT} s cap"


def test_a_sweep_of_one_cell_stops_at_the_cap(client, monkeypatch):
    """One cell is one slice: the deadline is checked between runs of its steps too (it was never checked)."""
    monkeypatch.setattr(get_settings(), "compute_timeout", 0.3)
    monkeypatch.setattr(SWEEPS, "CHECK_WORK", 200)  # a check every 200 steps of the one cell
    monkeypatch.setattr(accel, "_ENV_ON", False)  # the numpy reference, in every thread: seconds for this cell
    body = {"surface": {"name": "two_weight_net"}, "optimizer": {"name": "sgd", "params": {"noise": 0.5}},
            "start": [0.5, 0.5], "steps": 20000, "lrs": {"min": 0.01, "max": 0.01, "n": 1}}
    t0 = time.monotonic()
    r = client.post("/api/sweep", json=body)
    took = time.monotonic() - t0
    assert r.status_code == 422, r.text[:300]
    assert "limit on compute time" in parse_strict(r.text)["message"]
    assert took < 2.5, f"a one-cell sweep went on for {took:.1f} s past a 0.3 s cap"


@pytest.mark.parametrize("surface, optimizer, params, with_betas", [
    ("quadratic", "momentum", {}, True),
    ("two_weight_net", "sgd", {"batch_size": 4, "noise": 0.3, "seed": 2}, True),
    ("logistic_neuron", "adam", {}, False),
    ("landscape", "nesterov", {}, True),
])
def test_a_sweep_in_slices_gives_the_same_numbers_as_one_call(monkeypatch, surface, optimizer, params, with_betas):
    """The cap is checked between slices of the grid; slicing must not change a single cell."""
    monkeypatch.setattr(SWEEPS, "SLICE_SECONDS", 0.0)  # slices of one row or column: the finest split
    s = engine.make_surface(surface)
    lrs, betas = np.geomspace(1e-3, 1, 7), (np.linspace(0, 0.95, 5) if with_betas else None)
    kw = dict(start=np.array([0.3, -0.2]), steps=60, tol=1e-6, params=params, seed=3)
    whole = engine.sweep(s, optimizer, lrs, betas, **kw)
    sliced = engine.sweep_in_slices(s, optimizer, lrs, betas, **kw)
    np.testing.assert_array_equal(sliced.final_loss, whole.final_loss)
    np.testing.assert_array_equal(sliced.steps_to_tol, whole.steps_to_tol)
    np.testing.assert_array_equal(sliced.diverged, whole.diverged)


def test_a_grid_over_the_cap_gets_a_422_naming_the_limit(client, monkeypatch):
    """The cap is checked before and between blocks of rows: with a cap already passed, no grid is computed.

    In-process with a vanishing cap, because no grid is reliably slower than a real cap: the largest
    (400 × 400) takes a few tenths of a second on any surface. Even a grid of one block is refused
    (the check before the first slice), and is computed once the cap allows it.
    """
    monkeypatch.setattr(get_settings(), "compute_timeout", 1e-9)
    r = client.post("/api/grid", json={"surface": {"name": "landscape"}, "n": 400})
    assert r.status_code == 422
    assert parse_strict(r.text)["message"] == ("n: the computation took longer than the 1e-09 s limit on compute "
                                               "time per request; ask for a smaller n")
    r = client.post("/api/grid", json={"surface": {"name": "landscape"}, "n": 40})
    assert r.status_code == 422
    monkeypatch.setattr(get_settings(), "compute_timeout", 10.0)
    r = client.post("/api/grid", json={"surface": {"name": "landscape"}, "n": 40})
    assert r.status_code == 200 and len(r.json()["z"]) == 40


@pytest.mark.parametrize("name, params, view", [
    ("quadratic", {}, None), ("rosenbrock", {}, (-50.0, 50.0, -30.0, 30.0)), ("landscape", {}, None),
    ("two_weight_net", {"activation": "relu"}, None), ("logistic_neuron", {"loss": "l2"}, (-40.0, 40.0, -40.0, 40.0)),
])
def test_a_grid_in_blocks_gives_the_same_numbers_as_one_call(monkeypatch, name, params, view):
    monkeypatch.setattr(compute, "GRID_BLOCK_CELLS", 1)  # one row at a time
    s = engine.make_surface(name, **params)
    for whole, blocks in zip(s.grid(37, view), compute._grid_in_blocks(s, 37, view)):
        np.testing.assert_array_equal(blocks, whole)

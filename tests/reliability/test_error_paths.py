"""An error path never raises: any text and any number, in any field, gets a 4xx (or a 200) in strict JSON.

Property tests (hypothesis, derandomized) over arbitrary unicode, lone UTF-16 surrogates included, and
arbitrary numbers (integers of hundreds of digits, NaN, ±Infinity), in every field of every POST route
and of the WebSocket's messages. Also the three faults this class was found by, one test each, the
security headers on a 500, and the grad_norms a run can hold.
"""

from __future__ import annotations

import json
import math

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.config import get_settings
from app.core.security import security_headers
from app.schemas import RunResponse

from .conftest import parse_strict

S = get_settings()
PROPERTY = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

#: Text of every kind: any code point (surrogates too, which JSON carries as \\udXXX escapes), of any length.
TEXT = st.one_of(st.text(st.characters(codec=None, exclude_categories=()), max_size=120),
                 st.sampled_from(["\ud800", "a\udfffb", "\udbff\udc00\ud800", "𝑥\x00", "‮x", "\uffff"]),
                 st.text(max_size=5).map(lambda s: s * 300))
#: Numbers of every kind: huge integers, floats at the edges, NaN and ±Infinity (sent as JSON literals).
NUMBER = st.one_of(st.integers(), st.integers(min_value=10**18, max_value=10**700), st.floats(),
                   st.sampled_from([1e308, -1e308, 5e-324, float("nan"), float("inf"), -float("inf"), 2**63, -(2**64)]))
VALUE = st.one_of(TEXT, NUMBER, st.booleans(), st.none(), st.lists(NUMBER, max_size=3), st.dictionaries(TEXT, NUMBER, max_size=2))

RUN = {"surface": {"name": "quadratic"}, "optimizers": [{"name": "gd"}], "start": [1.0, 1.0], "steps": 5}
BODIES = {
    "/api/run": RUN,
    "/api/grid": {"surface": {"name": "quadratic"}, "n": 5},
    "/api/sweep": {"surface": {"name": "quadratic"}, "start": [1.0, 1.0], "steps": 5, "lrs": {"min": 0.1, "max": 1, "n": 2}},
    "/api/theory": {"surface": {"name": "quadratic"}, "point": [1.0, 1.0]},
    "/api/formula": {"formula": "x**2 + y"},
}
#: Every place a value can go, per route: (path into the body, …).
SPOTS = {
    "/api/run": [("surface", "name"), ("surface", "params", "lambda_1"), ("surface", "params", "{key}"),
                 ("surface", "formula"), ("optimizers", 0, "name"), ("optimizers", 0, "params", "lr"),
                 ("optimizers", 0, "params", "{key}"), ("start", 0), ("steps",), ("tol",), ("seed",), ("{key}",)],
    "/api/grid": [("surface", "name"), ("n",), ("view",), ("surface", "params", "rotation")],
    "/api/sweep": [("lrs", "min"), ("lrs", "n"), ("betas",), ("optimizer",), ("start", 1), ("tol",)],
    "/api/theory": [("point", 0), ("batch_sizes",), ("points",), ("optimizers",), ("backprop",)],
    "/api/formula": [("formula",), ("{key}",)],
}


def put(body, path, value, key):
    body = json.loads(json.dumps(body))
    where = body
    for step in path[:-1]:
        step = key if step == "{key}" else step
        if isinstance(where, dict):
            where = where.setdefault(step, {})
        else:
            where = where[step]
    last = key if path[-1] == "{key}" else path[-1]
    where[last] = value
    return body


def encode(body) -> bytes:
    # ensure_ascii: lone surrogates travel as \\ud800 escapes, as a browser's JSON.stringify writes them.
    return json.dumps(body, ensure_ascii=True, allow_nan=True).encode()


def assert_clean(r):
    assert r.status_code < 500, r.text[:500]
    out = parse_strict(r.text)
    if r.status_code >= 400:
        assert isinstance(out["message"], str) and out["message"], out
        assert len(r.content) < 20_000, "an error echoed too much"
    return out


@pytest.mark.parametrize("route", sorted(SPOTS))
@PROPERTY
@given(data=st.data())
def test_any_value_in_any_field_gets_a_clean_answer(client, route, data):
    spot = data.draw(st.sampled_from(SPOTS[route]))
    value = data.draw(VALUE)
    key = data.draw(TEXT)
    body = put(BODIES[route], spot, value, key)
    r = client.post(route, content=encode(body), headers={"content-type": "application/json"})
    assert_clean(r)


@PROPERTY
@given(value=VALUE, spot=st.sampled_from(SPOTS["/api/run"]), key=TEXT)
def test_any_value_over_the_websocket_gets_an_error_message_not_a_dropped_socket(client, ws_recv, value, spot, key):
    body = put({**RUN, "id": 1}, spot, value, key)
    with client.websocket_connect("/ws/run") as ws:
        ws.send_text(encode(body).decode())
        while True:
            m = ws_recv(ws)
            if m["type"] in ("done", "error"):
                break
        if m["type"] == "error":
            assert m["status"] < 500 and m["message"], m


@PROPERTY
@given(n=st.one_of(st.integers(), st.integers(min_value=10**6, max_value=10**490)), text=TEXT)
def test_any_number_or_text_in_a_formula_gets_a_clean_refusal(client, n, text):
    for formula in [f"x*{n} + y", f"{n}**x", f"x**{n}", f"sin({n}.5e{abs(n) % 400})", text[:500]]:
        r = client.post("/api/formula", content=encode({"formula": formula[:500]}),
                        headers={"content-type": "application/json"})
        out = assert_clean(r)
        if r.status_code == 422:
            assert out["detail"][0]["loc"] == ["body", "formula"]


# --- the three faults found, one each --------------------------------------------------------

def test_a_lone_surrogate_gets_a_422_naming_the_field(client):
    r = client.post("/api/run", content=b'{"surface": {"name": "qu\\ud800"}, "optimizers": [{"name": "gd"}], '
                                        b'"start": [0, 0]}', headers={"content-type": "application/json"})
    out = assert_clean(r)
    assert r.status_code == 422 and out["message"].startswith("surface.name: surface = ")
    r = client.post("/api/formula", content=b'{"formula": "x + \\udc00"}', headers={"content-type": "application/json"})
    assert assert_clean(r)["message"].startswith("formula: ")


def test_a_lone_surrogate_over_the_websocket_gets_an_error_message(client, ws_recv):
    with client.websocket_connect("/ws/run") as ws:
        ws.send_text('{"id": "s", "surface": {"name": "custom", "formula": "x\\ud800"}, "optimizers": [{"name": "gd"}], '
                     '"start": [0, 0]}')
        m = ws_recv(ws)
        assert m["type"] == "error" and m["status"] == 422 and m["id"] == "s"
        assert m["message"].startswith("surface.formula")


def test_a_literal_too_large_for_a_float_is_refused_by_its_size(client):
    r = client.post("/api/formula", json={"formula": "1" + "0" * 400 + "*x"})
    out = assert_clean(r)
    assert r.status_code == 422
    assert "the number 100000…(401 digits) is too large: at most 1e+06" in out["message"]
    assert out["detail"][0]["ctx"]["column"] == 1


def test_json_nested_too_deep_is_a_400_naming_the_limit(client, ws_recv):
    r = client.post("/api/sweep", content="[" * 5000 + "]" * 5000, headers={"content-type": "application/json"})
    out = assert_clean(r)
    assert r.status_code == 400
    assert out["message"] == (f"JSON nested 5000 levels deep is not allowed: at most {S.max_json_depth} levels "
                              "(LOSSLAB_MAX_JSON_DEPTH)")
    with client.websocket_connect("/ws/run") as ws:
        ws.send_text('{"a":' * 3000 + "1" + "}" * 3000)
        m = ws_recv(ws)
        assert m["type"] == "error" and m["status"] == 400
        assert m["message"].startswith("message: JSON nested 3000 levels deep is not allowed")


def test_an_integer_beyond_python_s_string_limit_is_refused_cleanly(client):
    for body in ['{"formula": "x", "n": ' + "9" * 5000 + "}",
                 '{"surface": {"name": "quadratic", "params": {"lambda_1": ' + "9" * 5000 + '}}, "n": 4}']:
        r = client.post("/api/grid", content=body, headers={"content-type": "application/json"})
        assert_clean(r)
        assert 400 <= r.status_code < 500


# --- the contract on the way out ------------------------------------------------------------------

def test_a_500_carries_the_security_headers_and_says_nothing_inside():
    from app.main import create_app

    app: FastAPI = create_app()

    @app.get("/boom")
    async def boom():
        raise RuntimeError("secret path /home/someone")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    expected = {k.decode(): v.decode() for k, v in security_headers(get_settings().frame_ancestors)}
    assert expected and all(r.headers.get(k) == v for k, v in expected.items()), dict(r.headers)
    assert parse_strict(r.text) == {"detail": "internal error; it has been logged", "message": "internal error"}


def test_an_infinite_slope_at_the_start_is_null_in_grad_norms_as_the_schema_says(client):
    r = client.post("/api/run", json={"surface": {"name": "custom", "formula": "sqrt(abs(x)) + y**2"},
                                      "optimizers": [{"name": "gd"}], "start": [0.0, 1.0], "steps": 3})
    out = assert_clean(r)
    assert r.status_code == 200
    run = out["runs"][0]
    assert run["grad_norms"][0] is None and run["losses"][0] == 1.0
    RunResponse.model_validate(out)  # the published schema allows exactly this
    assert all(v is None or math.isfinite(v) for v in run["grad_norms"])

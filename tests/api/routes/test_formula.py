"""Custom surfaces through the API: every endpoint takes {"name": "custom", "formula": ..., "view": ...},
POST /api/formula checks a formula as one types, and a hostile formula is a 4xx naming its column."""

import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.api.routes import formula as formula_routes
from app.main import create_app
from engine import make_surface

CUSTOM = {"name": "custom", "formula": "x^2 + 3*y^2 + sin(2*x)", "view": [-2, 2, -2, 2]}
BARRIER = {"name": "custom", "formula": "x**2 + y**2 - log(x + 2)"}  # undefined for x ≤ −2


@pytest.fixture(scope="module")
def client():
    app = create_app()
    if not any(getattr(r, "path", None) == "/api/formula" for r in app.routes):  # until app/main.py includes it
        app.include_router(formula_routes.router)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def run_body(surface=CUSTOM, **over) -> dict:
    body = {"surface": surface, "optimizers": [{"name": "gd", "params": {"lr": 0.1}}, {"name": "newton"}],
            "start": [1.5, 1.0], "steps": 40}
    body.update(over)
    return body


def formula_error(r, loc: list) -> dict:
    assert r.status_code == 422, r.text
    [d] = r.json()["detail"]
    assert d["loc"] == loc
    assert f"at column {d['ctx']['column']};" in d["msg"] and "allowed: numbers" in d["msg"]
    return d


# --- each endpoint ------------------------------------------------------------

def test_run_on_a_custom_surface(client, strict_json):
    r = client.post("/api/run", json=run_body(start=[-0.3, 0.5]))
    assert r.status_code == 200, r.text
    body = strict_json(r.text)
    assert body["surface"]["name"] == "custom" and body["surface"]["view"] == [-2, 2, -2, 2]
    assert body["surface"]["params"] == {"formula": CUSTOM["formula"]}
    assert body["surface"]["expression"] == "x**2 + 3*y**2 + sin(2*x)"
    gd, newton = body["runs"]
    assert gd["status"] == newton["status"] == "max_steps" and len(gd["points"]) == 41
    [m] = body["surface"]["minima"]  # Newton, on exact Hessians, ends on the minimum
    assert newton["points"][-1] == pytest.approx(m, abs=1e-12)


def test_run_stepping_where_the_formula_is_undefined_ends_diverged_without_nan(client, strict_json):
    r = client.post("/api/run", json=run_body(BARRIER, optimizers=[{"name": "gd", "params": {"lr": 2.0}}],
                                              start=[-1.0, 1.0]))
    [run] = strict_json(r.text)["runs"]  # strict_json refuses NaN and Infinity
    assert (run["status"], run["steps_taken"], len(run["points"])) == ("diverged", 1, 2)


def test_websocket_streams_a_custom_surface(client, ws_recv):
    with client.websocket_connect("/ws/run") as ws:
        ws.send_json({**run_body(), "id": "f1"})
        points = 0
        while (msg := ws_recv(ws))["type"] == "chunk":
            points += len(msg["points"])
        # every step of both runs streamed (Newton leaves this non-convex surface: diverged, 10 view radii out)
        assert msg["type"] == "done" and msg["id"] == "f1" and points == sum(r["steps_taken"] + 1 for r in msg["runs"])
        assert [r["status"] for r in msg["runs"]][0] == "max_steps"
        ws.send_json({**run_body({"name": "custom", "formula": "x +* y"}), "id": "f2"})
        msg = ws_recv(ws)
        assert msg["type"] == "error" and msg["id"] == "f2" and msg["status"] == 422
        assert msg["detail"][0]["loc"] == ["body", "surface", "formula"] and msg["detail"][0]["ctx"] == {"column": 4}


def test_grid_has_gaps_where_the_formula_is_undefined(client, strict_json):
    r = client.post("/api/grid", json={"surface": BARRIER, "n": 7})
    body = strict_json(r.text)
    assert body["x"][0] == -3 and body["x"][-1] == 3  # the default view
    for row in body["z"]:
        assert row[:2] == [None, None] and None not in row[2:]  # x = −3, −2 have no value
    r = client.post("/api/grid", json={"surface": CUSTOM, "n": 3, "view": [0, 1, 0, 1]})
    assert strict_json(r.text)["z"][0][0] == 0.0


def test_sweep_on_a_custom_surface(client, strict_json):
    r = client.post("/api/sweep", json={"surface": CUSTOM, "optimizer": {"name": "gd"}, "start": [1.5, 1.0],
                                        "steps": 50, "lrs": {"min": 0.01, "max": 2.0, "n": 4}})
    body = strict_json(r.text)
    assert r.status_code == 200 and body["rate"] is None
    assert body["diverged"][0][-1] and not body["diverged"][0][0]  # η = 2 is far past 2/λmax = 1/3


def test_theory_at_a_point_of_a_custom_surface(client):
    r = client.post("/api/theory", json={"surface": CUSTOM, "point": [0.0, 0.0]})
    point = r.json()["point"]
    assert point["grad"] == [2.0, 0.0]
    assert point["hessian"]["eigenvalues"] == pytest.approx([2.0, 6.0])  # sin(2x)'' = 0 at x = 0


# --- POST /api/formula ----------------------------------------------------------

def test_formula_returns_exact_derivatives(client):
    r = client.post("/api/formula", json={"formula": "x^2*y + sigmoid(y)"})
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in ("ok", "formula", "expression", "latex")} == {
        "ok": True, "formula": "x^2*y + sigmoid(y)", "expression": "x**2*y + sigmoid(y)",
        "latex": r"x^{2} y + \sigma\left(y\right)"}
    assert body["gradient"][0] == "2*x*y" and body["hessian"][0] == ["2*y", "2*x"] and body["hessian"][1][0] == "2*x"
    # The derivatives are formulas in the same language: typed back in, they evaluate to σ' and σ''.
    s = 1 / (1 + np.exp(-0.7))
    for text, expected in [(body["gradient"][1], 4.0 + s * (1 - s)), (body["hessian"][1][1], s * (1 - s) * (1 - 2 * s))]:
        fy = make_surface("custom", formula=text)
        assert fy.value([2.0, 0.7]) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("text,column", [
    ("x.__class__", 2), ("__import__('os').system('true')", 1), ("9**9**9", 4), ("sin(x, y)", 8), ("2x", 1),
    ("x + log(-1)", 5), ("lambda: 0", 1), ("(" * 250 + "x" + ")" * 250, 501),
])
def test_formula_refusals_name_the_column(client, text, column):
    if len(text) > 500:
        r = client.post("/api/formula", json={"formula": text})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "formula"]
        assert "at most 500 characters" in r.json()["message"]
        return
    d = formula_error(client.post("/api/formula", json={"formula": text}), ["body", "formula"])
    assert d["ctx"]["column"] == column and d["input"] == text[:77] + "…" if len(text) > 80 else text


def test_the_custom_surface_catalog_entry(client):
    entry = client.get("/api/formula").json()["surface"]
    assert entry["name"] == "custom" and entry["view"] == [-3, 3, -3, 3]
    assert entry["params"][0]["kind"] == "text" and entry["params"][0]["max_length"] == 500
    assert {"title", "formula", "view"} <= set(entry["examples"][0]) and "sigmoid" in entry["grammar"]["functions"]
    assert "custom" not in [s["name"] for s in client.get("/api/surfaces").json()["surfaces"]]


# --- hostile formulas in a run ----------------------------------------------------

HOSTILE = [
    ("x.__class__", 2), ("open('losslab_sentinel', 'w')", 1), ("eval('1')", 1), ("[x for x in (1,)]", 1),
    ("x if y else 1", 1), ("sin(x=1)", 5), ("sin(*x)", 5), ("'x'", 1), ("b'x'", 1), ("(y := 1)", 2), ("x[0]", 2),
    ("x < y", 3), ("x and y", 3), ("9**9**9", 4), ("(x**99999)", 5), ("-" * 45 + "x", 41),
]


@pytest.mark.parametrize("text,column", HOSTILE, ids=[t[:30] for t, _ in HOSTILE])
def test_hostile_formulas_are_a_422_naming_the_column(client, text, column, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    d = formula_error(client.post("/api/run", json=run_body({"name": "custom", "formula": text})),
                      ["body", "surface", "formula"])
    assert time.perf_counter() - t0 < 1.0
    assert d["ctx"]["column"] == column
    assert not (tmp_path / "losslab_sentinel").exists()


@pytest.mark.parametrize("formula,status,loc", [
    ("x" * 501, 422, ["body", "surface", "formula"]),  # the schema's limit
    ("x" * 1_000_000, 413, None),                       # the body's limit, before any parsing
])
def test_oversized_formulas_are_refused(client, formula, status, loc):
    t0 = time.perf_counter()
    r = client.post("/api/run", json=run_body({"name": "custom", "formula": formula}))
    assert r.status_code == status and time.perf_counter() - t0 < 1.0
    if loc:
        assert r.json()["detail"][0]["loc"] == loc


@pytest.mark.parametrize("surface,loc,message", [
    ({"name": "quadratic", "formula": "x"}, ["body", "surface", "formula"], "only for the custom surface"),
    ({"name": "rosenbrock", "view": [0, 1, 0, 1]}, ["body", "surface", "view"], "only for the custom surface"),
    ({"name": "custom", "formula": "x", "params": {"formula": "y"}}, ["body", "surface", "formula"], "given once"),
    ({"name": "custom", "view": [1, 0, 0, 1]}, ["body", "surface", "view"], "xmin < xmax"),
    ({"name": "custom", "params": {"a": 1}}, ["body", "surface", "params", "a"], "custom takes: formula"),
])
def test_misplaced_formula_or_view_names_the_field(client, surface, loc, message):
    r = client.post("/api/run", json=run_body(surface))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc and message in r.json()["message"]

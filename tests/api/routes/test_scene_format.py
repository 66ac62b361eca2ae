"""GET /api/scene, the capabilities in GET /api/optimizers, and theory's rates and marks per optimizer."""

import math

import pytest

from engine import defaults
from engine.optimizers import OPTIMIZERS


def test_the_scene_format_is_published_from_its_one_home(client, strict_json):
    r = client.get("/api/scene")
    assert r.status_code == 200
    out = strict_json(r.text)
    assert out == defaults.scene_format()
    assert out["limits"] == {"steps": [1, 20000], "seed": [0, 2**31 - 1], "tol": [0.0, 1e6], "optimizers": 8,
                             "formula": 500}
    d = out["defaults"]
    assert d["tol"] == 1e-4 and d["steps"] == 100 and d["start"] == [-2.0, -0.5]
    # the opening scene's step sizes are the quadratic's published ones
    sizes = {s["name"]: s for s in strict_json(client.get("/api/surfaces").text)["surfaces"]}["quadratic"]["step_sizes"]
    assert [o["params"]["lr"] for o in d["optimizers"]] == [sizes["gd"], sizes["momentum"]]


def test_the_limits_follow_the_settings():
    from fastapi.testclient import TestClient

    from app.core.config import get_settings

    get_settings.cache_clear()
    mp = pytest.MonkeyPatch()
    mp.setenv("LOSSLAB_MAX_STEPS", "500")
    try:
        from app.main import app

        out = TestClient(app).get("/api/scene").json()
        assert out["limits"]["steps"] == [1, 500]
    finally:
        mp.undo()
        get_settings.cache_clear()


def test_every_optimizer_declares_its_capabilities(client, strict_json):
    entries = {o["name"]: o for o in strict_json(client.get("/api/optimizers").text)["optimizers"]}
    assert set(entries) == set(OPTIMIZERS)
    caps = {n: e["capabilities"] for n, e in entries.items()}
    assert caps["gd"] == {"velocity": None, "rate": "heavy_ball", "beta": None, "compiled": True}
    assert caps["momentum"] == {"velocity": "momentum", "rate": "heavy_ball", "beta": "momentum", "compiled": True}
    assert caps["nesterov"]["rate"] == "nesterov" and caps["adam"]["velocity"] == "beta1"
    assert caps["newton"]["rate"] == caps["preconditioned"]["rate"] == "newton"
    assert all(caps[n]["rate"] is None for n in ("adagrad", "rmsprop", "adam"))
    # momenta slide on log(1 − β); step sizes on log η
    params = {p["name"]: p for p in entries["adam"]["params"]}
    assert params["beta1"]["scale"] == params["beta2"]["scale"] == "log1m" and params["lr"]["scale"] == "log"


BOWL = {"name": "quadratic", "params": {"lambda_1": 1, "lambda_2": 10, "rotation": 0}}


def _theory(client, strict_json, optimizers, surface=BOWL):
    r = client.post("/api/theory", json={"surface": surface, "point": [1.0, 1.0],
                                         "optimizers": [{"name": n, "params": p} for n, p in optimizers]})
    assert r.status_code == 200, r.text
    return strict_json(r.text)


def test_theory_marks_hold_for_the_optimizer_they_sit_on(client, strict_json):
    out = _theory(client, strict_json, [("gd", {"lr": 0.1}), ("momentum", {"lr": 0.1, "momentum": 0.5}),
                                        ("nesterov", {"lr": 0.1, "momentum": 0.5}), ("newton", {}),
                                        ("preconditioned", {}), ("adam", {}),
                                        ("gd", {"lr": 0.1, "schedule": "inverse"})])
    marks = [[(m["label"], m["value"]) for m in ms] for ms in out["marks"]]
    assert marks[0] == [("1/λmax", 0.1), ("2/λmax", 0.2)]
    assert marks[1] == [("2(1+β)/λmax", pytest.approx(2 * 1.5 / 10))]
    assert marks[2] == [("Nesterov edge", pytest.approx(2 * 1.5 / (2 * 10)))]  # 2(1+μ)/((1+2μ)λmax)
    assert marks[3] == marks[4] == [("full step", 1.0)]
    assert marks[5] == [] and marks[6] == []  # no theory for Adam, nor for a decaying step
    # the heavy ball's edge moves with β
    again = _theory(client, strict_json, [("momentum", {"lr": 0.1, "momentum": 0.9})])
    assert again["marks"][0][0]["value"] == pytest.approx(2 * 1.9 / 10)
    assert out["rates"][:2] == [pytest.approx(0.9), pytest.approx(math.sqrt(0.5))]
    assert out["rates"][3] == 0.0 and out["rates"][5] is None


@pytest.mark.parametrize("factor, expected", [(1.03, "diverged"), (0.97, "converged")])
def test_the_nesterov_edge_is_where_its_runs_start_to_diverge(client, strict_json, factor, expected):
    """Past the edge 2(1+μ)/((1+2μ)λmax) = 0.15 (μ = 0.5, λmax = 10) the run grows; below it, it shrinks."""
    body = {"surface": BOWL, "optimizers": [{"name": "nesterov", "params": {"lr": 0.15 * factor, "momentum": 0.5}}],
            "start": [0.0, 1.0], "steps": 5000, "tol": 1e-6}
    assert strict_json(client.post("/api/run", json=body).text)["runs"][0]["status"] == expected


def test_sweeps_give_the_analytic_map_only_where_theory_holds(client, strict_json):
    """The service and the Python API decide it in one place (issue 12: they disagreed on schedule=inverse)."""
    import losslab as ll

    body = {"surface": BOWL, "optimizer": {"name": "momentum", "params": {"schedule": "inverse"}}, "start": [1.0, 1.0],
            "steps": 20, "lrs": {"min": 0.01, "max": 0.1, "n": 3}, "betas": {"min": 0.0, "max": 0.5, "n": 2}}
    assert strict_json(client.post("/api/sweep", json=body).text)["rate"] is None
    scene = ll.Scene("quadratic", lambda_1=1, lambda_2=10, rotation=0).start(1, 1)
    assert scene.sweep("momentum", lrs=[0.01, 0.1], betas=[0.0, 0.5], steps=20, params={"schedule": "inverse"}).rate is None
    body["optimizer"]["params"] = {}
    served = strict_json(client.post("/api/sweep", json=body).text)["rate"]
    local = scene.sweep("momentum", lrs=[0.01, math.sqrt(0.001), 0.1], betas=[0.0, 0.5], steps=20).rate
    assert [pytest.approx(row, rel=1e-12) for row in local.tolist()] == served

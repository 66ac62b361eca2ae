"""POST /api/tune: the engine's answer, refusals that name the field, and the work and time caps."""

import json
import time

import pytest

import engine
from app.core.config import get_settings
from engine import theory
from engine.tune import TOL, beta_grid, lr_grid

OPENING = {
    "surface": {"name": "quadratic", "params": {"lambda_1": 1, "lambda_2": 20, "rotation": 30}},
    "optimizers": [{"name": "gd", "params": {"lr": 0.09}}, {"name": "momentum", "params": {"lr": 0.04, "momentum": 0.7}}],
    "start": [-2, -0.5], "steps": 300,
}


def _tune(client, strict_json, body, status=200):
    r = client.post("/api/tune", json=body)
    assert r.status_code == status, r.text
    return strict_json(r.text)


def test_tunes_the_opening_race_to_the_formulas(client, strict_json):
    out = _tune(client, strict_json, OPENING)
    gd, hb = out["optimizers"]
    th = theory.quadratic_theory(1, 20)
    assert out["theory"]["gd_best_lr"] == pytest.approx(th["gd_best_lr"])
    assert out["theory"]["momentum_best_beta"] == pytest.approx(th["momentum_best_beta"])
    # the tuned values: grid points either side of 2/(λmin + λmax) = 0.0952 and of (η*, β*) = (0.1336, 0.4026)
    assert gd["lr"] == 0.075 and gd["params"] == {"lr": 0.075, "schedule": "constant", "decay_every": 100}
    assert (hb["lr"], hb["beta"]) == (0.133, 0.438) and hb["params"]["momentum"] == 0.438
    assert gd["before"]["lr"] == 0.09 and hb["before"]["momentum"] == 0.7
    assert gd["criterion"] == hb["criterion"] == "steps"
    assert hb["steps_to_tol"] == hb["theory"]["steps"] and hb["theory"]["rate"] < gd["theory"]["rate"] < 1
    # the protocol, as shown on the page
    p = out["protocol"]
    assert p["lrs"] == lr_grid().tolist() and p["betas"] == beta_grid().tolist()
    assert (p["steps"], p["tol"], p["starts"], p["within"]) == (300, TOL, [[-2, -0.5]], 2.0)
    assert "fewest steps" in p["criterion"]
    # curves over the η grid, the momentum map with its analytic twin
    assert len(gd["curve"]["steps"]) == len(p["lrs"]) and gd["map"] is None
    assert len(hb["map"]["steps"]) == len(p["betas"]) and len(hb["map"]["rate"][0]) == len(p["lrs"])
    j, i = p["betas"].index(hb["beta"]), p["lrs"].index(hb["lr"])
    assert hb["map"]["steps"][j][i] == hb["steps_to_tol"]
    assert hb["map"]["rate"][j][i] == pytest.approx(float(theory.heavy_ball_rate(hb["lr"], hb["beta"], [1, 20])))


def test_the_answer_is_the_engines(client, strict_json):
    out = _tune(client, strict_json, {**OPENING, "ring": 3, "ring_radius": 0.2, "seed": 5})
    s = engine.make_surface("quadratic", lambda_1=1, lambda_2=20, rotation=30)
    r = engine.tune(s, [("gd", {"lr": 0.09}), ("momentum", {"lr": 0.04, "momentum": 0.7})], [-2, -0.5], steps=300,
                    ring=3, ring_radius=0.2, seed=5)
    assert out == json.loads(json.dumps(r.to_dict()))


def test_other_surfaces_show_the_local_hessians_predictions(client, strict_json):
    body = {"surface": {"name": "rosenbrock"}, "optimizers": [{"name": "adam"}, {"name": "newton"}],
            "start": [-1.5, 2.0], "steps": 200, "tol": 1e-4}
    out = _tune(client, strict_json, body)
    assert out["theory"]["source"] == "hessian at the start"
    lam = theory.hessian_eigenvalues(engine.make_surface("rosenbrock"), [-1.5, 2.0])["eigenvalues"]
    assert out["theory"]["eigenvalues"] == pytest.approx(lam)
    assert out["theory"]["gd_best_lr"] == pytest.approx(2 / (lam[0] + lam[1]))
    assert all(o["theory"] is None for o in out["optimizers"])  # no closed-form rate off the quadratic


@pytest.mark.parametrize("change, loc, words", [
    ({"steps": 0}, ["body", "steps"], "greater than or equal to 1"),
    ({"tol": 0}, ["body", "tol"], "greater than 0"),
    ({"tol": "1e-3"}, ["body", "tol"], "valid number"),
    ({"ring": 17}, ["body", "ring"], "less than or equal to 16"),
    ({"ring_radius": 0}, ["body", "ring_radius"], "greater than 0"),
    ({"lr_max": 11}, ["body", "lr_max"], "less than or equal to 10"),
    ({"lr_min": 5e-324}, ["body", "lr_min"], "greater than or equal to 0.00000001"),
    ({"lr_min": 1, "lr_max": 0.1}, ["body", "lr_min"], "must not exceed lr_max = 0.1"),
    ({"lr_per_decade": 0}, ["body", "lr_per_decade"], "greater than or equal to 1"),
    ({"beta_max": 1}, ["body", "beta_max"], "less than or equal to 0.999"),
    ({"optimizers": []}, ["body", "optimizers"], "at least 1 item"),
    ({"optimizers": [{"name": "warp"}]}, ["body", "optimizers", 0, "name"], "warp"),
    ({"optimizers": [{"name": "gd", "params": {"lr": -1}}]}, ["body", "optimizers", 0, "params", "lr"], "0 < lr ≤ 10"),
    ({"start": [1e5, 0]}, ["body", "start"], "too far off the view"),
    ({"surface": {"name": "nope"}}, ["body", "surface", "name"], "nope"),
    ({"extra": 1}, ["body", "extra"], "Extra inputs"),
])
def test_bad_input_gets_a_422_naming_the_field(client, strict_json, change, loc, words):
    out = _tune(client, strict_json, {**OPENING, **change}, status=422)
    assert out["detail"][0]["loc"] == loc
    assert words in out["message"]


def test_too_much_work_is_refused_before_any_is_done(client, strict_json):
    body = {**OPENING, "optimizers": [{"name": "momentum"}] * 8, "steps": 20000, "ring": 16}
    out = _tune(client, strict_json, body, status=422)
    assert out["detail"][0]["loc"] == ["body", "steps"]
    limit = get_settings().max_tune_work
    cells = 8 * len(lr_grid()) * len(beta_grid())
    assert out["message"].startswith(f"steps: {cells} grid cells × 17 starts × 20000 steps")
    assert f"at most {limit}" in out["message"]


def test_tuning_obeys_the_compute_time_cap(client, strict_json, monkeypatch):
    # The two-weight network runs on the numpy reference: seconds of work, stopped at a 0.05 s cap.
    monkeypatch.setattr(get_settings(), "compute_timeout", 0.05)
    body = {"surface": {"name": "two_weight_net"}, "optimizers": [{"name": "momentum"}, {"name": "nesterov"}],
            "start": [0.5, 0.5], "steps": 2000, "ring": 4}
    t0 = time.monotonic()
    r = client.post("/api/tune", json=body)
    took = time.monotonic() - t0
    assert r.status_code == 422, r.text
    assert took < 5, f"went on for {took:.1f} s past a 0.05 s cap (about 40 s without it)"
    out = strict_json(r.text)
    assert out["message"] == ("steps: the computation took longer than the 0.05 s limit on compute time per request; "
                              "ask for fewer steps, starts or optimizers, or a coarser grid")

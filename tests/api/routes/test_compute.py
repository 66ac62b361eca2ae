"""POST /api/run, /api/grid, /api/sweep and /api/theory, checked against hand computations and engine.theory."""

import math

import numpy as np
import pytest

import engine
from app.services import compute
from engine import theory

STATUSES = {"converged", "diverged", "max_steps"}


def _quadratic_matrix(l1: float, l2: float, degrees: float) -> np.ndarray:
    """A = R diag(λ1, λ2) Rᵀ written out by hand."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[l1 * c * c + l2 * s * s, (l1 - l2) * c * s],
                     [(l1 - l2) * c * s, l1 * s * s + l2 * c * c]])


def _run(client, strict_json, body, status=200):
    r = client.post("/api/run", json=body)
    assert r.status_code == status, r.text
    return strict_json(r.text)


def _body(surface="quadratic", sparams=None, optimizers=(("gd", {}),), start=(1.0, 1.0), steps=50, **extra):
    return {"surface": {"name": surface, "params": dict(sparams or {})},
            "optimizers": [{"name": n, "params": dict(p)} for n, p in optimizers],
            "start": list(start), "steps": steps, **extra}


# --- POST /api/run -------------------------------------------------------------

def test_public_example_shapes_and_start(client, strict_json, example):
    out = _run(client, strict_json, example)
    [run] = out["runs"]
    assert run["optimizer"] == "momentum"
    assert run["params"]["lr"] == 0.05 and run["params"]["momentum"] == 0.9
    assert run["points"][0] == [-1.5, 2.0]
    assert run["status"] == "max_steps" and run["steps_taken"] == 200
    assert len(run["points"]) == run["steps_taken"] + 1 == len(run["losses"]) == len(run["grad_norms"])
    assert run["final_loss"] == run["losses"][-1]
    assert out["surface"]["name"] == "quadratic"


def test_public_example_follows_heavy_ball_by_hand(client, strict_json, example):
    """v ← βv + g, x ← x − ηv (PyTorch convention), with A from the 30° rotation."""
    [run] = _run(client, strict_json, example)["runs"]
    A = _quadratic_matrix(1, 10, 30)
    lr, mu = 0.05, 0.9
    x0 = np.array([-1.5, 2.0])
    g0 = A @ x0
    x1 = x0 - lr * g0                     # v1 = g0
    x2 = x1 - lr * (mu * g0 + A @ x1)     # v2 = β g0 + g1
    np.testing.assert_allclose(run["points"][1], x1, rtol=1e-12)
    np.testing.assert_allclose(run["points"][2], x2, rtol=1e-12)
    assert run["losses"][0] == pytest.approx(0.5 * x0 @ A @ x0, rel=1e-12)
    assert run["losses"][1] == pytest.approx(0.5 * x1 @ A @ x1, rel=1e-12)
    assert run["grad_norms"][0] == pytest.approx(np.linalg.norm(g0), rel=1e-12)
    # Heavy ball at these settings converges: rate √β ≈ 0.95 < 1, so after 200 steps the loss is tiny.
    assert run["losses"][-1] < 1e-6 * run["losses"][0]


def test_gd_at_one_over_lambda_reaches_the_minimum_of_a_round_bowl_in_one_step(client, strict_json):
    out = _run(client, strict_json, _body(sparams={"lambda_1": 4, "lambda_2": 4, "rotation": 0},
                                          optimizers=[("gd", {"lr": 0.25})], start=(1.5, -2.0), steps=5))
    [run] = out["runs"]
    assert run["points"][1] == [0.0, 0.0]
    assert run["losses"][1] == 0.0 and run["grad_norms"][1] == 0.0


def test_gd_error_by_eigendirection_matches_theory(client, strict_json):
    """η = 1/λ2 removes the λ2 component at once; the λ1 component shrinks by (1 − ηλ1) per step."""
    sp = {"lambda_1": 1, "lambda_2": 10, "rotation": 30}
    steps, start = 40, (-1.5, 2.0)
    [run] = _run(client, strict_json, _body(sparams=sp, optimizers=[("gd", {"lr": 0.1})], start=start,
                                            steps=steps))["runs"]
    bowl = engine.make_surface("quadratic", **sp)
    expected = theory.gd_error_by_direction(bowl, start, 0.1, steps)       # (steps + 1, 2) in the eigenbasis
    got = np.asarray(run["points"]) @ bowl.rotation_matrix                   # Rᵀ x, row by row
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert abs(got[1, 1]) < 1e-14
    assert got[10, 0] == pytest.approx(0.9 ** 10 * got[0, 0], rel=1e-12)


@pytest.mark.parametrize("lr, status", [(0.19, "max_steps"), (0.21, "diverged")])
def test_gd_step_size_boundary_is_two_over_lambda_max(client, strict_json, lr, status):
    t = theory.quadratic_theory(1, 10)
    assert t["gd_max_lr"] == pytest.approx(0.2)
    [run] = _run(client, strict_json, _body(sparams={"lambda_1": 1, "lambda_2": 10, "rotation": 30},
                                            optimizers=[("gd", {"lr": lr})], start=(-1.5, 2.0), steps=2000))["runs"]
    assert run["status"] == status


def test_diverging_run_reports_diverged_with_only_finite_numbers(client, strict_json):
    r = client.post("/api/run", json=_body(optimizers=[("gd", {"lr": 5})], start=(-1.5, 2.0), steps=500))
    assert r.status_code == 200
    [run] = strict_json(r.text)["runs"]  # parse_constant refuses NaN / Infinity
    assert run["status"] == "diverged"
    assert 0 < run["steps_taken"] < 500
    assert len(run["points"]) == run["steps_taken"] + 1 == len(run["losses"]) == len(run["grad_norms"])
    values = [v for p in run["points"] for v in p] + run["losses"] + run["grad_norms"] + [run["final_loss"]]
    assert all(isinstance(v, float) and math.isfinite(v) for v in values)
    # It really blew up (|1 − 5·10| = 49 per step along the stiff direction), and it was declared
    # diverged early: at the first step past 10 view radii (engine.runner.DIVERGENCE_FACTOR), the second.
    assert run["losses"][-1] > 1000 * run["losses"][0]
    assert run["steps_taken"] <= 2


@pytest.mark.parametrize("optimizers, surface, sparams, start", [
    ([("newton", {"lr": 1.0})], "saddle", {}, (0.5, 0.5)),             # indefinite Hessian: jumps to the saddle
    ([("adam", {"eps": 0.0})], "quadratic", {}, (0.0, 0.0)),            # 0 / 0 at the minimum
    ([("gd", {"lr": 10.0})], "logistic_neuron", {}, (10.0, 5.0)),
    ([("gd", {"lr": 10.0}), ("adam", {"lr": 10.0})], "logistic_neuron", {"loss": "l2"}, (26.0, -18.0)),
    ([("newton", {"lr": 10.0})], "two_weight_net", {"activation": "relu"}, (-12.0, 18.0)),  # singular Hessian
    ([("sgd", {"lr": 10.0, "noise": 100.0})], "rosenbrock", {}, (-2.0, 3.0)),
])
def test_numerical_blowups_end_cleanly(client, strict_json, optimizers, surface, sparams, start):
    r = client.post("/api/run", json=_body(surface, sparams, optimizers, start, steps=300))
    assert r.status_code == 200, r.text
    runs = strict_json(r.text)["runs"]
    assert len(runs) == len(optimizers)
    for run in runs:
        assert run["status"] in STATUSES
        values = [v for p in run["points"] for v in p] + run["losses"] + run["grad_norms"]
        assert all(math.isfinite(v) for v in values)
        assert len(run["points"]) == run["steps_taken"] + 1


def test_newton_on_the_saddle_lands_on_the_saddle(client, strict_json):
    [run] = _run(client, strict_json, _body("saddle", {"wall": 0}, [("newton", {"lr": 1.0})], (0.5, 0.5), steps=3))["runs"]
    assert run["points"][1] == [0.0, 0.0]


def test_tolerance_stops_a_run_converged(client, strict_json):
    [run] = _run(client, strict_json, _body(optimizers=[("gd", {"lr": 0.1})], start=(-1.5, 2.0), steps=2000,
                                            tol=1e-6))["runs"]
    assert run["status"] == "converged"
    assert 0 < run["steps_taken"] < 2000
    assert run["grad_norms"][-1] < 1e-6 <= min(run["grad_norms"][:-1])


def test_tolerance_zero_never_stops_early(client, strict_json):
    [run] = _run(client, strict_json, _body(sparams={"lambda_1": 4, "lambda_2": 4, "rotation": 0},
                                            optimizers=[("gd", {"lr": 0.25})], steps=30, tol=0))["runs"]
    assert run["status"] == "max_steps" and run["steps_taken"] == 30


def test_zero_steps_returns_just_the_start(client, strict_json):
    [run] = _run(client, strict_json, _body(steps=0, start=(0.5, -0.5)))["runs"]
    assert run["points"] == [[0.5, -0.5]] and run["steps_taken"] == 0 and run["status"] == "max_steps"


def test_race_gives_each_optimizer_its_solo_trajectory(client, strict_json):
    opts = [("gd", {"lr": 0.1}), ("momentum", {"lr": 0.05, "momentum": 0.9}), ("adam", {"lr": 0.1})]
    together = _run(client, strict_json, _body(optimizers=opts, start=(-1.5, 2.0), steps=100))["runs"]
    assert [r["optimizer"] for r in together] == ["gd", "momentum", "adam"]
    for i, o in enumerate(opts):
        [alone] = _run(client, strict_json, _body(optimizers=[o], start=(-1.5, 2.0), steps=100))["runs"]
        assert together[i]["points"] == alone["points"], o[0]


def test_sgd_on_two_weight_net_is_reproducible_by_seed(client, strict_json):
    def sgd(seed):
        body = _body("two_weight_net", {}, [("sgd", {"lr": 0.5, "batch_size": 10})], (-1.0, 2.0), steps=60, seed=seed)
        [run] = _run(client, strict_json, body)["runs"]
        return run["points"]

    a, b, c = sgd(3), sgd(3), sgd(4)
    assert a == b
    assert a != c
    assert a[0] == c[0] == [-1.0, 2.0]


def test_batch_size_larger_than_the_dataset_is_refused(client, strict_json):
    n = engine.make_surface("two_weight_net").n_examples
    body = _body("two_weight_net", {}, [("gd", {}), ("sgd", {"batch_size": n + 1})], (-1.0, 2.0))
    r = client.post("/api/run", json=body)
    assert r.status_code == 422
    out = strict_json(r.text)
    assert out["detail"][0]["loc"] == ["body", "optimizers", 1, "params", "batch_size"]
    assert "optimizers.1.params.batch_size" in out["message"] and f"1 ≤ batch_size ≤ {n}" in out["message"]


def test_full_batch_sgd_is_gd(client, strict_json):
    n = engine.make_surface("logistic_neuron").n_examples
    body = _body("logistic_neuron", {}, [("gd", {"lr": 0.5}), ("sgd", {"lr": 0.5, "batch_size": n})], (0.0, 0.0), 40)
    gd, sgd = _run(client, strict_json, body)["runs"]
    np.testing.assert_allclose(sgd["points"], gd["points"], rtol=1e-12, atol=1e-15)


# --- POST /api/grid ------------------------------------------------------------

def test_grid_spans_the_view_and_matches_the_engine(client, strict_json):
    sp = {"a": 1.0, "b": 100.0}
    r = client.post("/api/grid", json={"surface": {"name": "rosenbrock", "params": sp}, "n": 9})
    assert r.status_code == 200
    out = strict_json(r.text)
    x0, x1, y0, y1 = engine.make_surface("rosenbrock", **sp).view
    assert len(out["x"]) == len(out["y"]) == 9
    assert len(out["z"]) == 9 and all(len(row) == 9 for row in out["z"])
    assert (out["x"][0], out["x"][-1], out["y"][0], out["y"][-1]) == (x0, x1, y0, y1)
    for j, i in [(0, 0), (8, 8), (3, 5), (7, 1)]:
        x, y = out["x"][i], out["y"][j]
        by_hand = (1 - x) ** 2 + 100 * (y - x * x) ** 2           # z[j][i] = f(x[i], y[j])
        assert out["z"][j][i] == pytest.approx(by_hand, rel=1e-12)
    flat = [v for row in out["z"] for v in row]
    assert out["zmin"] == min(flat) and out["zmax"] == max(flat)


def test_grid_values_match_make_surface_value(client, strict_json):
    sp = {"lambda_1": 2.0, "lambda_2": 7.0, "rotation": -40.0}
    out = strict_json(client.post("/api/grid", json={"surface": {"name": "quadratic", "params": sp}, "n": 6}).text)
    bowl = engine.make_surface("quadratic", **sp)
    for j, i in [(0, 5), (2, 2), (5, 0)]:
        assert out["z"][j][i] == pytest.approx(float(bowl.value(np.array([out["x"][i], out["y"][j]]))), rel=1e-12)


def test_grid_with_a_view(client, strict_json):
    r = client.post("/api/grid", json={"surface": {"name": "saddle", "params": {"wall": 0}}, "n": 3, "view": [-1, 1, 0, 2]})
    assert r.status_code == 200
    out = strict_json(r.text)
    assert out["x"] == [-1.0, 0.0, 1.0] and out["y"] == [0.0, 1.0, 2.0]
    assert out["z"][2][0] == pytest.approx(1 - 4)  # x² − y² at (−1, 2)


def test_grid_is_served_from_cache(client, strict_json):
    body = {"surface": {"name": "quadratic", "params": {"lambda_1": 3.25, "lambda_2": 9.5, "rotation": 17}}, "n": 37}
    info = lambda: (compute.GRIDS.hits, compute.GRIDS.misses)  # noqa: E731
    before = info()
    first = client.post("/api/grid", json=body)
    middle = info()
    second = client.post("/api/grid", json=body)
    after = info()
    assert first.status_code == second.status_code == 200
    assert middle == (before[0], before[1] + 1)
    assert after == (middle[0] + 1, middle[1])
    assert first.content == second.content


def test_grid_of_a_data_surface_is_finite(client, strict_json):
    r = client.post("/api/grid", json={"surface": {"name": "logistic_neuron"}, "n": 25, "view": [-1e6, 1e6, -1e6, 1e6]})
    assert r.status_code == 200
    out = strict_json(r.text)
    assert all(v is None or math.isfinite(v) for row in out["z"] for v in row)


# --- POST /api/sweep -----------------------------------------------------------

def test_sweep_with_betas_agrees_with_the_heavy_ball_rate(client, strict_json):
    body = {"surface": {"name": "quadratic", "params": {"lambda_1": 1, "lambda_2": 10, "rotation": 30}},
            "optimizer": {"name": "momentum"}, "start": [-1.5, 2.0], "steps": 600, "tol": 1e-6,
            "lrs": {"min": 0.01, "max": 1.0, "n": 14, "log": True}, "betas": {"min": 0.0, "max": 0.95, "n": 9}}
    r = client.post("/api/sweep", json=body)
    assert r.status_code == 200
    out = strict_json(r.text)
    lrs, betas = np.array(out["lrs"]), np.array(out["betas"])
    np.testing.assert_allclose(lrs, np.geomspace(0.01, 1.0, 14))
    np.testing.assert_allclose(betas, np.linspace(0, 0.95, 9))
    rate = np.array(out["rate"])
    assert rate.shape == (9, 14)
    np.testing.assert_allclose(rate, theory.rate_map([1, 10], lrs, betas), rtol=1e-12)
    diverged = np.array(out["diverged"])
    steps_to_tol = np.array(out["steps_to_tol"])
    fast, unstable = rate < 0.9, rate > 1.05
    assert fast.sum() > 5 and unstable.sum() > 5, "the grid must hold both kinds of cell"
    assert diverged[unstable].all()
    assert not diverged[fast].any()
    assert (steps_to_tol[fast] > 0).all()
    assert (steps_to_tol[unstable] == -1).all()
    assert all(v is None for v in np.array(out["final_loss"], dtype=object)[unstable])


def test_sweep_without_betas_for_gd(client, strict_json):
    body = {"surface": {"name": "quadratic", "params": {"lambda_1": 1, "lambda_2": 10, "rotation": 0}},
            "optimizer": {"name": "gd"}, "start": [1.0, 1.0], "steps": 500,
            "lrs": {"min": 0.05, "max": 0.3, "n": 6, "log": False}}
    r = client.post("/api/sweep", json=body)
    assert r.status_code == 200
    out = strict_json(r.text)
    assert out["betas"] is None
    np.testing.assert_allclose(out["lrs"], [0.05, 0.1, 0.15, 0.2, 0.25, 0.3])
    [div] = out["diverged"]
    assert div == [False, False, False, False, True, True]      # 2/λmax = 0.2 sits on the boundary
    [rate] = out["rate"]
    np.testing.assert_allclose(rate, [max(abs(1 - lr), abs(1 - 10 * lr)) for lr in out["lrs"]], rtol=1e-12)
    # η = 1/λ2 = 0.1 kills the y component in one step; x then needs log(1e-6/…)/log(0.9) steps.
    [steps] = out["steps_to_tol"]
    assert steps[1] == math.ceil(math.log(1e-6) / math.log(0.9))


def test_sweep_has_no_rate_off_the_quadratic(client, strict_json):
    body = {"surface": {"name": "rosenbrock"}, "optimizer": {"name": "adam"}, "start": [-1.0, 1.0], "steps": 50,
            "lrs": {"min": 0.001, "max": 0.1, "n": 3}}
    r = client.post("/api/sweep", json=body)
    assert r.status_code == 200
    out = strict_json(r.text)
    assert out["rate"] is None
    assert np.array(out["diverged"]).shape == (1, 3)


@pytest.mark.parametrize("change, field, words", [
    ({"lrs": {"min": 0.01, "max": 1.0, "n": 201}}, "lrs.n", "less than or equal to 200"),
    ({"lrs": {"min": 0.01, "max": 1.0, "n": 0}}, "lrs.n", "greater than or equal to 1"),
    ({"betas": {"n": 201}}, "betas.n", "less than or equal to 200"),
    ({"steps": 0}, "steps", "greater than or equal to 1"),
    ({"steps": 20001}, "steps", "less than or equal to 20000"),
    ({"lrs": {"min": 0.01, "max": 1.0, "n": 200}, "betas": {"n": 200}, "steps": 300}, "steps",
     "12000000 cell-steps is too much work: at most 10000000"),
    ({"lrs": {"min": 1.0, "max": 0.1}}, "lrs", "lrs.min must not exceed lrs.max"),
    ({"betas": {"min": 0.9, "max": 0.1}}, "betas", "betas.min must not exceed betas.max"),
    ({"lrs": {"min": 0.01, "max": 11}}, "lrs", "lr ≤ 10"),
    ({"betas": {"max": 1.0}}, "betas.max", "less than or equal to 0.999"),
    ({"optimizer": {"name": "gd"}}, "betas", "gd has no momentum"),
])
def test_sweep_bounds(client, strict_json, change, field, words):
    body = {"surface": {"name": "quadratic"}, "optimizer": {"name": "momentum"}, "start": [1.0, 1.0], "steps": 100,
            "lrs": {"min": 0.01, "max": 1.0, "n": 5}, "betas": {"min": 0.0, "max": 0.9, "n": 5}}
    body.update(change)
    r = client.post("/api/sweep", json=body)
    assert r.status_code == 422, r.text
    msg = strict_json(r.text)["message"]
    assert msg.startswith(f"{field}: ") and words in msg, msg


# --- POST /api/theory ----------------------------------------------------------

def test_quadratic_theory_numbers(client, strict_json):
    r = client.post("/api/theory", json={"surface": {"name": "quadratic", "params": {"lambda_1": 2, "lambda_2": 50}}})
    assert r.status_code == 200
    out = strict_json(r.text)
    expected = theory.quadratic_theory(2, 50)
    assert out["quadratic"].keys() == expected.keys()
    for key, value in expected.items():
        assert out["quadratic"][key] == pytest.approx(value, rel=1e-12), key
    assert out["quadratic"]["condition_number"] == 25
    assert out["quadratic"]["gd_max_lr"] == pytest.approx(0.04)
    assert out["quadratic"]["momentum_rate"] == pytest.approx((5 - 1) / (5 + 1))
    assert "point" not in out


def test_quadratic_hessian_at_a_point_is_a(client, strict_json):
    out = strict_json(client.post("/api/theory", json={"surface": {"name": "quadratic", "params": {
        "lambda_1": 1, "lambda_2": 10, "rotation": 30}}, "point": [0.5, -1.0]}).text)
    A = _quadratic_matrix(1, 10, 30)
    np.testing.assert_allclose(out["point"]["hessian"]["eigenvalues"], [1, 10], rtol=1e-12)
    np.testing.assert_allclose(out["point"]["grad"], A @ [0.5, -1.0], rtol=1e-12)
    assert out["point"]["hessian"]["kind"].startswith("minimum")


def test_saddle_hessian_has_one_negative_eigenvalue(client, strict_json):
    r = client.post("/api/theory", json={"surface": {"name": "saddle", "params": {"wall": 0}}, "point": [0.3, 0.2]})
    assert r.status_code == 200
    out = strict_json(r.text)
    assert out["surface"] == "saddle" and "quadratic" not in out
    p = out["point"]
    lam = p["hessian"]["eigenvalues"]
    assert sorted(lam) == pytest.approx([-2.0, 2.0])                 # Hessian diag(2, −2r), r = 1
    assert sum(v < 0 for v in lam) == 1
    assert p["hessian"]["kind"].startswith("saddle")
    assert p["loss"] == pytest.approx(0.3 ** 2 - 0.2 ** 2)
    assert p["grad"] == pytest.approx([0.6, -0.4])


def test_theory_refuses_an_unknown_surface(client, strict_json):
    r = client.post("/api/theory", json={"surface": {"name": "bowl"}})
    assert r.status_code == 422
    msg = strict_json(r.text)["message"]
    assert msg.startswith("surface.name: ") and "one of quadratic" in msg


def test_theory_point_far_off_the_view_is_refused(client):
    # Found by the schemathesis fuzz: backprop at a point where the output saturates divided by zero.
    r = client.post("/api/theory", json={"surface": {"name": "two_weight_net"}, "backprop": True, "point": [2.0, 746.0]})
    assert r.status_code == 422
    assert r.json()["message"] == ("point: point = [2, 746] is too far off the view of two_weight_net: "
                                   "allowed -12 ≤ x ≤ 12 and -18 ≤ y ≤ 18")
    ok = client.post("/api/theory", json={"surface": {"name": "two_weight_net"}, "backprop": True, "point": [4.0, 17.9]})
    assert ok.status_code == 200 and "backprop" in ok.json()

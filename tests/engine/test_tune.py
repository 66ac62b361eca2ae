"""Tuning: the sweep rediscovers the quadratic's formulas, and never picks a diverging setting elsewhere."""

import importlib
import json
import math

import numpy as np
import pytest

from engine import ParamError, capabilities, make_surface, run, theory
from engine.grid_search import choose, scores, within
from engine.runner import configure
from engine.tune import (BETA_PER_DECADE, LR_PER_DECADE, beta_grid, has_momentum, lr_grid,
                         ring_starts, tune)

LR_CELL = math.log(10) / LR_PER_DECADE  # one step of the η grid, in log η
BETA_CELL = math.log(10) / BETA_PER_DECADE  # one step of the β grid, in log(1 − β)
TOL = 1e-6

# (λmin, κ, rotation in degrees, start): several conditionings, rotations and starts.
BOWLS = [
    (1.0, 4, 0, (-2.0, -0.5)),
    (0.5, 10, 20, (1.5, 2.0)),
    (1.0, 20, 30, (-2.0, -0.5)),
    (0.5, 50, 75, (0.3, -2.5)),
    (2.0, 100, 45, (-2.0, -0.5)),
    (0.5, 300, 120, (1.5, 2.0)),
    (0.1, 1000, 10, (-2.0, -0.5)),
]


def _bowl(lmin, kappa, rot):
    return make_surface("quadratic", lambda_1=lmin, lambda_2=lmin * kappa, rotation=rot)


@pytest.fixture(scope="module", params=BOWLS, ids=lambda b: f"kappa={b[1]},rot={b[2]}")
def tuned_bowl(request):
    lmin, kappa, rot, start = request.param
    s = _bowl(lmin, kappa, rot)
    return s, start, tune(s, ["gd", "momentum"], start=start, steps=20_000, tol=TOL)


def _bracket(grid, value):
    """The grid points either side of value (one if it falls on the grid)."""
    below, above = grid[grid <= value], grid[grid >= value]
    return {float(v) for v in (below[-1:].tolist() + above[:1].tolist())}


def test_tuned_gd_step_is_the_formula_to_the_grid(tuned_bowl):
    s, start, r = tuned_bowl
    gd = r.optimizers[0]
    best = 2 / (s.eigenvalues.min() + s.eigenvalues.max())
    assert gd.criterion == "steps"
    # one of the two grid steps either side of 2/(λmin + λmax) ...
    assert gd.lr in _bracket(lr_grid(), best)
    assert abs(math.log(gd.lr / best)) < LR_CELL
    # ... the one of the grid with the fastest rate max|1 − ηλ|
    rates = theory.heavy_ball_rate(lr_grid(), 0.0, s.eigenvalues)
    assert theory.heavy_ball_rate(gd.lr, 0.0, s.eigenvalues) == pytest.approx(rates.min())
    assert r.theory["gd_best_lr"] == pytest.approx(best)


def test_tuned_heavy_ball_is_the_formula_to_the_grid(tuned_bowl):
    s, start, r = tuned_bowl
    hb = r.optimizers[1]
    th = theory.quadratic_theory(*s.eigenvalues)
    assert hb.criterion == "steps"
    # β: one of the grid's two values either side of β* = ((√κ − 1)/(√κ + 1))²
    assert hb.beta in _bracket(beta_grid(), th["momentum_best_beta"])
    # η: within a grid step of the steps theory finds best at that β (η* itself when β = β*;
    # for β > β* a whole interval of η contracts at √β)
    fine = np.geomspace(1e-5, 20, 40_001)
    rate = theory.heavy_ball_rate(fine, hb.beta, s.eigenvalues)
    best = fine[rate <= rate.min() * (1 + 1e-9)]
    lo, hi = best[0] * math.exp(-LR_CELL), best[-1] * math.exp(LR_CELL)
    assert lo <= hb.lr <= hi
    # and its rate is (within 10% in log) the fastest any cell of the grid has
    grid_rates = theory.rate_map(s.eigenvalues, lr_grid(), beta_grid())
    assert math.log(theory.heavy_ball_rate(hb.lr, hb.beta, s.eigenvalues)) <= 0.9 * math.log(grid_rates.min())


def test_tuned_runs_reach_the_tolerance_in_the_predicted_steps(tuned_bowl):
    s, start, r = tuned_bowl
    for t in r.optimizers:
        [traj] = run(s, [(t.name, t.params)], start=start, steps=20_000, tol=TOL)
        assert traj.status == "converged" and traj.steps_taken == t.steps_to_tol
        # each eigendirection's own recurrence predicts the count
        assert abs(t.steps_to_tol - t.theory["steps"]) <= 2
        assert t.theory["rate"] == pytest.approx(capabilities.predicted_rate(s, t.name, t.params))


def test_tuned_gd_steps_follow_the_per_direction_closed_form(tuned_bowl):
    # GD along eigenvector i: |gᵢ(k)| = λᵢ|eᵢ(0)|·|1 − ηλᵢ|ᵏ, below tol/√2 for k ≥ log(tol/(√2 λᵢ|eᵢ(0)|)) / log|1 − ηλᵢ|.
    s, start, r = tuned_bowl
    gd = r.optimizers[0]
    e0 = s.rotation_matrix.T @ np.asarray(start)
    lam = s.eigenvalues
    k_each = np.log(TOL / (lam * np.abs(e0))) / np.log(np.abs(1 - gd.lr * lam))
    k_sure = np.log(TOL / (math.sqrt(2) * lam * np.abs(e0))) / np.log(np.abs(1 - gd.lr * lam))
    assert math.ceil(k_each.max()) - 2 <= gd.steps_to_tol <= math.ceil(k_sure.max()) + 2


def test_theory_beside_the_tuned_values_on_the_quadratic():
    s = _bowl(1.0, 20, 30)
    r = tune(s, ["gd"], start=(-2, -0.5), steps=500, tol=TOL)
    th = theory.quadratic_theory(1.0, 20.0)
    for key in ("eta_opt", "gd_best_lr", "gd_max_lr", "momentum_best_lr", "momentum_best_beta", "momentum_rate", "gd_rate"):
        assert r.theory[key] == pytest.approx(th[key])
    assert r.theory["source"] == "quadratic"


def test_newton_is_tuned_to_the_full_step_on_the_quadratic():
    s = _bowl(1.0, 20, 30)
    [t] = tune(s, ["newton"], start=(-2, -0.5), steps=100, tol=TOL).optimizers
    assert t.lr == 1.0 and t.steps_to_tol == 1 and t.theory == {"rate": 0.0, "steps": 1}
    assert t.forgiveness == 1.0  # only η = 1 lands in one step


# --- the protocol's parts -------------------------------------------------------------------

def test_grids():
    lrs = lr_grid()
    assert lrs[0] == pytest.approx(1e-4) and lrs[-1] == pytest.approx(10.0)
    np.testing.assert_allclose(np.diff(np.log10(lrs)), 1 / LR_PER_DECADE, atol=0.005)  # 3 significant digits
    b = beta_grid()
    assert b[0] == 0.0 and b[-1] == pytest.approx(0.999)
    upper = b[b >= 1 - float(f"{10 ** (-1 / BETA_PER_DECADE):.3g}") - 1e-12]  # even steps in log(1 − β) towards 1
    np.testing.assert_allclose(np.diff(np.log10(1 - upper)), -1 / BETA_PER_DECADE, atol=0.005)
    lower = b[(b > 0) & (b < upper[0])]  # and even steps in log β near 0, from 0.01: no gap 0 → 0.25
    assert lower[0] == 0.01 and len(lower) >= 5 and np.all(np.diff(b) > 0)
    np.testing.assert_allclose(np.diff(np.log10(lower)), 2 / BETA_PER_DECADE, atol=0.005)
    # a nearly round bowl's optimal β is on the grid to its resolution: κ = 2 gives β* = 0.0294
    kappa = 2.0
    best = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    assert np.min(np.abs(np.log10(lower) - np.log10(best))) <= 1 / BETA_PER_DECADE
    with pytest.raises(ParamError, match="lr_min"):
        lr_grid(1.0, 0.1)
    with pytest.raises(ParamError, match="beta_max"):
        beta_grid(1.0)


def test_which_optimizers_get_a_momentum_axis():
    assert [n for n in ("gd", "momentum", "nesterov", "sgd", "adam", "newton") if has_momentum(n)] == \
        ["momentum", "nesterov", "sgd"]


def test_choose_breaks_ties_towards_the_flatter_spot():
    inf = np.inf
    # three settings take 3 steps; the middle one's neighbours (3, 3) are the best
    assert choose(np.array([[9.0, 3.0, 3.0, 3.0, inf]])) == (0, 2)
    # the flattest spot, not the smaller η, when its neighbours are better
    assert choose(np.array([[inf, 3.0, 9.0, 4.0, 3.0, 4.0]])) == (0, 4)
    # equal neighbourhoods: the smaller η
    assert choose(np.array([[5.0, 3.0, 5.0, 5.0, 3.0, 5.0]])) == (0, 1)
    # in 2-D the neighbours include the β rows
    score = np.array([[9.0, 2.0, 3.0], [3.0, 3.0, 3.0], [3.0, 2.0, 3.0], [3.0, 3.0, 3.0]])
    assert choose(score) == (2, 1)
    assert choose(np.full((2, 3), inf)) is None


def test_within_2x_is_the_unbroken_run_around_the_choice():
    row = np.array([50.0, 19.0, 12.0, 10.0, 15.0, 21.0, 12.0, np.inf])
    assert within(row, 3) == (1, 4)  # 19, 12, 10, 15 ≤ 20; 21 breaks the run, 12 after it does not count


def test_ring_of_starts():
    pts = ring_starts([0.0, 0.0], 8, 1.0)
    assert pts.shape == (9, 2) and pts[0].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(np.linalg.norm(pts[1:], axis=1), 1.0)


def test_curve_edge_and_forgiveness_on_gd():
    # f = ½(x² + 10y²): GD converges for η < 2/10 = 0.2 and diverges above it.
    s = make_surface("quadratic", lambda_1=1, lambda_2=10, rotation=0)
    [t] = tune(s, ["gd"], start=(1.0, 1.0), steps=2000, tol=TOL).optimizers
    lrs = np.array(lr_grid())
    assert t.edge == pytest.approx(lrs[lrs > 0.2][0])  # the first grid step past 2/λmax
    assert all(d == (lr > 0.2) for lr, d in zip(lrs, t.curve["diverged"]) if lr < 1)
    steps = [v for v in t.curve["steps"]]
    best = t.steps_to_tol
    assert min(v for v in steps if v is not None) == best
    lo, hi = t.within
    inside = [v for lr, v in zip(lrs, steps) if lo <= lr <= hi]
    assert all(v is not None and v <= 2 * best for v in inside)
    assert t.forgiveness == pytest.approx(hi / lo) and t.forgiveness >= 1
    json.dumps(t.to_dict(), allow_nan=False)  # nulls, never NaN or Infinity


def test_ring_uses_the_median_over_the_starts():
    s = make_surface("quadratic", lambda_1=1, lambda_2=10, rotation=30)
    r = tune(s, ["gd"], start=(-2, -0.5), steps=2000, tol=TOL, ring=4, ring_radius=0.2)
    assert len(r.protocol["starts"]) == 5
    [t] = r.optimizers
    i = int(np.argmin(np.abs(np.array(r.protocol["lrs"]) - t.lr)))
    counts = [run(s, [("gd", t.params)], start=p, steps=2000, tol=TOL)[0].steps_taken for p in r.protocol["starts"]]
    assert t.curve["steps"][i] == t.steps_to_tol == int(np.median(counts))


def test_when_nothing_reaches_the_tolerance_the_lowest_final_loss_wins():
    s = make_surface("rosenbrock")
    [t] = tune(s, ["gd"], start=(-1.5, 2.0), steps=50, tol=1e-12).optimizers
    assert t.criterion == "loss" and t.steps_to_tol is None
    losses = [v for v in t.curve["final_loss"] if v is not None]
    assert t.final_loss == pytest.approx(min(losses))


def test_check_is_called_and_can_stop_the_work():
    s = make_surface("quadratic")
    calls = []

    class Stop(Exception):
        pass

    def check():
        calls.append(1)
        if len(calls) > 2:
            raise Stop

    with pytest.raises(Stop):
        tune(s, ["gd", "momentum", "adam"], start=(1, 1), steps=100, check=check)


@pytest.mark.parametrize("kwargs, field", [
    ({"tol": 0.0}, "tol"), ({"ring": -1}, "ring"), ({"ring": 99}, "ring"), ({"ring_radius": 0}, "ring_radius"),
    ({"steps": 0}, "steps"), ({"optimizers": ["warp"]}, "optimizer"), ({"optimizers": []}, "optimizers"),
])
def test_bad_arguments_name_the_field(kwargs, field):
    args = {"optimizers": ["gd"], "start": (1.0, 1.0), "steps": 10, **kwargs}
    with pytest.raises(ParamError) as e:
        tune(make_surface("quadratic"), args.pop("optimizers"), **args)
    assert e.value.param == field


# --- away from the quadratic: reproducible and never diverging ---------------------------------

def _never_diverges(surface, r, steps, tol):
    for t in r.optimizers:
        assert t.criterion is not None, t.name
        for p in r.protocol["starts"]:
            [traj] = run(surface, [(t.name, t.params)], start=p, steps=steps, tol=tol, seed=r.protocol["seed"])
            assert traj.status != "diverged", (t.name, t.params, p)
            assert np.isfinite(traj.losses).all()


@pytest.mark.parametrize("ring", [0, 4])
def test_rosenbrock_is_reproducible_and_never_diverges(ring):
    s = make_surface("rosenbrock")
    race = ["gd", "momentum", "nesterov", "adam", "rmsprop", "newton"]
    a = tune(s, race, start=(-1.5, 2.0), steps=500, tol=1e-4, ring=ring, seed=3)
    b = tune(s, race, start=(-1.5, 2.0), steps=500, tol=1e-4, ring=ring, seed=3)
    assert json.dumps(a.to_dict(), allow_nan=False) == json.dumps(b.to_dict(), allow_nan=False)
    _never_diverges(s, a, 500, 1e-4)
    # the chosen settings sit below their divergence edge
    for t in a.optimizers:
        assert t.edge is None or t.edge > t.lr
    assert a.theory["source"] == "hessian at the start" and len(a.theory["eigenvalues"]) == 2


def test_two_weight_net_is_reproducible_and_never_diverges():
    s = make_surface("two_weight_net")
    race = [("gd", {}), ("momentum", {}), ("sgd", {"batch_size": 8}), ("adam", {})]
    kw = dict(start=(-1.0, 2.0), steps=150, tol=1e-3, seed=11, lrs=lr_grid(1e-2, 10.0, 4), betas=beta_grid(0.99, 4))
    a = tune(s, race, **kw)
    b = tune(s, race, **kw)
    assert json.dumps(a.to_dict(), allow_nan=False) == json.dumps(b.to_dict(), allow_nan=False)
    _never_diverges(s, a, 150, 1e-3)
    assert a.optimizers[2].params["batch_size"] == 8  # parameters other than η and β are kept


@pytest.mark.parametrize("surface, optimizer, betas", [
    ("rosenbrock", "momentum", [0.0, 0.5, 0.9]), ("two_weight_net", "nesterov", [0.0, 0.9]), ("beale", "adam", None),
])
def test_a_sweep_that_checks_as_it_goes_takes_the_same_steps(surface, optimizer, betas):
    from engine import sweep

    s = make_surface(surface)
    kw = dict(start=(-1.0, 1.5), steps=333, tol=1e-5)
    calls = []
    whole = sweep(s, optimizer, lr_grid(1e-3, 1.0, 3), betas, **kw)
    checked = sweep(s, optimizer, lr_grid(1e-3, 1.0, 3), betas, check=lambda: calls.append(1), check_every=50, **kw)
    assert len(calls) >= 2
    for k in ("final_loss", "steps_to_tol", "diverged"):
        np.testing.assert_array_equal(getattr(whole, k), getattr(checked, k))


# --- stopping runs early gives the whole grid's answer ----------------------------------------

TUNE_TOL = 1e-4  # the page's default tolerance


def _whole_grid(surface, name, start, steps, ring, tol=TUNE_TOL):
    """The protocol on the whole grid, every run to the budget (engine.sweep per start), scored as tune() scores."""
    from engine import sweep as engine_sweep
    from engine.tune import RING_RADIUS, beta_param

    x0, x1, y0, y1 = surface.view
    starts = ring_starts(start, ring, RING_RADIUS * min(x1 - x0, y1 - y0))
    lrs, betas = lr_grid(), beta_grid() if has_momentum(name) else None
    params = {k: v for k, v in configure(name).params.items() if k not in ("lr", beta_param(name))}
    runs = [engine_sweep(surface, name, lrs, betas, start=x, steps=steps, tol=tol, params=params) for x in starts]
    s_steps = np.array([r.steps_to_tol for r in runs])
    s_loss = np.array([np.where(r.diverged, np.nan, r.final_loss) for r in runs])
    s_div = np.array([r.diverged for r in runs])
    criterion, score = scores(s_steps, s_loss, s_div)
    j, i = choose(score)
    div = s_div.any(axis=0)
    above = np.flatnonzero(div[j, i + 1:])
    lo, hi = within(score[j], i)
    med = np.median(np.where(s_steps >= 0, s_steps, np.inf), axis=0)
    return {"lr": float(lrs[i]), "beta": None if betas is None else float(betas[j]), "criterion": criterion,
            "steps": med[j, i], "edge": float(lrs[i + 1 + above[0]]) if above.size else None,
            "within": [float(lrs[lo]), float(lrs[hi])], "curve_steps": med[j], "curve_diverged": div[j]}


# Cases whose ties are broken by a neighbour stopped early (quadratic and himmelblau momentum,
# landscape Nesterov), rings, a surface where GD never reaches tol (criterion "loss"), and Adam, which never diverges.
WHOLE_GRID_CASES = [
    ("quadratic", (-2.0, -0.5), 0, ["gd", "momentum", "adam", "newton"]),
    ("quadratic", (-2.0, -0.5), 8, ["momentum"]),
    ("himmelblau", (-2.0, -0.5), 8, ["momentum", "gd"]),
    ("landscape", (-2.0, -0.5), 0, ["nesterov", "rmsprop"]),
    ("rosenbrock", (-1.2, 1.0), 4, ["gd", "newton"]),
    ("logistic_neuron", (-2.0, -0.5), 0, ["gd", "momentum"]),
    ("random_field", (-2.0, -0.5), 0, ["gd", "adam", "preconditioned"]),
]


@pytest.mark.parametrize("surface,start,ring,race", WHOLE_GRID_CASES, ids=lambda v: str(v))
def test_runs_stopped_early_give_the_whole_grids_answer(surface, start, ring, race):
    s = make_surface(surface)
    result = tune(s, race, start=start, steps=500, ring=ring, tol=TUNE_TOL)
    for t in result.optimizers:
        whole = _whole_grid(s, t.name, start, 500, ring)
        assert (t.lr, t.beta, t.criterion, t.edge, t.within) == (
            whole["lr"], whole["beta"], whole["criterion"], whole["edge"], whole["within"]), t.name
        if t.criterion == "steps":
            assert t.steps_to_tol == whole["steps"]
        # on the curve: every value shown is the whole grid's; a run shown as stopped took longer than stopped_at
        for shown, full, div in zip(t.curve["steps"], whole["curve_steps"], whole["curve_diverged"]):
            if shown is not None:
                assert shown == full
            elif t.stopped_at is not None and not div:
                assert full > t.stopped_at
        # a divergence shown is one; with every run to the budget, all of them are shown
        shown_div, whole_div = np.array(t.curve["diverged"]), whole["curve_diverged"]
        assert not (shown_div & ~whole_div).any()
        if t.stopped_at is None:
            assert (shown_div == whole_div).all()


def test_runs_stop_at_twice_the_best_steps():
    bowl = _bowl(1.0, 10, 0)
    t = tune(bowl, ["gd"], start=(-2.0, -0.5), steps=500, tol=TUNE_TOL).optimizers[0]
    assert t.stopped_at == 2 * t.steps_to_tol
    # a budget below that: every run runs its course
    short = tune(bowl, ["gd"], start=(-2.0, -0.5), steps=2 * t.steps_to_tol - 1, tol=TUNE_TOL).optimizers[0]
    assert short.stopped_at is None and short.steps_to_tol == t.steps_to_tol


def test_a_big_grid_stepped_in_parts_on_threads_gives_the_same_answer(monkeypatch):
    tuning = importlib.import_module("engine.grid_search")

    s = make_surface("himmelblau")
    race = ["momentum", "gd"]
    monkeypatch.setattr(tuning, "THREADS", 1)
    whole = [t.to_dict() for t in tune(s, race, start=(-2.0, -0.5), steps=300, ring=2).optimizers]
    monkeypatch.setattr(tuning, "THREADS", 3)
    monkeypatch.setattr(tuning, "PARALLEL_SLICE", 0.0)  # every slice on the threads
    parts = tuning._Runs(s, configure("momentum"), lr_grid(), beta_grid(), np.zeros((1, 2)), 300, 1e-4, 0)
    assert len(parts.parts[0]) == 3  # the momentum grid is split
    assert [t.to_dict() for t in tune(s, race, start=(-2.0, -0.5), steps=300, ring=2).optimizers] == whole


def test_the_compute_cap_ends_a_tuning():
    class Stop(Exception):
        pass

    def check():  # the server's compute cap: raises between slices once a request has used its time
        raise Stop

    with pytest.raises(Stop):
        tune(make_surface("random_field"), ["gd", "momentum"], start=(-2.0, -0.5), steps=500, check=check)


def test_a_start_at_the_minimum_and_a_one_value_grid():
    # every setting is at tol from the start: 0 steps, nothing to stop; a 1 × 1 grid has no neighbours
    bowl = make_surface("quadratic")
    t = tune(bowl, ["gd", "momentum"], start=(0.0, 0.0), steps=100, lrs=[1.0]).optimizers
    assert [(o.lr, o.steps_to_tol, o.stopped_at) for o in t] == [(1.0, 0, None), (1.0, 0, None)]


@pytest.mark.parametrize("surface,ring", [("quadratic", 0), ("himmelblau", 2), ("logistic_neuron", 0),
                                          ("random_field", 0)])
def test_the_numpy_reference_tunes_to_the_same_answer(surface, ring):
    from engine import accel

    s = make_surface(surface)
    race = ["gd", "momentum", "adam", "newton"]
    compiled = [t.to_dict() for t in tune(s, race, start=(-2.0, -0.5), steps=200, ring=ring).optimizers]
    with accel.disabled():
        reference = [t.to_dict() for t in tune(s, race, start=(-2.0, -0.5), steps=200, ring=ring).optimizers]
    assert reference == compiled
    assert any(t["stopped_at"] is not None for t in compiled)  # runs were stopped early on both paths

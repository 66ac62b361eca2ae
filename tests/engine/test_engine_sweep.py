"""Sweeps: the measured (η, β) map agrees with the analytic rate map, cell by cell the runner."""

import json

import numpy as np
import pytest

from engine import make_surface, run, sweep, theory

START = (-1.5, 2.0)
LRS = np.linspace(0.01, 0.6, 40)
BETAS = np.linspace(0.0, 0.95, 30)
STEPS, TOL = 1000, 1e-6


@pytest.fixture(scope="module")
def bowl_sweep():
    s = make_surface("quadratic", lambda_1=1.0, lambda_2=10.0, rotation=30.0)
    return s, sweep(s, "momentum", LRS, BETAS, start=START, steps=STEPS, tol=TOL)


def test_sweep_shapes(bowl_sweep):
    _, r = bowl_sweep
    assert r.final_loss.shape == r.steps_to_tol.shape == r.diverged.shape == (len(BETAS), len(LRS))
    np.testing.assert_array_equal(r.lrs, LRS)
    np.testing.assert_array_equal(r.betas, BETAS)


def test_sweep_divergence_agrees_with_the_rate_map(bowl_sweep):
    s, r = bowl_sweep
    rate = theory.rate_map(s.eigenvalues, LRS, BETAS)
    # Heavy ball diverges on a quadratic iff its rate is ≥ 1, i.e. ηλmax ≥ 2(1 + β).
    np.testing.assert_array_equal(rate >= 1, LRS[None, :] * 10.0 >= 2 * (1 + BETAS[:, None]) - 1e-12)
    clearly_unstable = rate >= 1.03  # grows by 3% a step: past 10⁶ view radii well within 1000 steps
    clearly_stable = rate <= 0.97  # shrinks by 3% a step: below the tolerance well within 1000 steps
    assert clearly_unstable.sum() > 100 and clearly_stable.sum() > 400  # the grid covers both sides
    np.testing.assert_array_equal(r.diverged[clearly_unstable], True)
    np.testing.assert_array_equal(r.diverged[rate < 1], False)
    assert np.all(r.steps_to_tol[clearly_stable] > 0)
    assert np.all(r.steps_to_tol[rate >= 1] == -1)


def test_sweep_steps_to_tolerance_follow_the_rate(bowl_sweep):
    # ‖g_k‖ ≈ ‖g_0‖·rateᵏ, so reaching tol takes about log(tol/‖g_0‖) / log(rate) steps.
    s, r = bowl_sweep
    rate = theory.rate_map(s.eigenvalues, LRS, BETAS)
    ok = rate <= 0.97
    predicted = np.log(TOL / np.linalg.norm(s.grad(START))) / np.log(rate[ok])
    ratio = r.steps_to_tol[ok] / predicted
    assert 0.6 < ratio.min() and ratio.max() < 1.5
    # and the fastest cell is near the optimal (η*, β*) of the theory
    th = theory.quadratic_theory(1.0, 10.0)
    j, i = np.unravel_index(np.argmin(np.where(r.steps_to_tol > 0, r.steps_to_tol, 10**9)), r.steps_to_tol.shape)
    assert abs(LRS[i] - th["momentum_best_lr"]) < 0.1 and abs(BETAS[j] - th["momentum_best_beta"]) < 0.15


# cells (j, i) of every kind: converged, diverged, still running.
CELLS = [(0, 0), (0, 39), (5, 20), (12, 7), (29, 39), (29, 0), (20, 30), (10, 14)]


@pytest.mark.parametrize("j, i", CELLS)
def test_sweep_cell_equals_the_runner(bowl_sweep, j, i):
    s, r = bowl_sweep
    [t] = run(s, [("momentum", {"lr": float(LRS[i]), "momentum": float(BETAS[j])})], start=START, steps=STEPS, tol=TOL)
    assert r.final_loss[j, i] == t.losses[-1]
    assert r.diverged[j, i] == (t.status == "diverged")
    assert r.steps_to_tol[j, i] == (t.steps_taken if t.status == "converged" else -1)


def test_cells_cover_every_outcome(bowl_sweep):
    _, r = bowl_sweep
    kinds = {("diverged" if r.diverged[c] else "converged" if r.steps_to_tol[c] >= 0 else "running") for c in CELLS}
    assert kinds == {"diverged", "converged", "running"}


@pytest.mark.parametrize("optimizer, params", [("gd", {}), ("nesterov", {}), ("adam", dict(beta2=0.99)),
                                               ("sgd", dict(momentum=0.5, noise=0.05, seed=2))])
def test_sweep_over_lr_alone_equals_the_runner_on_rosenbrock(optimizer, params):
    s = make_surface("rosenbrock")
    lrs = [1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.05]
    r = sweep(s, optimizer, lrs, start=(-1.2, 1.0), steps=300, tol=1e-3, params=params)
    assert r.betas is None and r.final_loss.shape == (1, len(lrs))
    runs = run(s, [(optimizer, dict(params, lr=lr)) for lr in lrs], start=(-1.2, 1.0), steps=300, tol=1e-3)
    np.testing.assert_array_equal(r.final_loss[0], [t.losses[-1] for t in runs])
    np.testing.assert_array_equal(r.diverged[0], [t.status == "diverged" for t in runs])


def test_sweep_to_dict_is_valid_json_with_diverged_cells_as_null(bowl_sweep):
    _, r = bowl_sweep
    d = r.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["final_loss"][29][39] is None  # β = 0.95, η = 0.6: diverged
    assert d["final_loss"][0][0] == pytest.approx(r.final_loss[0, 0])

"""engine/theory.py: the lecture's quadratic-bowl theory checked against the runner, and the
other quantities the panels draw (Hessian at a point, Taylor model, mini-batch variance) against
hand computations.

On f = ½ xᵀAx with A = R diag(λ1, λ2) Rᵀ, GD multiplies the error along eigenvector
vᵢ by (1 − ηλᵢ) every step; heavy ball and Nesterov act on each eigendirection as a
2×2 linear recurrence whose spectral radius is the rate. These are the numbers the
page prints next to the sliders, so the runner must reproduce them.
"""

import json

import numpy as np
import pytest

from engine import make_surface, run, theory
from engine.runner import DIVERGENCE_FACTOR

BOWLS = [  # (λ1, λ2, rotation θ in degrees)
    (1.0, 10.0, 30.0),
    (1.0, 100.0, -50.0),
    (2.0, 50.0, 0.0),
    (0.5, 30.0, 75.0),
]
START = (-1.5, 2.0)


def bowl(l1, l2, rot):
    return make_surface("quadratic", lambda_1=l1, lambda_2=l2, rotation=rot)


def eigenvectors(theta_deg):
    t = np.deg2rad(theta_deg)
    return np.array([np.cos(t), np.sin(t)]), np.array([-np.sin(t), np.cos(t)])


def distances(traj):
    return np.linalg.norm(traj.points, axis=1)


def steps_to_reach(rate, level=1e-120):
    """Steps after which an error shrinking by ``rate`` per step is ``level`` times the first."""
    return int(np.log(level) / np.log(rate))


# --- one step at η = 1/λ ---------------------------------------------------------

@pytest.mark.parametrize("lam", [0.5, 2.0, 10.0, 300.0])
@pytest.mark.parametrize("rot", [0.0, 30.0, -110.0])
def test_round_bowl_one_step_at_inverse_curvature(lam, rot):
    s = bowl(lam, lam, rot)
    [exact, over] = run(s, [("gd", {"lr": 1 / lam}), ("gd", {"lr": 1.1 / lam})], start=START, steps=1)
    np.testing.assert_allclose(exact.points[1], [0.0, 0.0], atol=1e-13)
    # 10% too long a step overshoots by 10%: x₁ = (1 − 1.1) x₀.
    np.testing.assert_allclose(over.points[1], -0.1 * np.array(START), rtol=1e-12)


@pytest.mark.parametrize("rot", [30.0, -60.0, 135.0])
def test_rotated_bowl_inverse_curvature_removes_one_direction(rot):
    l1, l2 = 1.0, 10.0
    v1, v2 = eigenvectors(rot)
    s = bowl(l1, l2, rot)
    [by_2, by_1] = run(s, [("gd", {"lr": 1 / l2}), ("gd", {"lr": 1 / l1})], start=START, steps=1)
    x0 = np.array(START)
    # η = 1/λ2: the v2 component is gone, the v1 component shrinks by 1 − λ1/λ2.
    assert abs(by_2.points[1] @ v2) < 1e-14
    assert by_2.points[1] @ v1 == pytest.approx((1 - l1 / l2) * (x0 @ v1), rel=1e-13)
    # η = 1/λ1: the v1 component is gone, the v2 component is multiplied by 1 − λ2/λ1 = −9.
    assert abs(by_1.points[1] @ v1) < 1e-13
    assert by_1.points[1] @ v2 == pytest.approx((1 - l2 / l1) * (x0 @ v2), rel=1e-13)


# --- the 2/λmax boundary -------------------------------------------------------------

@pytest.mark.parametrize("l1, l2, rot", BOWLS + [(3.0, 3.0, 10.0)])
def test_gd_converges_just_below_two_over_lambda_max(l1, l2, rot):
    lr = 0.98 * theory.quadratic_theory(l1, l2)["gd_max_lr"]
    [t] = run(bowl(l1, l2, rot), [("gd", {"lr": lr})], start=START, steps=3000, tol=1e-12)
    assert t.status == "converged"


@pytest.mark.parametrize("l1, l2, rot", BOWLS + [(3.0, 3.0, 10.0)])
def test_gd_diverges_just_above_two_over_lambda_max(l1, l2, rot):
    s = bowl(l1, l2, rot)
    lr = 1.02 * theory.quadratic_theory(l1, l2)["gd_max_lr"]
    [t] = run(s, [("gd", {"lr": lr})], start=START, steps=3000)
    assert t.status == "diverged"
    # The run stops at the first iterate beyond 10⁶ view radii, which closed form predicts:
    # the error along vmax grows by |1 − ηλmax| = 1.04 per step.
    predicted = theory.gd_error_by_direction(s, START, lr, 1000) @ s.rotation_matrix.T
    beyond = np.max(np.abs(predicted), axis=1) > DIVERGENCE_FACTOR * s.view_radius
    assert t.steps_taken == np.argmax(beyond) < 3000
    np.testing.assert_allclose(t.points, predicted[: t.steps_taken + 1], rtol=1e-9)
    for arr in (t.points, t.losses, t.grad_norms):
        assert np.all(np.isfinite(arr))


# Violent divergence: each step multiplies the error by thousands, or the loss overflows.
BLOWUPS = [
    ("quadratic", dict(lambda_1=1000.0, lambda_2=1.0), "gd", dict(lr=10.0)),
    ("quadratic", dict(lambda_1=1000.0, lambda_2=1.0), "momentum", dict(lr=10.0, momentum=0.999)),
    ("quadratic", dict(lambda_1=1000.0, lambda_2=1.0), "nesterov", dict(lr=10.0, momentum=0.999)),
    ("rosenbrock", {}, "gd", dict(lr=0.1)),
    ("rosenbrock", dict(b=1000.0), "nesterov", dict(lr=10.0, momentum=0.9)),
    ("beale", {}, "gd", dict(lr=0.1)),
    ("beale", {}, "gd", dict(lr=10.0)),
    ("himmelblau", {}, "momentum", dict(lr=1.0, momentum=0.9)),
    ("landscape", {}, "gd", dict(lr=10.0)),
    ("saddle", {}, "gd", dict(lr=10.0)),
    ("saddle", dict(wall=10.0), "gd", dict(lr=10.0)),
    ("quadratic", dict(lambda_1=1000.0, lambda_2=1000.0), "sgd", dict(lr=10.0, noise=100.0)),
]


@pytest.mark.parametrize("surface, sp, optimizer, params", BLOWUPS, ids=lambda v: str(v))
def test_divergence_is_reported_without_non_finite_numbers(surface, sp, optimizer, params):
    [t] = run(make_surface(surface, **sp), [(optimizer, params)], start=[1.0, 1.5], steps=2000)
    assert t.status == "diverged"
    assert t.steps_taken < 2000
    assert len(t.points) == len(t.losses) == len(t.grad_norms) == t.steps_taken + 1
    for arr in (t.points, t.losses, t.grad_norms):
        assert np.all(np.isfinite(arr))
    json.dumps(t.to_dict(), allow_nan=False)  # what the web app sends must be valid JSON


# --- rates ---------------------------------------------------------------------------

@pytest.mark.parametrize("l1, l2, rot", BOWLS)
def test_gd_rate_at_the_best_fixed_step(l1, l2, rot):
    th = theory.quadratic_theory(l1, l2)
    [t] = run(bowl(l1, l2, rot), [("gd", {"lr": th["gd_best_lr"]})], start=START,
              steps=steps_to_reach(th["gd_rate"], 1e-30))
    # At η = 2/(λmin + λmax) both directions shrink by exactly (κ − 1)/(κ + 1).
    assert theory.measured_rate(distances(t)) == pytest.approx(th["gd_rate"], rel=1e-6)


@pytest.mark.parametrize("l1, l2, rot", BOWLS)
def test_heavy_ball_rate_at_the_optimal_step_and_momentum(l1, l2, rot):
    th = theory.quadratic_theory(l1, l2)
    rate = th["momentum_rate"]
    assert rate < th["gd_rate"]
    [t] = run(bowl(l1, l2, rot), [("momentum", {"lr": th["momentum_best_lr"], "momentum": th["momentum_best_beta"]})],
              start=START, steps=steps_to_reach(rate))
    # At (η*, β*) both directions are critically damped: a double root r gives errors
    # (a + b·k)·rᵏ, whose factor (a + b·k) fades from the rate measured over a long tail.
    measured = theory.measured_rate(distances(t))
    assert measured == pytest.approx(rate, rel=0.01)
    assert measured > rate  # the k·rᵏ term makes the observed contraction a little slower


# (η·λmax/10, β): real roots, complex roots, and β = 0 (plain GD).
RATE_CELLS = [(0.05, 0.5), (0.1, 0.3), (0.02, 0.9), (0.15, 0.2), (0.18, 0.7), (0.01, 0.0), (0.3, 0.8)]


@pytest.mark.parametrize("l1, l2, rot", BOWLS[:2])
@pytest.mark.parametrize("scaled_lr, beta", RATE_CELLS)
def test_heavy_ball_rate_matches_the_runner(l1, l2, rot, scaled_lr, beta):
    lr = scaled_lr * 10 / l2
    predicted = float(theory.heavy_ball_rate(lr, beta, [l1, l2]))
    assert predicted < 1
    [t] = run(bowl(l1, l2, rot), [("momentum", {"lr": lr, "momentum": beta})], start=START,
              steps=min(2500, steps_to_reach(predicted)))
    assert theory.measured_rate(distances(t)) == pytest.approx(predicted, rel=0.005)


def test_heavy_ball_rate_is_gd_rate_without_momentum():
    lam = [1.0, 10.0]
    lrs = np.linspace(0.01, 0.3, 30)
    np.testing.assert_allclose(theory.heavy_ball_rate(lrs, 0.0, lam),
                               np.maximum(np.abs(1 - lrs * 1.0), np.abs(1 - lrs * 10.0)), rtol=1e-12)


def nesterov_rate(lr, mu, eigenvalues):
    """Spectral radius of PyTorch's Nesterov on a quadratic, derived by hand.

    With a = ηλ and u = ηv, (x, u) ↦ (x − a x − β(β u + a x), β u + a x), whose
    characteristic polynomial is t² − (1 + β)(1 − a) t + β(1 − a).
    """
    return max(np.max(np.abs(np.roots([1.0, -(1 + mu) * (1 - lr * lam), mu * (1 - lr * lam)])))
               for lam in eigenvalues)


@pytest.mark.parametrize("lr, mu", [(0.02, 0.9), (0.05, 0.5), (0.1, 0.3), (0.01, 0.95)])
def test_nesterov_rate_matches_the_hand_derived_recurrence(lr, mu):
    s = bowl(1.0, 10.0, 30.0)
    predicted = nesterov_rate(lr, mu, s.eigenvalues)
    [t] = run(s, [("nesterov", {"lr": lr, "momentum": mu})], start=START, steps=min(4000, steps_to_reach(predicted)))
    assert theory.measured_rate(distances(t)) == pytest.approx(predicted, rel=0.005)


@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9])
def test_momentum_and_nesterov_stability_boundaries(mu):
    # Heavy ball is stable for ηλmax < 2(1 + β), Nesterov only for ηλmax < 2(1 + β)/(1 + 2β):
    # its look-ahead makes large steps unstable sooner.
    lam_max = 10.0
    s = bowl(1.0, lam_max, 30.0)
    bounds = {"momentum": 2 * (1 + mu) / lam_max, "nesterov": 2 * (1 + mu) / (1 + 2 * mu) / lam_max}
    for name, bound in bounds.items():
        [below, above] = run(s, [(name, {"lr": 0.97 * bound, "momentum": mu}), (name, {"lr": 1.03 * bound, "momentum": mu})],
                             start=START, steps=2000)
        assert below.status == "max_steps" and np.linalg.norm(below.points[-1]) < 1e-3, name
        assert above.status == "diverged", name


# --- the error along each eigenvector -------------------------------------------------

@pytest.mark.parametrize("l1, l2, rot", BOWLS)
@pytest.mark.parametrize("lr_scale", [0.3, 1.0, 1.9])
def test_gd_error_by_direction_matches_the_trajectory(l1, l2, rot, lr_scale):
    s = bowl(l1, l2, rot)
    lr = lr_scale / l2  # 1.9/λ2 makes the λ2 direction zig-zag: factor 1 − 1.9 = −0.9
    [t] = run(s, [("gd", {"lr": lr})], start=START, steps=200)
    by_direction = t.points @ s.rotation_matrix  # column i: the component along vᵢ
    v1, v2 = eigenvectors(rot)
    np.testing.assert_allclose(by_direction, np.stack([t.points @ v1, t.points @ v2], -1), atol=1e-15)
    np.testing.assert_allclose(by_direction, theory.gd_error_by_direction(s, START, lr, 200), rtol=1e-10, atol=1e-13)  # rounding of the other, larger component


SCHEDULES = [
    ("constant", {}, lambda k: np.ones_like(k)),
    ("inverse", {}, lambda k: 1 / k),
    ("inverse_sqrt", {}, lambda k: 1 / np.sqrt(k)),
    ("step", dict(decay_every=7), lambda k: 0.5 ** ((k - 1) // 7)),
]


@pytest.mark.parametrize("schedule, extra, factor", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_scheduled_gd_error_is_the_product_of_its_step_factors(schedule, extra, factor):
    # With η_k = η·s(k) at step k = 1, 2, …, the error along vᵢ after k steps is
    # eᵢ(0) · Π_{j ≤ k} (1 − η s(j) λᵢ).
    s = bowl(1.0, 10.0, 30.0)
    lr, steps = 0.15, 60
    [t] = run(s, [("gd", dict(lr=lr, schedule=schedule, **extra))], start=START, steps=steps)
    k = np.arange(1, steps + 1, dtype=float)[:, None]
    factors = np.vstack([np.ones((1, 2)), np.cumprod(1 - lr * factor(k) * s.eigenvalues, axis=0)])
    expected = factors * (s.rotation_matrix.T @ np.array(START))
    np.testing.assert_allclose(t.points @ s.rotation_matrix, expected, rtol=1e-10, atol=1e-13)  # rounding of the other, larger component


def test_quadratic_theory_numbers():
    th = theory.quadratic_theory(1.0, 100.0)
    assert th["condition_number"] == 100.0
    assert th["gd_best_lr"] == pytest.approx(2 / 101)
    assert th["gd_rate"] == pytest.approx(99 / 101)
    assert th["gd_max_lr"] == pytest.approx(0.02)
    assert th["momentum_best_lr"] == pytest.approx((2 / 11) ** 2)
    assert th["momentum_best_beta"] == pytest.approx((9 / 11) ** 2)
    assert th["momentum_rate"] == pytest.approx(9 / 11)
    assert th["eta_opt"] == [1.0, 0.01]
    # At (η*, β*) the heavy-ball rate is the promised one, for both eigenvalues.
    assert float(theory.heavy_ball_rate(th["momentum_best_lr"], th["momentum_best_beta"], [1.0, 100.0])) == pytest.approx(9 / 11)


def test_measured_rate_of_a_geometric_sequence():
    assert theory.measured_rate(0.7 ** np.arange(50)) == pytest.approx(0.7, rel=1e-12)
    # Underflowed tails are cut off instead of biasing the estimate.
    assert theory.measured_rate(np.r_[0.1 ** np.arange(200), np.zeros(5)]) == pytest.approx(0.1, rel=1e-9)
    with pytest.raises(ValueError):
        theory.measured_rate([1.0, 0.5], skip=1)


# --- beyond the bowl: the Hessian at a point, the Taylor model, the mini-batch variance ----------------------

@pytest.mark.parametrize("surface,params,point,kind", [
    ("quadratic", {"lambda_1": 1, "lambda_2": 10, "rotation": 30}, (0.3, -0.2), "minimum-like"),
    ("saddle", {"wall": 0.0}, (0.1, 0.2), "saddle"),
    ("rosenbrock", {}, (1.0, 1.0), "minimum-like"),
    ("rosenbrock", {}, (0.0, 1.0), "saddle"),   # H = [[2 − 400(y − 3x²), −400x], [−400x, 200]] = [[-398, 0], [0, 200]]
])
def test_hessian_eigenvalues_classify_the_point(surface, params, point, kind):
    out = theory.hessian_eigenvalues(make_surface(surface, **params), point)
    assert out["kind"].startswith(kind)
    if (surface, point) == ("rosenbrock", (0.0, 1.0)):
        assert out["eigenvalues"] == pytest.approx([-398.0, 200.0])


def test_taylor_model_is_exact_on_a_quadratic_and_third_order_accurate_elsewhere():
    bowl = make_surface("quadratic", lambda_1=1, lambda_2=10, rotation=30)
    pts = np.array([[0.5, -1.0], [2.0, 2.0]])
    np.testing.assert_allclose(theory.taylor_model(bowl, [0.3, 0.4], pts), bowl.value(pts), rtol=1e-12)
    rosen = make_surface("rosenbrock")
    x = np.array([-0.5, 0.8])
    errors = [abs(float(theory.taylor_model(rosen, x, x + h * np.array([0.6, 0.8]))) - float(rosen.value(x + h * np.array([0.6, 0.8]))))
              for h in (1e-2, 5e-3)]
    assert errors[0] / errors[1] == pytest.approx(8.0, rel=0.1)  # halving the distance divides the error by 2³


def test_measured_minibatch_variance_follows_the_finite_population_law():
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(40, 2)) * [1.0, 3.0]
    sigma2 = float(np.mean(np.sum((grads - grads.mean(0)) ** 2, -1)))
    law = theory.minibatch_variance_law(sigma2, 40, [1, 4, 10, 40])
    measured = [theory.population_minibatch_variance(grads, b, samples=20000, seed=3) for b in (1, 4, 10, 40)]
    np.testing.assert_allclose(measured[:3], law[:3], rtol=0.05)
    assert measured[3] == pytest.approx(0.0, abs=1e-24) and law[3] == 0.0
    with pytest.raises(ValueError, match="1 ≤ batch_size ≤ 40"):
        theory.population_minibatch_variance(grads, 41)


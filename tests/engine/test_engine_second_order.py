"""Newton's method and Hessian-preconditioned GD.

Newton's step −H⁻¹g jumps to the critical point of the local quadratic model, minimum
or not; preconditioned GD divides by |H(x0)| once. On a quadratic both are exact in one
step with η = 1. Where H is singular the engine takes the pseudo-inverse, and nothing
may turn into NaN.
"""

import numpy as np
import pytest

from engine import make_surface, run

STARTS = [(-1.5, 2.0), (2.4, -0.3), (0.01, 1e-6), (-2.0, -2.0), (1e-3, -1e3)]
BOWLS = [dict(lambda_1=1.0, lambda_2=10.0, rotation=30.0), dict(lambda_1=0.001, lambda_2=1000.0, rotation=-80.0),
         dict(lambda_1=5.0, lambda_2=5.0, rotation=0.0)]


@pytest.mark.parametrize("optimizer", ["newton", "preconditioned"])
@pytest.mark.parametrize("sp", BOWLS, ids=["kappa10", "kappa1e6", "round"])
@pytest.mark.parametrize("start", STARTS)
def test_one_step_to_the_minimum_of_a_quadratic(optimizer, sp, start):
    [t] = run(make_surface("quadratic", **sp), [(optimizer, {"lr": 1.0})], start=start, steps=3)
    # Solving A d = A x0 in floating point leaves an error of about κ·ε·|x0|.
    kappa = max(sp["lambda_1"], sp["lambda_2"]) / min(sp["lambda_1"], sp["lambda_2"])
    assert np.linalg.norm(t.points[1]) < 10 * kappa * np.finfo(float).eps * np.linalg.norm(start)
    assert np.all(np.linalg.norm(t.points[2:], axis=1) <= np.linalg.norm(t.points[1]))


@pytest.mark.parametrize("lr", [0.5, 0.25])
def test_damped_newton_on_a_quadratic_shrinks_the_error_by_one_minus_eta(lr):
    # x ← x − η A⁻¹ A x = (1 − η) x: straight to the minimum, a fraction η of the way per step.
    [t] = run(make_surface("quadratic", **BOWLS[0]), [("newton", {"lr": lr})], start=STARTS[0], steps=10)
    np.testing.assert_allclose(t.points, (1 - lr) ** np.arange(11)[:, None] * np.array(STARTS[0]), rtol=1e-12)


@pytest.mark.parametrize("sp", [dict(wall=0.0), dict(curvature_ratio=0.1, wall=0.0), dict(curvature_ratio=7.0, wall=0.0)],
                         ids=["r1", "r0.1", "r7"])
@pytest.mark.parametrize("start", STARTS[:4] + [(1.9, 1.9)])
def test_newton_goes_to_the_saddle_in_one_step(sp, start):
    # f = x² − r y² is a quadratic with an indefinite Hessian: Newton's step solves H d = g
    # exactly and lands on the critical point, the saddle, from anywhere.
    s = make_surface("saddle", **sp)
    [newton, gd] = run(s, [("newton", {"lr": 1.0}), ("gd", {"lr": 0.1})], start=start, steps=20)
    np.testing.assert_allclose(newton.points[1:], 0.0, atol=1e-15)
    # ... while gradient descent walks away from it along y (unless it starts on y = 0).
    assert abs(gd.points[-1, 1]) > abs(start[1])


def test_preconditioned_gd_does_not_climb_to_the_saddle():
    # P = |H(x0)| flips the negative curvature: the step along y is downhill, away from y = 0.
    s = make_surface("saddle", wall=1.0)
    [t] = run(s, [("preconditioned", {"lr": 0.5})], start=[1.0, 0.05], steps=200)
    np.testing.assert_allclose(t.points[-1], s.minima[0], atol=1e-9)
    assert np.all(np.diff(t.losses) <= 1e-15)


# Points where H is singular, or nearly so.
SINGULAR = [
    # Rosenbrock with b = 0 is (a − x)²: H = diag(2, 0) everywhere.
    ("rosenbrock", dict(a=0.5, b=0.0), (-1.5, 2.0)),
    # x² − y² + w y⁴ has H = diag(2, 12 w y² − 2), singular on y² = 1/(6w).
    ("saddle", dict(wall=1.0), (0.7, 1 / np.sqrt(6.0))),
    # the ReLU net's loss depends on w1·w2 only: its Hessian is singular along curves.
    ("two_weight_net", dict(activation="relu"), (1.0, 1.5)),
    ("two_weight_net", dict(activation="relu", loss="l2"), (-1.2, -1.8)),
    # the ReLU net at w2 = 0: the loss is flat in w1 there.
    ("two_weight_net", dict(activation="relu"), (-4.0, 0.0)),
    # hard-label logistic regression far out: the loss is nearly flat, H ≈ 0.
    ("logistic_neuron", {}, (12.0, 6.0)),
    ("logistic_neuron", dict(loss="l2"), (12.0, -6.0)),
    # the landscape's plateau
    ("landscape", {}, (2.9, 2.9)),
]


@pytest.mark.parametrize("surface, sp, start", SINGULAR, ids=lambda v: str(v))
def test_newton_with_a_singular_hessian_stays_finite(surface, sp, start):
    s = make_surface(surface, **sp)
    [newton, pre] = run(s, [("newton", {"lr": 1.0}), ("preconditioned", {"lr": 1.0})], start=start, steps=50)
    for t in (newton, pre):
        assert t.status in ("max_steps", "diverged")
        for arr in (t.points, t.losses, t.grad_norms):
            assert np.all(np.isfinite(arr))


def test_newton_pseudo_inverse_on_the_singular_rosenbrock():
    # With b = 0, H⁺g = (x − a, 0): one step to x = a, y untouched.
    s = make_surface("rosenbrock", a=0.5, b=0.0)
    [t] = run(s, [("newton", {"lr": 1.0})], start=[-1.5, 2.0], steps=2)
    np.testing.assert_allclose(t.points, [[-1.5, 2.0], [0.5, 2.0], [0.5, 2.0]], atol=1e-15)


def test_newton_on_the_singular_line_of_the_walled_saddle():
    # On y² = 1/(6w) the y-curvature is 0: the pseudo-inverse steps in x only.
    y = 1 / np.sqrt(6.0)
    s = make_surface("saddle", wall=1.0)
    assert abs(s.hessian([0.7, y])[1, 1]) < 1e-14
    [t] = run(s, [("newton", {"lr": 1.0})], start=[0.7, y], steps=1)
    np.testing.assert_allclose(t.points[1], [0.0, y], atol=1e-12)


def test_zero_hessian_and_zero_gradient_give_no_step():
    # At a stationary point of a flat function there is nothing to invert: the step is 0.
    from engine.optimizers import pseudo_inverse_apply

    np.testing.assert_array_equal(pseudo_inverse_apply(np.zeros((3, 2, 2)), np.ones((3, 2))), np.zeros((3, 2)))
    np.testing.assert_allclose(pseudo_inverse_apply(np.diag([4.0, 0.0]), np.array([2.0, 3.0])), [0.5, 0.0])
    np.testing.assert_allclose(pseudo_inverse_apply(np.diag([4.0, -2.0]), np.array([2.0, 3.0])), [0.5, -1.5])
    np.testing.assert_allclose(pseudo_inverse_apply(np.diag([4.0, -2.0]), np.array([2.0, 3.0]), absolute=True), [0.5, 1.5])


def test_preconditioner_is_fixed_at_the_start():
    # P = |H(x0)|: on Rosenbrock the step keeps the scaling of the start point, it is not Newton.
    s = make_surface("rosenbrock")
    x0 = np.array([-1.2, 1.0])
    [t] = run(s, [("preconditioned", {"lr": 0.1})], start=x0, steps=2)
    lam, q = np.linalg.eigh(s.hessian(x0))
    p_inv = q @ np.diag(1 / np.abs(lam)) @ q.T
    x1 = x0 - 0.1 * p_inv @ s.grad(x0)
    x2 = x1 - 0.1 * p_inv @ s.grad(x1)
    np.testing.assert_allclose(t.points, [x0, x1, x2], rtol=1e-12)

"""engine/surfaces/booth.py against hand computation and the quadratic theory it obeys (H constant, λ = 2, 18)."""

import numpy as np
import pytest

from engine import make_surface, run, theory


@pytest.fixture
def booth():
    return make_surface("booth")


def test_value_gradient_and_hessian_by_hand(booth):
    # at (0, 0): u = −7, v = −5 → f = 74, ∇f = (2u + 4v, 4u + 2v) = (−34, −38)
    f, g = booth.value_and_grad(np.array([0.0, 0.0]))
    assert float(f) == 74.0 and g.tolist() == [-34.0, -38.0]
    assert booth.hessian(np.zeros((3, 2))).tolist() == [[[10.0, 8.0], [8.0, 10.0]]] * 3
    assert float(booth.value(np.array(booth.minima[0]))) == 0.0


def test_gradient_against_finite_differences(booth):
    p, h = np.array([0.7, -1.3]), 1e-6
    fd = [(booth.value(p + h * e) - booth.value(p - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(booth.grad(p), np.ravel(fd), rtol=1e-7)


def test_newton_lands_in_one_step_and_gd_contracts_at_the_theory_rate(booth):
    newton, gd = run(booth, [("newton", {"lr": 1.0}), ("gd", {"lr": 0.1})], list(booth.DEFAULT_START), 40)
    np.testing.assert_allclose(newton.points[1], [1.0, 3.0], atol=1e-12)
    # H's eigenvalues 2 and 18: at η = 2/(2 + 18) every direction contracts by 0.8, as on the bowl
    assert float(theory.heavy_ball_rate(0.1, 0.0, [2.0, 18.0])) == pytest.approx(0.8)
    err = np.linalg.norm(gd.points - [1.0, 3.0], axis=1)
    assert theory.measured_rate(err) == pytest.approx(0.8, rel=1e-6)


def test_every_default_step_size_converges_from_the_default_start(booth):
    names = list(booth.STEP_SIZES)
    runs = run(booth, [(n, {"lr": booth.STEP_SIZES[n]}) for n in names], list(booth.DEFAULT_START), booth.DEFAULT_STEPS,
               tol=1e-4)
    assert {n: r.status for n, r in zip(names, runs)} == {n: "converged" for n in names}

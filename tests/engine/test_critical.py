"""engine/surfaces/critical.py: the one damped-Newton search, against functions whose critical points are known by hand."""

import numpy as np
import pytest

from engine.surfaces.critical import find_critical_points, newton_step, seed_grid
from engine.surfaces.custom import CustomSurface


def test_exact_newton_step_lands_on_a_quadratics_stationary_point_in_one_step():
    h = np.array([[2.0, 0.0], [0.0, -4.0]])  # x² − 2y²: a saddle at 0
    p = np.array([0.3, -0.7])
    step = newton_step(h @ p, h, curvature="exact")
    np.testing.assert_allclose(p - step, [0.0, 0.0], atol=1e-15)


def test_absolute_curvature_step_climbs_out_of_a_saddle_direction():
    h = np.array([[2.0, 0.0], [0.0, -4.0]])
    p = np.array([0.3, -0.7])
    step = newton_step(h @ p, h, curvature="absolute")
    # Along y the step follows −g/|λ|: away from the saddle, |y| grows.
    assert abs((p - step)[1]) > abs(p[1])
    assert (p - step)[0] == pytest.approx(0.0)


def test_unknown_curvature_mode_is_refused():
    with pytest.raises(ValueError, match="curvature"):
        newton_step(np.zeros(2), np.eye(2), curvature="bogus")


def test_double_well_has_two_minima_and_one_saddle_sorted_by_loss():
    # f = x⁴ − x² + y² + 0.1x: minima near x = ±0.68 (the left one lower), a saddle near x = 0.05.
    s = CustomSurface(formula="x**4 - x**2 + y**2 + 0.1*x", view=[-2, 2, -2, 2])
    found = find_critical_points(s, seed_grid((-2, 2, -2, 2), 9), inside=(-2, 2, -2, 2), max_step=0.4)
    assert len(found.minima) == 2 and len(found.saddles) == 1
    (xl, yl), (xr, yr) = found.minima
    assert xl < 0 < xr and yl == pytest.approx(0) and yr == pytest.approx(0)
    for x, _ in found.minima + found.saddles:
        assert 4 * x**3 - 2 * x + 0.1 == pytest.approx(0, abs=1e-9)  # ∂f/∂x = 0 by hand
    assert s.value(found.minima[0]) < s.value(found.minima[1])


def test_a_valley_of_minima_is_no_isolated_minimum():
    # f = (x − y)²: every point of the line x = y is a minimum, none isolated (λ_min = 0).
    s = CustomSurface(formula="(x - y)**2", view=[-2, 2, -2, 2])
    found = find_critical_points(s, seed_grid((-2, 2, -2, 2), 5), inside=(-2, 2, -2, 2))
    assert found.minima == [] and found.saddles == []


def test_keep_drops_points_by_loss():
    s = CustomSurface(formula="x**4 - x**2 + y**2 + 0.1*x", view=[-2, 2, -2, 2])
    found = find_critical_points(s, seed_grid((-2, 2, -2, 2), 9), inside=(-2, 2, -2, 2), max_step=0.4,
                                 keep=lambda loss: loss < -0.2)
    assert len(found.minima) == 1 and found.saddles == []

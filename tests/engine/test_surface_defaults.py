"""Every surface starts well: its published start, steps and step sizes give every optimizer a run
that does not diverge and goes downhill (issue 14, "every surface starts well")."""

import numpy as np
import pytest

import engine
from engine.optimizers import OPTIMIZERS
from engine.surfaces import SURFACES
from engine.surfaces.custom import CustomSurface

PAIRS = [(s, o) for s in SURFACES for o in OPTIMIZERS]


@pytest.mark.parametrize("surface", SURFACES)
def test_every_surface_publishes_a_start_inside_its_view_and_a_step_size_for_every_optimizer(surface):
    entry = SURFACES[surface].catalog_entry()
    x0, x1, y0, y1 = entry["view"]
    sx, sy = entry["default_start"]
    assert x0 < sx < x1 and y0 < sy < y1
    assert set(entry["step_sizes"]) == set(OPTIMIZERS)
    for name, lr in entry["step_sizes"].items():
        OPTIMIZERS[name].resolve({"lr": lr})  # a value the catalog allows
    assert len(entry["axes"]) == 2 and 1 <= entry["default_steps"] <= 20_000


@pytest.mark.parametrize("surface, optimizer", PAIRS)
def test_the_published_defaults_run_downhill_without_diverging(surface, optimizer):
    s = engine.make_surface(surface)
    entry = s.describe()
    [t] = engine.run(s, [(optimizer, {"lr": entry["step_sizes"][optimizer]})], start=entry["default_start"],
                     steps=entry["default_steps"], tol=1e-4)
    assert t.status != "diverged", (surface, optimizer, t.steps_taken)
    # Downhill, or (Newton's character) converged to the critical point its quadratic model points at.
    assert t.losses[-1] < t.losses[0] or t.status == "converged"


def test_the_saddle_is_bounded_below_by_default():
    s = engine.make_surface("saddle")
    ys = np.linspace(-100, 100, 2001)
    assert np.min(s.value(np.stack([np.zeros_like(ys), ys], -1))) >= -0.5 - 1e-12
    assert [tuple(m) for m in s.minima] == [(0.0, 1.0), (0.0, -1.0)]


def test_network_surfaces_name_their_axes_after_their_weights():
    assert SURFACES["two_weight_net"].catalog_entry()["axes"] == ["w1", "w2"]
    assert SURFACES["logistic_neuron"].catalog_entry()["axes"] == ["w", "b"]
    assert SURFACES["quadratic"].catalog_entry()["axes"] == ["x", "y"]


@pytest.mark.parametrize("surface", [s for s in SURFACES if SURFACES[s]().minima])
def test_gd_and_nesterov_step_sizes_are_stable_at_every_minimum(surface):
    """A run that reaches a minimum settles there: GD's η below 2/λmax and Nesterov's below its edge
    2(1 + β)/((1 + 2β)λmax) (β = 0.7, the page's, and 0.9, the catalog's) of the Hessian at each minimum.
    The landscape's GD at η = 1 bounced around a well of curvature 3 for good ("still going")."""
    s = engine.make_surface(surface)
    sizes = s.describe()["step_sizes"]
    for m in s.minima:
        lam = float(np.linalg.eigvalsh(s.hessian(np.array([m], float))[0]).max())
        assert sizes["gd"] < 2 / lam, (m, lam)
        for beta in (0.7, 0.9):
            assert sizes["nesterov"] < 2 * (1 + beta) / ((1 + 2 * beta) * lam), (m, lam, beta)


def test_a_typed_formula_gets_step_sizes_from_its_curvature():
    """GD 1/L with L the largest |curvature| over the view; Newton's full step only on a convex formula."""
    bowl = CustomSurface(formula="x**2 + 5*y**2", view=(-2, 2, -2, 2)).describe()["step_sizes"]
    assert bowl["gd"] == pytest.approx(0.1) and bowl["momentum"] == pytest.approx(0.05) and bowl["newton"] == 1.0
    assert set(bowl) == set(OPTIMIZERS)
    bumpy = CustomSurface().describe()["step_sizes"]
    assert bumpy["newton"] == 0.5 and 0 < bumpy["gd"] < 1

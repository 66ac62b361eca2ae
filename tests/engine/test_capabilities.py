"""Capabilities declared on the catalog entries, and what they mean (engine/capabilities.py)."""

import numpy as np
import pytest

import engine
from engine import accel, capabilities
from engine.optimizers import OPTIMIZERS

BOWL = engine.make_surface("quadratic", lambda_1=1, lambda_2=10, rotation=0)


def test_the_compiled_flag_matches_the_kernels_that_exist():
    assert {n for n, o in OPTIMIZERS.items() if o.capabilities.compiled} == set(accel.KINDS)


def test_a_beta_or_velocity_names_a_parameter_of_its_optimizer():
    for name, spec in OPTIMIZERS.items():
        params = {p.name for p in spec.params}
        for v in (spec.capabilities.beta, spec.capabilities.velocity):
            assert v in (None, "always") or v in params, (name, v)


@pytest.mark.parametrize("name, params", [("gd", {"lr": 0.15}), ("momentum", {"lr": 0.1, "momentum": 0.5}),
                                          ("nesterov", {"lr": 0.1, "momentum": 0.3}), ("sgd", {"lr": 0.1, "momentum": 0.5}),
                                          ("newton", {"lr": 0.5}), ("preconditioned", {"lr": 0.7})])
def test_predicted_rate_is_the_measured_rate(name, params):
    [t] = engine.run(BOWL, [(name, params)], start=[1.0, 1.0], steps=60)
    err = np.linalg.norm(t.points, axis=1)
    measured = engine.theory.measured_rate(err[err > 1e-200])
    assert measured == pytest.approx(capabilities.predicted_rate(BOWL, name, params), abs=0.02)


@pytest.mark.parametrize("name, params", [("gd", {}), ("momentum", {"momentum": 0.6}), ("nesterov", {"momentum": 0.6})])
def test_the_stability_edge_separates_converging_from_diverging_runs(name, params):
    edge = capabilities.stability_edge(BOWL, name, {"lr": 0.1, **params})
    below, above = ({"lr": edge * f, **params} for f in (0.98, 1.02))
    assert capabilities.predicted_rate(BOWL, name, below) < 1 < capabilities.predicted_rate(BOWL, name, above)
    statuses = [engine.run(BOWL, [(name, p)], start=[0.0, 1.0], steps=4000, tol=1e-6)[0].status for p in (below, above)]
    assert statuses == ["converged", "diverged"]


def test_no_theory_without_a_closed_form():
    assert capabilities.predicted_rate(BOWL, "adam", {"lr": 0.1}) is None
    assert capabilities.step_marks(BOWL, "gd", {"lr": 0.1, "schedule": "inverse"}) == []
    assert capabilities.predicted_rate(BOWL, "sgd", {"lr": 0.1, "momentum": 0.0, "noise": 0.1}) is None
    rosen = engine.make_surface("rosenbrock")
    assert capabilities.step_marks(rosen, "gd", {"lr": 0.001}) == []
    assert capabilities.step_marks(rosen, "newton", {"lr": 1.0}) == [{"param": "lr", "value": 1.0, "label": "full step"}]
    assert capabilities.has_velocity("sgd", {"momentum": 0.0}) is False and capabilities.has_velocity("adam", {"beta1": 0.9})

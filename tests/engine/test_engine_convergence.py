"""Every optimizer reaches the known minimizer of the problems it should solve.

Like optax's ``alias_test``: a table of optimizers with their hyperparameters, crossed
with a table of problems with their known minimizers. Step sizes are ones that theory
(or the problem's curvature) says are stable; each row must land on the minimizer.
"""

import numpy as np
import pytest

from engine import OPTIMIZERS, make_surface, run

QUADRATIC = ("quadratic", dict(lambda_1=1.0, lambda_2=10.0, rotation=30.0), (-1.5, 2.0), (0.0, 0.0))

# On the bowl with λ = (1, 10) every optimizer converges: GD needs η < 2/λmax = 0.2,
# heavy ball η < 2(1 + β)/λmax, Newton and preconditioned GD are exact for η = 1.
QUADRATIC_OPTIMIZERS = [
    ("gd", dict(lr=0.1)),
    ("gd", dict(lr=0.19)),
    ("gd", dict(lr=0.19, schedule="step", decay_every=500)),
    ("momentum", dict(lr=0.02, momentum=0.9)),
    ("momentum", dict(lr=0.3, momentum=0.6)),
    ("nesterov", dict(lr=0.02, momentum=0.9)),
    ("nesterov", dict(lr=0.15, momentum=0.3)),
    ("adam", dict(lr=0.05)),
    ("adagrad", dict(lr=0.5)),
    ("newton", dict(lr=1.0)),
    ("newton", dict(lr=0.5)),
    ("preconditioned", dict(lr=1.0)),
    ("preconditioned", dict(lr=0.1)),
    ("sgd", dict(lr=0.1, momentum=0.5)),
]


def test_every_optimizer_is_in_the_quadratic_table():
    assert {name for name, _ in QUADRATIC_OPTIMIZERS} | {"rmsprop"} == set(OPTIMIZERS)


@pytest.mark.parametrize("optimizer, params", QUADRATIC_OPTIMIZERS, ids=lambda v: str(v))
def test_converges_on_the_quadratic(optimizer, params):
    name, sp, start, minimizer = QUADRATIC
    [t] = run(make_surface(name, **sp), [(optimizer, params)], start=start, steps=3000, tol=1e-10)
    assert t.status == "converged"
    assert np.linalg.norm(t.points[-1] - minimizer) < 1e-9
    assert t.losses[-1] < 1e-18


# RMSprop's step is η·g/√v and √v tracks |g|, so with a constant η it never settles:
# it hovers around the minimum with an amplitude of about η (per coordinate).
@pytest.mark.parametrize("lr", [0.01, 0.001])
def test_rmsprop_hovers_within_its_step_size_of_the_minimum(lr):
    name, sp, start, minimizer = QUADRATIC
    [t] = run(make_surface(name, **sp), [("rmsprop", dict(lr=lr))], start=start, steps=6000)
    tail = np.linalg.norm(t.points[-500:] - minimizer, axis=1)
    assert tail.max() < 1.5 * np.sqrt(2) * lr
    assert tail.max() > 0.1 * lr  # it really does not settle


# (surface, params, start, minimizer), then rows (optimizer, params, steps, tolerance on
# the distance to the minimizer). Non-convex problems need step sizes below 2/λmax of
# the Hessian along the way (Rosenbrock's valley: λmax ≈ 1000, so η ≈ 1e-3).
ROSENBROCK = ("rosenbrock", {}, (-1.2, 1.0), (1.0, 1.0))
HIMMELBLAU = ("himmelblau", {}, (1.0, 1.0), (3.0, 2.0))
BEALE = ("beale", {}, (1.0, 1.0), (3.0, 0.5))
LANDSCAPE = ("landscape", {}, (-0.6, -0.3), (-1.396563, -0.997594))
LANDSCAPE_NEAR_MINIMUM = ("landscape", {}, (-1.2, -0.8), (-1.396563, -0.997594))  # Newton needs H > 0 on the way
SADDLE_WITH_WALL = ("saddle", dict(wall=0.5), (1.0, 0.05), (0.0, 1.0))
TWO_WEIGHT_NET = ("two_weight_net", dict(loss="ce"), (0.5, 0.5), (1.362774, 2.232057))
SMOOTHED_NEURON = ("logistic_neuron", dict(label_smoothing=0.1), (0.0, 0.0), (1.652155, 0.0))

TABLE = [
    (ROSENBROCK, "momentum", dict(lr=0.001, momentum=0.95), 3000, 1e-9),
    (ROSENBROCK, "momentum", dict(lr=0.002, momentum=0.9), 3000, 1e-9),
    (ROSENBROCK, "nesterov", dict(lr=0.001, momentum=0.95), 3000, 1e-9),
    (ROSENBROCK, "adam", dict(lr=0.05), 3000, 1e-6),
    (ROSENBROCK, "newton", dict(lr=1.0), 20, 1e-12),
    (ROSENBROCK, "newton", dict(lr=0.5), 100, 1e-12),
    (HIMMELBLAU, "gd", dict(lr=0.001), 1000, 1e-9),
    (HIMMELBLAU, "momentum", dict(lr=0.001, momentum=0.9), 1000, 1e-9),
    (HIMMELBLAU, "nesterov", dict(lr=0.001, momentum=0.9), 1000, 1e-9),
    (HIMMELBLAU, "adam", dict(lr=0.05), 1000, 1e-9),
    (HIMMELBLAU, "rmsprop", dict(lr=0.01), 1000, 0.02),
    (HIMMELBLAU, "adagrad", dict(lr=0.5), 1000, 1e-9),
    (HIMMELBLAU, "preconditioned", dict(lr=0.1), 1000, 1e-9),
    (BEALE, "momentum", dict(lr=0.02, momentum=0.9), 1000, 1e-9),
    (BEALE, "adam", dict(lr=0.05), 2000, 1e-9),
    (BEALE, "adagrad", dict(lr=0.5), 2000, 1e-9),
    (BEALE, "preconditioned", dict(lr=1.0), 3000, 1e-9),
    (LANDSCAPE, "gd", dict(lr=0.1), 1000, 1e-6),
    (LANDSCAPE, "momentum", dict(lr=0.05, momentum=0.8), 1000, 1e-6),
    (LANDSCAPE_NEAR_MINIMUM, "newton", dict(lr=1.0), 30, 1e-12),
    (SADDLE_WITH_WALL, "gd", dict(lr=0.1), 1000, 1e-9),
    (SADDLE_WITH_WALL, "adam", dict(lr=0.02), 3000, 1e-6),
    (TWO_WEIGHT_NET, "gd", dict(lr=0.5), 3000, 1e-5),
    (TWO_WEIGHT_NET, "momentum", dict(lr=0.2, momentum=0.9), 2000, 1e-5),
    (SMOOTHED_NEURON, "gd", dict(lr=1.0), 1000, 1e-9),
    (SMOOTHED_NEURON, "newton", dict(lr=1.0), 20, 1e-12),
]


def _id(row):
    (surface, *_), optimizer, params, *_ = row
    return f"{surface}-{optimizer}-{'-'.join(f'{k}={v}' for k, v in params.items())}"


@pytest.mark.parametrize("problem, optimizer, params, steps, atol", TABLE, ids=[_id(r) for r in TABLE])
def test_converges_to_the_known_minimizer(problem, optimizer, params, steps, atol):
    name, sp, start, minimizer = problem
    surface = make_surface(name, **sp)
    # The table's minimizer (to 6 digits) is one the surface knows to full precision.
    exact = min(surface.minima, key=lambda m: np.hypot(*np.subtract(minimizer, m)))
    assert np.hypot(*np.subtract(minimizer, exact)) < 1e-5
    [t] = run(surface, [(optimizer, params)], start=start, steps=steps)
    assert t.status == "max_steps"
    assert np.all(np.isfinite(t.points)) and np.all(np.isfinite(t.losses))
    assert np.linalg.norm(t.points[-1] - exact) < atol

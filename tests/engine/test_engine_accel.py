"""The compiled fast path (engine.accel) against the numpy reference: bit for bit.

The reference runner is the specification; the kernel is an optimisation of it. Every
table below runs the same scene twice, once on each path, and compares every point,
loss, gradient norm, status and step count exactly: every surface (data surfaces and typed
formulas included) with every optimizer, SGD with every batch size and noise level.
"""

import numpy as np
import pytest

from engine import accel, make_surface, run, run_chunks, sweep
from engine.runner import Stepper, configure

pytest.importorskip("numba")


@pytest.fixture(scope="module", autouse=True)
def compiled():
    if not accel.warm_up(wait=True):
        pytest.skip(f"the compiled path is not available here: {accel.status()}")


SURFACES = [
    ("quadratic", {}, (-1.5, 2.0)),
    ("quadratic", dict(lambda_1=0.01, lambda_2=300, rotation=-75), (2.0, -1.0)),
    ("saddle", {}, (1.0, 0.01)),
    ("saddle", dict(wall=1.0, curvature_ratio=3), (-1.0, 0.2)),
    ("rosenbrock", {}, (-1.2, 1.0)),
    ("rosenbrock", dict(a=-1.5, b=0.0), (-1.5, 2.0)),  # b = 0: a singular Hessian everywhere
    ("himmelblau", {}, (0.5, -0.5)),
    ("beale", {}, (1.0, 1.0)),
    ("beale", {}, (-3.0, 3.5)),
]
SURFACE_IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(SURFACES)]

OPTIMIZERS = [
    ("gd", dict(lr=1e-3)),
    ("gd", dict(lr=0.05, schedule="inverse")),
    ("gd", dict(lr=0.03, schedule="inverse_sqrt")),
    ("gd", dict(lr=0.05, schedule="step", decay_every=7)),
    ("gd", dict(lr=5.0)),  # diverges
    ("momentum", dict(lr=1e-3, momentum=0.9)),
    ("momentum", dict(lr=0.01, momentum=0.5, schedule="step", decay_every=10)),
    ("nesterov", dict(lr=2e-3, momentum=0.8)),
    ("sgd", dict(lr=1e-3, momentum=0.3)),  # no noise, no data: deterministic
    ("adagrad", dict(lr=0.5)),
    ("adagrad", dict(lr=0.5, eps=0.0)),
    ("rmsprop", dict(lr=0.01)),
    ("rmsprop", dict(lr=0.01, alpha=0.0, eps=0.0)),
    ("adam", dict(lr=0.05)),
    ("adam", dict(lr=0.02, beta1=0.0, beta2=0.5, eps=0.0)),
    ("newton", dict(lr=1.0)),
    ("newton", dict(lr=0.3)),
    ("preconditioned", dict(lr=1.0)),
    ("preconditioned", dict(lr=0.2)),
]


def assert_same(a, b):
    assert (a.optimizer, a.params, a.status, a.steps_taken) == (b.optimizer, b.params, b.status, b.steps_taken)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.grad_norms, b.grad_norms)


def both(fn):
    fast = fn()
    with accel.disabled():
        reference = fn()
    return fast, reference


@pytest.mark.parametrize("tol", [0.0, 1e-6])
@pytest.mark.parametrize("name, params, start", SURFACES, ids=SURFACE_IDS)
def test_a_race_on_the_kernel_equals_the_reference(name, params, start, tol):
    s = make_surface(name, **params)
    assert accel.plan(s, [configure(*o) for o in OPTIMIZERS]) is not None  # this race is on the kernel
    fast, reference = both(lambda: run(s, OPTIMIZERS, start=start, steps=300, tol=tol))
    for a, b in zip(fast, reference):
        assert_same(a, b)


@pytest.mark.parametrize("chunk_size", [1, 7, 64])
def test_chunks_on_the_kernel_equal_the_reference(chunk_size):
    s = make_surface("beale")

    def chunks():
        return [(rc.run, rc.first, rc.points.copy(), rc.losses.copy(), rc.grad_norms.copy(), c.status, c.done)
                for c in run_chunks(s, OPTIMIZERS, (1.0, 1.0), 200, tol=1e-9, chunk_size=chunk_size)
                for rc in c.runs or [None] if rc is not None]

    fast, reference = both(chunks)
    assert len(fast) == len(reference)
    for a, b in zip(fast, reference):
        assert a[:2] == b[:2] and a[5:] == b[5:]
        for x, y in zip(a[2:5], b[2:5]):
            np.testing.assert_array_equal(x, y)


def test_random_scenes_agree():
    # Random starts and hyperparameters across the whole allowed ranges: divergence,
    # overflow, zero curvature and every optimizer branch, as the two paths meet them.
    rng = np.random.default_rng(20240611)
    for _ in range(60):
        name, params, _ = SURFACES[rng.integers(len(SURFACES))]
        s = make_surface(name, **params)
        x0, x1, y0, y1 = s.view
        start = (rng.uniform(x0, x1), rng.uniform(y0, y1))
        opts = []
        for _ in range(4):
            opt, base = OPTIMIZERS[rng.integers(len(OPTIMIZERS))]
            p = dict(base, lr=float(10 ** rng.uniform(-4, 0.7)))
            if "momentum" in p or opt in ("momentum", "nesterov"):
                p["momentum"] = float(rng.uniform(0, 0.999))
            opts.append((opt, p))
        tol = float(rng.choice([0.0, 1e-4]))
        fast, reference = both(lambda: run(s, opts, start=start, steps=120, tol=tol))
        for a, b in zip(fast, reference):
            assert_same(a, b)


# The heavy-ball sweeps take a kernel of their own; the others (schedules, Adam, Newton) the general one.
@pytest.mark.parametrize("optimizer, betas, params", [
    ("momentum", np.linspace(0, 0.99, 7), {}), ("nesterov", np.linspace(0, 0.9, 5), {}), ("gd", None, {}),
    ("momentum", np.linspace(0, 0.9, 4), dict(schedule="step", decay_every=30)), ("gd", None, dict(schedule="inverse")),
    ("adam", None, {}), ("newton", None, {}), ("preconditioned", None, {}),
])
@pytest.mark.parametrize("name, surface_params, start", [
    ("rosenbrock", {}, (-1.2, 1.0)), ("quadratic", {}, (-1.5, 2.0)), ("beale", {}, (1.0, 1.0)),
    ("softmax3", {}, (-1.0, 1.0)), ("net221", {}, (-1.5, 2.5)),
    ("random_field", {}, (-1.83, 1.63)), ("random_field", {}, (3.0, -4.0)),
    ("two_weight_net", {}, (-3.0, -4.0)), ("two_weight_net", dict(loss="l2"), (0.5, -0.5)),
    ("two_weight_net", dict(activation="relu"), (1.0, 1.0)), ("two_weight_net", dict(activation="relu"), (0.0, 1.0)),
])
def test_a_sweep_on_the_kernel_equals_the_reference(optimizer, betas, params, name, surface_params, start):
    # The random field's and the two-weight net's sweeps step on their gradient alone and ask for the value
    # where a row stops and at the end of each call (kernel.GRADIENT_TWINS): the final losses must still be
    # the reference's.
    s = make_surface(name, **surface_params)
    lrs = np.geomspace(1e-4, 1.0, 9)
    fast, reference = both(lambda: sweep(s, optimizer, lrs, betas, start=start, steps=400, tol=1e-6, params=params))
    np.testing.assert_array_equal(fast.final_loss, reference.final_loss)
    np.testing.assert_array_equal(fast.steps_to_tol, reference.steps_to_tol)
    np.testing.assert_array_equal(fast.diverged, reference.diverged)


@pytest.mark.parametrize("name, params, point", [
    ("random_field", {}, (-1.83, 1.63)), ("random_field", {}, (1e160, -3e155)),
    ("two_weight_net", {}, (-3.0, -4.0)), ("two_weight_net", dict(loss="l2", activation="sigmoid"), (2.0, 7.0)),
    ("two_weight_net", dict(activation="relu"), (1e200, 1e200)),  # z = ∞: the loss is not finite
    ("two_weight_net", dict(activation="relu"), (1e150, 1e149)),  # |z| < 10³⁰⁰: 0 stands in for a loss of 10²⁹⁹
    ("two_weight_net", dict(loss="l2", activation="relu"), (1e200, -1e200)),
])
def test_a_gradient_twin_gives_the_gradient_and_a_value_finite_exactly_where_the_value_is(name, params, point):
    from engine.accel import WORK_ROWS, _loops
    from engine.kernel import GRADIENT_TWINS, SURFACE_TWINS

    s = make_surface(name, **params)
    floats, ints = s.twin_arrays
    full = dict((row[0], row[1]) for row in SURFACE_TWINS)[name]
    args = (np.asarray(floats, float), np.asarray(ints, np.int64), _loops())
    with np.errstate(all="ignore"):
        f, *g = full(*args, np.zeros((WORK_ROWS, 512)), *point)
        stand_in, *g_alone = GRADIENT_TWINS[name](*args, np.zeros((WORK_ROWS, 512)), *point)
    assert np.array_equal(g, g_alone, equal_nan=True)
    assert np.isfinite(stand_in) == np.isfinite(f)


@pytest.mark.parametrize("optimizer, betas", [("gd", None), ("momentum", np.linspace(0, 0.95, 5)), ("adam", None)])
@pytest.mark.parametrize("name, start", [("random_field", (-1.83, 1.63)), ("two_weight_net", (-3.0, -4.0))])
def test_a_sweep_stepped_in_calls_keeps_the_reference_losses(optimizer, betas, name, start):
    # Between calls a row still running holds the value at its last point, which the gradient-only
    # steps of these surfaces compute only at a call's last step.
    s = make_surface(name)
    lrs = np.geomspace(1e-3, 10.0, 11)
    args = dict(start=start, steps=150, tol=1e-4)
    reference = both(lambda: sweep(s, optimizer, lrs, betas, **args))[1]
    for every in (1, 7, 40):
        fast = sweep(s, optimizer, lrs, betas, check=lambda: None, check_every=every, **args)
        np.testing.assert_array_equal(fast.final_loss, reference.final_loss)
        np.testing.assert_array_equal(fast.steps_to_tol, reference.steps_to_tol)
        np.testing.assert_array_equal(fast.diverged, reference.diverged)


# --- every surface and optimizer, SGD's batches and noise, typed formulas ------------------------

ALL_SURFACES = [
    ("landscape", {}, (2.0, 2.2)), ("landscape", {}, (-0.3, 0.4)),
    ("two_weight_net", {}, (3.5, -5.0)), ("two_weight_net", dict(loss="l2"), (0.5, -0.5)),
    ("two_weight_net", dict(activation="sigmoid"), (-2.0, 3.0)), ("two_weight_net", dict(activation="relu"), (1.0, 1.0)),
    ("two_weight_net", dict(activation="relu"), (0.0, 1.0)),  # w1 = 0: every u = 0, where ReLU′ is ½
    ("logistic_neuron", {}, (-1.0, 2.0)), ("logistic_neuron", dict(loss="l2", label_smoothing=0.2), (8.0, -4.0)),
    ("logistic_neuron", dict(label_smoothing=0.49), (0.0, 3.0)),
    ("booth", {}, (-4.0, -2.0)), ("booth", {}, (7.0, 9.5)),
    ("softmax3", {}, (-1.0, 1.0)), ("softmax3", dict(label_smoothing=0.1), (6.0, -5.0)),
    ("softmax3", dict(label_smoothing=0.3), (0.0, 0.0)),
    ("random_field", {}, (-1.83, 1.63)), ("random_field", dict(seed=417), (3.0, -4.0)),
    ("net221", {}, (-1.5, 2.5)), ("net221", dict(activation="sigmoid"), (4.0, -3.0)),
    ("net221", dict(activation="relu"), (0.5, 0.5)),
]
FORMULAS = [
    ("x**2/4 + y**2 + sin(3*x)*cos(2*y)/2", (-3, 3, -3, 3), (1.0, 1.5)),
    ("x**3 - 3*x*y**2 + y**4/10 + 1/(x**2 + 1)", (-2, 2, -2, 2), (0.7, -0.4)),  # powers: square, pow, reciprocal
    ("sqrt(x**2 + y**2 + 1) + exp(-x**2) * tan(y/3) + 2**x", (-2, 2, -2, 2), (-1.0, 0.8)),
    ("tanh(x) * sinh(y/2) + cosh(x/3) + atan(x*y) + x**0.5", (0.1, 3, -2, 2), (1.5, 0.5)),
    ("sigmoid(3*x - y) + softplus(x + y) + relu(x - 0.5) + abs(y) + log(x + 3)", (-2, 2, -2, 2), (0.3, 0.2)),
    ("(x + 2)**(-2.0) + y**2 + pi*e*x", (-1.5, 2, -2, 2), (0.5, 1.0)),
]
RACE = [o for o in OPTIMIZERS if o[0] != "sgd"] + [
    ("sgd", dict(lr=0.01)), ("sgd", dict(lr=0.01, noise=0.2, momentum=0.5)),
    ("sgd", dict(lr=0.05, batch_size=3, schedule="inverse", seed=3)),
]


def assert_both_paths_equal(s, opts, start, steps, tol=0.0, seed=0):
    configs = [configure(*o) for o in opts]
    assert Stepper(s, configs, np.tile(start, (len(configs), 1)), seed=seed).plan is not None  # on the kernel
    fast, reference = both(lambda: run(s, opts, start=start, steps=steps, tol=tol, seed=seed))
    for a, b in zip(fast, reference):
        assert_same(a, b)


@pytest.mark.parametrize("tol", [0.0, 1e-6])
@pytest.mark.parametrize("name, params, start", ALL_SURFACES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(ALL_SURFACES)])
def test_every_optimizer_on_the_other_surfaces_equals_the_reference(name, params, start, tol):
    assert_both_paths_equal(make_surface(name, **params), RACE, start, 120, tol)


@pytest.mark.parametrize("formula, view, start", FORMULAS, ids=[f"formula-{i}" for i in range(len(FORMULAS))])
def test_typed_formulas_on_the_kernel_equal_the_reference(formula, view, start):
    s = make_surface("custom", formula=formula, view=view)
    assert_both_paths_equal(s, RACE, start, 120, 1e-9)


@pytest.mark.parametrize("name, params", [("logistic_neuron", {}), ("logistic_neuron", dict(loss="l2")),
                                          ("two_weight_net", {}), ("two_weight_net", dict(activation="relu"))])
def test_sgd_every_batch_size_on_the_kernel_equals_the_reference(name, params):
    s = make_surface(name, **params)
    sizes = list(range(1, s.n_examples + 1))
    for first in range(0, len(sizes), 8):  # races of eight, as the service allows
        opts = [("sgd", dict(lr=0.1, batch_size=b, seed=b, momentum=0.3 * (b % 3), schedule=("constant", "inverse")[b % 2]))
                for b in sizes[first:first + 8]]
        assert_both_paths_equal(s, opts, (1.0, -1.0), 60, seed=first)


@pytest.mark.parametrize("noise", [1e-6, 1e-3, 0.1, 1.0, 10.0, 100.0])
@pytest.mark.parametrize("name, batch", [("quadratic", 1), ("saddle", 1), ("rosenbrock", 1), ("two_weight_net", 1),
                                         ("two_weight_net", 7), ("two_weight_net", 120), ("logistic_neuron", 3)])
def test_sgd_every_noise_level_on_the_kernel_equals_the_reference(noise, name, batch):
    s = make_surface(name)
    opts = [("sgd", dict(lr=0.01, noise=noise, batch_size=batch, seed=k, momentum=0.5 * k)) for k in range(2)]
    assert_both_paths_equal(s, opts + [("gd", dict(lr=0.01))], (0.5, 0.5), 150, seed=11)


def test_a_sweep_of_sgd_on_a_data_surface_equals_the_reference():
    s = make_surface("logistic_neuron")
    args = dict(start=(1.0, 1.0), steps=80, tol=1e-3, params=dict(batch_size=2, noise=0.1))
    fast, reference = both(lambda: sweep(s, "sgd", np.geomspace(1e-3, 1.0, 6), [0.0, 0.5], **args))
    np.testing.assert_array_equal(fast.final_loss, reference.final_loss)
    np.testing.assert_array_equal(fast.steps_to_tol, reference.steps_to_tol)


def test_a_formula_the_twin_cannot_read_runs_on_the_reference():
    from engine.surfaces.formula_twin import program

    assert program(("def f(x, y):\n    return [x[0], 1, 2]\n", "def f(x, y):\n    return [0, 0, 0]\n"), {}) is None


def test_losslab_accel_0_selects_the_reference():
    import subprocess
    import sys

    code = ("from engine import accel, make_surface; from engine.runner import Stepper, configure; import numpy as np; "
            "accel.warm_up(wait=True); "
            "print(accel.status(), Stepper(make_surface('rosenbrock'), [configure('gd')], np.zeros((1, 2))).plan)")
    out = subprocess.run([sys.executable, "-c", code], env={**__import__("os").environ, "LOSSLAB_ACCEL": "0"},
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "off (LOSSLAB_ACCEL=0) None"


def test_the_catalog_declares_what_the_kernel_runs():
    from engine.kernel import RULE_OF
    from engine.optimizers import OPTIMIZERS
    from engine.surfaces import SURFACES as SURFACE_CATALOG

    assert {name for name, spec in OPTIMIZERS.items() if spec.capabilities.compiled} == set(RULE_OF)
    assert all(accel.covers(s, o) for s in SURFACE_CATALOG if s != "custom" for o in OPTIMIZERS)
    assert not accel.covers("custom", "gd")  # a typed formula is built (maybe derived) first, then planned


def test_the_reference_can_be_forced():
    s = make_surface("quadratic")
    with accel.disabled():
        assert not accel.enabled() and accel.plan(s, [configure("gd")]) is None
    assert accel.enabled() and accel.plan(s, [configure("gd")]) is not None


def test_each_surface_is_ready_on_its_own(monkeypatch):
    """The kernel compiles one surface at a time: a surface not compiled yet runs on the reference
    (same results) and is asked for next, while the compiled ones keep running on the kernel."""
    from engine.kernel import SURFACE_NAMES

    assert accel.ready() and all(accel.ready(n) for n in SURFACE_NAMES) and not accel.ready("no such surface")
    assert accel.status().startswith("on (numba")
    i = SURFACE_NAMES.index("rosenbrock")
    monkeypatch.setattr(accel, "_compiled", {k: v for k, v in accel._compiled.items() if k != i})
    monkeypatch.setattr(accel, "_wanted", [])
    assert not accel.ready() and not accel.ready("rosenbrock") and accel.ready("quadratic")
    assert accel.status() == f"compiling (ready for {len(SURFACE_NAMES) - 1} of {len(SURFACE_NAMES)} surfaces)"
    rosen, start = make_surface("rosenbrock"), np.array([[-1.2, 1.0]])
    assert Stepper(rosen, [configure("gd", {"lr": 1e-3})], start).plan is None
    assert accel._wanted == [i]  # compiled next
    assert Stepper(make_surface("quadratic"), [configure("gd")], start).plan is not None
    waiting = run(rosen, [("gd", dict(lr=1e-3)), ("adam", dict(lr=0.05))], start=(-1.2, 1.0), steps=200)
    monkeypatch.undo()
    assert Stepper(rosen, [configure("gd", {"lr": 1e-3})], start).plan is not None
    compiled = run(rosen, [("gd", dict(lr=1e-3)), ("adam", dict(lr=0.05))], start=(-1.2, 1.0), steps=200)
    for a, b in zip(waiting, compiled):
        assert_same(a, b)

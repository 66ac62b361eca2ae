"""The compiled fast path (engine.accel) against the numpy reference: bit for bit.

The reference runner is the specification; the kernel is an optimisation of it. Every
table below runs the same scene twice, once on each path, and compares every point,
loss, gradient norm, status and step count exactly. Scenes the kernel does not cover
must fall back to the reference.
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
@pytest.mark.parametrize("name, start", [("rosenbrock", (-1.2, 1.0)), ("quadratic", (-1.5, 2.0)), ("beale", (1.0, 1.0))])
def test_a_sweep_on_the_kernel_equals_the_reference(optimizer, betas, params, name, start):
    s = make_surface(name)
    lrs = np.geomspace(1e-4, 1.0, 9)
    fast, reference = both(lambda: sweep(s, optimizer, lrs, betas, start=start, steps=400, tol=1e-6, params=params))
    np.testing.assert_array_equal(fast.final_loss, reference.final_loss)
    np.testing.assert_array_equal(fast.steps_to_tol, reference.steps_to_tol)
    np.testing.assert_array_equal(fast.diverged, reference.diverged)


@pytest.mark.parametrize("name, params, opts", [
    ("landscape", {}, ["gd"]),
    ("two_weight_net", {}, ["gd"]),
    ("logistic_neuron", {}, ["adam"]),
    ("quadratic", {}, ["gd", ("sgd", dict(noise=0.5))]),
])
def test_what_the_kernel_does_not_cover_runs_on_the_reference(name, params, opts):
    s = make_surface(name, **params)
    configs = [configure(*o) if isinstance(o, tuple) else configure(o) for o in opts]
    assert accel.plan(s, configs) is None
    st = Stepper(s, configs, np.zeros((len(configs), 2)) + 0.5)
    assert st.plan is None and st.groups


def test_the_reference_can_be_forced():
    s = make_surface("quadratic")
    with accel.disabled():
        assert not accel.enabled() and accel.plan(s, [configure("gd")]) is None
    assert accel.enabled() and accel.plan(s, [configure("gd")]) is not None

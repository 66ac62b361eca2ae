"""Optimizers follow PyTorch's update rules, and are pure functions of their state.

The reference below is torch.optim's documented pseudo-code, written as a plain loop
one coordinate at a time; the engine's vectorized, chained transforms must reproduce it.
"""

import math

import numpy as np
import pytest

from engine import make_surface, run
from engine.optimizers import OPTIMIZERS, make_optimizer


def reference(name, grad, x0, steps, lr, momentum=0.0, alpha=0.99, beta1=0.9, beta2=0.999, eps=None):
    """torch.optim's algorithms (SGD, SGD nesterov, Adagrad, RMSprop, Adam), scalar by scalar."""
    x = list(x0)
    buf, ssum, sq, m, v = [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]
    out = [tuple(x)]
    for t in range(1, steps + 1):
        g = grad(x)
        for i in range(2):
            gi = g[i]
            if name == "gd":
                x[i] -= lr * gi
            elif name in ("momentum", "nesterov"):
                buf[i] = momentum * buf[i] + gi  # PyTorch: b ← β b + g (dampening 0); b₁ = g
                d = gi + momentum * buf[i] if name == "nesterov" else buf[i]
                x[i] -= lr * d
            elif name == "adagrad":
                ssum[i] += gi * gi
                x[i] -= lr * gi / (math.sqrt(ssum[i]) + (1e-10 if eps is None else eps))
            elif name == "rmsprop":
                sq[i] = alpha * sq[i] + (1 - alpha) * gi * gi
                x[i] -= lr * gi / (math.sqrt(sq[i]) + (1e-8 if eps is None else eps))
            elif name == "adam":
                m[i] = beta1 * m[i] + (1 - beta1) * gi
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
                m_hat = m[i] / (1 - beta1**t)
                v_hat = v[i] / (1 - beta2**t)
                x[i] -= lr * m_hat / (math.sqrt(v_hat) + (1e-8 if eps is None else eps))
        out.append(tuple(x))
    return np.array(out)


CASES = [
    ("gd", dict(lr=1e-3)),
    ("momentum", dict(lr=1e-3, momentum=0.9)),
    ("nesterov", dict(lr=1e-3, momentum=0.9)),
    ("adagrad", dict(lr=0.3)),
    ("adagrad", dict(lr=0.3, eps=0.1)),
    ("rmsprop", dict(lr=0.01)),
    ("rmsprop", dict(lr=0.01, alpha=0.9, eps=1e-3)),
    ("adam", dict(lr=0.05)),
    ("adam", dict(lr=0.02, beta1=0.5, beta2=0.9, eps=1e-4)),
]


@pytest.mark.parametrize("name, params", CASES, ids=lambda v: str(v))
def test_trajectory_matches_the_pytorch_reference_loop(name, params):
    s = make_surface("rosenbrock")
    # Rosenbrock's valley amplifies rounding differences (the reference rounds in another
    # order) by about 10³ every 20 steps in the most sensitive case: 120 steps keep them < 1e-9.
    start, steps = (-1.2, 1.0), 120
    [t] = run(s, [(name, params)], start=start, steps=steps)
    expected = reference(name, lambda x: s.grad(np.array(x)), start, steps, **params)
    np.testing.assert_allclose(t.points, expected, rtol=1e-9, atol=1e-12)


# First steps on f = ½(x² + 10y²) from (1, 1), g = (x, 10y), worked out by hand.
FIRST_STEPS = [
    # gd η = 0.1: x₁ = (1, 1) − 0.1·(1, 10)
    ("gd", dict(lr=0.1), [(0.9, 0.0)]),
    # heavy ball η = 0.05, β = 0.5: v₁ = g₀ = (1, 10), x₁ = (0.95, 0.5);
    # g₁ = (0.95, 5), v₂ = 0.5·(1, 10) + (0.95, 5) = (1.45, 10), x₂ = (0.95 − 0.0725, 0.5 − 0.5)
    ("momentum", dict(lr=0.05, momentum=0.5), [(0.95, 0.5), (0.8775, 0.0)]),
    # Nesterov: x₁ = x₀ − η(g₀ + β v₁) = (1, 1) − 0.05·1.5·(1, 10) = (0.925, 0.25)
    ("nesterov", dict(lr=0.05, momentum=0.5), [(0.925, 0.25)]),
    # Adam's bias-corrected first step is η·g/|g| = η per coordinate (up to ε).
    ("adam", dict(lr=0.1, eps=0.0), [(0.9, 0.9)]),
    # Adagrad's first step too: g/√(g²) = 1.
    ("adagrad", dict(lr=0.1, eps=0.0), [(0.9, 0.9)]),
    # RMSprop has no bias correction: v₁ = (1 − α) g², step η/√(1 − α) = 10η for α = 0.99.
    ("rmsprop", dict(lr=0.01, eps=0.0), [(0.9, 0.9)]),
    # Newton: one step to the minimum.
    ("newton", dict(lr=1.0), [(0.0, 0.0)]),
]


@pytest.mark.parametrize("name, params, expected", FIRST_STEPS, ids=[c[0] for c in FIRST_STEPS])
def test_first_steps_by_hand(name, params, expected):
    s = make_surface("quadratic", lambda_1=1.0, lambda_2=10.0, rotation=0.0)
    [t] = run(s, [(name, params)], start=(1.0, 1.0), steps=len(expected))
    np.testing.assert_allclose(t.points[1:], expected, atol=1e-15)


@pytest.mark.parametrize("name, params", CASES + [("newton", dict(lr=0.5)), ("preconditioned", dict(lr=0.5))],
                         ids=lambda v: str(v))
def test_update_is_pure(name, params):
    # init/update never mutate: the same (grad, state, x) always gives the same step,
    # which is what makes reset, replay and races possible.
    opt = make_optimizer(name, **params)
    s = make_surface("rosenbrock")
    x = np.array([[-1.2, 1.0], [0.5, 0.3]])
    hess = s.hessian(x)
    state = opt.init(x)
    for _ in range(3):
        step, state = opt.update(s.grad(x), state, x, hess=hess)
        x = x + step
    frozen = repr(state)
    g = s.grad(x)
    a, state_a = opt.update(g, state, x, hess=s.hessian(x))
    b, state_b = opt.update(g.copy(), state, x.copy(), hess=s.hessian(x))
    np.testing.assert_array_equal(a, b)
    assert repr(state) == frozen and repr(state_a) == repr(state_b)


def test_momentum_convention_differs_from_eta_inside_the_velocity_when_eta_changes():
    # PyTorch keeps v ← βv + g and steps −η_k v; the "η inside" form v ← βv + η_k g steps −v.
    # They agree for a constant η and differ once η_k changes (here the 'step' schedule).
    s = make_surface("quadratic", lambda_1=1.0, lambda_2=10.0, rotation=0.0)
    lr, mu, every, steps = 0.05, 0.9, 5, 12
    [t] = run(s, [("momentum", dict(lr=lr, momentum=mu, schedule="step", decay_every=every))], start=(1.0, 1.0), steps=steps)
    x, v_torch, v_inside = np.array([1.0, 1.0]), np.zeros(2), np.zeros(2)
    x_inside = x.copy()
    for k in range(1, steps + 1):
        eta = lr * 0.5 ** ((k - 1) // every)
        v_torch = mu * v_torch + s.grad(x)
        x = x - eta * v_torch
        v_inside = mu * v_inside + eta * s.grad(x_inside)
        x_inside = x_inside - v_inside
    np.testing.assert_allclose(t.points[-1], x, rtol=1e-13)
    assert np.linalg.norm(t.points[-1] - x_inside) > 1e-3


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_builder_takes_exactly_its_catalog_parameters_but_the_samplings(name):
    # No phantom arguments: a parameter the catalog lists either reaches the update rule or is
    # declared as the runner's (how the gradient is sampled), never accepted and dropped.
    import inspect

    spec = OPTIMIZERS[name]
    built = set(inspect.signature(spec.build).parameters)
    listed = {p.name for p in spec.params}
    assert built == listed - set(spec.sampling)
    assert set(spec.sampling) <= listed

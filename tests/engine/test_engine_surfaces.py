"""Surfaces: analytic derivatives against finite differences, batching, critical points.

Every surface's gradient is checked against central differences of its loss, and its
Hessian against central differences of its gradient, at random points of its view.
Critical points are checked against the second-derivative test.
"""

import itertools

import numpy as np
import pytest

from engine import SURFACES, make_surface

# (surface, params): every surface, and every choice of its options.
CASES = [
    ("quadratic", {}),
    ("quadratic", dict(lambda_1=1.0, lambda_2=1.0, rotation=0.0)),
    ("quadratic", dict(lambda_1=0.5, lambda_2=20.0, rotation=-70.0)),
    ("quadratic", dict(lambda_1=300.0, lambda_2=0.01, rotation=135.0)),
    ("saddle", {}),
    ("saddle", dict(curvature_ratio=2.0, wall=0.5)),
    ("saddle", dict(curvature_ratio=0.1, wall=3.0)),
    ("rosenbrock", {}),
    ("rosenbrock", dict(a=-1.5, b=10.0)),
    ("rosenbrock", dict(a=0.5, b=0.0)),
    ("himmelblau", {}),
    ("beale", {}),
    ("landscape", {}),
] + [
    ("two_weight_net", dict(loss=loss, activation=act))
    for loss, act in itertools.product(("ce", "l2"), ("tanh", "sigmoid", "relu"))
] + [
    ("logistic_neuron", dict(loss=loss, label_smoothing=ls))
    for loss, ls in itertools.product(("ce", "l2"), (0.0, 0.1, 0.4))
] + [
    ("softmax3", dict(label_smoothing=ls)) for ls in (0.0, 0.05, 0.3)
] + [
    ("random_field", dict(seed=s)) for s in (0, 7)
] + [
    ("net221", dict(activation=a)) for a in ("tanh", "sigmoid", "relu")
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in p.items()) or 'default'}" for name, p in CASES]
DATA_CASES = [(n, p) for n, p in CASES if SURFACES[n].IS_DATA]
DATA_IDS = [i for i, (n, _) in zip(IDS, CASES) if SURFACES[n].IS_DATA]

EYE = np.eye(2)


def test_cases_cover_every_surface():
    assert {name for name, _ in CASES} == set(SURFACES)


def random_points(surface, n, seed=0):
    x0, x1, y0, y1 = surface.view
    rng = np.random.default_rng(seed)
    pts = np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], -1)
    if surface.params.get("activation") == "relu":
        # ReLU(w1·x) has a kink at w1 = 0 (the inputs are never 0): stay off it.
        pts = pts[np.abs(pts[:, 0]) > 1e-2]
    return pts


def central_grad(f, p, h):
    return np.stack([(f(p + h * EYE[i]) - f(p - h * EYE[i])) / (2 * h) for i in range(2)], -1)


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_gradient_matches_central_differences(name, params):
    s = make_surface(name, **params)
    p = random_points(s, 200)
    _, g = s.value_and_grad(p)
    fd = central_grad(s.value, p, 1e-6)
    # Central differences are accurate to O(h²·f''') plus rounding O(ε·|f| / h).
    scale = 1.0 + np.abs(s.value(p))[:, None]
    np.testing.assert_array_less(np.abs(g - fd), 1e-6 * scale + 1e-7 * np.abs(g))


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_hessian_matches_central_differences_of_gradient(name, params):
    s = make_surface(name, **params)
    p = random_points(s, 200, seed=1)
    h = s.hessian(p)
    assert h.shape == (len(p), 2, 2)
    np.testing.assert_array_equal(h, np.swapaxes(h, -1, -2))
    fd = np.stack([(s.grad(p + 1e-5 * EYE[i]) - s.grad(p - 1e-5 * EYE[i])) / 2e-5 for i in range(2)], -2)
    scale = 1.0 + np.linalg.norm(s.grad(p), axis=-1)[:, None, None]
    np.testing.assert_array_less(np.abs(h - fd), 1e-6 * scale + 1e-7 * np.abs(h))


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_batched_evaluation_equals_point_by_point(name, params):
    s = make_surface(name, **params)
    p = random_points(s, 24, seed=2)[:24].reshape(2, 3, 4, 2)
    f, g = s.value_and_grad(p)
    h = s.hessian(p)
    assert f.shape == (2, 3, 4) and g.shape == (2, 3, 4, 2) and h.shape == (2, 3, 4, 2, 2)
    for idx in np.ndindex(2, 3, 4):
        fi, gi = s.value_and_grad(p[idx])
        assert np.shape(fi) == () and gi.shape == (2,)
        # Exactly equal: a race batches its runs, and each must see what it would see alone.
        assert f[idx] == fi
        np.testing.assert_array_equal(g[idx], gi)
        np.testing.assert_array_equal(h[idx], s.hessian(p[idx]))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def hand_example_losses(s, p):
    """Per-example losses of one point, written out the textbook way."""
    x, t = s.inputs, s.targets
    if s.NAME == "two_weight_net":
        w1, w2 = p
        hidden = {"tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda u: np.maximum(u, 0.0)}
        y = sigmoid(w2 * hidden[s.params["activation"]](w1 * x))
    else:
        w, b = p
        y = sigmoid(w * x + b)
    if s.params["loss"] == "ce":
        return -(t * np.log(y) + (1 - t) * np.log(1 - y))
    return 0.5 * (y - t) ** 2


@pytest.mark.parametrize("name, params", DATA_CASES, ids=DATA_IDS)
def test_data_surface_is_the_mean_of_its_examples(name, params):
    s = make_surface(name, **params)
    p = random_points(s, 50, seed=3)
    losses, grads = s.example_value_and_grad(p)
    assert losses.shape == (len(p), s.n_examples) and grads.shape == (len(p), s.n_examples, 2)
    f, g = s.value_and_grad(p)
    np.testing.assert_allclose(losses.mean(-1), f, rtol=1e-14)
    np.testing.assert_allclose(grads.mean(-2), g, rtol=1e-13, atol=1e-16)
    # Each example's gradient is the derivative of that example's loss ...
    fd = central_grad(lambda q: s.example_value_and_grad(q)[0], p, 1e-6)
    np.testing.assert_allclose(grads, fd, atol=1e-7)
    # ... and the losses are the textbook formulas, at points with moderate logits where
    # log(1 − y) of the textbook form has not yet lost its digits.
    for q in 0.3 * p[:10]:
        np.testing.assert_allclose(s.example_value_and_grad(q)[0], hand_example_losses(s, q), rtol=1e-10)


def test_logistic_neuron_label_smoothing_targets():
    s = make_surface("logistic_neuron", label_smoothing=0.1)
    np.testing.assert_allclose(s.targets, np.where(s.inputs > 0, 0.9, 0.1))


# --- critical points ----------------------------------------------------------

#: Minima known in closed form (or to many digits), per surface.
KNOWN_MINIMA = [
    ("quadratic", {}, [(0.0, 0.0)]),
    ("saddle", dict(curvature_ratio=2.0, wall=0.5), [(0.0, np.sqrt(2.0)), (0.0, -np.sqrt(2.0))]),
    ("rosenbrock", {}, [(1.0, 1.0)]),
    ("rosenbrock", dict(a=-1.5, b=10.0), [(-1.5, 2.25)]),
    ("beale", {}, [(3.0, 0.5)]),
    ("himmelblau", {}, [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]),
]


@pytest.mark.parametrize("name, params, expected", KNOWN_MINIMA, ids=[f"{n}-{p}" for n, p, _ in KNOWN_MINIMA])
def test_surface_lists_the_known_minima(name, params, expected):
    s = make_surface(name, **params)
    assert len(s.minima) == len(expected)
    for m in expected:
        assert min(np.hypot(*np.subtract(m, q)) for q in s.minima) < 1e-6


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_minima_have_zero_gradient_and_positive_definite_hessian(name, params):
    s = make_surface(name, **params)
    x0, x1, y0, y1 = s.view
    for m in s.minima:
        assert x0 <= m[0] <= x1 and y0 <= m[1] <= y1
        assert np.linalg.norm(s.grad(m)) < 1e-8
        lam = np.linalg.eigvalsh(s.hessian(m))
        assert lam[0] > 1e-6 * lam[1] > 0, f"{m}: Hessian eigenvalues {lam}"


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_saddles_have_zero_gradient_and_one_negative_curvature(name, params):
    s = make_surface(name, **params)
    for p in s.saddles:
        assert np.linalg.norm(s.grad(p)) < 1e-8
        lam = np.linalg.eigvalsh(s.hessian(p))
        assert lam[0] < 0 < lam[1], f"{p}: Hessian eigenvalues {lam}"


@pytest.mark.parametrize("name, params, n_minima, n_saddles", [
    ("quadratic", {}, 1, 0),
    ("saddle", dict(wall=0.0), 0, 1),
    ("saddle", {}, 2, 1),  # bounded below by default (wall 0.5)
    ("saddle", dict(wall=1.0), 2, 1),
    ("himmelblau", {}, 4, 4),
    ("landscape", {}, 3, 2),
    ("two_weight_net", dict(loss="ce"), 2, 0),
    ("two_weight_net", dict(loss="l2"), 2, 0),
    ("logistic_neuron", dict(label_smoothing=0.1), 1, 0),
    ("logistic_neuron", {}, 0, 0),
])
def test_number_of_critical_points(name, params, n_minima, n_saddles):
    s = make_surface(name, **params)
    assert (len(s.minima), len(s.saddles)) == (n_minima, n_saddles)


def test_saddle_origin_is_the_classic_saddle():
    s = make_surface("saddle", curvature_ratio=3.0)
    assert s.value([0.0, 0.0]) == 0.0
    np.testing.assert_array_equal(s.hessian([0.0, 0.0]), [[2.0, 0.0], [0.0, -6.0]])


def test_quadratic_hessian_is_rotated_diagonal():
    s = make_surface("quadratic", lambda_1=2.0, lambda_2=8.0, rotation=30.0)
    t = np.deg2rad(30.0)
    v1, v2 = np.array([np.cos(t), np.sin(t)]), np.array([-np.sin(t), np.cos(t)])
    h = s.hessian([0.3, -0.2])
    np.testing.assert_allclose(h @ v1, 2.0 * v1, atol=1e-14)
    np.testing.assert_allclose(h @ v2, 8.0 * v2, atol=1e-14)
    # f = ½ xᵀAx exactly: along v2 at distance 0.5 the loss is ½ · 8 · 0.25.
    assert s.value(0.5 * v2) == pytest.approx(1.0, rel=1e-14)


def test_two_weight_net_symmetric_minima_are_the_same_network():
    # (w1, w2) and (−w1, −w2) give the same tanh network, so the same loss everywhere.
    s = make_surface("two_weight_net", loss="ce", activation="tanh")
    p = random_points(s, 50, seed=4)
    np.testing.assert_allclose(s.value(p), s.value(-p), rtol=1e-13)
    (a, b) = s.minima
    np.testing.assert_allclose(a, np.negative(b), atol=1e-8)


@pytest.mark.parametrize("loss", ["ce", "l2"])
def test_relu_net_depends_only_on_the_product_of_its_weights(loss):
    # ReLU is positively homogeneous: w2·relu(w1·x) = (w1·w2)·relu(x) for w1 > 0, so the
    # loss is constant along w1·w2 = c. Its minima form a curve, and none is isolated.
    s = make_surface("two_weight_net", loss=loss, activation="relu")
    w1 = np.array([0.5, 1.0, 2.0, 3.5])
    np.testing.assert_allclose(s.value(np.stack([w1, 1.2 / w1], -1)), s.value([1.0, 1.2]), rtol=1e-13)
    assert s.minima == []


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_results_are_c_contiguous_for_the_json_encoder(name, params):
    # orjson serialises numpy arrays only when C-contiguous: a sliced Hessian made /api/theory answer 500.
    s = make_surface(name, **params)
    p = random_points(s, 3, seed=4)
    for a in (*s.value_and_grad(p), s.hessian(p), s.grad(p[0]), s.hessian(p[0])):
        assert np.asarray(a).flags.c_contiguous

"""engine/backprop.py: the 2-2-1 network's gradients have their parameters' shapes and PyTorch's values."""

import json
import pathlib

import numpy as np
import pytest

from engine import backprop as bp

REFERENCE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "torch_reference.json").read_text())


def params_of(case):
    return bp.Params(*(np.array(case[n], dtype=float) for n in bp.PARAM_NAMES))


@pytest.mark.parametrize("case", REFERENCE["network"], ids=lambda c: f"{c['activation']}-N{len(c['X'])}")
def test_gradients_match_torch_autograd(case):
    value, grads, _ = bp.backward(params_of(case), np.array(case["X"]), np.array(case["d"]), case["activation"])
    assert value == pytest.approx(case["loss"], rel=1e-12)
    for name in bp.PARAM_NAMES:
        np.testing.assert_allclose(getattr(grads, name), case["grads"][name], rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("n", [1, 5])
def test_gradient_has_the_parameters_shape_and_matches_finite_differences(activation, n):
    rng = np.random.default_rng(n)
    params = bp.Params(*(rng.normal(0, 1, np.shape(p)) for p in bp.EXAMPLE_PARAMS))
    x, d = rng.normal(0, 1, (n, 2)), rng.integers(0, 2, n).astype(float)
    _, grads, _ = bp.backward(params, x, d, activation)
    h = 1e-6
    for name in bp.PARAM_NAMES:
        p = getattr(params, name)
        g = getattr(grads, name)
        assert g.shape == p.shape
        fd = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            e = np.zeros_like(p)
            e[idx] = h
            fd[idx] = (bp.loss(params._replace(**{name: p + e}), x, d, activation)
                       - bp.loss(params._replace(**{name: p - e}), x, d, activation)) / (2 * h)
        np.testing.assert_allclose(g, fd, atol=1e-8)


def test_shape_table_lists_each_parameter_with_its_gradient_of_the_same_shape():
    t = bp.shape_table()
    assert [(r["name"], r["shape"], r["grad_shape"]) for r in t["params"]] == [
        ("W1", [2, 2], [2, 2]), ("b1", [2], [2]), ("W2", [1, 2], [1, 2]), ("b2", [1], [1])]
    assert [(r["name"], r["shape"]) for r in t["forward"]] == [("x", [2]), ("z1", [2]), ("h", [2]), ("z2", [1]), ("y", [1])]
    assert [(r["name"], r["shape"]) for r in t["backward"]] == [("delta2", [1]), ("dL_dh", [2]), ("delta1", [2])]


def test_shape_table_by_hand():
    # z₁ = W₁x + b₁ = (0.5 − 0.5 + 0.1, 1 + 1 − 0.5) = (0.1, 1.5); y = σ(tanh 0.1 − 2 tanh 1.5 + 0.25)
    t = bp.shape_table()
    f = {r["name"]: r["value"] for r in t["forward"]}
    assert f["z1"] == pytest.approx([0.1, 1.5])
    z2 = np.tanh(0.1) - 2 * np.tanh(1.5) + 0.25
    assert f["z2"] == pytest.approx([z2])
    y = 1 / (1 + np.exp(-z2))
    b = {r["name"]: r["value"] for r in t["backward"]}
    assert b["delta2"] == pytest.approx([y - 1])
    g = {r["name"]: r["grad"] for r in t["params"]}
    assert g["W2"][0] == pytest.approx([(y - 1) * np.tanh(0.1), (y - 1) * np.tanh(1.5)])
    assert g["W1"][1] == pytest.approx([(y - 1) * -2 * (1 - np.tanh(1.5) ** 2) * xi for xi in (1.0, 2.0)])

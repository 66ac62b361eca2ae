"""Data surfaces compute each distinct example once and grids skip the gradient: same numbers.

The two-weight net's 120 examples are 24 distinct (input, target) pairs, and a grid needs
losses only. Both shortcuts must give exactly the losses of the full computation.
"""

import numpy as np
import pytest

from engine import make_surface
from engine.surfaces.data import activation, output_loss_derivatives

DATA = [
    ("two_weight_net", {}),
    ("two_weight_net", dict(loss="l2")),
    ("two_weight_net", dict(activation="sigmoid")),
    ("two_weight_net", dict(activation="relu", loss="l2")),
    ("logistic_neuron", {}),
    ("logistic_neuron", dict(loss="l2", label_smoothing=0.2)),
]


def per_example(s, p):
    """The per-example losses and gradients written out over all examples, as the definition reads."""
    p = np.asarray(p, dtype=float)
    if s.NAME == "logistic_neuron":
        z = p[..., 0:1] * s.inputs + p[..., 1:2]
        loss, dz, _ = output_loss_derivatives(z, s.targets, s.params["loss"])
        return loss, np.stack([dz * s.inputs, dz], -1)
    w1, w2 = p[..., 0:1], p[..., 1:2]
    h, dh, _ = activation(w1 * s.inputs, s.params["activation"])
    loss, dz, _ = output_loss_derivatives(w2 * h, s.targets, s.params["loss"])
    return loss, np.stack([dz * w2 * dh * s.inputs, dz * h], -1)


@pytest.mark.parametrize("name, params", DATA, ids=[f"{n}-{i}" for i, (n, _) in enumerate(DATA)])
def test_losses_and_grids_equal_the_full_computation(name, params):
    s = make_surface(name, **params)
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(-6, 12, size=(50, 2)), [[0.0, 0.0], [40.0, -40.0]]])
    with np.errstate(all="ignore"):
        loss, grads = per_example(s, p)
        got_loss, got_grads = s.example_value_and_grad(p)
        np.testing.assert_array_equal(got_loss, loss)
        np.testing.assert_array_equal(got_grads, grads)
        f, g = s.value_and_grad(p)
        np.testing.assert_array_equal(f, loss.mean(axis=-1))
        np.testing.assert_array_equal(s.value(p), f)
        for i in (0, 7, 51):  # one point alone: the same numbers as in a batch
            np.testing.assert_array_equal(s.value_and_grad(p[i])[0], f[i])
        xs, ys, z = s.grid(23)
        np.testing.assert_array_equal(z, s.value_and_grad(np.stack(np.meshgrid(xs, ys), -1))[0])

"""Backprop with shapes: a 2-2-1 network's forward pass, backward pass and every array's shape.

The network, for an input x ∈ ℝ² and a binary target d:

    z₁ = W₁x + b₁        W₁: 2 × 2, b₁: 2        (hidden pre-activations, 2)
    h  = a(z₁)           element-wise, a = tanh by default                (2)
    z₂ = W₂h + b₂        W₂: 1 × 2, b₂: 1        (output logit, 1)
    y  = σ(z₂),          Div = −[d log y + (1 − d) log(1 − y)]

and the backward pass, each line a local derivative times the one before:

    δ₂ = ∂Div/∂z₂ = y − d                       (1)
    ∂Div/∂W₂ = δ₂ hᵀ                             (1 × 2, the shape of W₂)
    ∂Div/∂b₂ = δ₂                                (1)
    ∂Div/∂h  = W₂ᵀ δ₂                            (2)
    δ₁ = ∂Div/∂z₁ = ∂Div/∂h ⊙ a'(z₁)             (2; the activation's Jacobian is diagonal)
    ∂Div/∂W₁ = δ₁ xᵀ                             (2 × 2, the shape of W₁)
    ∂Div/∂b₁ = δ₁                                (2)

A gradient always has its parameter's shape: each entry is ∂Div/∂(that entry). Over a
batch of examples the loss and every gradient are means over the examples, so the
shapes do not change.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from engine.activations import value_and_derivative
from engine.surfaces.data import sigmoid

PARAM_NAMES = ("W1", "b1", "W2", "b2")


class Params(NamedTuple):
    W1: np.ndarray  # (2, 2)
    b1: np.ndarray  # (2,)
    W2: np.ndarray  # (1, 2)
    b2: np.ndarray  # (1,)


#: The lesson's network and example: small round numbers a reader can multiply by hand.
EXAMPLE_PARAMS = Params(
    W1=np.array([[0.5, -0.25], [1.0, 0.5]]), b1=np.array([0.1, -0.5]),
    W2=np.array([[1.0, -2.0]]), b2=np.array([0.25]),
)
EXAMPLE_X = np.array([1.0, 2.0])
EXAMPLE_D = 1.0
#: A small dataset for the same network, the example first; its last two labels go against their
#: neighbours, so no line separates the classes and the loss over W₂ has a finite minimum.
DATA_X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.5, -1.0], [-1.5, -1.0], [2.0, 0.5], [0.0, -2.0]])
DATA_D = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])


def forward(params: Params, x, d, activation: str = "tanh") -> dict:
    """Every intermediate of the forward pass for inputs x (..., 2) and targets d (...)."""
    x = np.asarray(x, dtype=float)
    d = np.asarray(d, dtype=float)
    z1 = x @ params.W1.T + params.b1
    h, dh = value_and_derivative(z1, activation)
    z2 = h @ params.W2.T + params.b2
    y = sigmoid(z2)
    loss = np.logaddexp(0.0, z2[..., 0]) - d * z2[..., 0]  # the divergence from the logit, finite for any z₂
    return {"x": x, "d": d, "z1": z1, "h": h, "dh": dh, "z2": z2, "y": y, "loss": loss}


def backward(params: Params, x, d, activation: str = "tanh") -> tuple[float, Params, dict]:
    """Mean loss over the examples, its gradient (a Params of the same shapes) and the deltas.

    x: (2,) or (N, 2); d: () or (N,).
    """
    f = forward(params, np.atleast_2d(x), np.atleast_1d(d), activation)
    n = f["x"].shape[0]
    delta2 = (f["y"] - f["d"][:, None]) / n      # (N, 1): ∂(mean Div)/∂z₂ per example
    g_h = delta2 @ params.W2                      # (N, 2)
    delta1 = g_h * f["dh"]                        # (N, 2)
    grads = Params(W1=delta1.T @ f["x"], b1=delta1.sum(0), W2=delta2.T @ f["h"], b2=delta2.sum(0))
    return float(f["loss"].mean()), grads, {"delta2": delta2 * n, "dL_dh": g_h * n, "delta1": delta1 * n}


def loss(params: Params, x, d, activation: str = "tanh") -> float:
    return float(forward(params, np.atleast_2d(x), np.atleast_1d(d), activation)["loss"].mean())


def shape_table(params: Params = EXAMPLE_PARAMS, x=EXAMPLE_X, d=EXAMPLE_D, activation: str = "tanh") -> dict:
    """The lesson's table: each array of the forward and backward pass with its shape and numbers.

    ``params``: one row per parameter, with its value, its gradient and both shapes;
    ``forward``/``backward``: the intermediates of one example.
    """
    value, grads, deltas = backward(params, x, d, activation)
    f = forward(params, np.asarray(x, dtype=float), d, activation)

    def row(name, a):
        a = np.asarray(a, dtype=float)
        return {"name": name, "shape": list(a.shape), "value": a.tolist()}

    return {
        "activation": activation,
        "loss": value,
        "params": [{**row(name, getattr(params, name)), "grad": np.asarray(getattr(grads, name)).tolist(),
                    "grad_shape": list(np.shape(getattr(grads, name)))} for name in PARAM_NAMES],
        "forward": [row("x", f["x"]), row("z1", f["z1"]), row("h", f["h"]), row("z2", f["z2"]), row("y", f["y"])],
        "backward": [row("delta2", deltas["delta2"][0]), row("dL_dh", deltas["dL_dh"][0]),
                     row("delta1", deltas["delta1"][0])],
        "target": float(d),
    }

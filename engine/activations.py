"""Scalar activations and their derivatives, drawn side by side; vector activations' Jacobians.

The formulas live with the networks that use them (``engine.surfaces.data.activation``);
this module lays them out for the lecture:

    σ(z) = 1/(1 + e⁻ᶻ),      σ'(z) = σ(z)(1 − σ(z))         at most ¼, at z = 0
    tanh(z) = 2σ(2z) − 1,    tanh'(z) = 1 − tanh²(z) = 4σ'(2z)   at most 1, at z = 0
    ReLU(z) = max(z, 0),     ReLU'(z) = 1 for z > 0, 0 for z < 0, and at z = 0 any value in
                             [0, 1] is a sub-gradient; Loss Lab takes ½, the mean of the two
                             one-sided slopes (``RELU_SUBGRADIENT_AT_0``; why: engine.surfaces.data).

A scalar activation acts on each component alone, so its Jacobian is the diagonal
matrix diag(a'(zₖ)); the softmax mixes them, with the full Jacobian diag(y) − yyᵀ
(``engine.softmax.jacobian``).
"""

from __future__ import annotations

import numpy as np

from engine import softmax as sm
from engine.surfaces.data import activation, sigmoid

NAMES = ("sigmoid", "tanh", "relu")
SYMBOLS = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU"}


def value_and_derivative(z, name: str) -> tuple[np.ndarray, np.ndarray]:
    """a(z) and a'(z) for ``name`` in NAMES (ReLU'(0) is the sub-gradient 1)."""
    if name not in NAMES:
        raise ValueError(f"activation = {name!r}: one of {', '.join(NAMES)}")
    a, d1, _ = activation(np.asarray(z, dtype=float), name)
    return a, d1


#: The sub-gradient of ReLU that Loss Lab uses at z = 0 (any value in [0, 1] is one).
RELU_SUBGRADIENT_AT_0 = float(value_and_derivative(0.0, "relu")[1])


def tanh_from_sigmoid(z) -> np.ndarray:
    """2σ(2z) − 1, which equals tanh(z): tanh is a sigmoid stretched to (−1, 1) and steepened ×2 in z."""
    return 2 * sigmoid(2 * np.asarray(z, dtype=float)) - 1


def curves(z0: float = -4.0, z1: float = 4.0, n: int = 161) -> dict:
    """Each activation and its derivative on an even grid of z, with the numbers the lecture quotes.

    ``n`` odd puts z = 0 on the grid. Returns ``{"z": [...], "curves": {name: {"value", "derivative",
    "max_derivative", "argmax_derivative"}}, "relu_subgradient_at_0", "tanh_identity_error"}``,
    the last the largest |tanh(z) − (2σ(2z) − 1)| on the grid (rounding only).
    """
    z = np.linspace(z0, z1, n)
    out = {}
    for name in NAMES:
        a, d = value_and_derivative(z, name)
        i = int(np.argmax(d))
        out[name] = {"value": a.tolist(), "derivative": d.tolist(),
                     "max_derivative": float(d[i]), "argmax_derivative": float(z[i])}
    return {
        "z": z.tolist(),
        "curves": out,
        "relu_subgradient_at_0": RELU_SUBGRADIENT_AT_0,
        "tanh_identity_error": float(np.max(np.abs(np.tanh(z) - tanh_from_sigmoid(z)))),
    }


def jacobians(z, scalar: str = "sigmoid") -> dict:
    """At logits z (K,): the softmax's Jacobian diag(y) − yyᵀ and a scalar activation's diag(a'(z)).

    Also each one's off-diagonal size and row sums: the softmax's rows sum to 0 (shifting
    every logit changes nothing), the scalar's off-diagonal entries are exactly 0.
    """
    z = np.asarray(z, dtype=float)
    y = sm.softmax(z)
    js = sm.jacobian(z)
    a, d = value_and_derivative(z, scalar)
    jd = sm.elementwise_jacobian(d)
    off = ~np.eye(z.shape[-1], dtype=bool)
    return {
        "z": z.tolist(), "softmax": y.tolist(), "softmax_jacobian": js.tolist(),
        "scalar": scalar, "scalar_values": a.tolist(), "scalar_jacobian": jd.tolist(),
        "softmax_row_sums": js.sum(axis=-1).tolist(),
        "softmax_max_off_diagonal": float(np.max(np.abs(js[off]))),
        "scalar_max_off_diagonal": float(np.max(np.abs(jd[off]))),
    }

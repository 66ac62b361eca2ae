"""Write tests/engine/fixtures/torch_reference.json: PyTorch's numbers for the softmax and backprop tests.

    .venv/bin/python scripts/make_torch_reference.py

Run it with torch installed (the test extra pins torch==2.13.0); the JSON it writes is
committed, so the tests keep an outside reference on a machine without torch. Everything
is float64. For each case: the logits z, the class c, the lecture's ε and PyTorch's
``label_smoothing`` α = Kε; ``F.cross_entropy(z, c, label_smoothing=α)`` and its gradient
with respect to z by autograd; and, with y = softmax(z) as a leaf, the gradient of
−Σₖ tₖ log yₖ with PyTorch's own smoothed target t = (1 − α)·onehot(c) + α/K.
For the 2-2-1 network: the loss and autograd gradients of ``engine.backprop``'s network.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "engine" / "fixtures" / "torch_reference.json"

#: (logits, class, ε): K = 3 as in the lesson, a K = 5 case, large and tied logits.
SOFTMAX_CASES = [
    ([2.0, -1.0, 0.0], 0, 0.0),
    ([2.0, -1.0, 0.0], 0, 0.05),
    ([2.0, -1.0, 0.0], 1, 0.1),
    ([0.0, 0.0, 0.0], 2, 0.2),
    ([-3.0, 4.5, 0.25], 0, 1 / 3),
    ([30.0, -20.0, 0.0], 0, 0.01),
    ([0.3, -1.2, 2.2, 0.0, -0.7], 3, 0.0),
    ([0.3, -1.2, 2.2, 0.0, -0.7], 3, 0.15),
]

#: (W1, b1, W2, b2, inputs X (N, 2), targets d (N,), activation).
NETWORK_CASES = [
    ([[0.5, -0.25], [1.0, 0.5]], [0.1, -0.5], [[1.0, -2.0]], [0.25], [[1.0, 2.0]], [1.0], "tanh"),
    ([[0.5, -0.25], [1.0, 0.5]], [0.1, -0.5], [[1.0, -2.0]], [0.25], [[1.0, 2.0], [-0.5, 0.3], [2.0, -1.0]],
     [1.0, 0.0, 1.0], "tanh"),
    ([[-1.5, 0.7], [0.2, 2.0]], [0.3, 0.0], [[0.5, 1.5]], [-0.2], [[0.4, -1.0], [1.5, 0.5]], [0.0, 1.0], "sigmoid"),
    ([[-1.5, 0.7], [0.2, 2.0]], [0.3, 0.1], [[0.5, 1.5]], [-0.2], [[0.4, -1.0], [1.5, 0.5]], [0.0, 1.0], "relu"),
]

ACTIVATIONS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}


def softmax_case(z, c, eps) -> dict:
    k = len(z)
    alpha = k * eps
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    ct = torch.tensor(c)
    loss = F.cross_entropy(zt[None], ct[None], label_smoothing=alpha)
    (gz,) = torch.autograd.grad(loss, zt)
    y = torch.softmax(torch.tensor(z, dtype=torch.float64), 0).requires_grad_(True)
    t = (1 - alpha) * F.one_hot(ct, k).to(torch.float64) + alpha / k
    (gy,) = torch.autograd.grad(-(t * torch.log(y)).sum(), y)
    jac = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, 0), torch.tensor(z, dtype=torch.float64))
    return {"z": z, "target": c, "eps": eps, "torch_label_smoothing": alpha, "loss": loss.item(),
            "grad_logits": gz.tolist(), "grad_outputs": gy.tolist(), "jacobian": jac.tolist()}


def network_case(W1, b1, W2, b2, X, d, act) -> dict:
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in (W1, b1, W2, b2)]
    w1, c1, w2, c2 = params
    x = torch.tensor(X, dtype=torch.float64)
    z2 = ACTIVATIONS[act](x @ w1.T + c1) @ w2.T + c2
    loss = F.binary_cross_entropy_with_logits(z2[:, 0], torch.tensor(d, dtype=torch.float64))
    grads = torch.autograd.grad(loss, params)
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "X": X, "d": d, "activation": act, "loss": loss.item(),
            "grads": {name: g.tolist() for name, g in zip(("W1", "b1", "W2", "b2"), grads)}}


def main() -> None:
    data = {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "softmax": [softmax_case(*c) for c in SOFTMAX_CASES],
        "network": [network_case(*c) for c in NETWORK_CASES],
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT} ({len(data['softmax'])} softmax cases, {len(data['network'])} network cases, torch {torch.__version__})")


if __name__ == "__main__":
    main()

"""The 2-2-1 network of the backprop-shapes lesson, its loss over the two output weights W₂."""

from __future__ import annotations

import numpy as np

from engine import backprop as bp
from engine.params import Param
from engine.surfaces.base import Surface, as_points
from engine.surfaces.data import LOSS_CE, _data_minima, output_loss_derivatives, output_loss_twin
from engine.twins import mean_pairwise, pairwise_sum, twin


class Net221(Surface):
    """Div averaged over ``engine.backprop``'s six examples, as a function of W₂ = (w₂₁, w₂₂).

    W₁, b₁ and b₂ stay at ``engine.backprop.EXAMPLE_PARAMS``, so the hidden outputs hᵢ = a(W₁xᵢ + b₁)
    are fixed and the loss is a logistic regression on them:

        E(W₂) = mean softplus(zᵢ) − dᵢzᵢ,  zᵢ = W₂hᵢ + b₂,   ∇E = mean (σ(zᵢ) − dᵢ) hᵢ,
        ∇²E = mean σ'(zᵢ) hᵢhᵢᵀ   (convex; the labels are not separable, so the minimum is finite).

    The gradient is the same ∂Div/∂W₂ = δ₂hᵀ that ``engine.backprop.backward`` computes for the whole
    network, written here for a whole grid of W₂ at once.
    """

    NAME = "net221"
    TITLE = "2-2-1 network: the loss over W₂"
    DESCRIPTION = (
        "A network with two inputs, two hidden units and one output, y = σ(W₂ a(W₁x + b₁) + b₂), on six "
        "examples. The axes are the two output weights W₂ = (w₂₁, w₂₂); W₁ (2 × 2), b₁ (2) and b₂ (1) stay "
        "fixed. Every weight's gradient has that weight's shape."
    )
    AXES = ("w₂₁", "w₂₂")
    DEFAULT_START = (-1.5, 2.5)
    DEFAULT_STEPS = 300
    # Newton's full step overshoots from this far out (the logistic loss is nearly linear there);
    # so does preconditioned GD's, which then stalls above the minimum.
    STEP_SIZES = {"gd": 2.0, "momentum": 0.5, "nesterov": 0.5, "newton": 0.5, "preconditioned": 0.5,
                  "adagrad": 1.0, "rmsprop": 0.05, "adam": 0.1, "sgd": 2.0}
    PARAMS = (
        Param("activation", "tanh", kind="choice", choices=("tanh", "sigmoid", "relu"),
              description="The hidden units' nonlinearity a(z).", label="Hidden activation"),
    )

    def setup(self, activation):
        p = bp.EXAMPLE_PARAMS
        f = bp.forward(p, bp.DATA_X, bp.DATA_D, activation)
        self.hidden, self.targets, self.b2 = f["h"], bp.DATA_D, float(p.b2[0])

    def network_params(self, p) -> bp.Params:
        """The whole network's parameters with W₂ at the point p = (w₂₁, w₂₂)."""
        return bp.EXAMPLE_PARAMS._replace(W2=np.asarray(p, dtype=float).reshape(1, 2))

    def _z(self, p):
        p = as_points(p)
        return p[..., 0:1] * self.hidden[:, 0] + p[..., 1:2] * self.hidden[:, 1] + self.b2

    def value_and_grad(self, p):
        loss, dz, _ = output_loss_derivatives(self._z(p), self.targets, "ce")
        n = len(self.targets)
        g = np.stack([np.sum(dz * self.hidden[:, 0], -1), np.sum(dz * self.hidden[:, 1], -1)], -1) / n
        return loss.mean(-1), g

    def value(self, p):
        return output_loss_derivatives(self._z(p), self.targets, "ce")[0].mean(-1)

    def hessian(self, p):
        _, _, d2 = output_loss_derivatives(self._z(p), self.targets, "ce")
        h0, h1 = self.hidden[:, 0], self.hidden[:, 1]
        n = len(self.targets)
        xx, xy, yy = (np.sum(d2 * a * b, -1) / n for a, b in ((h0, h0), (h0, h1), (h1, h1)))
        return np.stack([np.stack([xx, xy], -1), np.stack([xy, yy], -1)], -2)

    @property
    def view(self):
        return (-3.0, 6.0, -4.5, 4.5)

    @property
    def minima(self):
        return _data_minima(self)

    TWIN = "net221"

    def twin_data(self):
        h = self.hidden
        return (np.concatenate([h[:, 0], h[:, 1], np.asarray(self.targets, dtype=float), [self.b2]]),
                np.array([len(self.targets)], np.int64))


@twin
def _net221_examples(sp, ip, loops, work, w21, w22):
    """Per example: z = w₂₁h₁ + w₂₂h₂ + b₂ in work[0], then ``output_loss_derivatives(z, d, "ce")``: loss in
    work[1], dℓ/dz in work[2], d²ℓ/dz² in work[3]. sp = h₁, h₂, d (N each), b₂; ip = N."""
    n = ip[0]
    z = work[0]
    b2 = sp[3 * n]
    for j in range(n):
        z[j] = w21 * sp[j] + w22 * sp[n + j] + b2
    output_loss_twin(LOSS_CE, loops, z, sp[2 * n:3 * n], work[1], work[2], work[3], work[4], work[5], n, True)
    return n


@twin
def _net221_mean_of_products(sp, work, a, b, n, c):
    """Σⱼ aⱼ·hⱼ (·h'ⱼ) / N over the examples, a numpy sum along the last axis (pairwise); c = −1: no second factor."""
    prod = work[6]
    for j in range(n):
        prod[j] = work[a, j] * sp[b * n + j]
        if c >= 0:
            prod[j] = prod[j] * sp[c * n + j]
    return pairwise_sum(prod, 0, n) / n


@twin
def net221_twin(sp, ip, loops, work, w21, w22):
    """``Net221.value_and_grad`` at one point."""
    n = _net221_examples(sp, ip, loops, work, w21, w22)
    return mean_pairwise(work[1], n), _net221_mean_of_products(sp, work, 2, 0, n, -1), _net221_mean_of_products(sp, work, 2, 1, n, -1)


@twin
def net221_hessian_twin(sp, ip, loops, work, w21, w22):
    """``Net221.hessian`` at one point: mean σ'(z) hhᵀ."""
    n = _net221_examples(sp, ip, loops, work, w21, w22)
    return (_net221_mean_of_products(sp, work, 3, 0, n, 0), _net221_mean_of_products(sp, work, 3, 0, n, 1),
            _net221_mean_of_products(sp, work, 3, 1, n, 1))

"""Loss surfaces of tiny models on tiny datasets: cross-entropy against squared error.

Both losses are written in terms of the output's logit z so they stay finite:
cross-entropy is softplus(z) − t·z (the usual −[t log y + (1 − t) log(1 − y)] with
y = σ(z)), which holds for soft targets t too; squared error is ½(σ(z) − t)².
"""

from __future__ import annotations

import functools

import numpy as np

from engine.params import Param
from engine.surfaces.base import DataSurface, as_points
from engine.surfaces.critical import find_critical_points, seed_grid

LOSS_PARAM = Param(
    "loss", "ce", kind="choice", choices=("ce", "l2"),
    description="ce: cross-entropy −[d log y + (1 − d) log(1 − y)]; l2: squared error ½(y − d)².",
    label="Loss",
)


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow for large |z|


def output_loss_derivatives(z, t, loss: str):
    """Loss ℓ(z; t) of an output logit z against target t, and dℓ/dz, d²ℓ/dz²."""
    y = sigmoid(z)
    dy = y * (1 - y)
    if loss == "ce":
        value = np.logaddexp(0.0, z) - t * z
        return value, y - t, dy
    r = y - t
    return 0.5 * r * r, r * dy, dy * (dy + r * (1 - 2 * y))


def output_loss(z, t, loss: str):
    """ℓ(z; t) alone: ``output_loss_derivatives(z, t, loss)[0]``, without the derivatives' work."""
    if loss == "ce":
        return np.logaddexp(0.0, z) - t * z
    r = sigmoid(z) - t
    return 0.5 * r * r


def activation_value(u, name: str):
    """a(u) alone: ``activation(u, name)[0]``."""
    if name == "tanh":
        return np.tanh(u)
    if name == "sigmoid":
        return sigmoid(u)
    return np.where(u >= 0, u, 0.0)


def activation(u, name: str):
    """Hidden unit a(u) and its first two derivatives.

    ReLU's derivative at u = 0 is taken as ½, the mean of its one-sided slopes 0 and 1. On the
    two-weight network's symmetric data (x ↔ −x, labels swapped) the loss then has its true
    derivative at w1 = 0, where every example sits at u = 0 and the one-sided derivatives agree;
    a'(0) = 1 doubled it, and PyTorch's a'(0) = 0 would give 0.
    """
    if name == "tanh":
        h = np.tanh(u)
        d1 = 1 - h * h
        return h, d1, -2 * h * d1
    if name == "sigmoid":
        h = sigmoid(u)
        d1 = h * (1 - h)
        return h, d1, d1 * (1 - 2 * h)
    return np.where(u >= 0, u, 0.0), np.where(u > 0, 1.0, np.where(u < 0, 0.0, 0.5)), np.zeros_like(u)


class TwoWeightNet(DataSurface):
    """y = σ(w2 · a(w1 · x)) on a 1D two-class dataset; (w1, w2) are the two axes.

    Glorot & Bengio (2010), Figure 5: with one weight per layer the cross-entropy
    surface is steep where the squared-error surface has wide plateaus.
    """

    NAME = "two_weight_net"
    TITLE = "Two-weight network: cross-entropy vs squared error"
    DESCRIPTION = (
        "A network with one hidden unit and one weight per layer, y = σ(w2 · tanh(w1 · x)), fit to 120 "
        "points of two classes on a line (labels are noisy, more so near the boundary, so the best fit is "
        "finite; with tanh, an odd function, (w1, w2) and (−w1, −w2) are the same network, hence two minima). Switch the loss between cross-entropy and squared error: the cross-entropy surface is "
        "steep and leads straight to the minimum, the squared-error surface has wide plateaus where "
        "gradient descent crawls (Glorot & Bengio 2010, Figure 5)."
    )
    PARAMS = (
        LOSS_PARAM,
        Param("activation", "tanh", kind="choice", choices=("tanh", "sigmoid", "relu"),
              description="The hidden unit's nonlinearity a(u).", label="Hidden activation"),
    )

    AXES = ("w1", "w2")
    DEFAULT_START = (-3.0, -4.0)
    DEFAULT_STEPS = 300
    STEP_SIZES = {"gd": 3.0, "momentum": 0.4, "nesterov": 2.0, "newton": 0.5, "preconditioned": 0.3,
                  "adagrad": 1.0, "rmsprop": 0.3, "adam": 0.3, "sgd": 0.2}
    #: Distance from the boundary, and how many of the 10 points there carry the label of their side.
    POSITIONS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
    AGREEING = (7, 8, 8, 9, 9, 9)

    def setup(self, loss, activation):
        # Noisy labels, more often wrong near the boundary, give the best fit a finite
        # slope and height, so both losses have minima inside the view.
        x, d = [], []
        for pos, k in zip(self.POSITIONS, self.AGREEING):
            x += [pos] * 10 + [-pos] * 10
            d += [1] * k + [0] * (10 - k) + [0] * k + [1] * (10 - k)
        self.inputs, self.targets = np.array(x), np.array(d, dtype=float)
        # 120 examples but 24 distinct (input, target) pairs: each pair's loss is computed once and
        # copied to its examples, the same numbers for a fifth of the work (a 200 × 200 grid: 300 → 40 ms).
        pairs, index = np.unique(np.stack([self.inputs, self.targets], -1), axis=0, return_inverse=True)
        self._pair_x, self._pair_t, self._pair_of = pairs[:, 0], pairs[:, 1], index.ravel()

    def forward(self, p):
        """Per-example forward and backward quantities, for the backprop lesson."""
        p = as_points(p)
        w1, w2 = p[..., 0:1], p[..., 1:2]
        u = w1 * self.inputs
        h, h1, h2 = activation(u, self.params["activation"])
        z = w2 * h
        return dict(u=u, h=h, dh=h1, d2h=h2, z=z, y=sigmoid(z))

    def example_value_and_grad(self, p):
        p = as_points(p)
        w1, w2 = p[..., 0:1], p[..., 1:2]
        x = self._pair_x
        h, dh, _ = activation(w1 * x, self.params["activation"])
        loss, dz, _ = output_loss_derivatives(w2 * h, self._pair_t, self.params["loss"])
        grads = np.stack([dz * w2 * dh * x, dz * h], -1)
        # take, not fancy indexing: it returns C-ordered arrays, so the means that follow sum in the same order
        return np.take(loss, self._pair_of, axis=-1), np.take(grads, self._pair_of, axis=-2)

    def example_value(self, p):
        p = as_points(p)
        w1, w2 = p[..., 0:1], p[..., 1:2]
        h = activation_value(w1 * self._pair_x, self.params["activation"])
        return np.take(output_loss(w2 * h, self._pair_t, self.params["loss"]), self._pair_of, axis=-1)

    def hessian(self, p):
        p = as_points(p)
        fw = self.forward(p)
        w2 = p[..., 1:2]
        x = self.inputs
        _, l1, l2 = output_loss_derivatives(fw["z"], self.targets, self.params["loss"])
        z1 = w2 * fw["dh"] * x  # ∂z/∂w1
        z2 = fw["h"]  # ∂z/∂w2
        xx = l2 * z1 * z1 + l1 * w2 * fw["d2h"] * x * x
        xy = l2 * z1 * z2 + l1 * fw["dh"] * x
        yy = l2 * z2 * z2
        h = np.stack([np.stack([xx, xy], -1), np.stack([xy, yy], -1)], -2)
        return h.mean(axis=-3)

    @property
    def view(self):
        return (-4.0, 4.0, -6.0, 6.0)

    @property
    def minima(self):
        return _data_minima(self)


class LogisticNeuron(DataSurface):
    """y = σ(w·x + b) on separable 1D data, over (w, b), with optional label smoothing.

    Targets are 1 − ε and ε instead of 1 and 0. With ε = 0 and cross-entropy the loss
    keeps falling as w grows: the minimum lies at infinity. With ε > 0 it is finite.
    """

    NAME = "logistic_neuron"
    TITLE = "Logistic neuron and label smoothing"
    DESCRIPTION = (
        "One neuron y = σ(w·x + b) on 8 separable points. With hard labels the cross-entropy can always "
        "be lowered by growing w, so its minimum lies at infinity and the weights grow forever. Label "
        "smoothing (targets 1 − ε and ε) puts the minimum at a finite point."
    )
    AXES = ("w", "b")
    # Without label smoothing the weights grow for ever: every run keeps going, slowly.
    DEFAULT_START = (1.0, 3.0)
    DEFAULT_STEPS = 300
    STEP_SIZES = {"gd": 2.0, "momentum": 0.5, "nesterov": 0.5, "newton": 1.0, "preconditioned": 1.0,
                  "adagrad": 1.0, "rmsprop": 0.05, "adam": 0.1, "sgd": 2.0}
    PARAMS = (
        LOSS_PARAM,
        Param("label_smoothing", 0.0, 0.0, 0.49, "ε as in the lecture: targets 1 − (K − 1)ε and ε, here (K = 2) 1 − ε and ε "
              "instead of 1 and 0. PyTorch's label_smoothing α = Kε = 2ε.", label="Label smoothing ε"),
    )

    def setup(self, loss, label_smoothing):
        self.inputs = np.array([-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0])
        hard = (self.inputs > 0).astype(float)
        self.hard_targets = hard
        self.targets = hard * (1 - 2 * label_smoothing) + label_smoothing

    def example_value_and_grad(self, p):
        p = as_points(p)
        w, b = p[..., 0:1], p[..., 1:2]
        z = w * self.inputs + b
        loss, dz, _ = output_loss_derivatives(z, self.targets, self.params["loss"])
        return loss, np.stack([dz * self.inputs, dz], -1)

    def example_value(self, p):
        p = as_points(p)
        w, b = p[..., 0:1], p[..., 1:2]
        return output_loss(w * self.inputs + b, self.targets, self.params["loss"])

    def hessian(self, p):
        p = as_points(p)
        w, b = p[..., 0:1], p[..., 1:2]
        x = self.inputs
        z = w * x + b
        _, _, l2 = output_loss_derivatives(z, self.targets, self.params["loss"])
        h = np.stack([np.stack([l2 * x * x, l2 * x], -1), np.stack([l2 * x, l2], -1)], -2)
        return h.mean(axis=-3)

    @property
    def view(self):
        return (-2.0, 12.0, -6.0, 6.0)

    @property
    def minima(self):
        if self.params["label_smoothing"] == 0 and self.params["loss"] == "ce":
            return []
        return _data_minima(self)


def _data_minima(surface: DataSurface) -> list[tuple[float, float]]:
    """Local minima inside the view, found by damped Newton from a grid of seeds."""
    return list(_cached_minima(type(surface), tuple(sorted(surface.params.items()))))


@functools.lru_cache(maxsize=64)
def _cached_minima(cls, params: tuple) -> tuple:
    # The search costs ~0.15 s on the two-weight net; surfaces are rebuilt per request
    # (and by catalog()), so it is done once per parameter setting.
    return tuple(_find_data_minima(cls(**dict(params))))


def _find_data_minima(surface: DataSurface) -> list[tuple[float, float]]:
    # Saddle-free Newton (|λ|) is repelled by saddles: only minima are wanted here.
    view = surface.view
    return find_critical_points(
        surface, seed_grid(view, 9), inside=view, iters=100, max_step=1.0,
        curvature="absolute", merge_distance=1e-5,
    ).minima

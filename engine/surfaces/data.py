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
from engine.twins import UFUNC_LOGADDEXP, UFUNC_TANH, mean_pairwise, twin, ufunc, ufunc2

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

    TWIN = "two_weight_net"

    def twin_data(self):
        if self.n_examples > MAX_TWIN_EXAMPLES:
            return None
        ints = [LOSS_CODES[self.params["loss"]], ACTIVATION_CODES[self.params["activation"]], len(self._pair_x),
                self.n_examples, *self._pair_of]
        return np.concatenate([self._pair_x, self._pair_t]), np.array(ints, dtype=np.int64)

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

    TWIN = "logistic_neuron"

    def twin_data(self):
        if self.n_examples > MAX_TWIN_EXAMPLES:
            return None
        ints = [LOSS_CODES[self.params["loss"]], self.n_examples]
        return np.concatenate([self.inputs, self.targets]), np.array(ints, dtype=np.int64)

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


# --- compiled twins (engine.twins): the functions above for one point, same operations, same order ---

#: Codes of the choice parameters in a twin's ints.
LOSS_CODES = {"ce": 0, "l2": 1}
ACTIVATION_CODES = {"tanh": 0, "sigmoid": 1, "relu": 2}
LOSS_CE, LOSS_L2 = 0, 1
ACTIVATION_TANH, ACTIVATION_SIGMOID, ACTIVATION_RELU = 0, 1, 2
#: numpy's pairwise sum, which the twins repeat, takes eight accumulators up to 128 numbers.
MAX_TWIN_EXAMPLES = 128


@twin
def sigmoid_twin(loops, z, out, tmp, n):
    """out = ``sigmoid(z)`` = 0.5 (1 + tanh(z / 2)) for z[:n], with numpy's tanh."""
    for j in range(n):
        tmp[j] = 0.5 * z[j]
    ufunc(loops, UFUNC_TANH, tmp, out, n)
    for j in range(n):
        out[j] = 0.5 * (1.0 + out[j])


@twin
def activation_twin(name, loops, u, h, dh, d2h, tmp, n):
    """h, dh, d2h = ``activation(u, name)`` for u[:n]."""
    if name == ACTIVATION_TANH:
        ufunc(loops, UFUNC_TANH, u, h, n)
        for j in range(n):
            dh[j] = 1 - h[j] * h[j]
            d2h[j] = -2 * h[j] * dh[j]
    elif name == ACTIVATION_SIGMOID:
        sigmoid_twin(loops, u, h, tmp, n)
        for j in range(n):
            dh[j] = h[j] * (1 - h[j])
            d2h[j] = dh[j] * (1 - 2 * h[j])
    else:
        for j in range(n):
            h[j] = u[j] if u[j] >= 0 else 0.0
            dh[j] = 1.0 if u[j] > 0 else (0.0 if u[j] < 0 else 0.5)  # ``activation``'s a′(0) = ½
            d2h[j] = 0.0


@twin
def output_loss_twin(loss, loops, z, t, value, dz, d2z, y, tmp, n, value_too):
    """value, dz, d2z = ``output_loss_derivatives(z, t, loss)`` for z[:n], t[:n]; y, tmp are scratch. The value
    is left out unless ``value_too`` (the cross-entropy's logaddexp is half the cost of a step on the
    two-weight network, whose sweeps step on the gradient alone)."""
    sigmoid_twin(loops, z, y, tmp, n)
    if loss == LOSS_CE:
        if value_too:
            tmp[0] = 0.0
            ufunc2(loops, UFUNC_LOGADDEXP, tmp, 0, z, 8, value, n)
            for j in range(n):
                value[j] = value[j] - t[j] * z[j]
        for j in range(n):
            dz[j] = y[j] - t[j]
            d2z[j] = y[j] * (1 - y[j])
    else:
        for j in range(n):
            dy = y[j] * (1 - y[j])
            r = y[j] - t[j]
            value[j] = 0.5 * r * r
            dz[j] = r * dy
            d2z[j] = dy * (dy + r * (1 - 2 * y[j]))


@twin
def _two_weight_net_forward(sp, ip, loops, work, w1, w2, value_too):
    """Per (input, target) pair, the forward pass: u = w1·x in work[0], a(u), a′(u), a″(u) in work[1:4],
    z = w2·a(u) in work[4], the loss in work[5] (if ``value_too``) and its first two derivatives in z in
    work[10], work[11]."""
    n = ip[2]
    x, t = sp[:n], sp[n:2 * n]
    u, h, dh, d2h, z, y, tmp = work[0], work[1], work[2], work[3], work[4], work[8], work[9]
    for j in range(n):
        u[j] = w1 * x[j]
    activation_twin(ip[1], loops, u, h, dh, d2h, tmp, n)
    for j in range(n):
        z[j] = w2 * h[j]
    output_loss_twin(ip[0], loops, z, t, work[5], work[10], work[11], y, tmp, n, value_too)


@twin
def _two_weight_net_pairs(sp, ip, loops, work, w1, w2, value_too):
    """Per (input, target) pair: loss in work[5] (if ``value_too``), ∂/∂w1 in work[6], ∂/∂w2 in work[7]
    (``example_value_and_grad``)."""
    _two_weight_net_forward(sp, ip, loops, work, w1, w2, value_too)
    n = ip[2]
    x, h, dh, dz = sp[:n], work[1], work[2], work[10]
    gx, gy = work[6], work[7]
    for j in range(n):
        gx[j] = dz[j] * w2 * dh[j] * x[j]
        gy[j] = dz[j] * h[j]


@twin
def _mean_over_examples(ip, values, of, n_ex, scratch):
    """Mean over the examples of a per-pair quantity: ``np.take(values, of).mean(-1)`` (a pairwise sum)."""
    for e in range(n_ex):
        scratch[e] = values[of[e]]
    return mean_pairwise(scratch, n_ex)


@twin
def _sum_in_order(values, of, n_ex):
    """Σₑ values[of[e]] from the first example on: numpy's sum along an axis that is not the last."""
    s = values[of[0]]
    for e in range(1, n_ex):
        s = s + values[of[e]]
    return s


@twin
def _two_sums_in_order(a, b, of, n_ex):
    """``_sum_in_order`` of a and of b, in one loop: the two chains of additions overlap."""
    sa, sb = a[of[0]], b[of[0]]
    for e in range(1, n_ex):
        k = of[e]
        sa = sa + a[k]
        sb = sb + b[k]
    return sa, sb


@twin
def two_weight_net_twin(sp, ip, loops, work, w1, w2):
    """``TwoWeightNet.value_and_grad`` at one point. ip = loss, activation, pairs P, examples N, pair of each example."""
    _two_weight_net_pairs(sp, ip, loops, work, w1, w2, True)
    n_ex = ip[3]
    of = ip[4:4 + n_ex]
    f = _mean_over_examples(ip, work[5], of, n_ex, work[12])
    gx, gy = _two_sums_in_order(work[6], work[7], of, n_ex)
    return f, gx / n_ex, gy / n_ex


#: |z| below this at every pair keeps the mean loss finite: each pair's loss is at most |z| + log 2 (either loss).
FINITE_LOSS_Z = 1e300


@twin
def two_weight_net_gradient_twin(sp, ip, loops, work, w1, w2):
    """``two_weight_net_twin``'s gradient, with 0 in place of the value where the value is sure to be finite
    (|z| < ``FINITE_LOSS_Z`` at every pair), else the value itself: a sweep's steps need nothing more."""
    _two_weight_net_pairs(sp, ip, loops, work, w1, w2, False)
    z = work[4]
    for j in range(ip[2]):
        if not abs(z[j]) < FINITE_LOSS_Z:
            return two_weight_net_twin(sp, ip, loops, work, w1, w2)
    n_ex = ip[3]
    gx, gy = _two_sums_in_order(work[6], work[7], ip[4:4 + n_ex], n_ex)
    return 0.0, gx / n_ex, gy / n_ex


@twin
def two_weight_net_examples_twin(sp, ip, work, ex):
    """ex[e] = the gradient of example e's loss at the point ``two_weight_net_twin`` last evaluated
    (``example_value_and_grad``'s second half: each pair's gradient, copied to its examples)."""
    n_ex = ip[3]
    for e in range(n_ex):
        k = ip[4 + e]
        ex[e, 0], ex[e, 1] = work[6, k], work[7, k]


@twin
def two_weight_net_hessian_twin(sp, ip, loops, work, w1, w2):
    """``TwoWeightNet.hessian`` at one point: per example, then the mean in example order."""
    _two_weight_net_forward(sp, ip, loops, work, w1, w2, False)
    n = ip[2]
    x, h, dh, d2h, l1, l2 = sp[:n], work[1], work[2], work[3], work[10], work[11]
    xx, xy, yy = work[6], work[7], work[12]
    for j in range(n):
        z1 = w2 * dh[j] * x[j]
        z2 = h[j]
        xx[j] = l2[j] * z1 * z1 + l1[j] * w2 * d2h[j] * x[j] * x[j]
        xy[j] = l2[j] * z1 * z2 + l1[j] * dh[j] * x[j]
        yy[j] = l2[j] * z2 * z2
    n_ex = ip[3]
    of = ip[4:4 + n_ex]
    return (_sum_in_order(xx, of, n_ex) / n_ex, _sum_in_order(xy, of, n_ex) / n_ex,
            _sum_in_order(yy, of, n_ex) / n_ex)


@twin
def _logistic_examples(sp, ip, loops, work, w, b):
    """Per example: z in work[0], loss in work[1], dz in work[2], d²z in work[3]."""
    n = ip[1]
    x, t = sp[:n], sp[n:2 * n]
    z = work[0]
    for j in range(n):
        z[j] = w * x[j] + b
    output_loss_twin(ip[0], loops, z, t, work[1], work[2], work[3], work[4], work[5], n, True)


@twin
def logistic_neuron_twin(sp, ip, loops, work, w, b):
    """``LogisticNeuron.value_and_grad`` at one point. sp = inputs, targets; ip = loss, N."""
    _logistic_examples(sp, ip, loops, work, w, b)
    n = ip[1]
    x, dz = sp[:n], work[2]
    gw, gb = dz[0] * x[0], dz[0]
    for e in range(1, n):
        gw, gb = gw + dz[e] * x[e], gb + dz[e]
    return mean_pairwise(work[1], n), gw / n, gb / n


@twin
def logistic_neuron_examples_twin(sp, ip, work, ex):
    """ex[e] = the gradient of example e's loss at the point ``logistic_neuron_twin`` last evaluated."""
    n = ip[1]
    for e in range(n):
        ex[e, 0], ex[e, 1] = work[2, e] * sp[e], work[2, e]


@twin
def logistic_neuron_hessian_twin(sp, ip, loops, work, w, b):
    """``LogisticNeuron.hessian`` at one point."""
    _logistic_examples(sp, ip, loops, work, w, b)
    n = ip[1]
    x, l2 = sp[:n], work[3]
    xx, xy, yy = l2[0] * x[0] * x[0], l2[0] * x[0], l2[0]
    for e in range(1, n):
        xx, xy, yy = xx + l2[e] * x[e] * x[e], xy + l2[e] * x[e], yy + l2[e]
    return xx / n, xy / n, yy / n

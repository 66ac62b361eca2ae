"""A softmax over K = 3 classes with two free logits: multi-class cross-entropy and label smoothing."""

from __future__ import annotations

import numpy as np

from engine import softmax as sm
from engine.params import Param
from engine.surfaces.base import Surface, as_points
from engine.twins import UFUNC_EXP, UFUNC_LOG, twin, ufunc, ufunc_scalar

K = 3
#: The example's class (0-based): the first logit's.
TARGET = 0


class Softmax3(Surface):
    """CE(softmax(z₁, z₂, 0), t) over the two free logits (z₁, z₂); the third logit is pinned at 0.

    One example of class 1 with the lecture's smoothed target t = (1 − 2ε, ε, ε)
    (``engine.softmax.smoothed_target``). Pinning z₃ loses nothing: adding a constant to
    every logit leaves the softmax unchanged, so (z₁, z₂) reach every output y.

        E(z₁, z₂) = −Σₖ tₖ log yₖ,   ∇E = (y − t)₁,₂,   ∇²E = (diag(y) − yyᵀ)₁,₂

    (the Hessian is the softmax Jacobian's top-left 2 × 2 block, positive definite, so
    E is convex). With ε = 0 it keeps falling as z₁ − max(z₂, 0) grows: no finite
    minimum. With ε > 0 the minimum is where y = t: z₁ = ln((1 − 2ε)/ε), z₂ = 0.
    """

    NAME = "softmax3"
    TITLE = "Softmax over 3 classes and label smoothing"
    DESCRIPTION = (
        "One example of class 1 and a softmax over K = 3 classes, y = softmax(z₁, z₂, 0), over its two free "
        "logits, with the cross-entropy −Σ tₖ log yₖ. Hard targets (ε = 0) have no finite minimum: the loss "
        "keeps falling as z₁ grows. Label smoothing (targets 1 − 2ε and ε) puts the minimum at "
        "z₁ = ln((1 − 2ε)/ε), z₂ = 0, where the outputs equal the targets."
    )
    AXES = ("z₁", "z₂")
    # With hard targets (the default) every run keeps going towards z₁ → ∞, its gradient fading.
    DEFAULT_START = (-1.0, 1.0)
    DEFAULT_STEPS = 300
    STEP_SIZES = {"gd": 3.0, "momentum": 1.0, "nesterov": 1.0, "newton": 0.2, "preconditioned": 0.2,
                  "adagrad": 1.0, "rmsprop": 0.05, "adam": 0.1, "sgd": 3.0}
    PARAMS = (
        Param("label_smoothing", 0.0, 0.0, 0.3,
              "ε: the target becomes 1 − (K − 1)ε for the true class and ε for each other class (K = 3).",
              label="Label smoothing ε"),
    )

    def setup(self, label_smoothing):
        self.target = sm.smoothed_target(TARGET, K, label_smoothing)

    @staticmethod
    def logits(p) -> np.ndarray:
        """(z₁, z₂, 0) for points (..., 2)."""
        p = as_points(p)
        return np.concatenate([p, np.zeros(p.shape[:-1] + (1,))], axis=-1)

    def value_and_grad(self, p):
        z = self.logits(p)
        return sm.cross_entropy(z, self.target), np.ascontiguousarray(sm.grad_wrt_logits(z, self.target)[..., :2])

    def value(self, p):
        return sm.cross_entropy(self.logits(p), self.target)

    def hessian(self, p):
        return np.ascontiguousarray(sm.cross_entropy_hessian(self.logits(p))[..., :2, :2])

    @property
    def view(self):
        return (-4.0, 8.0, -6.0, 6.0)

    @property
    def minima(self):
        eps = self.params["label_smoothing"]
        if eps == 0:
            return []
        return [(float(np.log((1 - (K - 1) * eps) / eps)), 0.0)]

    TWIN = "softmax3"

    def twin_data(self):
        return np.array(self.target, dtype=float), np.zeros(0, np.int64)


@twin
def _maximum(a, b):
    """np.maximum for two numbers: the first on a tie (so −0.0 and 0.0 keep numpy's order), NaN if a is NaN."""
    return a if a >= b or a != a else b


@twin
def _softmax3_exp(loops, work, x, y):
    """e = exp(z − max z) of z = (x, y, 0) into work[1][:3] (numpy's exp), and Σe (``engine.softmax``'s order)."""
    d, e = work[0], work[1]
    m = _maximum(_maximum(x, y), 0.0)
    d[0], d[1], d[2] = x - m, y - m, 0.0 - m
    ufunc(loops, UFUNC_EXP, d, e, 3)
    return e[0] + e[1] + e[2]


@twin
def softmax3_twin(sp, ip, loops, work, x, y):
    """``Softmax3.value_and_grad`` at one point: CE from ``log_softmax``, ∇ = (softmax − t)₁,₂; sp = the target."""
    s = _softmax3_exp(loops, work, x, y)
    d, e = work[0], work[1]
    log_s = ufunc_scalar(loops, UFUNC_LOG, s, work[2])
    ce = -(sp[0] * (d[0] - log_s) + sp[1] * (d[1] - log_s) + sp[2] * (d[2] - log_s))
    return ce, e[0] / s - sp[0], e[1] / s - sp[1]


@twin
def softmax3_hessian_twin(sp, ip, loops, work, x, y):
    """``Softmax3.hessian`` at one point: (diag(y) − yyᵀ)₁,₂ as ``engine.softmax.jacobian`` computes it."""
    s = _softmax3_exp(loops, work, x, y)
    e = work[1]
    y0, y1 = e[0] / s, e[1] / s
    return y0 * (1.0 - y0), y1 * (0.0 - y0), y1 * (1.0 - y1)

"""A random smooth landscape in two dimensions, with its minima and saddles found and marked."""

from __future__ import annotations

import functools
import math

import numpy as np

from engine import critical_points as cp
from engine.params import Param
from engine.surfaces.base import Surface, as_points
from engine.trig import cos_one, sin_one
from engine.twins import pairwise_sum, pairwise_sums, twin

VIEW = (-5.0, 5.0, -5.0, 5.0)


@functools.lru_cache(maxsize=32)
def _classified(seed: int) -> tuple[tuple, tuple, tuple]:
    """(minima, saddles, maxima) of the seed's field inside the view, each a tuple of (x, y)."""
    r = cp.critical_points(2, seed=seed)
    x0, x1, y0, y1 = VIEW
    inside = [(tuple(map(float, p)), int(i)) for p, i in zip(r["points"], r["index"])
              if x0 <= p[0] <= x1 and y0 <= p[1] <= y1]
    return tuple(tuple(p for p, i in inside if i == k) for k in (0, 1, 2))


class RandomField(Surface):
    """``engine.critical_points``' random landscape in d = 2: f(x) = ½c‖x‖² + Σⱼ aⱼ cos(ωⱼᵀx + φⱼ).

    Its critical points, found by Newton from random starts and classified by the
    Hessian's index, are the surface's minima and saddles (the maxima are left unmarked).
    """

    NAME = "random_field"
    TITLE = "Random smooth landscape"
    DESCRIPTION = (
        "A random smooth function of two variables: 128 random cosines in a wide bowl (close to a Gaussian "
        "random field, the model of Bray & Dean 2007). Its critical points are marked: already in two "
        "dimensions about half are saddles, and the minima lie lowest. Change the seed for another landscape."
    )
    # Beside a saddle: gradient methods roll down to a minimum, Newton's method stops at the saddle.
    DEFAULT_START = (-1.83, 1.63)
    DEFAULT_STEPS = 200
    STEP_SIZES = {"gd": 0.1, "momentum": 0.03, "nesterov": 0.05, "newton": 1.0, "preconditioned": 0.3,
                  "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.1, "sgd": 0.1}
    PARAMS = (
        Param("seed", 0, 0, 999, "Which random landscape: the same seed gives the same function.", kind="int",
              label="Seed"),
    )

    def setup(self, seed):
        self.field = cp.random_field(2, seed=seed)

    def value_and_grad(self, p):
        p = as_points(p)
        return self.field.value(p), self.field.grad(p)

    def value(self, p):
        return self.field.value(as_points(p))

    def hessian(self, p):
        return self.field.hessian(as_points(p))

    @property
    def view(self):
        return VIEW

    @property
    def minima(self):
        return list(_classified(self.params["seed"])[0])

    @property
    def saddles(self):
        return list(_classified(self.params["seed"])[1])

    @property
    def maxima(self):
        return list(_classified(self.params["seed"])[2])

    TWIN = "random_field"

    def twin_data(self):
        f = self.field
        w0, w1 = f.W[:, 0], f.W[:, 1]
        # ωⱼ's products as the reference's ww holds them (hessian): ww[i, k, j] = Wⱼᵢ·Wⱼₖ
        return (np.concatenate([f.phase, w0, w1, f.amp, w0 * w0, w1 * w0, w1 * w1, [f.bowl]]),
                np.array([len(f.phase)], np.int64))


@twin
def _random_field_cos(sp, ip, work, x, y):
    """aⱼ cos(ωⱼᵀp + φⱼ) for every j into work[3]; returns M. The value and the Hessian at one point need the
    same numbers (Newton asks for both): the last point's are kept (its coordinates in work[4]) and reused."""
    m = ip[0]
    key = work[4]
    if key[2] == 1.0 and key[0] == x and key[1] == y and math.copysign(1.0, key[0]) == math.copysign(1.0, x) \
            and math.copysign(1.0, key[1]) == math.copysign(1.0, y):
        return m
    c = work[3]
    for j in range(m):
        c[j] = cos_one(sp[j] + x * sp[m + j] + y * sp[2 * m + j]) * sp[3 * m + j]  # as RandomField._arg adds
    key[0], key[1], key[2] = x, y, 1.0
    return m


@twin
def _random_field_grad(sp, work, m, x, y):
    """The gradient c·p − Σⱼ aⱼ sin(ωⱼᵀp + φⱼ) ωⱼ, in one loop over j (the products into work[1], work[2])."""
    px, py = work[1], work[2]
    bowl = sp[7 * m]
    for j in range(m):
        w0, w1 = sp[m + j], sp[2 * m + j]
        s = sin_one(sp[j] + x * w0 + y * w1) * sp[3 * m + j]
        px[j] = s * w0
        py[j] = s * w1
    sx, sy = pairwise_sums(px, py, m)
    return bowl * x - sx, bowl * y - sy


@twin
def random_field_twin(sp, ip, loops, work, x, y):
    """``RandomField.value_and_grad`` at one point (``engine.critical_points.RandomField``: value, grad).
    sp = φ, ω·₁, ω·₂, a, ω·₁ω·₁, ω·₂ω·₁, ω·₂ω·₂ (M each), c; ip = M. Every sum over j is numpy's
    pairwise sum of a contiguous row, and the cosines and sines are ``engine.trig``'s, as the reference's."""
    m = _random_field_cos(sp, ip, work, x, y)
    f = 0.5 * sp[7 * m] * (x * x + y * y) + pairwise_sum(work[3], 0, m)
    gx, gy = _random_field_grad(sp, work, m, x, y)
    return f, gx, gy


@twin
def random_field_gradient_twin(sp, ip, loops, work, x, y):
    """``random_field_twin``'s gradient alone, with ½c‖p‖² in place of the value: the value is that plus a sum
    of 128 bounded cosines, so it is finite exactly when ½c‖p‖² is, and a sweep's steps need nothing more."""
    m = ip[0]
    gx, gy = _random_field_grad(sp, work, m, x, y)
    return 0.5 * sp[7 * m] * (x * x + y * y), gx, gy


@twin
def random_field_hessian_twin(sp, ip, loops, work, x, y):
    """``RandomField.hessian`` at one point: c·I − Σⱼ aⱼ cos(·) ωⱼωⱼᵀ."""
    m = _random_field_cos(sp, ip, work, x, y)
    c, prod = work[3], work[2]
    bowl = sp[7 * m]
    out0 = 0.0
    out1 = 0.0
    out2 = 0.0
    for k in range(3):
        for j in range(m):
            prod[j] = c[j] * sp[(4 + k) * m + j]
        s = pairwise_sum(prod, 0, m)
        if k == 0:
            out0 = bowl * 1.0 - s
        elif k == 1:
            out1 = bowl * 0.0 - s
        else:
            out2 = bowl * 1.0 - s
    return out0, out1, out2

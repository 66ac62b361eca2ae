"""A random smooth landscape in two dimensions, with its minima and saddles found and marked."""

from __future__ import annotations

import functools

import numpy as np

from engine import critical_points as cp
from engine.params import Param
from engine.surfaces.base import Surface, as_points

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

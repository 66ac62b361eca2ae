"""A non-convex landscape: several basins, saddles between them and a plateau."""

from __future__ import annotations

import functools

import numpy as np

from engine.surfaces.base import Surface, as_points
from engine.surfaces.critical import CriticalPoints, find_critical_points, seed_grid


class Landscape(Surface):
    """f(p) = c·|p|⁴ − Σᵢ aᵢ exp(−|p − cᵢ|² / 2sᵢ²).

    Three Gaussian wells of different depths give one global and two local minima,
    with saddles on the ridges between them. Far from the wells only the weak quartic
    wall remains: a plateau where the gradient is tiny and gradient descent stalls.
    Critical points are found once by Newton's method from a grid of seeds.
    """

    NAME = "landscape"
    TITLE = "Hills, valleys and a plateau"
    DESCRIPTION = (
        "Three basins of different depths: one global minimum, two local ones, and saddles on the "
        "ridges between them. The upper right is a plateau where the gradient almost vanishes: "
        "gradient descent started there barely moves, while momentum and Adam roll off it. "
        "Which basin a run ends in depends on where it starts and on its step size."
    )
    # On the plateau: gradient descent inches off it, momentum and Adam roll into a basin.
    DEFAULT_START = (2.0, 2.2)
    DEFAULT_STEPS = 300
    STEP_SIZES = {"gd": 1.0, "momentum": 0.5, "nesterov": 0.5, "newton": 1.0, "preconditioned": 0.01,
                  "adagrad": 1.0, "rmsprop": 0.1, "adam": 0.1, "sgd": 1.0}
    CENTERS = np.array([[-1.4, -1.0], [1.3, -1.1], [-0.9, 1.5]])
    DEPTHS = np.array([1.6, 1.1, 0.9])
    WIDTHS = np.array([0.8, 0.6, 0.55])
    WALL = 5e-4

    def _wells(self, p):
        d = p[..., None, :] - self.CENTERS  # (..., 3, 2)
        s2 = self.WIDTHS**2
        e = self.DEPTHS * np.exp(-np.sum(d * d, -1) / (2 * s2))  # (..., 3)
        return d, s2, e

    def value_and_grad(self, p):
        p = as_points(p)
        d, s2, e = self._wells(p)
        r2 = np.sum(p * p, -1)
        f = self.WALL * r2 * r2 - e.sum(-1)
        g = 4 * self.WALL * r2[..., None] * p + np.sum((e / s2)[..., None] * d, -2)
        return f, g

    def hessian(self, p):
        p = as_points(p)
        d, s2, e = self._wells(p)
        r2 = np.sum(p * p, -1)
        eye = np.eye(2)
        wall = 4 * self.WALL * (r2[..., None, None] * eye + 2 * p[..., :, None] * p[..., None, :])
        outer = d[..., :, None] * d[..., None, :]  # (..., 3, 2, 2)
        wells = (e / s2)[..., None, None] * (eye - outer / s2[:, None, None])
        return wall + wells.sum(-3)

    @property
    def view(self):
        return (-3.0, 3.0, -3.0, 3.0)

    @property
    def minima(self):
        return _critical_points(type(self))[0]

    @property
    def saddles(self):
        return _critical_points(type(self))[1]


@functools.lru_cache(maxsize=None)
def _critical_points(cls) -> CriticalPoints:
    # Only wells matter to a learner; the far-off wall's ring of critical points (loss ≈ 0) is noise.
    return find_critical_points(
        cls(), seed_grid((-2.8, 2.8, -2.8, 2.8), 15), inside=(-3.5, 3.5, -3.5, 3.5),
        iters=80, max_step=0.5, curvature="exact", grad_tol=1e-10, keep=lambda loss: loss <= -1e-3,
    )

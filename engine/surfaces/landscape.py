"""A non-convex landscape: several basins, saddles between them and a plateau."""

from __future__ import annotations

import functools

import numpy as np

from engine.surfaces.base import Surface, as_points
from engine.surfaces.critical import CriticalPoints, find_critical_points, seed_grid
from engine.twins import UFUNC_EXP, twin, ufunc


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
    # Every well's curvature is 2.5–3.1: GD above 2/3.1 ≈ 0.65 (and Nesterov above its edge ≈ 0.46 at
    # β = 0.7) would bounce around whichever minimum it reaches and never settle.
    STEP_SIZES = {"gd": 0.5, "momentum": 0.5, "nesterov": 0.3, "newton": 1.0, "preconditioned": 0.01,
                  "adagrad": 1.0, "rmsprop": 0.05, "adam": 0.1, "sgd": 0.5}
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

    TWIN = "landscape"

    def twin_data(self):
        s2 = self.WIDTHS**2
        return np.concatenate([self.CENTERS.ravel(), self.DEPTHS, s2, 2 * s2, [self.WALL, 4 * self.WALL]]), \
            np.zeros(0, np.int64)


@twin
def landscape_wells_twin(sp, loops, work, x, y):
    """``Landscape._wells`` at one point: d in work[0] (x-offsets) and work[1] (y-offsets), e in work[3]."""
    d0, d1, arg, e = work[0], work[1], work[2], work[3]
    for i in range(3):
        d0[i] = x - sp[2 * i]
        d1[i] = y - sp[2 * i + 1]
        arg[i] = -(d0[i] * d0[i] + d1[i] * d1[i]) / sp[12 + i]
    ufunc(loops, UFUNC_EXP, arg, e, 3)
    for i in range(3):
        e[i] = sp[6 + i] * e[i]


@twin
def landscape_twin(sp, ip, loops, work, x, y):
    """``Landscape.value_and_grad`` at one point. sp = centres (6), depths, s², 2s², c, 4c."""
    landscape_wells_twin(sp, loops, work, x, y)
    d0, d1, e = work[0], work[1], work[3]
    r2 = x * x + y * y
    f = sp[15] * r2 * r2 - (e[0] + e[1] + e[2])
    w = e[0] / sp[9]
    s0, s1 = w * d0[0], w * d1[0]
    for i in range(1, 3):
        w = e[i] / sp[9 + i]
        s0, s1 = s0 + w * d0[i], s1 + w * d1[i]
    return f, sp[16] * r2 * x + s0, sp[16] * r2 * y + s1


@twin
def landscape_hessian_twin(sp, ip, loops, work, x, y):
    """``Landscape.hessian`` at one point: the wall's term plus the wells' sum, in the reference's order."""
    landscape_wells_twin(sp, loops, work, x, y)
    d0, d1, e = work[0], work[1], work[3]
    r2 = x * x + y * y
    c4 = sp[16]
    wxx = c4 * (r2 * 1.0 + 2 * x * x)
    wxy = c4 * (r2 * 0.0 + 2 * y * x)
    wyy = c4 * (r2 * 1.0 + 2 * y * y)
    hxx = hxy = hyy = 0.0
    for i in range(3):
        w = e[i] / sp[9 + i]
        s2 = sp[9 + i]
        txx = w * (1.0 - d0[i] * d0[i] / s2)
        txy = w * (0.0 - d1[i] * d0[i] / s2)
        tyy = w * (1.0 - d1[i] * d1[i] / s2)
        if i == 0:
            hxx, hxy, hyy = txx, txy, tyy
        else:
            hxx, hxy, hyy = hxx + txx, hxy + txy, hyy + tyy
    return wxx + hxx, wxy + hxy, wyy + hyy


@functools.lru_cache(maxsize=None)
def _critical_points(cls) -> CriticalPoints:
    # Only wells matter to a learner; the far-off wall's ring of critical points (loss ≈ 0) is noise.
    return find_critical_points(
        cls(), seed_grid((-2.8, 2.8, -2.8, 2.8), 15), inside=(-3.5, 3.5, -3.5, 3.5),
        iters=80, max_step=0.5, curvature="exact", grad_tol=1e-10, keep=lambda loss: loss <= -1e-3,
    )

"""Booth's function: a tilted quadratic valley, the smallest complete surface module (CONTRIBUTING.md)."""

from __future__ import annotations

import numpy as np

from engine.surfaces.base import Surface, as_points
from engine.twins import twin


class Booth(Surface):
    """f(x, y) = (x + 2y − 7)² + (2x + y − 5)², minimum f(1, 3) = 0.

    A quadratic in disguise: ∇f = (10x + 8y − 34, 8x + 10y − 38) and H = [[10, 8], [8, 10]]
    everywhere, with eigenvalues 2 and 18 along the diagonals (κ = 9). GD is stable for
    η < 2/18 and fastest at η = 2/(2 + 18) = 0.1, where it contracts by 0.8 a step; Newton
    lands on the minimum in one step.
    """

    NAME = "booth"
    TITLE = "Booth's valley"
    DESCRIPTION = (
        "(x + 2y − 7)² + (2x + y − 5)²: a valley tilted 45°, minimum 0 at (1, 3). It is a quadratic "
        "bowl in disguise (curvatures 2 and 18, κ = 9), so every bowl lesson applies: GD zig-zags "
        "across the valley above η ≈ 0.06 and diverges past 2/18 ≈ 0.11, Newton lands in one step."
    )
    # Up the valley's side, so the runs cross it and then follow it.
    DEFAULT_START = (-4.0, -2.0)
    DEFAULT_STEPS = 300
    STEP_SIZES = {"gd": 0.1, "momentum": 0.01, "nesterov": 0.05, "newton": 1.0, "preconditioned": 1.0,
                  "adagrad": 2.0, "rmsprop": 0.05, "adam": 0.3, "sgd": 0.1}

    def value_and_grad(self, p):
        p = as_points(p)
        x, y = p[..., 0], p[..., 1]
        u = x + 2 * y - 7
        v = 2 * x + y - 5
        return u * u + v * v, np.stack([2 * u + 4 * v, 4 * u + 2 * v], -1)

    def hessian(self, p):
        p = as_points(p)
        return np.broadcast_to(np.array([[10.0, 8.0], [8.0, 10.0]]), p.shape[:-1] + (2, 2)).copy()

    @property
    def view(self):
        return (-6.0, 8.0, -4.0, 10.0)

    @property
    def minima(self):
        return [(1.0, 3.0)]

    TWIN = "booth"

    def twin_data(self):
        return np.zeros(0), np.zeros(0, np.int64)


@twin
def booth_twin(sp, ip, loops, work, x, y):
    """``Booth.value_and_grad`` at one point."""
    u = x + 2.0 * y - 7.0
    v = 2.0 * x + y - 5.0
    return u * u + v * v, 2.0 * u + 4.0 * v, 4.0 * u + 2.0 * v


@twin
def booth_hessian_twin(sp, ip, loops, work, x, y):
    return 10.0, 8.0, 10.0

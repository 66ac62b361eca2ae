"""Scenes and measurements several lessons share."""

from __future__ import annotations

import numpy as np

from engine import theory
from engine.lessons.base import Context, fmt

#: The rotated, ill-conditioned bowl of lessons 2–4.
BOWL = {"lambda_1": 1.0, "lambda_2": 20.0, "rotation": 30.0}
BOWL_START = [-2.0, -0.5]


def bowl_theory() -> dict:
    return theory.quadratic_theory(BOWL["lambda_1"], BOWL["lambda_2"])


def rate_of(ctx: Context, i: int) -> float | None:
    """Measured per-step contraction of run i's distance to the minimum (over its last two thirds)."""
    d = ctx.distance(i)
    if not np.all(np.isfinite(d)) or d[-1] == 0:
        d = d[: int(np.argmax(~np.isfinite(d) | (d == 0)))] if (~np.isfinite(d) | (d == 0)).any() else d
    if len(d) < 6:
        return None
    return float(theory.measured_rate(d))


def fmt_step(k) -> str:
    return "never" if k is None else str(k)


def first_of(ctx: Context, runs) -> int | None:
    """Index (into ``runs``) of the run that gets within 10⁻⁶ of the minimum first; None on a tie or if none does."""
    ks = [ctx.reaches(i) for i in runs]
    ks = [np.inf if k is None else k for k in ks]
    best = min(ks)
    if best == np.inf or ks.count(best) > 1:
        return None
    return ks.index(best)


__all__ = ["BOWL", "BOWL_START", "bowl_theory", "rate_of", "fmt", "fmt_step", "first_of"]

"""Critical points of a surface: one damped-Newton search, used by every surface.

Newton's method on the gradient, x ← x − H⁻¹∇f(x), converges to minima and saddles
alike, which is what a search for critical points wants. Each surface only says where
to seed it and how far one step may go; classification by the Hessian's eigenvalues is
the same everywhere:

- a **minimum** where H is strictly positive definite (λ_min > tol · max|λ|),
- a **saddle** where λ_min < −tol · max|λ| < tol · max|λ| < λ_max.

A point where the loss is flat along a curve (λ_min is rounding noise) is neither:
no point of such a curve is an isolated minimum.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

Bounds = tuple[float, float, float, float]  # (x0, x1, y0, y1)


class CriticalPoints(NamedTuple):
    """Isolated minima and saddles, each sorted by loss (lowest first)."""

    minima: list[tuple[float, float]]
    saddles: list[tuple[float, float]]


def seed_grid(bounds: Bounds, n: int) -> np.ndarray:
    """An n × n grid of seeds over ``bounds``, shape (n·n, 2)."""
    x0, x1, y0, y1 = bounds
    return np.stack(np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n)), -1).reshape(-1, 2)


def newton_step(grad: np.ndarray, hessian: np.ndarray, *, curvature: str = "exact") -> np.ndarray:
    """The Newton step H⁻¹g for a batch of points, through H's eigen-decomposition.

    ``curvature="exact"`` inverts each eigenvalue (a pseudo-inverse: eigenvalues below
    1e-12 are dropped), so the step is drawn to saddles as well as minima.
    ``curvature="absolute"`` uses max(|λ|, 1e-6) instead (saddle-free Newton), which is
    repelled by saddles and only finds minima. Non-finite entries count as zero.
    """
    g = np.where(np.isfinite(grad), grad, 0.0)
    ev, vec = np.linalg.eigh(np.where(np.isfinite(hessian), hessian, 0.0))
    if curvature == "exact":
        inv = np.where(np.abs(ev) > 1e-12, 1 / np.where(ev == 0, 1.0, ev), 0.0)
    elif curvature == "absolute":
        inv = 1 / np.maximum(np.abs(ev), 1e-6)
    else:
        raise ValueError(f"curvature must be 'exact' or 'absolute', not {curvature!r}")
    return np.einsum("...ij,...j,...kj,...k->...i", vec, inv, vec, g)


def refine(surface, guess, iters: int = 60) -> np.ndarray:
    """Polish one approximate critical point with undamped Newton steps (stops at |step| < 1e-15)."""
    x = np.asarray(guess, dtype=float)
    for _ in range(iters):
        step = np.linalg.solve(surface.hessian(x), surface.grad(x))
        x = x - step
        if np.linalg.norm(step) < 1e-15:
            break
    return x


def find_critical_points(
    surface,
    seeds: np.ndarray,
    *,
    inside: Bounds,
    iters: int = 60,
    max_step: float = 1.0,
    curvature: str = "exact",
    grad_tol: float = 1e-8,
    eig_tol: float = 1e-8,
    merge_distance: float = 1e-6,
    keep: Callable[[float], bool] | None = None,
) -> CriticalPoints:
    """Damped Newton from every seed at once, then classify what it converged to.

    Each step is clipped to ``max_step`` per coordinate. A point counts when it lies in
    ``inside``, its loss is finite, ‖∇f‖ < ``grad_tol`` and its Hessian is finite;
    points closer than ``merge_distance`` are one point; ``keep(loss)`` may drop points
    a learner would not care about.
    """
    x = np.array(seeds, dtype=float)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            step = newton_step(surface.grad(x), surface.hessian(x), curvature=curvature)
            x = x - np.clip(step, -max_step, max_step)
        f, g = surface.value_and_grad(x)
        g = np.where(np.isfinite(f), np.linalg.norm(g, axis=-1), np.inf)  # a zero gradient where f is undefined is no minimum
        h = surface.hessian(x)
        ev = np.linalg.eigvalsh(np.where(np.isfinite(h), h, np.nan))
    x0, x1, y0, y1 = inside
    ok = (x[:, 0] >= x0) & (x[:, 0] <= x1) & (x[:, 1] >= y0) & (x[:, 1] <= y1)
    ok &= (g < grad_tol) & np.all(np.isfinite(ev), -1)
    tol = eig_tol * np.abs(np.where(np.isfinite(ev), ev, 0.0)).max(-1, initial=0.0)
    points: list[tuple[float, np.ndarray, str]] = []
    for pt, e, t, loss in zip(x[ok], ev[ok], tol[ok], f[ok]):
        if any(np.linalg.norm(pt - q) < merge_distance for _, q, _ in points):
            continue
        if keep is not None and not keep(float(loss)):
            continue
        if e[0] > t:
            points.append((float(loss), pt, "minimum"))
        elif e[0] < -t and e[1] > t:
            points.append((float(loss), pt, "saddle"))
    points.sort(key=lambda item: item[0])
    return CriticalPoints(
        minima=[tuple(map(float, pt)) for _, pt, kind in points if kind == "minimum"],
        saddles=[tuple(map(float, pt)) for _, pt, kind in points if kind == "saddle"],
    )

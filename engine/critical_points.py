"""Why saddles outnumber minima in high dimension: critical points of random smooth functions.

The function is a random smooth landscape in d dimensions, a sum of M random cosines
(random Fourier features, Rahimi & Recht 2007) in a wide quadratic bowl:

    f(x) = ½ c‖x‖² + Σⱼ aⱼ cos(ωⱼᵀx + φⱼ),   ωⱼ ~ N(0, I/ℓ²), φⱼ ~ U(0, 2π), aⱼ ~ N(0, 2/M),

close to a Gaussian random field with covariance exp(−‖r‖²/(2ℓ²)) plus a confining
bowl: the model of Bray & Dean (2007). Its gradient and Hessian are exact:

    ∇f = cx − Σⱼ aⱼ sin(·) ωⱼ,     ∇²f = cI − Σⱼ aⱼ cos(·) ωⱼωⱼᵀ.

``critical_points`` finds critical points by Newton's method on ∇f = 0 from random
starts (Newton's step is attracted to critical points of every kind, unlike gradient
descent, which finds only minima), keeps the distinct ones, and classifies each by its
index, the number of negative Hessian eigenvalues: 0 a minimum, d a maximum, anything
between a saddle.

What it shows, as Bray & Dean (2007) and Dauphin et al. (2014) say: for a critical
point to be a minimum, all d eigenvalues must come out positive, which gets ever less
likely as d grows, so the share of saddles grows with d (none in d = 1); and the index
is tied to the height: the minima are the lowest critical points, and the higher a
critical point lies, the more directions lead down from it (a larger index fraction
α = index/d). The counts are of the points found from the starts, a sample, not all
of them; a fixed seed reproduces them exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from engine import trig

#: The lesson's dimensions, starts per dimension, features and bowl.
DIMENSIONS = (1, 2, 3, 4, 6, 8)
STARTS = 400
FEATURES = 128
BOWL = 0.2
LENGTH = 1.0
SEED = 0


class RandomField(NamedTuple):
    """f(x) = ½ c‖x‖² + Σⱼ aⱼ cos(ωⱼᵀx + φⱼ): W holds the ωⱼ as rows (M, d)."""

    W: np.ndarray
    phase: np.ndarray
    amp: np.ndarray
    bowl: float

    @property
    def dim(self) -> int:
        return int(self.W.shape[1])

    # Every sum below runs over the last axis of a contiguous row (numpy's pairwise sum, which the compiled
    # kernel repeats), so a batch of points gets bit for bit what each point gets alone (a race batches its
    # runs), and the Hessian is exactly symmetric. The sines and cosines are engine.trig's: the compiled
    # kernel computes the same bits eight at a time.
    def _arg(self, x) -> np.ndarray:
        """ωⱼᵀx + φⱼ for every j, shape (..., M)."""
        x = np.asarray(x, dtype=float)
        arg = np.broadcast_to(self.phase, x.shape[:-1] + self.phase.shape).copy()
        for i in range(self.dim):
            arg += x[..., i:i + 1] * self.W[:, i]
        return arg

    def value(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return 0.5 * self.bowl * np.sum(x * x, -1) + np.sum(trig.cos(self._arg(x)) * self.amp, -1)

    def grad(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        s = trig.sin(self._arg(x)) * self.amp                    # (..., M)
        return self.bowl * x - np.stack([np.sum(s * self.W[:, i], -1) for i in range(self.dim)], -1)

    def hessian(self, x) -> np.ndarray:
        c = trig.cos(self._arg(x)) * self.amp                    # (..., M)
        ww = np.ascontiguousarray(self.W.T[:, None, :] * self.W.T[None, :, :])  # (d, d, M): ωⱼᵢωⱼₖ
        return self.bowl * np.eye(self.dim) - np.sum(c[..., None, None, :] * ww, -1)


def random_field(dim: int, seed: int = SEED, features: int = FEATURES, length: float = LENGTH,
                 bowl: float = BOWL) -> RandomField:
    """The random landscape for (dim, seed): the same numbers every time."""
    rng = np.random.default_rng([seed, dim])
    return RandomField(W=rng.standard_normal((features, dim)) / length,
                       phase=rng.uniform(0, 2 * np.pi, features),
                       amp=rng.standard_normal(features) * np.sqrt(2 / features), bowl=bowl)


def newton_critical_points(field: RandomField, starts: np.ndarray, iters: int = 80, max_step: float = 0.5,
                           tol: float = 1e-9) -> np.ndarray:
    """Newton's method x ← x − H⁻¹∇f from every start (steps capped at ``max_step``); the converged points.

    A start stops moving once its step falls below 10⁻¹³ (a few steps after it converged), so the
    work goes to the starts still travelling.
    """
    x = np.array(starts, dtype=float)
    active = np.ones(len(x), bool)
    for _ in range(iters):
        if not active.any():
            break
        xa = x[active]
        with np.errstate(all="ignore"):
            step = np.linalg.solve(field.hessian(xa), field.grad(xa)[..., None])[..., 0]
            n = np.linalg.norm(step, axis=-1, keepdims=True)
            step = np.nan_to_num(np.where(n > max_step, step * (max_step / n), step))
        x[active] = xa - step
        active[np.flatnonzero(active)[np.linalg.norm(step, axis=-1) < 1e-13]] = False
    ok = np.linalg.norm(field.grad(x), axis=-1) < tol
    return x[ok]


def distinct(points: np.ndarray, radius: float = 1e-6) -> np.ndarray:
    """The points with duplicates (closer than ``radius``) dropped, in their first order."""
    close = np.linalg.norm(points[:, None] - points[None], axis=-1) <= radius
    keep = np.zeros(len(points), bool)
    for i in range(len(points)):
        keep[i] = not np.any(close[i, :i] & keep[:i])
    return points[keep]


def critical_points(dim: int, seed: int = SEED, starts: int = STARTS, **field_kw) -> dict:
    """The distinct critical points Newton finds from ``starts`` random starts, with index and height.

    Starts are normal with the field's bowl as scale: ‖x‖ about 3. Returns ``{"dim", "points",
    "index", "value", "counts": {"minima", "saddles", "maxima", "total"}, "saddle_share"}``.
    """
    field = random_field(dim, seed, **field_kw)
    rng = np.random.default_rng([seed, dim, 1])
    x0 = rng.standard_normal((starts, dim)) * (3.0 / np.sqrt(dim))
    pts = distinct(newton_critical_points(field, x0))
    index = (np.linalg.eigvalsh(field.hessian(pts)) < 0).sum(-1) if len(pts) else np.zeros(0, int)
    value = field.value(pts) if len(pts) else np.zeros(0)
    minima, maxima = int(np.sum(index == 0)), int(np.sum(index == dim))
    total = int(len(pts))
    return {
        "dim": dim, "points": pts, "index": index, "value": value,
        "counts": {"minima": minima, "saddles": total - minima - maxima, "maxima": maxima, "total": total},
        "saddle_share": (total - minima - maxima) / total if total else 0.0,
    }


def summary(dims=DIMENSIONS, seed: int = SEED, starts: int = STARTS) -> dict:
    """The lesson's table and scatter: per dimension the counts and the saddles' share, the mean height
    of the minima and of the saddles, and every point's (index fraction α, height)."""
    rows, scatter = [], []
    for d in dims:
        r = critical_points(d, seed, starts)
        idx, val = r["index"], r["value"]
        sad = (idx > 0) & (idx < d)
        rows.append({
            "dim": d, **r["counts"], "saddle_share": r["saddle_share"],
            "mean_value_minima": float(val[idx == 0].mean()) if np.any(idx == 0) else None,
            "mean_value_saddles": float(val[sad].mean()) if np.any(sad) else None,
            "index_value_correlation": float(np.corrcoef(idx / d, val)[0, 1]) if len(val) > 2 and np.ptp(idx) else None,
        })
        scatter.append({"dim": d, "alpha": (idx / d).tolist(), "value": val.tolist()})
    return {"seed": seed, "starts": starts, "features": FEATURES, "bowl": BOWL, "rows": rows, "scatter": scatter}

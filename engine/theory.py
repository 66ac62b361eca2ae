"""What theory predicts, next to the runner so each checks the other.

Conventions match the optimizers: heavy ball is v ← μ v + g, x ← x − η v (PyTorch),
which on a quadratic is x_{k+1} = x_k − η ∇f(x_k) + β (x_k − x_{k−1}) with β = μ, the
form used by Goh, "Why Momentum Really Works", Distill 2017.
"""

from __future__ import annotations

import numpy as np

from engine.surfaces.base import DataSurface, Surface, as_points


def quadratic_theory(lambda_1: float, lambda_2: float) -> dict:
    """Step sizes and rates for f = ½ xᵀAx with eigenvalues λ1, λ2.

    Returns eigenvalues, κ = λmax/λmin, η_opt = 1/λ per eigendirection, the best
    fixed GD step 2/(λmin + λmax) and its rate (κ − 1)/(κ + 1), the divergence bound
    2/λmax, and the optimal heavy ball η* = (2/(√λmin + √λmax))²,
    β* = ((√κ − 1)/(√κ + 1))² with its rate (√κ − 1)/(√κ + 1).

    >>> t = quadratic_theory(1.0, 100.0)
    >>> round(t["condition_number"]), round(t["gd_rate"], 4), round(t["momentum_rate"], 4)
    (100, 0.9802, 0.8182)
    """
    lo, hi = sorted((float(lambda_1), float(lambda_2)))
    kappa = hi / lo
    sk = float(np.sqrt(kappa))
    return {
        "eigenvalues": [float(lambda_1), float(lambda_2)],
        "lambda_min": lo,
        "lambda_max": hi,
        "condition_number": kappa,
        "eta_opt": [1.0 / lambda_1, 1.0 / lambda_2],
        "gd_best_lr": 2.0 / (lo + hi),
        "gd_rate": (kappa - 1) / (kappa + 1),
        "gd_max_lr": 2.0 / hi,
        "momentum_best_lr": (2.0 / (np.sqrt(lo) + np.sqrt(hi))) ** 2,
        "momentum_best_beta": ((sk - 1) / (sk + 1)) ** 2,
        "momentum_rate": (sk - 1) / (sk + 1),
    }


def heavy_ball_rate(lr, beta, eigenvalues) -> np.ndarray:
    """Convergence rate of heavy ball on a quadratic: the largest spectral radius, over the
    eigenvalues λ, of the 2×2 iteration matrix [[1 + β − ηλ, −β], [1, 0]].

    Its eigenvalues solve t² − (1 + β − ηλ) t + β = 0. A rate ≥ 1 means divergence.
    ``lr`` and ``beta`` broadcast, so a whole (η, β) map is one call. β = 0 is plain GD,
    whose rate is max |1 − ηλ|.
    """
    lr = np.asarray(lr, dtype=float)[..., None]
    beta = np.asarray(beta, dtype=float)[..., None]
    lam = np.asarray(eigenvalues, dtype=float)
    a = 1 + beta - lr * lam
    disc = a * a - 4 * beta
    root = np.sqrt(np.abs(disc))
    real = np.maximum(np.abs(a + root), np.abs(a - root)) / 2
    complex_ = np.sqrt(np.abs(beta)) * np.ones_like(a)
    return np.max(np.where(disc >= 0, real, complex_), axis=-1)


def rate_map(eigenvalues, lrs, betas) -> np.ndarray:
    """Heavy-ball rate on the grid: ``out[j, i]`` for ``betas[j]`` and ``lrs[i]``."""
    lr, beta = np.meshgrid(np.asarray(lrs, float), np.asarray(betas, float))
    return heavy_ball_rate(lr, beta, eigenvalues)


def gd_error_by_direction(surface, start, lr: float, steps: int) -> np.ndarray:
    """Error along each eigenvector of a quadratic after k GD steps: eᵢ(k) = (1 − ηλᵢ)ᵏ eᵢ(0).

    Returns an array of shape (steps + 1, 2), column i for eigenvalue λᵢ.
    """
    e0 = surface.rotation_matrix.T @ np.asarray(start, float)
    k = np.arange(steps + 1)[:, None]
    return (1 - lr * surface.eigenvalues) ** k * e0


def measured_rate(errors, skip: int | None = None) -> float:
    """Geometric mean per-step contraction of a positive error sequence over its tail.

    Uses entries ``skip … last`` (default: from a third of the way in); stops at the first
    error below 1e-250 so underflow cannot bias it.
    """
    e = np.asarray(errors, dtype=float)
    tiny = np.flatnonzero(e < 1e-250)
    if tiny.size:
        e = e[: tiny[0]]
    skip = len(e) // 3 if skip is None else skip
    if len(e) - 1 - skip < 1:
        raise ValueError("measured_rate needs at least two errors after skip")
    return float((e[-1] / e[skip]) ** (1.0 / (len(e) - 1 - skip)))


def hessian_eigenvalues(surface: Surface, point) -> dict:
    """Hessian eigenvalues at a point and what they say: minimum, maximum, saddle or flat."""
    h = surface.hessian(as_points(point))
    lam, vec = np.linalg.eigh(h)
    scale = max(1e-12, float(np.max(np.abs(lam))))
    if lam[0] > 1e-9 * scale:
        kind = "minimum-like (both curvatures positive)"
    elif lam[1] < -1e-9 * scale:
        kind = "maximum-like (both curvatures negative)"
    elif lam[0] < -1e-9 * scale and lam[1] > 1e-9 * scale:
        kind = "saddle (one negative curvature)"
    else:
        kind = "degenerate (a zero curvature)"
    return {"eigenvalues": lam.tolist(), "eigenvectors": vec.T.tolist(), "kind": kind}


def minibatch_gradient_variance(surface: DataSurface, point, batch_sizes) -> np.ndarray:
    """Predicted E‖g_B − g‖² for batches of size b drawn without replacement.

    σ²/b · (N − b)/(N − 1), where σ² is the mean squared deviation of the per-example
    gradients from their mean: the 1/b law, times the finite-population factor that
    makes the full batch (b = N) exact.
    """
    _, ex = surface.example_value_and_grad(as_points(point))
    n = ex.shape[-2]
    sigma2 = float(np.mean(np.sum((ex - ex.mean(axis=-2, keepdims=True)) ** 2, -1)))
    b = np.asarray(batch_sizes, dtype=float)
    return sigma2 / b * (n - b) / (n - 1)


def measure_minibatch_variance(surface: DataSurface, point, batch_size: int, samples: int = 2000, seed: int = 0) -> float:
    """Empirical E‖g_B − g‖² over ``samples`` batches drawn without replacement."""
    _, ex = surface.example_value_and_grad(as_points(point))
    n = ex.shape[0]
    full = ex.mean(axis=0)
    rng = np.random.default_rng(seed)
    idx = np.argsort(rng.random((samples, n)), axis=1)[:, :batch_size]
    means = ex[idx].mean(axis=1)
    return float(np.mean(np.sum((means - full) ** 2, -1)))

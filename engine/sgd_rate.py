"""SGD's O(1/ε): the excess loss after k steps, averaged over seeds, against theory.

The problem is the lecture's strongly convex case in its simplest form: the quadratic
bowl E(x) = ½ xᵀAx (``engine.surfaces.Quadratic``, eigenvalues μ = λmin ≤ λmax = L) with
the SGD optimizer's Gaussian gradient noise, g = ∇E(x) + σξ, ξ ~ N(0, I) (``sgd``'s
``noise`` parameter). Along each eigenvector the error eᵢ obeys

    eᵢ ← (1 − ηₖλᵢ) eᵢ − ηₖσξ,   so   E[eᵢ²] ← (1 − ηₖλᵢ)² E[eᵢ²] + ηₖ²σ²,

an exact recursion for the expected excess loss E[E(xₖ)] − E* = ½ Σᵢ λᵢ E[eᵢ²]
(``expected_excess``), which the average over seeds (``simulate``) must follow.

- A constant step η keeps the noise in: the excess settles at the floor
  ½ Σᵢ λᵢ ησ²/(λᵢ(2 − ηλᵢ)) = Σᵢ ησ²/(2(2 − ηλᵢ)) and never goes below it.
- The schedule ηₖ = η/k (the lecture's; Robbins & Monro 1951) drives it to zero. When
  2ημ > 1 the excess falls as C/k with C = ½ Σᵢ λᵢ η²σ²/(2ηλᵢ − 1): reaching an excess
  ε takes C/ε steps, the O(1/ε) of the lecture — a slope of −1 on log-log axes.
- When 2ημ < 1 the constant is too small and the error along the flattest direction decays only
  as k^(−2ημ): slower than any 1/k (Nemirovski, Juditsky, Lan & Shapiro 2009, §1, whose
  example f = x²/10 with η = 1 crawls as k^(−1/5)). So the guarantee needs η > 1/(2μ).

``simulate`` steps every seed at once; it is the engine's SGD (``engine.run`` with the
``sgd`` optimizer) vectorised over seeds, drawing the same noise for the same seeds, as
``tests/engine/test_sgd_rate.py`` checks step for step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.optimizers import schedule_factor
from engine.surfaces import make_surface

#: The lesson's bowl and noise: μ = 0.4, L = 2, so the guarantee needs η > 1/(2μ) = 1.25.
BOWL = {"lambda_1": 0.4, "lambda_2": 2.0, "rotation": 0.0}
NOISE = 1.0
START = (-2.0, 1.5)
#: The three SGD runs the lesson races, (label, η, schedule).
RUNS = (
    ("η/k, η = 2 > 1/(2μ)", 2.0, "inverse"),
    ("η/k, η = 0.5 < 1/(2μ)", 0.5, "inverse"),
    ("constant η = 0.1", 0.1, "constant"),
)
STEPS = 10_000
SEEDS = 200
#: Steps used to fit the slope: the tail of the run, where the start no longer matters.
FIT_FROM = 100


def record_steps(steps: int, n: int = 60) -> np.ndarray:
    """About ``n`` steps 1 … steps spread evenly on a log axis (distinct integers)."""
    return np.unique(np.round(np.logspace(0, np.log10(steps), n)).astype(int))


def _eigen(surface) -> tuple[np.ndarray, np.ndarray]:
    lam, vec = np.linalg.eigh(surface.hessian(np.zeros(2)))
    return lam, vec


def expected_excess(surface, start, lr: float, schedule: str, noise: float, steps: int) -> np.ndarray:
    """E[E(xₖ)] − E* for k = 1 … steps, exactly, from the recursion in the module docstring."""
    lam, vec = _eigen(surface)
    m = (vec.T @ np.asarray(start, dtype=float)) ** 2
    k = np.arange(1, steps + 1)
    eta = lr * schedule_factor(schedule, k)
    out = np.empty(steps)
    with np.errstate(all="ignore"):
        for i in range(steps):
            m = (1 - eta[i] * lam) ** 2 * m + eta[i] ** 2 * noise ** 2
            out[i] = 0.5 * np.sum(lam * m)
    return out


def simulate(surface, start, lr: float, schedule: str, noise: float, steps: int, seeds, *,
             run_seed: int = 0, record=None) -> tuple[np.ndarray, np.ndarray]:
    """SGD from ``start`` for each optimizer seed in ``seeds``; the excess loss at the ``record`` steps.

    Returns ``(record, excess)`` with ``excess`` of shape (len(seeds), len(record)).
    x ← x − ηₖ(∇E(x) + σξₖ), with ξₖ the k-th pair of normals of the stream the runner
    gives the optimizer seed s in a run seeded ``run_seed`` (``default_rng([run_seed, s])``).
    """
    record = record_steps(steps) if record is None else np.asarray(record, dtype=int)
    seeds = list(seeds)
    xi = np.stack([np.random.default_rng([run_seed, s]).standard_normal((steps, 2)) for s in seeds], 1)
    x = np.tile(np.asarray(start, dtype=float), (len(seeds), 1))
    f_star = float(surface.value(np.zeros(2)))
    eta = lr * schedule_factor(schedule, np.arange(1, steps + 1))
    out = np.empty((len(seeds), len(record)))
    j = 0
    with np.errstate(all="ignore"):  # a step far past 2/λ overflows; the caller sees inf or nan
        for k in range(1, steps + 1):
            x = x - eta[k - 1] * (surface.grad(x) + noise * xi[k - 1])
            if j < len(record) and k == record[j]:
                out[:, j] = surface.value(x) - f_star
                j += 1
    return record, out


def fit_slope(k, excess, k_min: int = FIT_FROM) -> tuple[float, float]:
    """Least-squares line log excess = log C + s log k over k ≥ k_min: returns (s, C)."""
    k = np.asarray(k, dtype=float)
    m = k >= k_min
    s, c = np.polyfit(np.log(k[m]), np.log(np.asarray(excess, dtype=float)[m]), 1)
    return float(s), float(np.exp(c))


@dataclass(frozen=True)
class Curve:
    label: str
    lr: float
    schedule: str
    steps: list[int]
    mean_excess: list[float]
    expected: list[float]
    slope: float
    slope_theory: float
    constant: float | None
    floor: float | None


def theory_slope(lr: float, schedule: str, mu: float) -> float:
    """The log-log slope theory predicts for large k: 0 (constant), −1 (η/k, 2ημ > 1), −2ημ (η/k, 2ημ < 1)."""
    if schedule == "constant":
        return 0.0
    return -min(1.0, 2 * lr * mu)


def experiment(bowl: dict = BOWL, noise: float = NOISE, start=START, runs=RUNS, steps: int = STEPS,
               seeds: int = SEEDS, fit_from: int = FIT_FROM) -> dict:
    """The lesson's figure: each run's excess loss averaged over ``seeds`` seeds, the exact expectation,
    the fitted and predicted slopes, and the numbers quoted beside it."""
    surface = make_surface("quadratic", **bowl)
    lam, _ = _eigen(surface)
    mu, big = float(lam[0]), float(lam[-1])
    curves = []
    for label, lr, schedule in runs:
        k, ex = simulate(surface, start, lr, schedule, noise, steps, range(seeds))
        mean = ex.mean(axis=0)
        exact = expected_excess(surface, start, lr, schedule, noise, steps)[k - 1]
        slope, _ = fit_slope(k, mean, fit_from)
        inverse = schedule == "inverse"
        constant = (0.5 * float(np.sum(lam * lr ** 2 * noise ** 2 / (2 * lr * lam - 1))))\
            if inverse and 2 * lr * mu > 1 else None
        floor = float(np.sum(lr * noise ** 2 / (2 * (2 - lr * lam)))) if not inverse else None
        curves.append(Curve(label, lr, schedule, k.tolist(), mean.tolist(), exact.tolist(), slope,
                            theory_slope(lr, schedule, mu), constant, floor))
    return {
        "bowl": dict(bowl), "noise": noise, "start": list(start), "steps": steps, "seeds": seeds,
        "fit_from": fit_from, "mu": mu, "L": big, "lr_threshold": 1 / (2 * mu),
        "curves": [c.__dict__ for c in curves],
    }

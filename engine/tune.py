"""Fair races: tune every optimizer's step size η (and momentum β) on the scene, and measure how forgiving it is.

The protocol, the same for every optimizer of a race:

* **Grid.** η on a log grid (``LR_PER_DECADE`` points a decade from ``LR_MIN`` to ``LR_MAX``); for an
  optimizer whose catalog entry declares a β (``capabilities.beta``: momentum, Nesterov, SGD) also β, with 1 − β on a log grid from 1 to 1 − ``BETA_MAX``
  (β = 0, 0.25, 0.44, …, 0.999: even steps in the "memory" 1/(1 − β)). Every other parameter is kept.
* **Runs.** Each setting runs from the start (or from every start of a ring around it) for at most
  ``steps`` steps, stopping once ‖∇f‖ < tol; a run diverged by ``engine.runner``'s rule (it left
  ``DIVERGENCE_FACTOR`` view radii, or overflowed).
* **Criterion.** The fewest steps to the tolerance (the median over the starts). A setting that
  diverges from any start is never chosen. If no setting reaches the tolerance within the budget,
  the lowest final loss (median over starts) instead.
* **Ties** (the same number of steps) go to the more robust setting: the one whose worst grid
  neighbour does best (the flattest spot), then the smaller η, then the smaller β.

Per optimizer it reports the sensitivity curve (the criterion against η at the chosen β), the
divergence edge (the smallest η above the chosen one that diverges), and its *forgiveness*: the
factor between the largest and smallest η of the unbroken stretch of the curve, around the chosen
point, within 2× of the best (1 = only the chosen grid point; 10 = a whole decade of η works).

Runs stop once they cannot matter. When the best setting so far has reached tol in m steps, a run
still going at step 2m cannot be within 2× of the best: every such run stops there (``stopped_at``;
its steps are None, "slower than that"). The answer is still the whole grid's, run to the budget: a
tie whose break depends on a stopped neighbour, a ring start whose divergence is not yet known, and the
runs above the chosen η that decide the divergence edge run on, anew, to the budget. On an expensive
surface (the random field's 128 cosines) that is ten times less work.

Everything runs on ``engine.sweep``'s grids: the compiled kernel where it covers the scene, one
array for all cells of an optimizer from one start.

>>> from engine.surfaces import make_surface
>>> bowl = make_surface("quadratic", lambda_1=1, lambda_2=10, rotation=0)
>>> r = tune(bowl, [("gd", {"lr": 0.01})], start=[1.0, 1.0], steps=300, tol=1e-6)
>>> t = r.optimizers[0]
>>> round(t.lr, 3), t.steps_to_tol, round(2 / (1 + 10), 3)   # 2/(λmin + λmax)
(0.178, 71, 0.182)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from engine import capabilities, theory
from engine.defaults import DEFAULT_TOL
from engine.optimizers import get_spec
from engine.params import ParamError
from engine.runner import OptimizerConfig, configure
from engine.grid_search import WITHIN, GridSearch, scores, within
from engine.surfaces.base import Surface

#: The step-size grid: log-spaced, this many points a decade, from LR_MIN to LR_MAX.
LR_MIN, LR_MAX, LR_PER_DECADE = 1e-4, 10.0, 8
#: The smallest η a grid may start at, and the most values a grid may have.
LR_FLOOR, MAX_GRID = 1e-8, 1000
#: The momentum grid: 1 − β log-spaced from 1 (β = 0) to 1 − BETA_MAX, this many points a decade.
BETA_MAX, BETA_PER_DECADE = 0.999, 8
#: The smallest β above 0 on the grid (see beta_grid).
SMALL_BETA = 0.01
#: Default tolerance on ‖∇f‖ (the page's scene's) and the ring's radius, as a fraction of the view's smaller side.
TOL, RING_RADIUS = DEFAULT_TOL, 0.1
#: The most starts (the learner's plus a ring).
MAX_RING = 16
CRITERION = ("fewest steps until ‖∇f‖ < tol (median over the starts); a setting that diverges from any start "
             "is never chosen; if none reaches tol within the budget, the lowest final loss; ties go to the "
             "setting whose worst grid neighbour does best, then to the smaller η and β")


def lr_grid(lr_min: float = LR_MIN, lr_max: float = LR_MAX, per_decade: int = LR_PER_DECADE) -> np.ndarray:
    """η = lr_min · 10^(k/per_decade), k = 0, 1, … up to lr_max (lr_max included when it falls on the grid),
    to three significant digits.

    >>> lr_grid(0.1, 10, 2).tolist()
    [0.1, 0.316, 1.0, 3.16, 10.0]
    """
    if not (LR_FLOOR <= lr_min <= lr_max and np.isfinite(lr_max)):
        raise ParamError("lr_min", lr_min, f"a number with {LR_FLOOR:g} ≤ lr_min ≤ lr_max = {lr_max!r}")
    if isinstance(per_decade, bool) or not isinstance(per_decade, (int, np.integer)) or not 1 <= per_decade <= 100:
        raise ParamError("lr_per_decade", per_decade, "an integer with 1 ≤ lr_per_decade ≤ 100")
    n = int(np.floor(np.log10(lr_max / lr_min) * per_decade + 1e-9)) + 1
    if n > MAX_GRID:
        raise ParamError("lr_per_decade", per_decade, f"at most {MAX_GRID} values of η in all: fewer per decade")
    return _round3(lr_min * 10.0 ** (np.arange(n) / per_decade))


def beta_grid(beta_max: float = BETA_MAX, per_decade: int = BETA_PER_DECADE) -> np.ndarray:
    """β = 1 − 10^(−k/per_decade), k = 0, 1, … while β ≤ beta_max: even steps in log(1 − β) (1 − β to three
    significant digits); and below the first of those, β log-spaced from ``SMALL_BETA``, half as densely:
    a nearly round bowl's β* is small (((√κ − 1)/(√κ + 1))² = 0.03 at κ = 2, 0.11 at κ = 4), where steps in
    log(1 − β) leave 0 to 1 − 10^(−1/per_decade) (0.25 by default) empty.

    >>> beta_grid(0.99, 2).tolist()
    [0.0, 0.01, 0.1, 0.684, 0.9, 0.9684, 0.99]
    >>> beta_grid()[:8].tolist()
    [0.0, 0.01, 0.0178, 0.0316, 0.0562, 0.1, 0.178, 0.25]
    """
    if not 0 <= beta_max < 1:
        raise ParamError("beta_max", beta_max, "a number with 0 ≤ beta_max < 1")
    if isinstance(per_decade, bool) or not isinstance(per_decade, (int, np.integer)) or not 1 <= per_decade <= 100:
        raise ParamError("beta_per_decade", per_decade, "an integer with 1 ≤ beta_per_decade ≤ 100")
    n = int(np.floor(-np.log10(1 - beta_max) * per_decade + 1e-9)) + 1
    near_one = [float(f"{1 - x:.12g}") for x in _round3(10.0 ** (-np.arange(n) / per_decade))]  # 0.438, not 0.43799…
    small_n = int(np.floor(-np.log10(SMALL_BETA) * max(1, per_decade // 2) + 1e-9))
    small = _round3(SMALL_BETA * 10.0 ** (np.arange(small_n) / max(1, per_decade // 2)))
    small = [float(b) for b in small if b < near_one[1]] if n > 1 else []
    return np.array(sorted({0.0, *small, *near_one}))


def _round3(v: np.ndarray) -> np.ndarray:
    """Three significant digits: grid values a learner can read, type and put in a link (0.0750, not 0.07499)."""
    return np.array([float(f"{x:.3g}") for x in v])


def ring_starts(start, n: int, radius: float) -> np.ndarray:
    """The start and ``n`` points on a circle of ``radius`` around it (the first one to its right).

    >>> ring_starts([1.0, 0.0], 4, 0.5).round(6).tolist()
    [[1.0, 0.0], [1.5, 0.0], [1.0, 0.5], [0.5, 0.0], [1.0, -0.5]]
    """
    start = np.asarray(start, dtype=float).reshape(2)
    theta = 2 * np.pi * np.arange(n) / max(n, 1)
    ring = start + radius * np.stack([np.cos(theta), np.sin(theta)], -1)
    return np.vstack([start[None], ring])


def beta_param(name: str) -> str | None:
    """The parameter tuned as β (declared on the optimizer's catalog entry), or None: η alone."""
    return get_spec(name).capabilities.beta


def has_momentum(name: str) -> bool:
    """Whether β is tuned too for this optimizer."""
    return beta_param(name) is not None


@dataclass
class Tuned:
    """One optimizer's tuning: the chosen setting, its sensitivity curve and map.

    Attributes:
      name, before: the optimizer and its parameters as given.
      params: the tuned parameters (``before`` with η and, where it has one, β replaced); ``before``
        again when every setting diverged (``criterion`` is then None).
      lr, beta: the chosen η and β (β None without momentum).
      criterion: ``"steps"`` (some setting reached tol), ``"loss"`` (none did: lowest final loss) or None.
      steps_to_tol: the chosen setting's steps to tol (median over the starts), None when it did not reach it.
      final_loss: its final loss (median over the starts).
      curve: against ``lrs`` at the chosen β: ``steps`` (median, None where not reached), ``final_loss``
        (median, None where diverged) and ``diverged`` (from any start).
      edge: the smallest η above the chosen one that diverges, None if none on the grid does.
      within: ``[lo, hi]``, the unbroken range of η around the chosen one within 2× of the best.
      forgiveness: hi / lo (1: only the chosen grid point).
      map: for optimizers with momentum, per cell [j, i] (β = betas[j], η = lrs[i]): ``steps``, ``final_loss``,
        ``diverged``, as the curve, and ``rate``, the analytic rate where theory has one (else None); else None.
      theory: on the quadratic, ``{"rate", "steps"}`` theory predicts at the tuned setting (see :func:`predictions`).
      stopped_at: the step at which runs still going were stopped, none of them able to come within
        ``WITHIN``× of the best any more (their steps show as None, "slower than that"); None when
        every run ran its course (the budget, tol or divergence).
    """

    name: str
    before: dict
    params: dict
    lr: float | None
    beta: float | None
    criterion: str | None
    steps_to_tol: int | None
    final_loss: float | None
    curve: dict
    edge: float | None
    within: list | None
    forgiveness: float | None
    map: dict | None = None
    theory: dict | None = None
    stopped_at: int | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name, "before": self.before, "params": self.params, "lr": self.lr, "beta": self.beta,
            "criterion": self.criterion, "steps_to_tol": self.steps_to_tol, "final_loss": self.final_loss,
            "curve": self.curve, "edge": self.edge, "within": self.within, "forgiveness": self.forgiveness,
            "map": self.map, "theory": self.theory, "stopped_at": self.stopped_at,
        }


@dataclass
class TuneResult:
    """Every optimizer's :class:`Tuned`, the protocol they were tuned by, and what theory predicts here."""

    protocol: dict
    optimizers: list[Tuned]
    theory: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"protocol": self.protocol, "optimizers": [t.to_dict() for t in self.optimizers], "theory": self.theory}


def _nullable(a: np.ndarray, bad: np.ndarray, cast=float) -> list:
    """``a`` as (nested) lists of Python numbers, None where ``bad`` or not finite (JSON has no NaN)."""
    a = np.asarray(a, dtype=float)
    bad = np.asarray(bad, dtype=bool) | ~np.isfinite(a)
    out = np.where(bad, 0, a).astype(np.int64 if cast is int else float).astype(object)
    out[bad] = None
    return out.tolist()


def tune_one(surface: Surface, cfg: OptimizerConfig, starts: np.ndarray, *, steps: int, tol: float, seed: int,
             lrs: np.ndarray, betas: np.ndarray, check: Callable[[], None] | None = None) -> Tuned:
    """Tune one optimizer (see the module's protocol); ``check()`` is called as it goes (a time cap may raise)."""
    beta_name = beta_param(cfg.name)
    momentum = beta_name is not None
    b = betas if momentum else None
    search = GridSearch(surface, cfg, lrs, b, starts, steps, tol, seed, check)
    out = search.outcomes()
    criterion, score = scores(out.steps, out.loss, out.diverged)
    picked = search.choose(score, out)
    if picked is not None:
        edge_at = search.edge(*picked, out)
    s_steps, s_loss, s_div = out.steps, out.loss, out.diverged
    med_steps = np.median(np.where(s_steps >= 0, s_steps, np.inf), axis=0)
    med_loss = np.median(np.where(np.isfinite(s_loss), s_loss, np.inf), axis=0)
    div = s_div.any(axis=0)
    j = picked[0] if picked else 0
    if momentum and picked is None:  # nothing works: show the curve at the given β's row, or the nearest
        j = int(np.argmin(np.abs(betas - cfg.params[beta_name])))
    curve = {"steps": _nullable(med_steps[j], ~np.isfinite(med_steps[j]) | div[j], int),
             "final_loss": _nullable(med_loss[j], div[j]), "diverged": div[j].tolist()}
    mp = None
    if momentum:
        mp = {"steps": _nullable(med_steps, ~np.isfinite(med_steps) | div, int), "final_loss": _nullable(med_loss, div),
              "diverged": div.tolist(), "rate": None}
        rate = capabilities.analytic_rate_map(surface, cfg.name, cfg.params, lrs, betas)
        if rate is not None:  # the analytic map beside the measured one (the quadratic)
            mp["rate"] = rate.tolist()
    if picked is None:
        return Tuned(cfg.name, dict(cfg.params), dict(cfg.params), None, None, None, None, None, curve, None, None,
                     None, mp, stopped_at=out.stopped_at)
    j, i = picked
    lr = float(lrs[i])
    beta = float(betas[j]) if momentum else None
    params = dict(cfg.params, lr=lr, **({beta_name: beta} if momentum else {}))
    lo, hi = within(score[j], i)
    reached = criterion == "steps"
    return Tuned(cfg.name, dict(cfg.params), configure(cfg.name, params).params, lr, beta, criterion,
                 int(med_steps[j, i]) if reached else None, float(med_loss[j, i]), curve,
                 None if edge_at is None else float(lrs[edge_at]), [float(lrs[lo]), float(lrs[hi])],
                 float(lrs[hi] / lrs[lo]), mp, stopped_at=out.stopped_at)


def tune(surface: Surface, optimizers: Sequence, start, *, steps: int, tol: float = TOL, seed: int = 0,
         ring: int = 0, ring_radius: float = RING_RADIUS, lrs=None, betas=None,
         check: Callable[[], None] | None = None) -> TuneResult:
    """Tune every optimizer of a race on ``surface`` from ``start``: the best η (and β) by the module's protocol.

    Args:
      surface: a Surface.
      optimizers: OptimizerConfig, ``(name, params)`` tuples or names; parameters other than η and β are kept.
      start: the learner's start ``[x, y]``.
      steps: the budget: most steps per run.
      tol: a run has reached the goal once ‖∇f‖ < tol.
      seed: seeds stochastic optimizers (the same seed gives the same answer).
      ring: 0 tunes from the start alone; n > 0 adds n starts on a circle around it and uses the median.
      ring_radius: the circle's radius as a fraction of the smaller side of the surface's view.
      lrs, betas: the grids (default :func:`lr_grid`, :func:`beta_grid`).
      check: called between slices of the grid's steps (a few at first, then a quarter of the steps so far); raise from it
        to stop (the web app's compute-time cap).

    Returns:
      A :class:`TuneResult`; on the quadratic each optimizer's ``theory`` holds the rate theory
      predicts at the tuned setting and the steps that predicts, and ``theory`` the formulas' η and β.
    """
    from engine.runner import _validated

    configs, start = _validated(surface, optimizers, start, steps, tol, seed)
    if not tol > 0:
        raise ParamError("tol", tol, "a finite number with tol > 0 (tuning counts the steps to it)")
    if steps < 1:
        raise ParamError("steps", steps, "an integer with steps ≥ 1")
    if isinstance(ring, bool) or not isinstance(ring, (int, np.integer)) or not 0 <= ring <= MAX_RING:
        raise ParamError("ring", ring, f"an integer with 0 ≤ ring ≤ {MAX_RING}")
    if not (isinstance(ring_radius, (int, float)) and 0 < ring_radius <= 1):
        raise ParamError("ring_radius", ring_radius, "a number with 0 < ring_radius ≤ 1 (a fraction of the view)")
    lrs = lr_grid() if lrs is None else np.atleast_1d(np.asarray(lrs, dtype=float))
    betas = beta_grid() if betas is None else np.atleast_1d(np.asarray(betas, dtype=float))
    x0, x1, y0, y1 = surface.view
    starts = ring_starts(start, ring, ring_radius * min(x1 - x0, y1 - y0))
    tuned = [tune_one(surface, c, starts, steps=steps, tol=tol, seed=seed, lrs=lrs, betas=betas, check=check)
             for c in configs]
    for t in tuned:
        t.theory = predictions(surface, t.name, t.params, start, tol, steps) if t.criterion else None
    protocol = {
        "lrs": lrs.tolist(), "betas": betas.tolist(), "steps": int(steps), "tol": float(tol), "seed": int(seed),
        "starts": starts.tolist(), "ring": int(ring), "ring_radius": float(ring_radius), "within": WITHIN,
        "criterion": CRITERION,
    }
    return TuneResult(protocol, tuned, local_theory(surface, start))


# --- what theory says ------------------------------------------------------------------------

def local_theory(surface: Surface, start) -> dict:
    """The formulas' step sizes: the quadratic's own, elsewhere those of the local quadratic model at the start.

    ``{"source": "quadratic" | "hessian at the start", "eigenvalues": […], and when both are positive
    the keys of ``theory.quadratic_theory`` (``gd_best_lr`` = 2/(λmin + λmax), ``momentum_best_lr`` = η*, …)}``.
    """
    if surface.NAME == "quadratic":
        return {"source": "quadratic", **_floats(theory.quadratic_theory(*surface.eigenvalues))}
    with np.errstate(all="ignore"):
        h = np.asarray(surface.hessian(np.asarray(start, dtype=float)), dtype=float)
    if not np.all(np.isfinite(h)):
        return {"source": "hessian at the start", "eigenvalues": None}
    lam = np.linalg.eigvalsh(h)
    out = {"source": "hessian at the start", "eigenvalues": lam.tolist()}
    if lam[0] > 0:
        out.update({k: v for k, v in _floats(theory.quadratic_theory(*lam)).items() if k != "eigenvalues"})
    return out


def _floats(d: dict) -> dict:
    """numpy scalars as Python floats (and lists of them), so the dict prints and compares plainly."""
    return {k: [float(x) for x in v] if isinstance(v, list) else float(v) for k, v in d.items()}


def predictions(surface: Surface, name: str, params: dict, start, tol: float, steps: int) -> dict | None:
    """On the quadratic: the rate theory predicts for these settings and the steps to ‖∇f‖ < tol it implies.

    ``rate`` is the asymptotic per-step contraction (``capabilities.predicted_rate``); ``steps`` comes from
    iterating the optimizer's linear recurrence along each eigenvector of A on its own (None if the
    tolerance is not reached within ``steps``).
    """
    rate = capabilities.predicted_rate(surface, name, params)
    if rate is None:
        return None
    k = capabilities.predicted_steps(surface, name, params, start, tol, steps)
    return {"rate": rate, "steps": k}

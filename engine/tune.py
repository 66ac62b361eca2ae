"""Fair races: tune every optimizer's step size η (and momentum β) on the scene, and measure how forgiving it is.

The protocol, the same for every optimizer of a race:

* **Grid.** η on a log grid (``LR_PER_DECADE`` points a decade from ``LR_MIN`` to ``LR_MAX``); for an
  optimizer whose catalog entry declares a β (``capabilities.beta``: momentum, Nesterov, SGD) also β, with 1 − β on a log grid from 1 to 1 − ``BETA_MAX``
  (β = 0, 0.25, 0.44, …, 0.999: even steps in the "memory" 1/(1 − β)). Every other parameter is kept.
* **Runs.** Each setting runs from the start (or from every start of a ring around it) for at most
  ``steps`` steps, stopping once ‖∇f‖ < tol; a run that leaves 10⁶ view radii or overflows diverged.
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

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from engine import capabilities, theory
from engine.defaults import DEFAULT_TOL
from engine.optimizers import get_spec
from engine.params import ParamError
from engine.runner import OptimizerConfig, configure
from engine.surfaces.base import Surface, check_shape
from engine.sweep import grid_stepper

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
#: Steps between calls of ``check`` within a sweep (a few tenths of a second at most on the numpy reference).
CHECK_EVERY = 50
#: "Forgiving" counts the settings within this factor of the best.
WITHIN = 2.0
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


# --- scoring -------------------------------------------------------------------------------

def _scores(steps: np.ndarray, loss: np.ndarray, diverged: np.ndarray) -> tuple[str | None, np.ndarray]:
    """The criterion and each cell's score (lower is better, inf = never chosen), from per-start arrays (S, …)."""
    div = diverged.any(axis=0)
    med_steps = np.median(np.where(steps >= 0, steps, np.inf), axis=0)
    with np.errstate(invalid="ignore"):
        med_loss = np.median(np.where(np.isfinite(loss), loss, np.inf), axis=0)
    reached = np.isfinite(med_steps) & ~div
    if reached.any():
        return "steps", np.where(reached, med_steps, np.inf)
    ok = ~div & np.isfinite(med_loss)
    if ok.any():
        return "loss", np.where(ok, med_loss, np.inf)
    return None, np.full(div.shape, np.inf)


def _worst_neighbour(score: np.ndarray) -> np.ndarray:
    """For each cell of a (B, L) score array, the largest score among its grid neighbours (±1 in each axis)."""
    padded = np.pad(score, 1, constant_values=-np.inf)
    B, L = score.shape
    worst = np.full(score.shape, -np.inf)
    for dj in (-1, 0, 1):
        for di in (-1, 0, 1):
            if dj or di:
                worst = np.maximum(worst, padded[1 + dj:1 + dj + B, 1 + di:1 + di + L])
    return worst


def choose(score: np.ndarray) -> tuple[int, int] | None:
    """The best cell (j, i) of a (B, L) score array: lowest score; ties → best worst neighbour, smaller η, smaller β.

    >>> choose(np.array([[5.0, 3.0, 3.0, 3.0, np.inf]]))
    (0, 2)
    """
    best = score.min()
    if not np.isfinite(best):
        return None
    tied = np.argwhere(score == best)
    worst = _worst_neighbour(score)
    # sort keys: worst neighbour, then η (column), then β (row)
    j, i = min(tied.tolist(), key=lambda c: (worst[c[0], c[1]], c[1], c[0]))
    return int(j), int(i)


def _within(score_row: np.ndarray, i: int, factor: float = WITHIN) -> tuple[int, int]:
    """The unbroken run of columns around ``i`` whose score is within ``factor`` of the score at ``i``."""
    limit = factor * score_row[i] if score_row[i] > 0 else 0.0
    lo = hi = i
    while lo > 0 and score_row[lo - 1] <= limit:
        lo -= 1
    while hi < len(score_row) - 1 and score_row[hi + 1] <= limit:
        hi += 1
    return lo, hi


def _nullable(a: np.ndarray, bad: np.ndarray, cast=float) -> list:
    """``a`` as (nested) lists of Python numbers, None where ``bad`` or not finite (JSON has no NaN)."""
    a = np.asarray(a, dtype=float)
    bad = np.asarray(bad, dtype=bool) | ~np.isfinite(a)
    out = np.where(bad, 0, a).astype(np.int64 if cast is int else float).astype(object)
    out[bad] = None
    return out.tolist()


# --- running the grid ---------------------------------------------------------------------

#: Steps of a grid's first slice; later slices grow with the steps taken (a quarter of them).
FIRST_SLICE = 4


@dataclass
class _Outcomes:
    """Per start (S, B, L): steps to tol (−1: not reached), final loss (NaN: diverged or stopped), diverged."""

    steps: np.ndarray
    loss: np.ndarray
    diverged: np.ndarray
    stopped_at: int | None = None


def _states(runs: "_Runs") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per start (S, B, L) from the runs' steppers: converged, diverged, the step each stopped at, the loss."""
    return tuple(np.stack([np.concatenate([f(g.stepper).reshape(g.shape) for g in parts], axis=runs.axis)
                           for parts in runs.parts])
                 for f in (lambda st: st.status == "converged", lambda st: st.status == "diverged",
                           lambda st: st.stop_step, lambda st: st.f))


def _settle_step(conv: np.ndarray, div: np.ndarray, stop: np.ndarray) -> float:
    """The step after which no cell still running can come within ``WITHIN``× of the best (inf: none yet).

    A cell is settled when every start has stopped; a settled cell that never diverged, with median
    steps m, has shown by step max(its last stop, ⌈WITHIN·m⌉) that any cell still running then needs
    more than WITHIN·m steps. The smallest such step over the cells.
    """
    settled = (conv | div).all(axis=0) & ~div.any(axis=0)
    if not settled.any():
        return np.inf
    med = np.median(np.where(conv, stop, np.inf), axis=0)[settled]
    return float(np.maximum(stop.max(axis=0)[settled], np.ceil(WITHIN * med)).min())


#: Threads that step a grid's parts at once (the kernel releases the GIL); 1 steps them in turn.
THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None
#: A slice that took longer than this (seconds) makes the next one step its parts on the threads;
#: below it, handing work to threads costs more than it saves.
PARALLEL_SLICE = 0.002
#: Grids of fewer cells stay whole: two parts cost twice the bookkeeping of one each slice.
SPLIT_CELLS = 256


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(THREADS, thread_name_prefix="tune")
    return _POOL


class _Runs:
    """One optimizer's grid from every start; a big grid's cells (``SPLIT_CELLS`` or more) in ``THREADS``
    parts (runs of β rows, or of η columns without β) that step on their own threads: cells never
    interact, so the parts take the steps the whole grid would."""

    def __init__(self, surface: Surface, cfg: OptimizerConfig, lrs, betas, starts, steps, tol, seed):
        base = {k: v for k, v in cfg.params.items() if k not in ("lr", beta_param(cfg.name))}
        self.axis = 0 if betas is not None and len(betas) > 1 else 1
        split = betas if self.axis == 0 else lrs
        parts = THREADS if len(lrs) * (1 if betas is None else len(betas)) >= SPLIT_CELLS else 1
        self.blocks = [b for b in np.array_split(np.arange(len(split)), parts) if b.size]
        self.parts = [[grid_stepper(surface, cfg.name, lrs if self.axis == 0 else lrs[b],
                                    betas[b] if self.axis == 0 else betas, start=x0, steps=steps, tol=tol,
                                    params=base, seed=seed) for b in self.blocks] for x0 in starts]

    @property
    def steppers(self) -> list:
        return [g.stepper for parts in self.parts for g in parts]

    def stop_columns_after(self, c: int) -> None:
        """Stop the cells of η columns after ``c`` (a grid of one β row)."""
        for parts in self.parts:
            for g, b in zip(parts, self.blocks if self.axis == 1 else [None] * len(parts)):
                g.stepper.active[(b if b is not None else np.arange(g.shape[1])) > c] = False


def _grids(surface: Surface, cfg: OptimizerConfig, lrs, betas, starts, steps, tol, seed) -> _Runs:
    return _Runs(surface, cfg, lrs, betas, starts, steps, tol, seed)


def _step_together(runs: _Runs, steps: int, check, until: Callable[[int], float] = lambda k: np.inf) -> int:
    """Step every part in slices (growing with the steps taken, the parts on their threads) until
    ``steps``, until no row is active, or until ``until(k)`` ≤ k after a slice; returns the steps taken."""
    k, limit, took = 0, steps, 0.0
    steppers = runs.steppers
    while k < limit and any(st.active.any() for st in steppers):
        n = min(limit - k, max(FIRST_SLICE, k // 4))
        busy = [st for st in steppers if st.active.any()]
        t0 = time.perf_counter()
        if len(busy) > 1 and THREADS > 1 and took > PARALLEL_SLICE:
            for f in [_pool().submit(st.advance, n, record=False) for st in busy]:
                f.result()
        else:
            for st in busy:
                st.advance(n, record=False)
        took = time.perf_counter() - t0
        k += n
        if check is not None:
            check()
        limit = min(limit, max(k, until(k)))
    return k


def _grid_runs(surface: Surface, cfg: OptimizerConfig, lrs, betas, starts, steps, tol, seed, check) -> _Outcomes:
    """Run the grid from every start, stopping every cell once none still running can be within
    ``WITHIN``× of the best (see :func:`_settle_step`); the outcomes are those at that step, whatever
    the slices. A cell whose median is known by then but one of whose starts is still running runs
    on to the budget (from every start, anew) to learn whether it diverges."""
    grids = _grids(surface, cfg, lrs, betas, starts, steps, tol, seed)
    _step_together(grids, steps, check, until=lambda k: _settle_step(*_states(grids)[:3]))
    conv, div, stop, loss = _states(grids)
    at = _settle_step(conv, div, stop)
    if not at < steps:  # nothing settled within the budget: every run ran its course
        return _Outcomes(np.where(conv, stop, -1), np.where(div, np.nan, loss), div)
    at = int(at)
    conv, div = conv & (stop <= at), div & (stop <= at)
    steps_to = np.where(conv, stop, -1)
    loss = np.where(conv, loss, np.nan)
    known = np.isfinite(np.median(np.where(conv, stop, np.inf), axis=0))
    running = known & ~(conv | div).all(axis=0) & ~div.any(axis=0)
    if running.any():
        div = div | _rerun(surface, cfg, lrs, betas, starts, steps, tol, seed, check, running)[1]
    return _Outcomes(steps_to, loss, div, at)


def _rerun(surface, cfg, lrs, betas, starts, steps, tol, seed, check, cells: np.ndarray):
    """The ``cells`` (a (B, L) mask) run anew from every start to the budget: per start (S, B, L), steps
    to tol (−1: not reached) and diverged; −1 and False outside the cells."""
    rows, cols = np.flatnonzero(cells.any(axis=1)), np.flatnonzero(cells.any(axis=0))
    sub = _grids(surface, cfg, lrs[cols], None if betas is None else betas[rows], starts, steps, tol, seed)
    _step_together(sub, steps, check)
    conv, div, stop, _ = _states(sub)
    steps_to = np.full((len(starts),) + cells.shape, -1)
    diverged = np.zeros(steps_to.shape, dtype=bool)
    steps_to[np.ix_(range(len(starts)), rows, cols)] = np.where(conv, stop, -1)
    diverged[np.ix_(range(len(starts)), rows, cols)] = div
    return np.where(cells, steps_to, -1), diverged & cells


def _choose_exactly(score: np.ndarray, out: _Outcomes, rerun) -> tuple[int, int] | None:
    """:func:`choose` as on the whole grid run to the budget, from the outcomes of runs stopped early.

    Only a tie can tell: the tie-break looks at the tied cells' worst neighbours, and a neighbour stopped
    early scores inf here though it may reach tol later. A tied cell with no such neighbour scores at most
    the stopping step, less than any cell stopped early, so it wins as it would on the whole grid; when
    every tied cell has one, the neighbours stopped early (of tied cells with no diverged neighbour, which
    lose anyway) run anew to the budget.
    """
    picked = choose(score)
    if picked is None or out.stopped_at is None:
        return picked
    tied = score == score.min()
    worst = _worst_neighbour(score)
    if np.isfinite(worst[tied]).any():
        return picked
    div = out.diverged.any(axis=0)
    stopped = ~np.isfinite(score) & ~div
    near = lambda mask: _worst_neighbour(np.where(mask, 1.0, 0.0)) > 0  # noqa: E731  cells beside one in mask
    open_ = tied & ~near(div)
    if not open_.any():
        return picked
    cells = stopped & near(open_)
    steps_to, diverged = rerun(cells)
    exact = score.copy()
    med = np.median(np.where(steps_to >= 0, steps_to, np.inf), axis=0)
    exact[cells] = np.where(diverged.any(axis=0) | ~np.isfinite(med), np.inf, med)[cells]
    return _pick_among(exact, open_, tied)


def _pick_among(exact: np.ndarray, candidates: np.ndarray, tied: np.ndarray) -> tuple[int, int]:
    """The tie-break of :func:`choose` with worst neighbours from ``exact``: ``candidates`` by their worst
    neighbour, η, β; the other tied cells (a diverged neighbour) count as inf."""
    worst = np.where(candidates, _worst_neighbour(exact), np.inf)
    j, i = min(np.argwhere(tied).tolist(), key=lambda c: (worst[c[0], c[1]], c[1], c[0]))
    return int(j), int(i)


def _edge(surface, cfg, lrs, betas, starts, steps, tol, seed, check, j: int, i: int, out: _Outcomes) -> int | None:
    """The index of the smallest η above ``lrs[i]`` (at β = ``betas[j]``) that diverges from some start within
    ``steps``: runs stopped early whose divergence is not yet known run on (anew), the cells above the
    smallest known divergence dropped as they become moot."""
    div = out.diverged.any(axis=0)[j]
    above = np.flatnonzero(div[i + 1:]) + i + 1
    first = int(above[0]) if above.size else len(lrs)
    if out.stopped_at is None:
        return first if above.size else None
    done = (out.steps[:, j] >= 0).all(axis=0)  # reached tol from every start: never diverges
    open_ = [c for c in range(i + 1, first) if not done[c]]
    if open_:
        sub = _grids(surface, cfg, lrs[open_], None if betas is None else betas[j:j + 1], starts, steps, tol, seed)

        def moot(k):  # columns above the first divergence seen cannot be the edge: stop them
            d = _states(sub)[1].any(axis=0)[0]
            if d.any():
                sub.stop_columns_after(int(np.argmax(d)))
            return np.inf

        _step_together(sub, steps, check, until=moot)
        d = _states(sub)[1].any(axis=0)[0]
        if d.any():
            first = open_[int(np.argmax(d))]
            out.diverged[:, j, first] = True
    return first if first < len(lrs) else None


def tune_one(surface: Surface, cfg: OptimizerConfig, starts: np.ndarray, *, steps: int, tol: float, seed: int,
             lrs: np.ndarray, betas: np.ndarray, check: Callable[[], None] | None = None) -> Tuned:
    """Tune one optimizer (see the module's protocol); ``check()`` is called as it goes (a time cap may raise)."""
    beta_name = beta_param(cfg.name)
    momentum = beta_name is not None
    b = betas if momentum else None
    out = _grid_runs(surface, cfg, lrs, b, starts, steps, tol, seed, check)
    criterion, score = _scores(out.steps, out.loss, out.diverged)
    picked = _choose_exactly(score, out, lambda cells: _rerun(surface, cfg, lrs, b, starts, steps, tol, seed, check,
                                                             cells))
    if picked is not None:
        edge = _edge(surface, cfg, lrs, b, starts, steps, tol, seed, check, *picked, out)
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
    lo, hi = _within(score[j], i)
    reached = criterion == "steps"
    return Tuned(cfg.name, dict(cfg.params), configure(cfg.name, params).params, lr, beta, criterion,
                 int(med_steps[j, i]) if reached else None, float(med_loss[j, i]), curve,
                 None if edge is None else float(lrs[edge]), [float(lrs[lo]), float(lrs[hi])],
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
      check: called between sweeps and every ``CHECK_EVERY`` steps within one; raise from it
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

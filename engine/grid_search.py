"""Searching a tuning's grid (see ``engine.tune``): scores, the choice, and runs stopped once they cannot matter.

Every optimizer's grid runs from every start in growing slices. After the best setting so far has
reached tol in m steps, no run still going at step 2m can be within 2× of it, so all of them stop
there; a tie broken by a stopped neighbour, a ring start whose divergence is unknown and the runs
above the chosen η that decide the divergence edge run on, anew, to the budget. The answer is the
whole grid's (``tests/engine/test_tune.py`` compares them).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np

from engine.runner import OptimizerConfig
from engine.surfaces.base import Surface
from engine.sweep import grid_stepper

#: "Forgiving" counts the settings within this factor of the best; runs stop once they cannot be within it.
WITHIN = 2.0


# --- scoring -------------------------------------------------------------------------------

def scores(steps: np.ndarray, loss: np.ndarray, diverged: np.ndarray) -> tuple[str | None, np.ndarray]:
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
    return _tie_break(score == best, _worst_neighbour(score))


def _tie_break(tied: np.ndarray, worst: np.ndarray) -> tuple[int, int]:
    """Among the ``tied`` cells (a mask), the one whose worst neighbour (``worst``) does best, then the
    smaller η (column), then the smaller β (row)."""
    j, i = min(np.argwhere(tied).tolist(), key=lambda c: (worst[c[0], c[1]], c[1], c[0]))
    return int(j), int(i)


def within(score_row: np.ndarray, i: int, factor: float = WITHIN) -> tuple[int, int]:
    """The unbroken run of columns around ``i`` whose score is within ``factor`` of the score at ``i``."""
    limit = factor * score_row[i] if score_row[i] > 0 else 0.0
    lo = hi = i
    while lo > 0 and score_row[lo - 1] <= limit:
        lo -= 1
    while hi < len(score_row) - 1 and score_row[hi + 1] <= limit:
        hi += 1
    return lo, hi


# --- running the grid ---------------------------------------------------------------------

#: Steps of a grid's first slice; later slices grow with the steps taken (a quarter of them).
FIRST_SLICE = 4


@dataclass
class Outcomes:
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


_POOL_LOCK = threading.Lock()  # requests on the server's threads may each want the pool first


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(THREADS, thread_name_prefix="tune")
    return _POOL


class _Runs:
    """One optimizer's grid from every start; a big grid's cells (``SPLIT_CELLS`` or more) in ``THREADS``
    parts (runs of β rows, or of η columns without β) that step on their own threads: cells never
    interact, so the parts take the steps the whole grid would."""

    def __init__(self, surface: Surface, cfg: OptimizerConfig, lrs, betas, starts, steps, tol, seed):
        self.axis = 0 if betas is not None and len(betas) > 1 else 1
        split = betas if self.axis == 0 else lrs
        parts = THREADS if len(lrs) * (1 if betas is None else len(betas)) >= SPLIT_CELLS else 1
        self.blocks = [b for b in np.array_split(np.arange(len(split)), parts) if b.size]
        self.parts = [[grid_stepper(surface, cfg.name, lrs if self.axis == 0 else lrs[b],
                                    betas[b] if self.axis == 0 else betas, start=x0, steps=steps, tol=tol,
                                    params=cfg.params, seed=seed) for b in self.blocks] for x0 in starts]

    @property
    def steppers(self) -> list:
        return [g.stepper for parts in self.parts for g in parts]

    def stop_columns_after(self, c: int) -> None:
        """Stop the cells of η columns after ``c`` (a grid of one β row: its parts are runs of columns)."""
        for parts in self.parts:
            for g, columns in zip(parts, self.blocks):
                g.stepper.active[columns > c] = False


def _step_together(runs: _Runs, steps: int, check, until: Callable[[int], float] = lambda k: np.inf) -> int:
    """Step every part in slices (growing with the steps taken, the parts on their threads) until
    ``steps``, until no row is active, or until ``until(k)`` ≤ k after a slice; returns the steps taken."""
    k, limit, took = 0, steps, 0.0
    steppers = runs.steppers
    while k < limit and any(st.active.any() for st in steppers):
        n = min(limit - k, max(FIRST_SLICE, k // 4))
        busy = [st for st in steppers if st.active.any()]
        values = k + n >= steps  # a loss is read only where a run stopped: by tol, divergence or the budget
        t0 = time.perf_counter()
        if len(busy) > 1 and THREADS > 1 and took > PARALLEL_SLICE:
            for f in [_pool().submit(st.advance, n, record=False, values=values) for st in busy]:
                f.result()
        else:
            for st in busy:
                st.advance(n, record=False, values=values)
        took = time.perf_counter() - t0
        k += n
        if check is not None:
            check()
        limit = min(limit, max(k, until(k)))
    return k


@dataclass
class GridSearch:
    """One optimizer's grid on a scene, and everything its runs share: η values, β values (None: η
    alone), the starts, the budget of steps, tol, the seed, and ``check`` (called between slices)."""

    surface: Surface
    cfg: OptimizerConfig
    lrs: np.ndarray
    betas: np.ndarray | None
    starts: np.ndarray
    steps: int
    tol: float
    seed: int
    check: Callable[[], None] | None = None

    def _runs(self, lrs, betas) -> _Runs:
        return _Runs(self.surface, self.cfg, lrs, betas, self.starts, self.steps, self.tol, self.seed)

    def outcomes(self) -> Outcomes:
        """Run the grid from every start, stopping every cell once none still running can be within
        ``WITHIN``× of the best (see :func:`_settle_step`); the outcomes are those at that step, whatever
        the slices. A cell whose median is known by then but one of whose starts is still running runs
        on to the budget (from every start, anew) to learn whether it diverges."""
        grids = self._runs(self.lrs, self.betas)
        _step_together(grids, self.steps, self.check, until=lambda k: _settle_step(*_states(grids)[:3]))
        conv, div, stop, loss = _states(grids)
        at = _settle_step(conv, div, stop)
        if not at < self.steps:  # nothing settled within the budget: every run ran its course
            return Outcomes(np.where(conv, stop, -1), np.where(div, np.nan, loss), div)
        at = int(at)
        conv, div = conv & (stop <= at), div & (stop <= at)
        steps_to = np.where(conv, stop, -1)
        loss = np.where(conv, loss, np.nan)
        known = np.isfinite(np.median(np.where(conv, stop, np.inf), axis=0))
        running = known & ~(conv | div).all(axis=0) & ~div.any(axis=0)
        cut = not (conv | div).all()  # some run was still going at that step: say where they stopped
        if running.any():
            div = div | self.rerun(running)[1]
        return Outcomes(steps_to, loss, div, at if cut else None)

    def rerun(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ``cells`` (a (B, L) mask) run anew from every start to the budget: per start (S, B, L), steps
        to tol (−1: not reached) and diverged; −1 and False outside the cells."""
        steps_to = np.full((len(self.starts),) + cells.shape, -1)
        diverged = np.zeros(steps_to.shape, dtype=bool)
        if not cells.any():
            return steps_to, diverged
        rows, cols = np.flatnonzero(cells.any(axis=1)), np.flatnonzero(cells.any(axis=0))
        sub = self._runs(self.lrs[cols], None if self.betas is None else self.betas[rows])
        _step_together(sub, self.steps, self.check)
        conv, div, stop, _ = _states(sub)
        every = np.ix_(range(len(self.starts)), rows, cols)
        steps_to[every] = np.where(conv, stop, -1)
        diverged[every] = div
        return np.where(cells, steps_to, -1), diverged & cells

    def choose(self, score: np.ndarray, out: Outcomes) -> tuple[int, int] | None:
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
        if (_worst_neighbour(score)[tied] < np.inf).any():  # no stopped or diverged neighbour (or none): it wins
            return picked
        div = out.diverged.any(axis=0)
        stopped = ~np.isfinite(score) & ~div
        near = lambda mask: _worst_neighbour(np.where(mask, 1.0, 0.0)) > 0  # noqa: E731  cells beside one in mask
        open_ = tied & ~near(div)
        if not open_.any():
            return picked
        cells = stopped & near(open_)
        steps_to, diverged = self.rerun(cells)
        exact = score.copy()
        med = np.median(np.where(steps_to >= 0, steps_to, np.inf), axis=0)
        exact[cells] = np.where(diverged.any(axis=0) | ~np.isfinite(med), np.inf, med)[cells]
        # the tied cells with a diverged neighbour count as inf, as on the whole grid
        return _tie_break(tied, np.where(open_, _worst_neighbour(exact), np.inf))

    def edge(self, j: int, i: int, out: Outcomes) -> int | None:
        """The index of the smallest η above ``lrs[i]`` (at β = ``betas[j]``) that diverges from some start
        within the budget: runs stopped early whose divergence is not yet known run on (anew), the cells
        above the smallest known divergence dropped as they become moot. Marks it diverged in ``out``."""
        div = out.diverged.any(axis=0)[j]
        above = np.flatnonzero(div[i + 1:]) + i + 1
        first = int(above[0]) if above.size else len(self.lrs)
        if out.stopped_at is None:
            return first if above.size else None
        done = (out.steps[:, j] >= 0).all(axis=0)  # reached tol from every start: never diverges
        open_ = [c for c in range(i + 1, first) if not done[c]]
        if open_:
            sub = self._runs(self.lrs[open_], None if self.betas is None else self.betas[j:j + 1])

            def moot(k):  # columns above the first divergence seen cannot be the edge: stop them
                d = _states(sub)[1].any(axis=0)[0]
                if d.any():
                    sub.stop_columns_after(int(np.argmax(d)))
                return np.inf

            _step_together(sub, self.steps, self.check, until=moot)
            d = _states(sub)[1].any(axis=0)[0]
            if d.any():
                first = open_[int(np.argmax(d))]
                out.diverged[:, j, first] = True
        return first if first < len(self.lrs) else None

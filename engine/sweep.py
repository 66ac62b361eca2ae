"""Vectorized sweeps over (η, β) grids: the empirical twin of the analytic rate map."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from engine import accel
from engine.optimizers import OPTIMIZERS, get_spec
from engine.params import ParamError
from engine.runner import DIVERGED, OptimizerConfig, Stepper, _validated
from engine.surfaces.base import Surface

MAX_CELLS = 250_000


@dataclass(eq=False)
class SweepResult:
    """Per cell ``[j, i]`` (β = betas[j], η = lrs[i]): final loss, steps to ‖g‖ < tol (−1 if never), diverged."""

    lrs: np.ndarray
    betas: np.ndarray | None
    final_loss: np.ndarray
    steps_to_tol: np.ndarray
    diverged: np.ndarray

    def __eq__(self, other) -> bool:
        """Cell for cell the same grid and outcomes (NaN losses equal where both are NaN)."""
        if not isinstance(other, SweepResult):
            return NotImplemented
        same = lambda a, b: (a is None and b is None) or (a is not None and b is not None and  # noqa: E731
                                                         np.array_equal(a, b, equal_nan=True))
        return all(same(getattr(self, k), getattr(other, k))
                   for k in ("lrs", "betas", "final_loss", "steps_to_tol", "diverged"))

    def to_dict(self) -> dict:
        loss = np.where(self.diverged | ~np.isfinite(self.final_loss), np.nan, self.final_loss)
        return {
            "lrs": self.lrs.tolist(),
            "betas": None if self.betas is None else self.betas.tolist(),
            "final_loss": [[None if np.isnan(v) else float(v) for v in row] for row in np.atleast_2d(loss)],
            "steps_to_tol": np.atleast_2d(self.steps_to_tol).tolist(),
            "diverged": np.atleast_2d(self.diverged).tolist(),
        }


def sweep(surface: Surface, optimizer: str, lrs, betas=None, *, start, steps: int, tol: float = 1e-6,
          params: dict | None = None, seed: int = 0, check=None, check_every: int = 0) -> SweepResult:
    """Run ``optimizer`` for every step size in ``lrs`` (and momentum in ``betas``) at once.

    Every cell starts at ``start`` and takes up to ``steps`` steps; one array holds all
    cells, so a 100 × 100 grid costs about as many numpy calls as a single run.

    ``check``, if given, is called every ``check_every`` steps (a caller's deadline: it may
    raise to stop the sweep); the steps are the same as in one go.

    >>> from engine.surfaces import make_surface
    >>> bowl = make_surface("quadratic", lambda_1=1, lambda_2=1, rotation=0)
    >>> r = sweep(bowl, "gd", lrs=[0.5, 1.0, 2.5], start=[1, 1], steps=50)
    >>> r.diverged.tolist(), r.steps_to_tol.tolist()
    ([[False, False, True]], [[21, 1, -1]])
    """
    grid = grid_stepper(surface, optimizer, lrs, betas, start=start, steps=steps, tol=tol, params=params, seed=seed)
    st = grid.stepper
    if check is None or check_every <= 0:
        st.advance(steps, record=False)
    else:
        while st.k < steps and st.active.any():
            st.advance(min(check_every, steps - st.k), record=False)
            check()
    return grid.result()


@dataclass(eq=False)
class Grid:
    """The cells of an (η, β) grid as rows of one :class:`Stepper`, not yet stepped (see :func:`grid_stepper`)."""

    stepper: Stepper
    lrs: np.ndarray
    betas: np.ndarray | None
    shape: tuple

    def result(self) -> SweepResult:
        """The cells' outcomes so far: final loss, steps to tol (−1 if not reached), diverged."""
        st = self.stepper
        steps_to = np.where(st.status == "converged", st.stop_step, -1).astype(int)
        return SweepResult(self.lrs, self.betas, st.f.reshape(self.shape).copy(), steps_to.reshape(self.shape),
                           (st.status == DIVERGED).reshape(self.shape))


def grid_stepper(surface: Surface, optimizer: str, lrs, betas=None, *, start, steps: int, tol: float = 1e-6,
                 params: dict | None = None, seed: int = 0) -> Grid:
    """The validated grid of :func:`sweep` as a :class:`Grid`, for a caller that steps it its own way
    (``engine.tune`` stops the cells once they can no longer matter). The arguments are ``sweep``'s."""
    spec = get_spec(optimizer)
    lrs = np.atleast_1d(np.asarray(lrs, dtype=float))
    if lrs.size == 0:
        raise ParamError("lrs", [], "at least one step size")
    beta_name = spec.capabilities.beta  # the β axis of an (η, β) map, declared on the catalog entry
    swept = ("lr",) if betas is None else ("lr", beta_name)  # the grid's axes override params
    base = spec.resolve({k: v for k, v in (params or {}).items() if k not in swept})
    lr_param = next(p for p in spec.params if p.name == "lr")
    for v in (lrs.min(), lrs.max()):
        lr_param.validate(float(v), optimizer)
    if betas is not None:
        beta_param = next((p for p in spec.params if p.name == beta_name), None)
        if beta_param is None:
            names = [n for n, o in OPTIMIZERS.items() if o.capabilities.beta]  # declared on the catalog entries
            with_beta = ", ".join(names[:-1]) + " or " + names[-1]
            raise ParamError("betas", "given", f"{optimizer} has no momentum; sweep η alone or use {with_beta}")
        betas = np.atleast_1d(np.asarray(betas, dtype=float))
        if betas.size == 0:
            raise ParamError("betas", [], "at least one momentum, or None to sweep η alone")
        for v in (betas.min(), betas.max()):
            beta_param.validate(float(v), optimizer)
    nb = 1 if betas is None else len(betas)
    if lrs.size * nb > MAX_CELLS:
        raise ParamError("cells", lrs.size * nb, f"at most {MAX_CELLS} (len(lrs) × len(betas))")
    lr_grid, beta_grid = np.meshgrid(lrs, betas if betas is not None else [0.0])
    _, start = _validated(surface, [OptimizerConfig(optimizer, dict(base, lr=float(lrs[0])))], start, steps, tol, seed)
    # On the compiled path the grid's parameters go straight into the kernel's table.
    plan = accel.plan_grid(surface, optimizer, base, lr_grid.ravel(), None if betas is None else beta_grid.ravel())
    if plan is not None:
        st = Stepper(surface, None, np.tile(start, (lr_grid.size, 1)), tol=tol, seed=seed, plan=plan)
    else:
        configs = []
        for lr, beta in zip(lr_grid.ravel(), beta_grid.ravel()):
            p = dict(base, lr=float(lr))
            if betas is not None:
                p[beta_name] = float(beta)
            configs.append(OptimizerConfig(optimizer, p))
        st = Stepper(surface, configs, np.tile(start, (len(configs), 1)), tol=tol, seed=seed)
    return Grid(st, lrs, betas, lr_grid.shape)


#: A slice of a sliced sweep grows (doubles) while it takes less than this, so cheap sweeps stay
#: a few big vectorized calls while an expensive one reports (and can be stopped) often.
SLICE_SECONDS = 0.25
#: Cell-steps between ``check`` calls inside a slice (~0.1 s on the numpy reference, ~2 ms compiled).
CHECK_WORK = 100_000


def sweep_in_slices(surface: Surface, optimizer: str, lrs, betas=None, *,
                    progress: Callable[[int, int], None] | None = None, check: Callable[[], None] | None = None,
                    **kwargs) -> SweepResult:
    """:func:`sweep` over slices of the grid, reporting between slices; cell for cell the same result.

    Slices are runs of β rows (of η columns without a β axis), growing while each takes less than
    ``SLICE_SECONDS``. ``progress(cells_done, cells)`` is called before each slice and once at the
    end; ``check()`` also every ``CHECK_WORK`` cell-steps inside a slice (one cell can take seconds).
    Either may raise to stop. Cells never interact and stochastic optimizers seed each cell on its
    own, so the slices give the numbers of one call.

    >>> from engine.surfaces import make_surface
    >>> bowl = make_surface("quadratic", lambda_1=1, lambda_2=3, rotation=0)
    >>> seen = []
    >>> r = sweep_in_slices(bowl, "momentum", [0.1, 0.3], [0.0, 0.5, 0.9], start=[1, 1], steps=40,
    ...                     progress=lambda done, cells: seen.append(done))
    >>> seen[0], seen[-1], r.steps_to_tol.shape
    (0, 6, (3, 2))
    >>> r == sweep(bowl, "momentum", [0.1, 0.3], [0.0, 0.5, 0.9], start=[1, 1], steps=40)
    True
    """
    lrs = np.atleast_1d(np.asarray(lrs, dtype=float))
    betas = None if betas is None else np.atleast_1d(np.asarray(betas, dtype=float))
    axis, values = (0, betas) if betas is not None else (1, lrs)
    per_value = len(lrs) if axis == 0 else 1
    cells = len(values) * per_value
    parts, i, size = [], 0, 1
    while i < len(values):
        if progress is not None:
            progress(i * per_value, cells)
        t0 = time.monotonic()
        piece = values[i:i + size]
        inner = {} if check is None else dict(check=check, check_every=max(1, CHECK_WORK // (len(piece) * per_value)))
        parts.append(sweep(surface, optimizer, lrs, piece, **kwargs, **inner) if axis == 0
                     else sweep(surface, optimizer, piece, None, **kwargs, **inner))
        i += len(piece)
        if time.monotonic() - t0 < SLICE_SECONDS:
            size *= 2
    if progress is not None:
        progress(cells, cells)
    if len(parts) == 1:
        return parts[0]
    return SweepResult(lrs, betas, *(np.concatenate([getattr(r, k) for r in parts], axis=axis)
                                     for k in ("final_loss", "steps_to_tol", "diverged")))

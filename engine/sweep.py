"""Vectorized sweeps over (η, β) grids: the empirical twin of the analytic rate map."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import accel
from engine.optimizers import OPTIMIZERS, get_spec
from engine.params import ParamError
from engine.runner import DIVERGED, OptimizerConfig, Stepper, _validated
from engine.surfaces.base import Surface

MAX_CELLS = 250_000


@dataclass
class SweepResult:
    """Per cell ``[j, i]`` (β = betas[j], η = lrs[i]): final loss, steps to ‖g‖ < tol (−1 if never), diverged."""

    lrs: np.ndarray
    betas: np.ndarray | None
    final_loss: np.ndarray
    steps_to_tol: np.ndarray
    diverged: np.ndarray

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
    if check is None or check_every <= 0:
        st.advance(steps, record=False)
    else:
        while st.k < steps and st.active.any():
            st.advance(min(check_every, steps - st.k), record=False)
            check()
    shape = lr_grid.shape
    steps_to = np.where(st.status == "converged", st.stop_step, -1).astype(int)
    return SweepResult(lrs, betas, st.f.reshape(shape).copy(), steps_to.reshape(shape),
                       (st.status == DIVERGED).reshape(shape))

"""(η, β) maps from Python: the batched sweep engine on a scene's surface and start."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

import engine
from engine import capabilities
from engine import theory as _theory
from engine.params import ParamError



if TYPE_CHECKING:
    from losslab.scene import Scene


# --- (η, β) maps ----------------------------------------------------------------

@dataclass(eq=False)
class SweepMap:
    """An (η, β) map: per cell ``[j, i]`` (β = ``betas[j]``, η = ``lrs[i]``) the final loss, the
    steps until ‖∇f‖ < tol (−1 if never) and whether the run diverged.

    ``rate`` is the analytic heavy-ball rate per cell (``engine.theory.rate_map``) for GD and
    momentum with a constant step on the quadratic, else None. Without a β axis (an
    optimizer without momentum) ``betas`` is None and every array has one row.
    """

    scene: Scene
    optimizer: str
    params: dict
    lrs: np.ndarray
    betas: np.ndarray | None
    final_loss: np.ndarray
    steps_to_tol: np.ndarray
    diverged: np.ndarray
    rate: np.ndarray | None
    steps: int
    tol: float
    theory: dict | None = field(default=None)

    @property
    def best(self) -> dict | None:
        """The cell that reached the tolerance in the fewest steps: ``{lr, beta, steps}`` (None if none did)."""
        ok = self.steps_to_tol >= 0
        if not ok.any():
            return None
        s = np.where(ok, self.steps_to_tol, np.iinfo(np.int64).max)
        j, i = np.unravel_index(np.argmin(s), s.shape)
        return {"lr": float(self.lrs[i]), "beta": None if self.betas is None else float(self.betas[j]),
                "steps": int(self.steps_to_tol[j, i])}

    def to_rows(self) -> list[dict]:
        """One dict per cell: ``lr, beta, final_loss, steps_to_tol, diverged, rate``."""
        rows = []
        for j in range(self.final_loss.shape[0]):
            for i, lr in enumerate(self.lrs):
                loss = float(self.final_loss[j, i])
                rows.append({"lr": float(lr), "beta": None if self.betas is None else float(self.betas[j]),
                             "final_loss": loss if math.isfinite(loss) and not self.diverged[j, i] else None,
                             "steps_to_tol": int(self.steps_to_tol[j, i]), "diverged": bool(self.diverged[j, i]),
                             "rate": None if self.rate is None else float(self.rate[j, i])})
        return rows

    def figure(self, metric: str = "steps", **kwargs):
        """A heatmap of ``"steps"`` (to the tolerance) or ``"loss"`` (log₁₀ final loss), beside the analytic rate."""
        from losslab import figures

        return figures.sweep_map(self, metric=metric, **kwargs)

    def __repr__(self) -> str:
        shape = f"{len(self.lrs)} η" + ("" if self.betas is None else f" × {len(self.betas)} β")
        conv = int((self.steps_to_tol >= 0).sum())
        div = int(self.diverged.sum())
        best = self.best
        tail = "none reached the tolerance" if best is None else (
            f"fastest: η = {best['lr']:.4g}" + ("" if best["beta"] is None else f", β = {best['beta']:.4g}")
            + f" in {best['steps']} steps")
        return (f"SweepMap({self.optimizer} on {self.scene.surface}: {shape}, {self.steps} steps, tol {self.tol:g}; "
                f"{conv} converged, {div} diverged; {tail})")


def default_lrs(scene: Scene, optimizer: str, n: int = 50) -> np.ndarray:
    """Step sizes for a map: on the quadratic 0.05/λmax … 4/λmax (the heavy ball is stable up to
    2(1 + β)/λmax), elsewhere 10⁻³ … 1; log-spaced, within the optimizer's range."""
    lr = next(p for p in engine.get_spec(optimizer).params if p.name == "lr")
    if scene.surface == "quadratic":
        lmax = max(scene.surface_params["lambda_1"], scene.surface_params["lambda_2"])
        lo, hi = 0.05 / lmax, 4.0 / lmax
    else:
        lo, hi = 1e-3, 1.0
    return np.geomspace(max(lo, 1e-12), min(hi, lr.high), n)


class _ProgressBar:
    """``[######······] 600/2500 cells  3.1 s`` on stderr, redrawn in place."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.t0 = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        filled = int(self.width * done / max(total, 1))
        bar = "#" * filled + "·" * (self.width - filled)
        end = "\n" if done >= total else ""
        self.stream.write(f"\r[{bar}] {done}/{total} cells  {time.monotonic() - self.t0:.1f} s{end}")
        self.stream.flush()


def sweep(scene: "Scene", optimizer: str = "momentum", *, lrs=None, betas="auto",
          steps: int = 200, tol: float = 1e-6, seed: int | None = None, params: dict | None = None,
          progress: bool | Callable[[int, int], None] = False) -> SweepMap:
    """Run ``optimizer`` from the scene's start for every step size η in ``lrs`` and momentum β in ``betas``.

    Args:
      scene: a :class:`Scene` (its surface, start and seed are used) or a surface name.
      optimizer: ``momentum`` by default; any optimizer works, with a β axis only for
        ``momentum``, ``nesterov`` and ``sgd``.
      lrs: step sizes (default :func:`default_lrs`, 50 of them).
      betas: momenta; ``"auto"`` gives 50 from 0 to 0.99 when the optimizer has momentum,
        None sweeps η alone.
      steps, tol: each cell runs until ‖∇f‖ < tol or for ``steps`` steps.
      params: the optimizer's other parameters (e.g. ``{"schedule": "inverse"}``).
      progress: True draws a progress bar on stderr; a callable gets ``(cells_done, cells)``.
        Both are called between slices of β rows (cell for cell the same numbers as one sweep).

    >>> from losslab.scene import Scene
    >>> bowl = Scene("quadratic", lambda_1=1, lambda_2=10, rotation=0).start(-2, -0.5)
    >>> m = sweep(bowl, "momentum", lrs=[0.1, 0.25], betas=[0.0, 0.5])
    >>> m.steps_to_tol.tolist(), m.diverged.tolist()
    ([[138, -1], [40, 47]], [[False, True], [False, False]])
    >>> m.rate.round(3).tolist()
    [[0.9, 1.5], [0.707, 0.707]]
    """
    spec = engine.get_spec(optimizer)
    params = dict(params or {})
    for name in ("lr", spec.capabilities.beta):
        if name and name in params:
            raise ParamError(f"{optimizer}.{name}", params[name], "set by the map's axes: give lrs= and betas= (--lr-*, --beta-* on the command line)")
    lrs = default_lrs(scene, optimizer) if lrs is None else np.atleast_1d(np.asarray(lrs, dtype=float))
    if isinstance(betas, str) and betas == "auto":
        betas = np.linspace(0.0, 0.99, 50) if spec.capabilities.beta else None
    elif betas is not None:
        betas = np.atleast_1d(np.asarray(betas, dtype=float))
    if lrs.size == 0 or (betas is not None and betas.size == 0):
        raise ParamError("lrs" if lrs.size == 0 else "betas", [], "at least one value")
    seed = scene.seed if seed is None else seed
    start = list(scene.start_point)
    surf = scene.engine_surface
    report = _ProgressBar() if progress is True else progress or None

    res = engine.sweep_in_slices(surf, optimizer, lrs, betas, progress=report, start=start, steps=steps, tol=tol,
                                 params=params, seed=seed)
    loss, to_tol, div = res.final_loss, res.steps_to_tol, res.diverged
    beta_name = spec.capabilities.beta
    resolved = spec.resolve({**params, "lr": float(lrs[0]),
                             **({beta_name: float(betas[0])} if betas is not None else {})})
    info = None
    if scene.surface == "quadratic":
        info = _theory.quadratic_theory(scene.surface_params["lambda_1"], scene.surface_params["lambda_2"])
    rate = capabilities.analytic_rate_map(surf, optimizer, resolved, lrs, betas)
    swept = ("lr", beta_name) if betas is not None else ("lr",)
    return SweepMap(scene, optimizer, {k: v for k, v in resolved.items() if k not in swept},
                    lrs, betas, loss, to_tol, div, rate, steps, tol, info)


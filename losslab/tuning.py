"""Fair races from Python: every optimizer of a scene tuned by one protocol (``engine.tune``).

>>> import losslab as ll
>>> scene = (ll.Scene("quadratic", lambda_1=1, lambda_2=20, rotation=30).start(-2, -0.5)
...          .add("gd", lr=0.09).add("momentum", lr=0.04, momentum=0.7))
>>> t = scene.tune(steps=300)
>>> [(o.name, o.lr, o.beta, o.steps_to_tol) for o in t]
[('gd', 0.075, None, 127), ('momentum', 0.133, 0.438, 30)]
>>> t.scene.optimizers[1].params["lr"] == t[1].lr     # the race with the tuned settings, ready to run
True
>>> round(t.theory["momentum_best_lr"], 4), round(t.theory["momentum_best_beta"], 3)   # η*, β*
(0.1336, 0.403)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterator

import engine
from engine.params import ParamError
from engine.tune import RING_RADIUS, TOL, Tuned, TuneResult, beta_grid, lr_grid

if TYPE_CHECKING:
    from losslab.scene import Scene


class Tuning:
    """The tuned race: one :class:`engine.tune.Tuned` per optimizer (indexable, iterable), the protocol and theory.

    Attributes:
      before: the scene as given; ``scene``: the same scene with every optimizer's tuned η (and β).
      protocol: the grid, budget, tolerance, starts and criterion.
      theory: the quadratic's formulas (η_opt, 2/(λmin + λmax), η*, β*, rates), elsewhere those of the
        local quadratic model at the start.
    """

    def __init__(self, before: "Scene", result: TuneResult):
        self.before = before
        self.result = result
        self.protocol = result.protocol
        self.theory = result.theory
        scene = before._evolve(optimizers=())
        for t in result.optimizers:
            scene = scene.add(t.name, **t.params)
        self.scene = scene

    def __getitem__(self, i) -> Tuned:
        return self.result.optimizers[i]

    def __len__(self) -> int:
        return len(self.result.optimizers)

    def __iter__(self) -> Iterator[Tuned]:
        return iter(self.result.optimizers)

    def to_dict(self) -> dict:
        """The body POST /api/tune answers for the same scene: ``{"protocol", "optimizers", "theory"}``."""
        return self.result.to_dict()

    def to_text(self) -> str:
        """A table for people: each optimizer's setting before and after, steps, forgiveness and edge."""
        p = self.protocol
        lrs, betas = p["lrs"], p["betas"]
        lines = [f"Tuned {self.before.surface} from ({_g(p['starts'][0][0])}, {_g(p['starts'][0][1])})"
                 + (f" and a ring of {p['ring']} starts (radius {_g(p['ring_radius'])} of the view)" if p["ring"] else ""),
                 f"  grid: η {_g(lrs[0])} … {_g(lrs[-1])} ({len(lrs)} log-spaced); β {_g(betas[0])} … {_g(betas[-1])} "
                 f"({len(betas)}, 1 − β log-spaced) for optimizers with momentum",
                 f"  budget {p['steps']} steps, tol ‖∇f‖ < {_g(p['tol'])}; criterion: {p['criterion']}", ""]
        head = f"  {'optimizer':<16} {'before':<22} {'tuned':<22} {'steps to tol':>12} {'forgiving':>10} {'edge':>9}"
        lines.append(head)
        for t in self:
            before = _setting(t.before.get("lr"), t.before.get("momentum") if t.beta is not None else None)
            after = "every setting diverged" if t.criterion is None else _setting(t.lr, t.beta)
            steps = (str(t.steps_to_tol) if t.steps_to_tol is not None
                     else "–" if t.criterion is None else f"loss {_g(t.final_loss)}")
            forg = "–" if t.forgiveness is None else f"×{t.forgiveness:.3g}"
            edge = "none" if t.edge is None else _g(t.edge)
            lines.append(f"  {t.name:<16} {before:<22} {after:<22} {steps:>12} {forg:>10} {edge:>9}")
        stopped = [f"{t.name} at step {t.stopped_at}" for t in self if t.stopped_at is not None]
        if stopped:
            lines.append(f"  runs still going once they could no longer be within {_g(p['within'])}× of the best "
                         f"were stopped ({', '.join(stopped)}); the answer is every run's to the budget")
        th = self.theory
        if "gd_best_lr" in th:
            src = "the quadratic" if th["source"] == "quadratic" else "the local quadratic model at the start"
            lines += ["", f"  theory ({src}): 2/(λmin+λmax) = {_g(th['gd_best_lr'])}, 2/λmax = {_g(th['gd_max_lr'])}, "
                      f"η* = {_g(th['momentum_best_lr'])}, β* = {_g(th['momentum_best_beta'])}, "
                      f"rates GD {_g(th['gd_rate'])}, heavy ball {_g(th['momentum_rate'])}"]
            for t in self:
                if t.theory:
                    n = t.theory["steps"]
                    k = "not within the budget" if n is None else f"{n} step{'' if n == 1 else 's'}"
                    lines.append(f"    {t.name}: predicted rate {_g(t.theory['rate'])}, {k}")
        return "\n".join(lines) + "\n"

    def figure(self, **kwargs):
        """Each optimizer's sensitivity curve (criterion against η) with the chosen point, 2× band and edge."""
        from losslab import figures

        return figures.tune_curves(self, **kwargs)

    def __repr__(self) -> str:
        return self.to_text().rstrip("\n")


def _g(v) -> str:
    return "–" if v is None else f"{v:.4g}"


def _setting(lr, beta) -> str:
    return "η " + _g(lr) + ("" if beta is None else f", β {_g(beta)}")


def tune(scene: "Scene", steps: int | None = None, *, tol: float | None = None, ring: int = 0,
         ring_radius: float = RING_RADIUS, seed: int | None = None, lrs=None, betas=None) -> Tuning:
    """Tune every optimizer of ``scene`` (see ``engine.tune`` for the protocol); the page's Tune button.

    Args:
      scene: a Scene with at least one optimizer.
      steps: the budget per run (default ``scene.steps``).
      tol: the goal ‖∇f‖ < tol (default ``scene.tol``, the page's; ``engine.tune.TOL`` if that is 0).
      ring: extra starts on a circle around the scene's start (median over all); 0 for the start alone.
      ring_radius: the circle's radius as a fraction of the smaller side of the view.
      seed: seeds stochastic optimizers (default ``scene.seed``).
      lrs, betas: the grids (default ``engine.tune.lr_grid()`` and ``beta_grid()``).
    """
    if not scene.optimizers:
        raise ParamError("optimizers", [], "at least one; add one with scene.add('gd', lr=0.1)")
    steps = scene.steps if steps is None else steps
    seed = scene.seed if seed is None else seed
    if tol is None:
        tol = scene.tol if scene.tol > 0 else TOL
    if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not math.isfinite(tol) or tol <= 0:
        raise ParamError("tol", tol, "a finite number with tol > 0")
    result = engine.tune(scene.engine_surface, list(scene.optimizers), list(scene.start_point), steps=steps, tol=tol,
                         seed=seed, ring=ring, ring_radius=ring_radius,
                         lrs=lr_grid() if lrs is None else lrs, betas=beta_grid() if betas is None else betas)
    return Tuning(scene, result)

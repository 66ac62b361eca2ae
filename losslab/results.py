"""Results of running a scene: one Run per optimizer, exported as the page exports them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np

import engine
from engine.runner import Trajectory

from losslab import _js


if TYPE_CHECKING:
    from losslab.scene import Scene


# --- results ------------------------------------------------------------------

@dataclass(eq=False)
class Run(Trajectory):
    """One optimizer's trajectory (the engine's :class:`~engine.runner.Trajectory`), numbered as on the page.

    ``points[0]`` is the start, one more entry per step taken. ``status`` is ``converged``
    (‖∇f‖ < tol), ``diverged`` (a value stopped being finite or the iterate flew off; only finite
    entries are kept) or ``max_steps``.
    """

    #: The run's place in the race (0-based): its colour and its number in the legend.
    index: int = 0

    # A run is itself, not its values (its arrays have no single truth value): compare by identity.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def final_point(self) -> tuple[float, float] | None:
        return tuple(map(float, self.points[-1])) if len(self.points) else None

    @property
    def label(self) -> str:
        """How the page names this run in its legend: ``"2. Momentum (heavy ball)"``."""
        return f"{self.index + 1}. {engine.get_spec(self.optimizer).title}"

    def __repr__(self) -> str:
        loss = "–" if self.final_loss is None else f"{self.final_loss:.4g}"
        return (f"Run({self.index}, {self.optimizer!r}, status={self.status!r}, steps_taken={self.steps_taken}, "
                f"final_loss={loss})")


class Result(Sequence[Run]):
    """The runs of a scene, in the order the optimizers were added; indexable and iterable.

    Export them as the page does: :meth:`to_csv` and :meth:`to_json` give the bytes of
    the page's "Export CSV" and "Export JSON"; :meth:`to_rows` gives the CSV's rows as dicts.
    """

    def __init__(self, scene: Scene, runs: list[Run]):
        self.scene = scene
        self.runs = list(runs)

    def __getitem__(self, i):
        return self.runs[i]

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def to_rows(self) -> list[dict]:
        """One dict per point: ``run, optimizer, step, x, y, loss, grad_norm``.

        >>> from losslab import Scene
        >>> rows = Scene().add("gd", lr=0.5).run(steps=2).to_rows()
        >>> len(rows), sorted(rows[0])
        (3, ['grad_norm', 'loss', 'optimizer', 'run', 'step', 'x', 'y'])
        """
        rows = []
        for r in self.runs:
            for k in range(len(r.points)):
                rows.append({"run": r.index, "optimizer": r.optimizer, "step": k,
                             "x": float(r.points[k, 0]), "y": float(r.points[k, 1]),
                             "loss": float(r.losses[k]), "grad_norm": float(r.grad_norms[k])})
        return rows

    def to_csv(self) -> str:
        """The page's CSV export, byte for byte (numbers as JavaScript writes them).

        >>> from losslab import Scene
        >>> print(Scene("quadratic", lambda_1=1, lambda_2=1, rotation=0).start(1, 0).add("gd", lr=0.5).run(steps=2).to_csv(), end="")
        run,optimizer,step,x,y,loss,grad_norm
        0,gd,0,1,0,0.5,1
        0,gd,1,0.5,0,0.125,0.5
        0,gd,2,0.25,0,0.03125,0.25
        """
        lines = ["run,optimizer,step,x,y,loss,grad_norm"]
        s = _js.to_string
        for r in self.runs:
            for k in range(len(r.points)):
                lines.append(f"{r.index},{r.optimizer},{k},{s(r.points[k, 0])},{s(r.points[k, 1])},"
                             f"{s(r.losses[k])},{s(r.grad_norms[k])}")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        """The page's JSON export as Python objects: ``{"scene": …, "runs": [...]}``."""
        return {
            "scene": self.scene.to_dict(),
            "runs": [{"optimizer": r.optimizer, "params": dict(r.params), "status": r.status,
                      "steps_taken": r.steps_taken, "points": r.points.tolist(), "losses": r.losses.tolist(),
                      "grad_norms": r.grad_norms.tolist()} for r in self.runs],
        }

    def to_json(self) -> str:
        """The page's JSON export, byte for byte."""
        return _js.stringify(self.to_dict(), 1)

    def figure(self, kind: str = "contour", **kwargs):
        """A Plotly figure: ``"contour"``, ``"surface"`` (3D) or ``"loss"``; see :mod:`losslab.figures`."""
        from losslab import figures

        return figures.figure(self, kind, **kwargs)

    def __repr__(self) -> str:
        lines = [f"Result of {self.scene!r}"]
        for r in self.runs:
            loss = "–" if r.final_loss is None else f"{r.final_loss:.4g}"
            lines.append(f"  {r.label:<28} {r.status:<10} after {r.steps_taken:>5} steps   loss {loss}")
        return "\n".join(lines)



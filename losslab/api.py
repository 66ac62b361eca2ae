"""Loss Lab from Python: scenes, runs and (η, β) maps on the engine that serves the page.

A :class:`Scene` is what the page shows: a surface with its parameters, a start point,
optimizers with theirs, a number of steps and a seed. Scenes are immutable; every
builder method returns a new one, so a scene can be reused, extended and compared.

>>> import losslab as ll
>>> scene = (ll.Scene("quadratic", lambda_1=1, lambda_2=20, rotation=30)
...          .start(-2, -0.5)
...          .add("gd", lr=0.09)
...          .add("momentum", lr=0.04, momentum=0.7))
>>> result = scene.run(steps=100)
>>> [(run.optimizer, run.status, run.steps_taken) for run in result]
[('gd', 'max_steps', 100), ('momentum', 'converged', 61)]
>>> result[1].points.shape, f"{result[1].final_loss:.2e}"
((62, 2), '1.40e-09')

A surface of your own, typed as on the page ("Your own formula…"), with the box it is drawn in;
its gradient and Hessian are exact, so Newton's method works on it too:

>>> valley = ll.Scene("custom", formula="(1 - x)**2 + 100*(y - x**2)**2", view=(-2, 2, -1, 3))
>>> run = valley.start(-1.5, 2).add("newton").run(steps=20, tol=1e-10)[0]
>>> run.status, run.steps_taken, [round(v, 9) for v in run.final_point]
('converged', 7, [1.0, 1.0])

The same scene as a page link, and back:

>>> url = scene.to_url()
>>> url
'http://127.0.0.1:8000/#s=quadratic:lambda_1=1,lambda_2=20,rotation=30&o=gd:lr=0.09,schedule=constant,decay_every=100|momentum:lr=0.04,momentum=0.7,schedule=constant,decay_every=100&start=-2,-0.5&steps=100&seed=0&tol=0.0001'
>>> ll.Scene.from_url(url) == scene
True
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, NamedTuple, Sequence

import numpy as np

import engine
from engine import capabilities
from engine import theory as _theory
from engine.lessons import LESSONS, Lesson
from engine.params import Param, ParamError

from losslab import _js, _page

__all__ = [
    "LinkWarning", "Listing", "OptimizerInfo", "ParamError", "Result", "Run", "Scene", "SurfaceInfo", "SweepMap",
    "lessons", "optimizers", "surfaces", "sweep",
]

#: Where ``Scene.to_url`` points by default: ``losslab serve`` on this machine.
DEFAULT_BASE = "http://127.0.0.1:8000/"


class LinkWarning(UserWarning):
    """A page link asked for something the page would silently fix (a value out of range, an unknown name)."""


def _num(v) -> str:
    return _js.to_string(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else repr(v)


def _kwargs(params: dict) -> str:
    return ", ".join(f"{k}={'(' + ', '.join(map(_num, v)) + ')' if isinstance(v, tuple) else _num(v)}"
                     for k, v in params.items())


def _non_default(spec_params: Sequence[Param], params: dict) -> dict:
    return {p.name: params[p.name] for p in spec_params if params[p.name] != p.default}


# --- scenes -------------------------------------------------------------------

class Scene:
    """A surface, a start point and optimizers: one scene of the page.

    ``Scene(surface, **params)`` validates the surface's parameters at once (missing ones
    take their defaults) and raises :class:`ParamError` naming a bad one. Build the rest
    with :meth:`start` and :meth:`add`; run it with :meth:`run`.

    ``Scene("custom", formula="x**2 + 3*y**2", view=(-2, 2, -2, 2))`` is the page's "Your own
    formula…": f(x, y) as text (see ``engine.surfaces.custom`` for what it may contain; a
    refused formula raises ``FormulaError``, a ParamError giving the column) and the box it
    is drawn in, ``(xmin, xmax, ymin, ymax)``. Both are optional (the page's default formula,
    and the view (−3, 3, −3, 3)); a formula is differentiated exactly, so every optimizer works.

    Attributes:
      surface: the surface's name (see :func:`surfaces`).
      surface_params: its parameters, every one filled in (none for ``custom``).
      formula, view: the custom surface's formula and view (for other surfaces ``""`` and None).
      optimizers: ``(name, params)`` pairs, every parameter filled in.
      start_point: ``(x, y)``; by default the page's (−2, −0.5), moved into the view when outside it.
      steps, seed: what :meth:`run` uses unless told otherwise (the page's 100 and 0 by default).
      lesson: the id of the page's lesson this scene came from, or ``""``.

    >>> Scene("quadratic", lambda_1=-1)
    Traceback (most recent call last):
    ...
    engine.params.ParamError: quadratic.lambda_1 = -1 is not allowed: a finite number with 0.001 ≤ lambda_1 ≤ 1000
    >>> Scene("rosenbrock").start(-1.5, 2).add("adam", lr=0.1)
    Scene('rosenbrock', a=1, b=100).start(-1.5, 2).add('adam', lr=0.1)
    >>> Scene("custom", formula="x**2 + 3*y**2", view=(-2, 2, -2, 2)).add("newton")
    Scene('custom', formula='x**2 + 3*y**2', view=(-2, 2, -2, 2)).start(-2, -0.5).add('newton')
    """

    __slots__ = ("surface", "surface_params", "formula", "view", "optimizers", "start_point", "steps", "seed",
                 "tol", "lesson", "_surface")

    def __init__(self, surface: str = "quadratic", /, **params: Any):
        built = _make_surface(surface, params)
        text = {p.name for p in type(built).PARAMS if p.kind == "text"}
        custom = surface == _page.CUSTOM
        start = _page.clamp_start(_page.DEFAULT_SCENE["start"], built.view)
        self._set(surface=surface, surface_params={k: v for k, v in built.params.items() if k not in text},
                  formula=built.params["formula"] if custom else "",
                  view=tuple(float(c) for c in built.view) if custom else None,
                  optimizers=(), start_point=(float(start[0]), float(start[1])), steps=_page.DEFAULT_SCENE["steps"],
                  seed=_page.DEFAULT_SCENE["seed"], tol=_page.DEFAULT_SCENE["tol"], lesson="", _surface=built)

    def _set(self, **values):
        for name in Scene.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name, value):
        raise AttributeError("a Scene is immutable: use start(), add() or replace() to make a new one")

    def _evolve(self, **changes) -> "Scene":
        new = object.__new__(Scene)
        new._set(**{**{name: getattr(self, name) for name in Scene.__slots__}, **changes})
        return new

    # --- building ---------------------------------------------------------
    def start(self, x: float, y: float) -> "Scene":
        """The same scene started at ``(x, y)``.

        >>> Scene().start(1, 2).start_point
        (1.0, 2.0)
        """
        try:
            point = (float(x), float(y))
        except (TypeError, ValueError):
            point = None
        if point is None or not all(map(math.isfinite, point)):
            raise ParamError("start", [x, y], "a point x, y of two finite numbers")
        return self._evolve(start_point=point)

    def add(self, optimizer: str, /, **params: Any) -> "Scene":
        """The same scene with one more optimizer; its parameters are checked now, defaults filled in.

        >>> Scene().add("momentum", lr=0.04).optimizers[0].params["momentum"]
        0.9
        >>> Scene().add("gd", lr=0)
        Traceback (most recent call last):
        ...
        engine.params.ParamError: gd.lr = 0 is not allowed: a finite number with 0 < lr ≤ 10
        """
        with _as_given(params):
            config = engine.configure(optimizer, params)
        return self._evolve(optimizers=self.optimizers + (config,))

    def replace(self, *, steps: int | None = None, seed: int | None = None, tol: float | None = None,
                lesson: str | None = None) -> "Scene":
        """The same scene with another default number of steps, seed, tolerance or lesson id.

        Steps, seed and tol have the page's limits (``engine.defaults``), so every scene has a link
        that opens it: ``Scene.from_url(s.to_url()) == s``.

        >>> Scene().replace(steps=500).steps
        500
        >>> Scene().replace(seed=2**40)
        Traceback (most recent call last):
        ...
        engine.params.ParamError: seed = 1099511627776 is not allowed: an integer with 0 ≤ seed ≤ 2147483647
        """
        changes: dict[str, Any] = {}
        if steps is not None:
            changes["steps"] = _check_int("steps", steps, *_page.STEPS)
        if seed is not None:
            changes["seed"] = _check_int("seed", seed, *_page.SEEDS)
        if tol is not None:
            if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not _page.TOLS[0] <= tol <= _page.TOLS[1]:
                raise ParamError("tol", tol, f"a number with {_page.TOLS[0]:g} ≤ tol ≤ {_page.TOLS[1]:g}")
            changes["tol"] = float(tol)
        if lesson is not None:
            changes["lesson"] = str(lesson)
        return self._evolve(**changes)

    # --- the page's format -------------------------------------------------
    @classmethod
    def from_url(cls, url: str) -> "Scene":
        """The scene a page link opens: the same parsing, defaults and clamping as the page.

        ``url`` may be a whole link (``http://127.0.0.1:8000/#s=…``), its hash, or the hash
        without ``#``. A link without a hash opens the page's default scene; a teacher's
        short link ``#lesson=<id>`` (no ``s=``) opens that lesson's scene. Whatever the
        page would fix silently (a value out of range, an unknown name) is fixed the same
        way and reported as a :class:`LinkWarning`.

        >>> s = Scene.from_url("http://127.0.0.1:8000/#s=saddle:wall=0.5&o=sgd:lr=0.02,noise=1&start=1,0.01&steps=50&seed=7")
        >>> s
        Scene('saddle', curvature_ratio=1, wall=0.5).start(1, 0.01).add('sgd', lr=0.02, noise=1).replace(steps=50, seed=7)
        """
        hash_ = _page.hash_of(url)
        scene = _page.from_hash(hash_)
        if _page.is_short_lesson_link(hash_, scene) and any(l.id == scene["lesson"] for l in LESSONS):
            step = re.search(r"(?:^#?|&)step=(\d+)", hash_)
            lesson = _find_lesson(scene["lesson"])
            n = min(max(1, int(step.group(1))), len(lesson.steps)) if step else 1
            return cls.from_lesson(scene["lesson"], step=n)
        return cls.from_dict(scene)

    @classmethod
    def from_dict(cls, scene: dict) -> "Scene":
        """A scene from the page's scene object (``surface``, ``surfaceParams``, ``optimizers``,
        ``start``, ``steps``, ``seed``, ``lesson``, ``formula``, ``view``), normalized as the page does.

        The page keeps any non-blank formula of at most 500 characters and any view of four
        numbers in order; the engine checks them as the server does, so a formula the page
        would show as an error (or a view the server refuses) raises :class:`ParamError`.
        """
        notes: list[str] = []
        d = _page.normalize(scene, notes)
        for note in notes:
            warnings.warn(note, LinkWarning, stacklevel=3)
        params = dict(d["surfaceParams"])
        if d["surface"] == _page.CUSTOM:
            params.update(formula=d["formula"], view=d["view"])
        s = cls(d["surface"], **params).start(*d["start"])
        for o in d["optimizers"]:
            s = s.add(o["name"], **o["params"])
        return s.replace(steps=d["steps"], seed=d["seed"], tol=d["tol"], lesson=d["lesson"])

    @classmethod
    def from_lesson(cls, lesson: str | int, step: int = 1) -> "Scene":
        """The scene of a lesson's step (``#lesson=<id>&step=<n>`` on the page), by id or number (see :func:`lessons`)."""
        found = _find_lesson(lesson)
        if not 1 <= step <= len(found.steps):
            raise ParamError("step", step, f"a step of lesson {found.id}: 1 to {len(found.steps)}")
        return cls.from_dict({**found.step(step).scene, "lesson": found.id})

    def to_dict(self) -> dict:
        """The page's scene object (what its JSON export calls ``scene``)."""
        return {
            "surface": self.surface,
            "surfaceParams": dict(self.surface_params),
            "optimizers": [{"name": o.name, "params": dict(o.params)} for o in self.optimizers],
            "start": list(self.start_point),
            "steps": self.steps,
            "seed": self.seed,
            "tol": self.tol,
            "lesson": self.lesson,
            "formula": self.formula,
            "view": None if self.view is None else list(self.view),
        }

    def to_url(self, base: str = DEFAULT_BASE) -> str:
        """A link that opens this scene on the page served at ``base``.

        The page writes numbers with 12 significant digits, and so does this link.

        >>> Scene("saddle").add("newton").to_url("http://localhost:9000")
        'http://localhost:9000#s=saddle:curvature_ratio=1,wall=0.5&o=newton:lr=1&start=-2,-0.5&steps=100&seed=0&tol=0.0001'
        >>> Scene("custom", formula="x**2 + 3*y**2", view=(-2, 2, -2, 2)).add("newton").to_url("")
        '#s=custom:&o=newton:lr=1&start=-2,-0.5&steps=100&seed=0&tol=0.0001&f=x**2%20%2B%203*y**2&view=-2,2,-2,2'
        """
        return base.split("#", 1)[0] + _page.to_hash(self.to_dict())

    # --- running ----------------------------------------------------------
    @property
    def engine_surface(self) -> engine.Surface:
        """The engine's surface object: ``value``, ``grad``, ``hessian``, ``grid``, ``minima``, ``saddles``."""
        return self._surface

    def run(self, steps: int | None = None, *, seed: int | None = None, tol: float | None = None) -> "Result":
        """Run every optimizer from the start point, as the page does.

        Args:
          steps: the most steps per run (default: ``self.steps``).
          seed: seeds the batches and noise of ``sgd`` (default: ``self.seed``).
          tol: stop a run, ``converged``, once ‖∇f‖ < tol (default: ``self.tol``, the page's 1e-4; 0 never stops).

        >>> r = Scene("quadratic", rotation=0).start(1, 1).add("newton").run(steps=3, tol=1e-12)
        >>> r[0].status, r[0].steps_taken, r[0].points[-1].tolist()
        ('converged', 1, [0.0, 0.0])
        """
        if not self.optimizers:
            raise ParamError("optimizers", [], "at least one; add one with scene.add('gd', lr=0.1)")
        scene = self.replace(steps=steps, seed=seed, tol=tol)
        trajs = engine.run(self._surface, list(self.optimizers), list(self.start_point), scene.steps,
                           tol=scene.tol, seed=scene.seed)
        return Result(scene, [Run(i, t.optimizer, t.params, t.points, t.losses, t.grad_norms, t.status, t.steps_taken)
                              for i, t in enumerate(trajs)])

    def sweep(self, optimizer: str = "momentum", **kwargs) -> "SweepMap":
        """An (η, β) map of ``optimizer`` on this surface from this start; see :func:`sweep`."""
        return sweep(self, optimizer, **kwargs)

    def theory(self) -> dict:
        """What theory says here: the quadratic's step sizes and rates, and the Hessian at the start.

        >>> t = Scene("quadratic", lambda_1=1, lambda_2=100).theory()
        >>> round(t["quadratic"]["gd_max_lr"], 3), t["start"]["kind"]
        (0.02, 'minimum-like (both curvatures positive)')
        """
        out: dict = {}
        if self.surface == "quadratic":
            out["quadratic"] = _theory.quadratic_theory(self.surface_params["lambda_1"], self.surface_params["lambda_2"])
        with np.errstate(all="ignore"):
            out["start"] = _theory.hessian_eigenvalues(self._surface, np.array(self.start_point))
        return out

    def figure(self, kind: str = "contour", **kwargs):
        """The surface as a Plotly figure, with the start marked; see :mod:`losslab.figures`."""
        from losslab import figures

        return figures.figure(self, kind, **kwargs)

    # --- comparing and showing ------------------------------------------
    def widget(self, steps: int | None = None):
        """The scene live in a notebook: its contour, runs and a step-size and momentum slider per optimizer.

        The engine reruns the scene in the kernel on every slider move; ``widget.scene`` is the scene
        as the sliders left it (then ``.to_url()``, ``.figure()``, ``.run()``). Needs ``pip install
        'losslab[notebook]'`` (anywidget); see :mod:`losslab.widget`.
        """
        from losslab.widget import SceneWidget

        return SceneWidget(self, steps=steps)

    def _key(self):
        return (self.surface, self.surface_params, self.formula, self.view, [tuple(o) for o in self.optimizers],
                self.start_point, self.steps, self.seed, self.tol, self.lesson)

    def __eq__(self, other) -> bool:
        return isinstance(other, Scene) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        args = dict(self.surface_params)
        if self.surface == _page.CUSTOM:
            args.update(formula=self.formula, view=self.view)
        out = f"Scene({self.surface!r}{', ' if args else ''}{_kwargs(args)})"
        out += f".start({_num(self.start_point[0])}, {_num(self.start_point[1])})"
        for o in self.optimizers:
            extra = _kwargs(_non_default(engine.get_spec(o.name).params, o.params))
            out += f".add({o.name!r}{', ' if extra else ''}{extra})"
        changes = {k: v for k, v in (("steps", self.steps), ("seed", self.seed), ("tol", self.tol))
                   if v != _page.DEFAULT_SCENE[k]}
        if self.lesson:
            changes["lesson"] = self.lesson
        if changes:
            out += f".replace({_kwargs(changes)})"
        return out


def _make_surface(surface: str, params: dict) -> engine.Surface:
    """``engine.make_surface`` as the server's ``build_surface`` calls it: formula and view only for ``custom``."""
    if surface in _page.CATALOG and surface != _page.CUSTOM:
        for key in ("formula", "view"):
            if key in params:
                raise ParamError(f"{surface}.{key}", params[key], "only for the custom surface: "
                                 "Scene('custom', formula='x**2 + y**2', view=(xmin, xmax, ymin, ymax))")
    with _as_given(params):
        return engine.make_surface(surface, **params)


@contextlib.contextmanager
def _as_given(params: dict):
    """Report a refused parameter with the value as the caller wrote it (``-1``, not the engine's ``-1.0``)."""
    try:
        yield
    except ParamError as e:
        name = e.param.rsplit(".", 1)[-1]
        if "." in e.param and name in params and repr(e.value) != repr(params[name]):
            raise ParamError(e.param, params[name], e.allowed) from None
        raise


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ParamError(name, value, f"an integer with {low} ≤ {name} ≤ {high}")
    return int(value)


# --- results ------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Run:
    """One optimizer's trajectory: ``points[0]`` is the start, one more entry per step taken.

    ``status`` is ``converged`` (‖∇f‖ < tol), ``diverged`` (a value stopped being finite or
    the iterate flew off; only finite entries are kept) or ``max_steps``.
    """

    index: int
    optimizer: str
    params: dict
    points: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    status: str
    steps_taken: int

    @property
    def final_loss(self) -> float | None:
        return float(self.losses[-1]) if len(self.losses) else None

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


# --- catalogs -----------------------------------------------------------------

class SurfaceInfo(NamedTuple):
    name: str
    title: str
    description: str
    params: dict
    view: tuple


class OptimizerInfo(NamedTuple):
    name: str
    title: str
    formula: str
    description: str
    params: dict


class Listing(list):
    """A list that prints as a table and can be indexed by name as well as position."""

    def __init__(self, items, columns: Callable[[Any], tuple[str, ...]], key: str = "name"):
        super().__init__(items)
        self._columns = columns
        self._key = key

    def __getitem__(self, i):
        if isinstance(i, str):
            for item in self:
                if getattr(item, self._key) == i:
                    return item
            raise KeyError(f"{i!r}: not one of {', '.join(str(getattr(x, self._key)) for x in self)}")
        return super().__getitem__(i)

    def names(self) -> list:
        return [getattr(x, self._key) for x in self]

    def __repr__(self) -> str:
        if not self:
            return "(none)"
        rows = [self._columns(x) for x in self]
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
        return "\n".join("  ".join([c.ljust(w) for c, w in zip(r, widths)] + [r[-1]]).rstrip() for r in rows)


def _defaults(params: dict) -> str:
    return ", ".join(f"{p.name}={_num(p.default)}" for p in params.values())


def surfaces() -> Listing:
    """Every surface with its parameters (name → :class:`engine.Param`: default, range, description).

    The last, ``custom``, is a formula you type: ``Scene("custom", formula=…, view=…)``.

    >>> s = surfaces()["quadratic"]
    >>> s.title, s.params["lambda_2"].default
    ('Quadratic bowl', 10.0)
    >>> surfaces()["custom"].view
    (-3.0, 3.0, -3.0, 3.0)
    """
    items = []
    for name, cls in _page.CATALOG.items():  # the page's list: the catalog, then "Your own formula…"
        items.append(SurfaceInfo(name, cls.TITLE, cls.DESCRIPTION, {p.name: p for p in cls.PARAMS},
                                 _page.default_view(name)))
    return Listing(items, lambda s: (s.name, s.title, _defaults(s.params)))


def optimizers() -> Listing:
    """Every optimizer with its update rule and parameters.

    >>> o = optimizers()["momentum"]
    >>> o.formula, sorted(o.params)
    ('v ← β v + g;  x ← x − η v', ['decay_every', 'lr', 'momentum', 'schedule'])
    """
    items = [OptimizerInfo(s.name, s.title, s.formula, s.description, {p.name: p for p in s.params})
             for s in engine.OPTIMIZERS.values()]
    return Listing(items, lambda o: (o.name, o.title, o.formula))


def lessons() -> Listing:
    """The page's lessons (``id, number, title, text, scene``); open one with ``Scene.from_lesson(id)``.

    >>> all(lesson.id and lesson.title for lesson in lessons())
    True
    """
    return Listing(sorted(LESSONS, key=lambda l: l.number), lambda l: (f"{l.number:>2}.", l.id, l.title), key="id")


def _find_lesson(key: str | int) -> Lesson:
    for lesson in LESSONS:
        if lesson.id == key or (isinstance(key, int) and not isinstance(key, bool) and lesson.number == key):
            return lesson
    known = ", ".join(l.id for l in LESSONS) or "none yet"
    raise ParamError("lesson", key, f"one of {known}")


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


def sweep(scene: Scene | str = "quadratic", optimizer: str = "momentum", *, lrs=None, betas="auto",
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
        Either sweeps in blocks of β rows (cell for cell the same numbers as one sweep).

    >>> bowl = Scene("quadratic", lambda_1=1, lambda_2=10, rotation=0).start(-2, -0.5)
    >>> m = sweep(bowl, "momentum", lrs=[0.1, 0.25], betas=[0.0, 0.5])
    >>> m.steps_to_tol.tolist(), m.diverged.tolist()
    ([[138, -1], [40, 47]], [[False, True], [False, False]])
    >>> m.rate.round(3).tolist()
    [[0.9, 1.5], [0.707, 0.707]]
    """
    if isinstance(scene, str):
        scene = Scene(scene)
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

    def part(lr_part, beta_part):
        return engine.sweep(surf, optimizer, lr_part, beta_part, start=start, steps=steps, tol=tol,
                            params=params, seed=seed)

    if report is None:
        res = part(lrs, betas)
        loss, to_tol, div = res.final_loss, res.steps_to_tol, res.diverged
    else:
        # Blocks of β rows (of η columns without a β axis): each block is an independent sweep.
        along = lrs if betas is None else betas
        edges = np.linspace(0, len(along), min(20, len(along)) + 1).round().astype(int)
        cells = lrs.size * (1 if betas is None else betas.size)
        per = cells // len(along)
        pieces = []
        report(0, cells)
        for a, b in zip(edges[:-1], edges[1:]):
            pieces.append(part(lrs[a:b], None) if betas is None else part(lrs, betas[a:b]))
            report(int(b) * per, cells)
        axis = 1 if betas is None else 0
        loss = np.concatenate([p.final_loss for p in pieces], axis)
        to_tol = np.concatenate([p.steps_to_tol for p in pieces], axis)
        div = np.concatenate([p.diverged for p in pieces], axis)
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

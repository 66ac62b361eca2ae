"""Scenes: what the page shows (a surface, a start, optimizers, steps, seed, tol), immutable,
to and from page links, run on the engine. ``losslab.api`` gathers the public names."""

from __future__ import annotations

import contextlib
import math
import re
import warnings
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

import engine
from engine import theory as _theory
from engine.lessons import LESSONS
from engine.params import Param, ParamError

from losslab import _js, _page

from losslab.catalog import find_lesson
from losslab.results import Result, Run

if TYPE_CHECKING:
    from losslab.sweeps import SweepMap
    from losslab.tuning import Tuning

#: Where ``Scene.to_url`` points by default: ``losslab serve`` on this machine.
DEFAULT_BASE = "http://127.0.0.1:8000/"


class LinkWarning(UserWarning):
    """A page link asked for something the page would silently fix (a value out of range, an unknown name)."""


def _kwargs(params: dict) -> str:
    return ", ".join(f"{k}={'(' + ', '.join(map(_js.literal, v)) + ')' if isinstance(v, tuple) else _js.literal(v)}"
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
      start_point: ``(x, y)``; by default the surface's own start, as the page picks it when the
        surface is chosen (e.g. (−4, −2) on ``booth``), moved into the view when outside it.
      steps, seed: what :meth:`run` uses unless told otherwise (the surface's steps, e.g. 100 on the
        quadratic, and seed 0 by default).
      lesson: the id of the page's lesson this scene came from, or ``""``.

    >>> Scene("quadratic", lambda_1=-1)
    Traceback (most recent call last):
    ...
    engine.params.ParamError: quadratic.lambda_1 = -1 is not allowed: a finite number with 0.001 ≤ lambda_1 ≤ 1000
    >>> Scene("rosenbrock").start(-1.5, 2).add("adam", lr=0.1)
    Scene('rosenbrock', a=1, b=100).start(-1.5, 2).add('adam', lr=0.1)
    >>> Scene("custom", formula="x**2 + 3*y**2", view=(-2, 2, -2, 2)).add("newton")
    Scene('custom', formula='x**2 + 3*y**2', view=(-2, 2, -2, 2)).start(-1.2, 1.2).add('newton')
    """

    __slots__ = ("surface", "surface_params", "formula", "view", "optimizers", "start_point", "steps", "seed",
                 "tol", "lesson", "_surface")

    def __init__(self, surface: str = "quadratic", /, **params: Any):
        built = _make_surface(surface, params)
        text = {p.name for p in type(built).PARAMS if p.kind == "text"}
        custom = surface == _page.CUSTOM
        start = _page.clamp_start(list(built.default_start), built.view)
        self._set(surface=surface, surface_params={k: v for k, v in built.params.items() if k not in text},
                  formula=built.params["formula"] if custom else "",
                  view=tuple(float(c) for c in built.view) if custom else None,
                  optimizers=(), start_point=(float(start[0]), float(start[1])), steps=built.DEFAULT_STEPS,
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
            lesson = find_lesson(scene["lesson"])
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
        found = find_lesson(lesson)
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
        'http://localhost:9000#s=saddle:curvature_ratio=1,wall=0.5&o=newton:lr=1&start=-1.8,0.01&steps=150&seed=0&tol=0.0001'
        >>> Scene("custom", formula="x**2 + 3*y**2", view=(-2, 2, -2, 2)).add("newton").to_url("")
        '#s=custom:&o=newton:lr=1&start=-1.2,1.2&steps=100&seed=0&tol=0.0001&f=x**2%20%2B%203*y**2&view=-2,2,-2,2'
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
        return Result(scene, [Run(**vars(t), index=i) for i, t in enumerate(trajs)])

    def sweep(self, optimizer: str = "momentum", **kwargs) -> "SweepMap":
        """An (η, β) map of ``optimizer`` on this surface from this start; see :func:`losslab.sweeps.sweep`."""
        from losslab.sweeps import sweep  # sweeps never imports this module: no cycle

        return sweep(self, optimizer, **kwargs)

    def tune(self, steps: int | None = None, **kwargs) -> "Tuning":
        """Every optimizer's best η (and β) here, by one protocol; see :func:`losslab.tuning.tune`.

        ``scene.tune().scene`` is the race with the tuned settings; ``.to_text()`` shows the protocol,
        each optimizer's steps, forgiveness and divergence edge.
        """
        from losslab.tuning import tune  # tuning imports this module only for type checkers: no cycle

        return tune(self, steps, **kwargs)

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
        out += f".start({_js.literal(self.start_point[0])}, {_js.literal(self.start_point[1])})"
        for o in self.optimizers:
            extra = _kwargs(_non_default(engine.get_spec(o.name).params, o.params))
            out += f".add({o.name!r}{', ' if extra else ''}{extra})"
        defaults = {**_page.DEFAULT_SCENE, "steps": self._surface.DEFAULT_STEPS}  # as the constructor sets them
        changes = {k: v for k, v in (("steps", self.steps), ("seed", self.seed), ("tol", self.tol)) if v != defaults[k]}
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



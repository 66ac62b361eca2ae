"""The lesson format: a lesson is a few guided steps, each a scene, its text, and the claims it makes.

A :class:`Step` holds

- ``text``: a few sentences. Numbers are never typed in: a ``{name}`` placeholder is filled
  with the value the step's ``claims`` function computes for the scene on screen;
- ``scene``: what the page loads (surface, optimizers, start, steps, seed, in the page's
  scene format), plus ``compare`` where a panel runs the same optimizers on a second surface;
- ``controls``: the one or two settings the step asks the learner to touch;
- ``panels``: the extra figures it needs, by name from :data:`engine.lessons.panels.PANELS`;
- ``claims(ctx) -> Facts``: the numbers the text quotes and the claims it makes, computed from
  the runs of the scene on screen (:class:`Context`), each claim saying whether it holds there;
- ``prediction``: optionally a question with 2–4 choices, answered by the runs on screen.

:func:`evaluate` runs a scene as the page does and returns everything the page shows for a
step: the filled-in values, the claims, a note per run, each run's slider marks, the
prediction's answer and every panel's data. The page draws what this computes; it computes
none of it itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from engine import capabilities, theory
from engine.runner import OptimizerConfig, Trajectory, configure, run
from engine.surfaces import Surface, make_surface

#: Closer than this to the nearest minimum (in the weights' units) counts as "at the minimum".
AT_MINIMUM = 1e-6


def r12(v: float) -> float:
    """A float that the page's URL hash (12 significant digits) reproduces exactly."""
    return float(f"{float(v):.12g}")


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt(v, digits: int = 3) -> str:
    """A number as the page prints it: 3 significant digits, exponent form when tiny or huge; "—" for none."""
    if v is None:
        return "—"
    v = float(v)
    if v == 0:
        return "0"
    if not np.isfinite(v):
        return "∞" if v > 0 else "−∞"
    a = abs(v)
    if a >= 1e4 or a < 1e-3:
        m, e = f"{v:.{digits - 1}e}".split("e")
        m = m.rstrip("0").rstrip(".")
        power = "10" + str(int(e)).translate(_SUPERSCRIPT)
        return (power if m in ("1", "-1") and m == "1" else f"{m}·{power}").replace("-", "−")
    s = f"{float(f'{v:.{digits}g}'):g}"
    return s.replace("-", "−")


#: A lesson's runs stop once ‖∇E‖ < TOL ("converged at step k"): far below every distance a step quotes
#: (10⁻⁶), so the runs on screen show everything the claims measure.
TOL = 1e-9


def scene(surface: str, surface_params: dict, optimizers, start, steps: int, seed: int = 0, tol: float = TOL,
          **extra) -> dict:
    """A scene in the page's format; floats rounded to what the URL hash keeps."""
    return {
        "surface": surface,
        "surfaceParams": dict(surface_params),
        "optimizers": [{"name": name, "params": {k: r12(v) if isinstance(v, float) else v for k, v in params.items()}}
                       for name, params in optimizers],
        "start": [r12(v) for v in start],
        "steps": steps,
        "seed": seed,
        "tol": tol,
        **extra,
    }


@dataclass(frozen=True)
class Control:
    """A setting the step asks the learner to touch: ``param`` of run ``run``, or of the surface (run None)."""

    param: str
    run: int | None = None

    def to_dict(self) -> dict:
        return {"param": self.param, "run": self.run}


@dataclass(frozen=True)
class Claim:
    """A sentence with the engine's numbers in it, and whether the runs on screen bear it out."""

    text: str
    holds: bool = True

    def to_dict(self) -> dict:
        return {"text": self.text, "holds": bool(self.holds)}


@dataclass
class Facts:
    """What a step's ``claims`` function returns."""

    values: dict = field(default_factory=dict)  # placeholder name → formatted number
    claims: list = field(default_factory=list)  # [Claim]
    notes: dict = field(default_factory=dict)  # run index → a note for the Runs table


@dataclass(frozen=True)
class Prediction:
    """A question asked before pressing Play; ``answer(ctx)`` is the index of the right choice."""

    question: str
    choices: tuple[str, ...]
    answer: Callable[["Context"], int | None]

    def to_dict(self) -> dict:
        return {"question": self.question, "choices": list(self.choices)}


@dataclass(frozen=True)
class Step:
    title: str
    text: tuple[str, ...]
    scene: dict
    claims: Callable[["Context"], Facts]
    controls: tuple[Control, ...] = ()
    panels: tuple[str, ...] = ()
    prediction: Prediction | None = None

    def to_dict(self) -> dict:
        return {
            "title": self.title, "text": list(self.text), "scene": self.scene,
            "controls": [c.to_dict() for c in self.controls], "panels": list(self.panels),
            "prediction": self.prediction.to_dict() if self.prediction else None,
        }


@dataclass(frozen=True)
class Lesson:
    id: str
    number: int
    title: str
    steps: tuple[Step, ...]
    conventions: tuple[str, ...] = ()  # said once, visibly, on every step of the lesson

    @property
    def scene(self) -> dict:
        """The scene the lesson opens on: its first step's."""
        return self.steps[0].scene

    @property
    def text(self) -> tuple[str, ...]:
        """Every step's first sentence: the lesson in brief (for listings)."""
        return tuple(s.text[0] for s in self.steps)

    @property
    def panels(self) -> list[str]:
        """Every panel any step shows beside the plots (``engine.lessons.panels.PANELS``)."""
        return sorted({p for s in self.steps for p in s.panels})

    def step(self, n: int) -> Step:
        """Step ``n``, counted from 1 as in ``#lesson=ID&step=N``."""
        if not 1 <= n <= len(self.steps):
            raise KeyError(f"lesson {self.id!r} has steps 1 to {len(self.steps)}, not {n}")
        return self.steps[n - 1]

    def to_dict(self) -> dict:
        return {"id": self.id, "number": self.number, "title": self.title, "text": list(self.text),
                "scene": self.scene, "conventions": list(self.conventions),
                "steps": [s.to_dict() for s in self.steps]}


class Context:
    """The scene on screen, run as the page runs it, with the helpers the claims use."""

    def __init__(self, surface: Surface, configs: Sequence[OptimizerConfig], start, steps: int, seed: int = 0,
                 cursor: int | None = None, compare: dict | None = None, tol: float = 0.0):
        self.surface = surface
        self.configs = list(configs)
        self.start = np.asarray(start, dtype=float)
        self.steps = steps
        self.seed = seed
        self.tol = tol
        self.cursor = cursor
        self.compare = compare
        with np.errstate(all="ignore"):
            self.runs: list[Trajectory] = run(surface, self.configs, start=self.start, steps=steps, seed=seed, tol=tol)
        self._other = None

    @classmethod
    def of_scene(cls, sc: dict, cursor: int | None = None) -> "Context":
        """A context for a scene dict in the page's format (the lesson's own scene, in tests)."""
        s = make_surface(sc["surface"], **sc["surfaceParams"])
        configs = [configure(o["name"], o["params"]) for o in sc["optimizers"]]
        return cls(s, configs, sc["start"], sc["steps"], sc.get("seed", 0), cursor, sc.get("compare"), sc.get("tol", 0.0))

    # --- what the runs did -----------------------------------------------------------------

    @property
    def minima(self) -> list[np.ndarray]:
        return [np.asarray(m, dtype=float) for m in self.surface.minima]

    def distance(self, i: int) -> np.ndarray:
        """Distance of every iterate of run i to the nearest minimum (the origin on the quadratic)."""
        pts = self.runs[i].points
        ms = self.minima or [np.zeros(2)]
        with np.errstate(all="ignore"):
            return np.min([np.linalg.norm(pts - m, axis=1) for m in ms], axis=0)

    def reaches(self, i: int, tol: float = AT_MINIMUM) -> int | None:
        """First step at which run i is within ``tol`` of a minimum and stays there; None if it never does."""
        d = self.distance(i)
        ok = np.isfinite(d) & (d < tol)
        if not ok.any() or not ok[-1]:
            return None
        bad = np.nonzero(~ok)[0]
        return int(bad[-1] + 1) if len(bad) else 0

    def too_short(self, i: int, need: int) -> Claim | None:
        """A claim saying run i took fewer than ``need`` steps, too few for what a step measures (a run
        of one step, or one that starts at a minimum); None when it took enough."""
        t = self.runs[i]
        if t.steps_taken >= need:
            return None
        took = "stopped at its start" if t.steps_taken == 0 else f"took {t.steps_taken} step" + "s" * (t.steps_taken > 1)
        return Claim(f"Run {i + 1} {took} ({t.status.replace('_', ' ')}): this step measures its first {need} steps; "
                     "give it more steps or another start", False)

    def diverged_at(self, i: int) -> int | None:
        t = self.runs[i]
        return t.steps_taken if t.status == "diverged" else None

    def point_at(self, i: int) -> np.ndarray:
        """Run i's iterate at the animation's cursor; the start when not animating (the page's "current point")."""
        if self.cursor is None:
            return self.start
        pts = self.runs[i].points
        return pts[min(self.cursor, len(pts) - 1)]

    def param(self, i: int, name: str):
        return self.configs[i].params.get(name)

    def index_of(self, *names: str) -> int | None:
        """The first run whose optimizer is one of ``names``."""
        return next((i for i, c in enumerate(self.configs) if c.name in names), None)

    @property
    def quadratic(self) -> dict | None:
        if self.surface.NAME != "quadratic":
            return None
        return theory.quadratic_theory(self.surface.params["lambda_1"], self.surface.params["lambda_2"])

    def other(self) -> tuple[Surface, list[Trajectory]] | None:
        """The same optimizers from the same start on the step's comparison surface."""
        if not self.compare:
            return None
        if self._other is None:
            s = make_surface(self.compare.get("surface", self.surface.NAME),
                             **{**self.surface.params, **self.compare["surfaceParams"]})
            with np.errstate(all="ignore"):
                self._other = (s, run(s, self.configs, start=self.start, steps=self.steps, seed=self.seed, tol=self.tol))
        return self._other

    def note_reach(self, facts: Facts, tol: float = AT_MINIMUM) -> None:
        """Each run's note: at the minimum from step k, diverged at step k, or not there after n steps."""
        for i in range(len(self.runs)):
            k, dv = self.reaches(i, tol), self.diverged_at(i)
            facts.notes[i] = (f"diverged at step {dv}" if dv is not None
                              else f"within {fmt(tol)} of the minimum from step {k}" if k is not None
                              else f"not within {fmt(tol)} after {self.runs[i].steps_taken} steps")


def step_marks(surface: Surface, config: OptimizerConfig) -> list[dict]:
    """The step-size marks that hold for this optimizer (with its own β) on this surface, as the free page
    draws them: :func:`engine.capabilities.step_marks` (GD 1/λmax and 2/λmax, heavy ball 2(1 + β)/λmax,
    Nesterov its own edge, Newton and preconditioned GD η = 1, none where no theory applies)."""
    return capabilities.step_marks(surface, config.name, config.params)


def run_label(config: OptimizerConfig, configs: Sequence[OptimizerConfig]) -> str:
    """A run named by what sets it apart from the others: "GD η = 0.5", "SGD b = 1, seed 2"."""
    short = {"gd": "GD", "momentum": "Heavy ball", "nesterov": "Nesterov", "newton": "Newton",
             "preconditioned": "Preconditioned", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam",
             "sgd": "SGD"}
    symbols = {"lr": "η", "momentum": "β", "batch_size": "b", "noise": "noise", "schedule": "", "seed": "seed",
               "beta1": "β1", "beta2": "β2", "alpha": "α"}
    same = [c for c in configs if c.name == config.name]
    parts = []
    for k, v in config.params.items():
        if k in ("decay_every", "eps"):
            continue
        if len(same) > 1 and all(c.params.get(k) == v for c in same):
            continue
        if len(same) == 1 and not (k == "lr" or (k in ("momentum", "noise") and v) or (k == "batch_size" and v > 1)):
            continue
        if k == "schedule":
            parts.append({"constant": "", "inverse": "η/k", "inverse_sqrt": "η/√k", "step": "halved"}.get(v, str(v)))
        elif k == "seed":
            parts.append(f"seed {v}")
        else:
            parts.append(f"{symbols.get(k, k)} = {fmt(v)}")
    parts = [p for p in parts if p]
    return short.get(config.name, config.name) + (" " + ", ".join(parts) if parts else "")


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill(text: str, values: dict) -> str:
    """The text with each ``{name}`` replaced by its computed value ("—" when the scene has none)."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "—")), text)


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))

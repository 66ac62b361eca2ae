"""Your own surface: a formula f(x, y) typed as text, with exact gradient and Hessian.

The text is parsed by Python's ``ast`` module and the tree is checked node by node
against a small whitelist; the symbolic expression is then built from those nodes
with sympy constructors. User text never reaches ``eval``, ``exec``, ``sympify`` or
``parse_expr`` (all of which evaluate Python). sympy differentiates the expression
and ``lambdify`` prints the derivatives as numpy code; that code is checked to name
nothing but x, y, its temporaries and the whitelisted functions before it is compiled.

Accepted:

- numbers ``|c| ≤ 1e6``, the variables ``x`` and ``y``, the constants ``pi`` (or ``π``) and ``e``;
- ``+ - * /`` and powers ``a ** p`` (``^`` is read as ``**``); the exponent ``p`` of an
  expression in x, y must be a constant with ``|p| ≤ 10``, and powers of powers may
  multiply up to 100 at most; a positive constant may be raised to any expression (``2**x``);
- the functions ``sin cos tan exp log sqrt abs tanh sinh cosh atan sigmoid softplus relu``,
  each with exactly one argument.

Bounds: at most 500 characters, 300 syntax nodes and 40 levels of nesting; constants stay
finite floats; exponents as above; derivatives of at most 2 000 (gradient) and 20 000
(Hessian) tree nodes. These make the work small but not provably so: sympy's automatic
simplification can take seconds on some 70-character formulas, and a thread cannot be
stopped. So the whitelist check runs here, at once, and the sympy work runs in a worker
process (``engine.formula.workers``) that is killed after ``FORMULA_TIMEOUT`` seconds.

Where the formula is undefined (``log`` of a negative, division by zero) the loss is
NaN: the plots show a gap and a run stepping there ends ``diverged``.

>>> s = CustomSurface(formula="x**2 + 3*y**2")
>>> s.value_and_grad([1.0, 2.0])[1].tolist(), s.hessian([1.0, 2.0]).tolist()
([2.0, 12.0], [[2.0, 0.0], [0.0, 6.0]])
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import numpy as np

from engine.formula.functions import FUNCTIONS, VARIABLES
from engine.formula.loader import DEFAULT_FORMULA, DEFAULT_VIEW, EXAMPLES, NAMESPACE, Compiled, compile_formula
from engine.formula.parser import (ALLOWED, MAX_CONSTANT, MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, FormulaError,
                                   check_formula, check_length, parse_formula)
from engine.formula.workers import FormulaBusy
from engine.params import Param, ParamError
from engine.surfaces.base import Surface, as_points
from engine.surfaces.critical import CriticalPoints, find_critical_points, seed_grid
from engine.surfaces.formula_twin import program

#: Largest |coordinate| of a view box, and its smallest width.
MAX_VIEW = 1e3
MIN_VIEW_SPAN = 1e-3

__all__ = ["CustomSurface", "FormulaError", "FormulaBusy", "Compiled", "compile_formula", "check_formula",
           "parse_formula", "grammar", "DEFAULT_FORMULA", "DEFAULT_VIEW", "EXAMPLES", "MAX_LENGTH", "MAX_VIEW",
           "MIN_VIEW_SPAN"]


def _evaluate(fn: Callable, p: np.ndarray) -> list[np.ndarray]:
    x, y = p[..., 0], p[..., 1]
    with np.errstate(all="ignore"):
        out = fn(x, y)
    # A constant derivative comes back as a Python number: broadcast it to the batch. Always a
    # fresh array: for f = x the code returns its input, a view of the caller's points.
    return [np.array(np.broadcast_to(_real(v), x.shape)) for v in out]


def _real(v) -> np.ndarray:
    v = np.asarray(v)
    if v.dtype.kind == "c":  # a second line: derive refuses complex constants
        v = np.where(v.imag == 0, v.real, np.nan)
    return v.astype(float, copy=False)


def _check_view(view) -> tuple[float, float, float, float]:
    if view is None:
        return DEFAULT_VIEW
    allowed = (f"(xmin, xmax, ymin, ymax): four finite numbers with |v| ≤ {MAX_VIEW:g}, "
               f"xmin < xmax and ymin < ymax, each span at least {MIN_VIEW_SPAN:g}")
    try:
        v = tuple(float(c) for c in view)
    except (TypeError, ValueError):
        raise ParamError("custom.view", view, allowed) from None
    if len(v) != 4 or not all(math.isfinite(c) and abs(c) <= MAX_VIEW for c in v):
        raise ParamError("custom.view", view, allowed)
    if not (v[1] - v[0] >= MIN_VIEW_SPAN and v[3] - v[2] >= MIN_VIEW_SPAN):
        raise ParamError("custom.view", view, allowed)
    return v


class CustomSurface(Surface):
    """f(x, y) given as text; gradient and Hessian are sympy's exact derivatives, compiled to numpy.

    Args:
      formula: the formula, e.g. ``"(1 - x)**2 + 100*(y - x**2)**2"``; see the module docstring
        for what is accepted. Errors are FormulaError (a ParamError) with the column.
      view: the plot box ``(xmin, xmax, ymin, ymax)``, default ``(-3, 3, -3, 3)``.

    >>> s = CustomSurface(formula="(1 - x)**2 + 100*(y - x**2)**2", view=(-2, 2, -1, 3))
    >>> s.value([1.0, 1.0]).item(), s.minima
    (0.0, [(1.0, 1.0)])
    """

    NAME = "custom"
    TITLE = "Your own formula"
    DESCRIPTION = (
        "Type any f(x, y): its exact gradient and Hessian are derived symbolically, so every optimizer, "
        "Newton's method included, and every theory panel works on it. Where the formula is undefined "
        "(the log of a negative number, a division by zero) the plot shows a gap and a run stepping there "
        "ends as diverged."
    )
    PARAMS = (
        Param("formula", DEFAULT_FORMULA, high=MAX_LENGTH, kind="text", label="f(x, y) =",
              description=f"A formula in x and y. Allowed: {ALLOWED}."),
    )

    def __init__(self, view=None, **params):
        self._view = _check_view(view)
        if isinstance(params.get("formula"), str):
            check_length(params["formula"])  # with a column, before the generic length check
        super().__init__(**params)

    def setup(self, formula: str) -> None:
        self.compiled = compile_formula(formula)

    TWIN = "formula"

    def twin_data(self):
        return program(self.compiled.code, NAMESPACE)

    @property
    def formula(self) -> str:
        return self.params["formula"]

    def value_and_grad(self, p):
        f, gx, gy = _evaluate(self.compiled.value_and_grad, as_points(p))
        return f, np.stack([gx, gy], -1)

    def hessian(self, p):
        xx, xy, yy = _evaluate(self.compiled.hess, as_points(p))
        return np.stack([np.stack([xx, xy], -1), np.stack([xy, yy], -1)], -2)

    @property
    def view(self):
        return self._view

    @property
    def minima(self):
        return _critical_points(self.formula, self._view)[0]

    @property
    def saddles(self):
        return _critical_points(self.formula, self._view)[1]

    def describe(self) -> dict:
        d = super().describe()
        d["expression"] = self.compiled.expression
        d["step_sizes"] = _step_sizes(self.formula, self._view)
        return d

    @classmethod
    def catalog_entry(cls) -> dict:
        entry = super().catalog_entry()
        entry["examples"] = [{"title": t, "formula": f, "view": list(v)} for t, f, v in EXAMPLES]
        entry["grammar"] = grammar()
        entry["view_limits"] = {"max": MAX_VIEW, "min_span": MIN_VIEW_SPAN}
        return entry

    def __repr__(self) -> str:
        return f"CustomSurface(formula={self.formula!r}, view={self._view!r})"


def grammar() -> dict:
    """What a formula may contain, for the page's help text and the API."""
    return {
        "variables": list(VARIABLES), "constants": ["pi", "e"], "operators": ["+", "-", "*", "/", "**", "^"],
        "functions": list(FUNCTIONS), "max_length": MAX_LENGTH, "max_constant": MAX_CONSTANT,
        "max_exponent": MAX_EXPONENT, "max_depth": MAX_DEPTH, "allowed": ALLOWED,
    }


@functools.lru_cache(maxsize=128)
def _critical_points(formula: str, view: tuple) -> CriticalPoints:
    """Minima and saddles inside the view: plain Newton (drawn to both) from a 9 × 9 grid of seeds,
    never further than a tenth of the view a step."""
    scale = max(view[1] - view[0], view[3] - view[2])
    return find_critical_points(
        CustomSurface(formula=formula, view=view), seed_grid(view, 9), inside=view,
        iters=60, max_step=0.1 * scale, curvature="exact", merge_distance=1e-6 * scale,
    )


@functools.lru_cache(maxsize=128)
def _step_sizes(formula: str, view: tuple) -> dict[str, float]:
    """Each optimizer's step size on this formula, from its largest curvature L = max |λ(∇²f)| over a
    41 × 41 grid of the view (the surfaces with a fixed formula declare theirs in STEP_SIZES instead).

    GD and SGD take 1/L, half the stability edge 2/L of the steepest spot; heavy ball and Nesterov
    0.5/L (their edges, 2(1 + β)/L for the heavy ball, are wider still); Newton the full step 1 where
    f is convex over the view and half a step where it is not (there the full step jumps to critical
    points far outside it); preconditioned GD 0.5. Adagrad, RMSprop and Adam move about η a step whatever the slope, so
    theirs are a share of the view's span. Two significant digits.
    """
    x0, x1, y0, y1 = view
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 41), np.linspace(y0, y1, 41)), -1).reshape(-1, 2)
    with np.errstate(all="ignore"):
        h = CustomSurface(formula=formula, view=view).hessian(grid)
        ok = np.isfinite(h).all(axis=(-2, -1))
        eig = np.linalg.eigvalsh(h[ok]) if ok.any() else np.zeros((1, 2))
    L = float(np.abs(eig).max())
    L = L if np.isfinite(L) and L > 1e-9 else 1.0
    convex = bool((eig > 0).all())
    span = max(x1 - x0, y1 - y0)
    sizes = {"gd": 1 / L, "sgd": 1 / L, "momentum": 0.5 / L, "nesterov": 0.5 / L, "newton": 1.0 if convex else 0.5,
             "preconditioned": 0.5, "adagrad": 0.1 * span, "rmsprop": 0.01 * span, "adam": 0.02 * span}
    return {k: float(f"{v:.2g}") for k, v in sizes.items()}

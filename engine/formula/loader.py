"""Compiling a formula: the whitelist check, the derivation (in a worker), and sympy's printed
numpy code checked name by name before it is compiled with no builtins. Cached by the text.
"""

from __future__ import annotations

import functools
import io
import re
import tokenize
from typing import Callable, NamedTuple

import numpy as np

from engine.formula.derive import derive
from engine.formula.functions import NUMPY
from engine.formula.parser import FormulaError, check_length, check_formula
from engine.formula.workers import FormulaBusy, derive_in_worker

DEFAULT_FORMULA = "x**2/4 + y**2 + sin(3*x)*cos(2*y)/2"
DEFAULT_VIEW = (-3.0, 3.0, -3.0, 3.0)

#: Formulas the page offers to start from: (title, formula, view).
EXAMPLES = (
    ("Bumpy bowl", DEFAULT_FORMULA, DEFAULT_VIEW),
    ("Six-hump camel", "(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (4*y**2 - 4)*y**2", (-2.0, 2.0, -1.2, 1.2)),
    ("Rosenbrock, typed", "(1 - x)**2 + 100*(y - x**2)**2", (-2.0, 2.0, -1.0, 3.0)),
    ("Beale, typed", "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2", (-4.5, 4.5, -4.5, 4.5)),
    ("Logistic loss", "softplus(-(2*x + y)) + softplus(x - 3*y) + 0.05*(x**2 + y**2)", (-6.0, 6.0, -6.0, 6.0)),
    ("Log barrier (gap for x < −2)", "x**2 + y**2 - log(x + 2)", DEFAULT_VIEW),
    ("A kink: |x| + y²", "abs(x) + y**2", (-2.0, 2.0, -2.0, 2.0)),
)


TRUSTED = frozenset([DEFAULT_FORMULA, *(f for _, f, _ in EXAMPLES)])


#: Names the printed numpy code may use, and what they are bound to when it is compiled.
NAMESPACE = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "arctan": np.arctan, "pi": np.pi, "e": np.e, **NUMPY,
}
_CODE_WORDS = {"def", "return", "_lambdifygenerated", "x", "y"}
_TEMPORARY = re.compile(r"x\d+")


def load_code(text: str, source: str) -> Callable:
    """Compile sympy's printed numpy code, after checking that it names nothing but x, y, its
    temporaries and the functions of ``NAMESPACE``; it runs with no builtins."""
    names = {t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.NAME}
    unexpected = {n for n in names if n not in _CODE_WORDS and n not in NAMESPACE and not _TEMPORARY.fullmatch(n)}
    if unexpected:
        raise FormulaError(text, 1, f"its derivatives use {', '.join(sorted(unexpected))}, which cannot be evaluated")
    namespace = {"__builtins__": {}, **NAMESPACE}
    exec(compile(source, "<formula>", "exec"), namespace)  # sympy's output, checked above; never user text
    return namespace["_lambdifygenerated"]


class Compiled(NamedTuple):
    """A formula's expression, exact derivatives and LaTeX (as text), and numpy functions evaluating them."""

    expression: str
    latex: str
    gradient: tuple[str, str]
    hessian: tuple[tuple[str, str], tuple[str, str]]
    value_and_grad: Callable
    hess: Callable


@functools.lru_cache(maxsize=256)
def _compile_cached(text: str) -> Compiled | FormulaError:
    try:
        check_formula(text)  # immediate refusals, without a worker
        # Our own examples are known to derive in milliseconds: no worker needed for the catalog.
        d = derive(text) if text in TRUSTED else derive_in_worker(text)
        return Compiled(d["expression"], d["latex"], tuple(d["gradient"]), tuple(map(tuple, d["hessian"])),
                        load_code(text, d["code"][0]), load_code(text, d["code"][1]))
    except FormulaBusy:
        raise  # the server's state, not the formula's: never cached
    except FormulaError as e:
        if "worker stopped" in e.problem:
            raise  # a crash is not the formula's answer either
        return e  # refusals are cached too: a slow formula costs its deadline once


def compile_formula(text: str) -> Compiled:
    """Check, differentiate twice and compile ``text`` to numpy; cached by the text.

    The whitelist check runs here; the sympy work runs in a worker process that is killed
    after ``FORMULA_TIMEOUT`` seconds (sympy's simplification can take seconds on some short
    formulas, and a thread cannot be stopped). Raises FormulaError with the column.
    """
    if isinstance(text, str):
        check_length(text)  # before hashing a megabyte into the cache
    result = _compile_cached(text)
    if isinstance(result, FormulaError):
        raise FormulaError(result.value, result.column, result.problem)
    return result



"""The vocabulary of a typed formula: its variables, constants and whitelisted functions.

Each function exists three times, kept together here: as a sympy constructor (the exact
derivatives), as a numpy function (what the printed derivative code calls) and as a float
function (a constant argument folded while parsing).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
import sympy as sp

X, Y = sp.symbols("x y", real=True)


class _Named(sp.Function):
    """A function sympy knows nothing about except what is declared here: it stays unevaluated,
    prints as ``name(u)`` (so a derivative can be typed back in) and is evaluated by ``NUMPY[name]``."""

    LATEX = ""

    def _sympystr(self, printer):
        return f"{self.NAME}({printer._print(self.args[0])})"

    def _latex(self, printer, exp=None):
        s = self.LATEX % printer._print(self.args[0])
        return s if exp is None else rf"{s}^{{{exp}}}"


class sigmoid(_Named):
    """σ(u) = 1 / (1 + exp(−u)), with σ' = σ(1 − σ)."""

    NAME, LATEX = "sigmoid", r"\sigma\left(%s\right)"

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)


class softplus(_Named):
    """log(1 + exp(u)), with derivative σ(u); evaluated as logaddexp(0, u), which never overflows."""

    NAME, LATEX = "softplus", r"\operatorname{softplus}\left(%s\right)"

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])


class sgn(_Named):
    """The sign of u, with derivative 0: abs and relu have a kink at 0, where the derivative
    jumps; a point has measure zero, and numpy's sign gives 0 there, the midpoint."""

    NAME, LATEX = "sign", r"\operatorname{sign}\left(%s\right)"

    @classmethod
    def eval(cls, u):
        if u.is_Number:
            return sp.sign(u)

    def fdiff(self, argindex=1):
        return sp.S.Zero


class absolute(_Named):
    """|u|, with derivative sign(u). sympy's own Abs would treat u as possibly complex
    (sympy cannot tell that log(x) or x**(1/3) are real where they are defined) and
    its derivative would then not print to numpy."""

    NAME, LATEX = "abs", r"\left|%s\right|"

    @classmethod
    def eval(cls, u):
        if u.is_Number:
            return abs(u)

    def fdiff(self, argindex=1):
        return sgn(self.args[0])


class relu(_Named):
    """max(u, 0), with derivative (1 + sign(u)) / 2."""

    NAME, LATEX = "relu", r"\operatorname{relu}\left(%s\right)"

    @classmethod
    def eval(cls, u):
        if u.is_Number:
            return sp.Max(u, 0)

    def fdiff(self, argindex=1):
        return (1 + sgn(self.args[0])) / 2


#: numpy implementations of the functions above, by class name, for lambdify.
NUMPY = {
    "sigmoid": lambda u: 0.5 * (1.0 + np.tanh(0.5 * np.asarray(u, dtype=float))),
    "softplus": lambda u: np.logaddexp(0.0, u),
    "sgn": np.sign,
    "absolute": np.abs,
    "relu": lambda u: np.maximum(u, 0.0),
}


def _py_sigmoid(u: float) -> float:
    return 0.5 * (1.0 + math.tanh(0.5 * u))


def _py_softplus(u: float) -> float:
    return max(u, 0.0) + math.log1p(math.exp(-abs(u)))


class _Fn(NamedTuple):
    build: Callable[[sp.Expr], sp.Expr]
    value: Callable[[float], float]  # for constant arguments, in floats


#: The whitelist of functions: name → (sympy constructor, float evaluation of a constant argument).
FUNCTIONS: dict[str, _Fn] = {
    "sin": _Fn(sp.sin, math.sin),
    "cos": _Fn(sp.cos, math.cos),
    "tan": _Fn(sp.tan, math.tan),
    "exp": _Fn(sp.exp, math.exp),
    "log": _Fn(sp.log, math.log),
    "sqrt": _Fn(sp.sqrt, math.sqrt),
    "abs": _Fn(absolute, abs),
    "tanh": _Fn(sp.tanh, math.tanh),
    "sinh": _Fn(sp.sinh, math.sinh),
    "cosh": _Fn(sp.cosh, math.cosh),
    "atan": _Fn(sp.atan, math.atan),
    "sigmoid": _Fn(sigmoid, _py_sigmoid),
    "softplus": _Fn(softplus, _py_softplus),
    "relu": _Fn(relu, lambda u: max(u, 0.0)),
}
VARIABLES = {"x": X, "y": Y}
CONSTANTS = {"pi": (sp.pi, math.pi), "π": (sp.pi, math.pi), "e": (sp.E, math.e)}



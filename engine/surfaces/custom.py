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
process (``_formula_worker``) that is killed after ``FORMULA_TIMEOUT`` seconds.

Where the formula is undefined (``log`` of a negative, division by zero) the loss is
NaN: the plots show a gap and a run stepping there ends ``diverged``.

>>> s = CustomSurface(formula="x**2 + 3*y**2")
>>> s.value_and_grad([1.0, 2.0])[1].tolist(), s.hessian([1.0, 2.0]).tolist()
([2.0, 12.0], [[2.0, 0.0], [0.0, 6.0]])
"""

from __future__ import annotations

import ast
import atexit
import functools
import inspect
import io
import json
import math
import operator
import os
import re
import select
import subprocess
import sys
import threading
import time
import tokenize
from typing import Any, Callable, NamedTuple

import numpy as np
import sympy as sp

from engine.params import Param, ParamError
from engine.surfaces.base import Surface, as_points
from engine.surfaces.critical import CriticalPoints, find_critical_points, seed_grid

MAX_LENGTH = 500
MAX_NODES = 300
MAX_DEPTH = 40
MAX_CONSTANT = 1e6
MAX_EXPONENT = 10.0
#: Product of the exponents along nested powers: ((x**10)**10) is x**100, the most allowed.
MAX_POWER = 100.0
#: Nodes of the printed gradient (both components) and Hessian (three entries): realistic
#: formulas stay far below (Beale: 93 and 153; a 100-character mix of functions: 217 and 916).
MAX_GRADIENT_SIZE = 2_000
MAX_HESSIAN_SIZE = 20_000
#: Largest |coordinate| of a view box, and its smallest width.
MAX_VIEW = 1e3
MIN_VIEW_SPAN = 1e-3

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

ALLOWED = (
    f"numbers up to {MAX_CONSTANT:g}, the variables x and y, the constants pi and e; "
    f"+ - * / and ** (or ^) with a constant exponent of at most {MAX_EXPONENT:g}; "
    f"and the functions {' '.join(FUNCTIONS)}, each of one argument"
)

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


_TRUSTED = frozenset([DEFAULT_FORMULA, *(f for _, f, _ in EXAMPLES)])


class FormulaError(ParamError):
    """A formula the whitelist refuses; ``column`` (1-based) points at the first offending character."""

    def __init__(self, formula: str, column: int, problem: str):
        super().__init__("custom.formula", formula, ALLOWED)
        self.column = column
        self.problem = problem
        self.args = (f"custom.formula: {problem} at column {column}; allowed: {ALLOWED}",)

    def __str__(self) -> str:
        return self.args[0]


# --- parsing ----------------------------------------------------------------

_SYNTAX_NAMES = {
    ast.Attribute: "attribute access '.'",
    ast.Subscript: "indexing '[…]'",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.NamedExpr: "an assignment ':='",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and' / 'or'",
    ast.IfExp: "'if … else'",
    ast.Starred: "a starred argument",
    ast.Tuple: "a tuple (a comma)",
    ast.List: "a list",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.JoinedStr: "an f-string",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield'",
    ast.Slice: "a slice",
}
_CONSTANT_KINDS = {str: "a string", bytes: "a bytes literal", complex: "a complex number", type(None): "None",
                   type(Ellipsis): "'...'", bool: "True or False"}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_FAMILY = {ast.Add: "sum", ast.Sub: "sum", ast.Mult: "product", ast.Div: "product"}
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_OTHER_OPS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
              ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}


def _check_length(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise FormulaError(text, MAX_LENGTH + 1, f"the formula has {len(text)} characters, more than {MAX_LENGTH}")


class _Node(NamedTuple):
    """A built subtree: its sympy expression (None when only checking), its float value when it
    has no x or y, and the product of exponents applied to it so far (bounds nested powers)."""

    expr: sp.Expr | None
    value: float | None
    power: float


class _Parser:
    """Checks the tree against the whitelist and, if ``symbolic``, builds the sympy expression.

    Checking alone runs no sympy code; it is what the server does before handing the text
    to a worker process, so every refusal the whitelist can make is immediate.
    """

    def __init__(self, text: str, symbolic: bool = True):
        self.symbolic = symbolic
        self.original = text
        if not isinstance(text, str):
            raise FormulaError(repr(text)[:80], 1, f"a formula must be text, not {type(text).__name__}")
        _check_length(text)
        for i, ch in enumerate(text):
            if ch != "\t" and (ord(ch) < 32 or ch in "\x7f\u2028\u2029"):
                raise FormulaError(text, i + 1, "a line break or control character is not allowed")
        # Leading blanks would be an indentation error; '^' means power, as people write it.
        lead = len(text) - len(text.lstrip(" \t"))
        if not text.strip():
            raise FormulaError(text, 1, "the formula is empty")
        chars: list[str] = []
        self.origin: list[int] = []  # origin[i]: index in the original text of chars[i]
        for i in range(lead, len(text)):
            if text[i] == "^":
                chars += "**"
                self.origin += [i, i]
            else:
                chars.append(text[i])
                self.origin.append(i)
        self.origin.append(len(text))
        self.text = "".join(chars)
        self.utf8 = self.text.encode("utf-8")
        self.nodes = 0

    # Columns: ast offsets are UTF-8 byte offsets in the rewritten text.
    def column(self, byte_offset: int) -> int:
        i = len(self.utf8[:byte_offset].decode("utf-8", "ignore"))
        return self.origin[min(i, len(self.origin) - 1)] + 1

    def fail(self, node_or_offset, problem: str):
        offset = node_or_offset if isinstance(node_or_offset, int) else getattr(node_or_offset, "col_offset", 0)
        raise FormulaError(self.original, self.column(offset), problem)

    def after(self, node) -> int:
        """Byte offset of the first token after ``node`` (an operator, a dot or a bracket)."""
        i = node.end_col_offset
        while i < len(self.utf8) and self.utf8[i:i + 1] in (b" ", b"\t", b")"):
            i += 1
        return i

    def parse(self) -> sp.Expr | None:
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as e:
            # SyntaxError.offset counts characters of the line, from 1.
            i = max(0, min((e.offset or 1) - 1, len(self.origin) - 1))
            hint = "; write 2*x, not 2x" if "decimal literal" in e.msg else ""
            raise FormulaError(self.original, self.origin[i] + 1, f"syntax error ({e.msg}{hint})") from None
        except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
            raise FormulaError(self.original, 1, f"cannot be parsed ({type(e).__name__})") from None
        # Count and bound the tree before building anything from it.
        self._check_shape(tree.body)
        expr = self.build(tree.body).expr
        if self.symbolic and expr.has(sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo):
            self.fail(tree.body, "the formula is not a real number anywhere")
        return expr

    def sym(self, make: Callable, *args):
        return make(*args) if self.symbolic else None

    def _check_shape(self, root) -> None:
        """Count nodes and measure nesting without recursion, before anything recurses on the tree.

        A chain of sums (a + b - c) or of products is one level, as sympy flattens it;
        every parenthesised group, function call, power and sign is one more.
        """
        stack = [(root, None, 1)]
        first = None  # the leftmost syntax the whitelist refuses: (offset, problem)
        while stack:
            node, parent, d = stack.pop()
            self.nodes += 1
            if self.nodes > MAX_NODES:
                self.fail(node, f"the formula is too long: more than {MAX_NODES} numbers, names and operations")
            if d > MAX_DEPTH:
                self.fail(node, f"the formula nests more than {MAX_DEPTH} levels deep")
            problem = self._unsupported(node, parent)
            if problem and (first is None or problem[0] < first[0]):
                first = problem
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.expr_context, ast.operator, ast.unaryop)):
                    continue
                chain = isinstance(node, ast.BinOp) and isinstance(child, ast.BinOp) and \
                    _FAMILY.get(type(node.op), node) == _FAMILY.get(type(child.op), child)
                stack.append((child, node, d if chain else d + 1))
        if first:
            self.fail(*first)

    def _unsupported(self, node, parent) -> tuple[int, str] | None:
        """Where (a byte offset) and why ``node`` is outside the whitelist, judged by its kind alone."""
        if isinstance(node, ast.BinOp) and type(node.op) not in _BINOPS:
            return self.after(node.left), f"the operator '{_OTHER_OPS.get(type(node.op), '?')}' is not allowed"
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.UAdd, ast.USub)):
            return node.col_offset, f"the operator '{'not' if isinstance(node.op, ast.Not) else '~'}' is not allowed"
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, (int, float))):
            return node.col_offset, f"{_CONSTANT_KINDS.get(type(node.value), 'this constant')} is not allowed"
        if isinstance(node, ast.Name):
            name = node.id[:40]
            if isinstance(parent, ast.Call) and parent.func is node:
                if node.id in VARIABLES or node.id in CONSTANTS:
                    return node.col_offset, (f"calling '{name}' is not allowed: it is not a function "
                                             f"(write {name}*(…) to multiply)")
                if node.id not in FUNCTIONS:
                    return node.col_offset, f"the function '{name}' is not allowed"
            elif node.id in FUNCTIONS:
                return node.col_offset, f"the function name '{name}' without a call is not allowed"
            elif node.id not in VARIABLES and node.id not in CONSTANTS:
                return node.col_offset, f"the name '{name}' is not allowed"
            return None
        if isinstance(node, ast.Call) and not isinstance(node.func, ast.Name):
            return self.after(node.func), "calling the result of an expression is not allowed"
        if isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Constant)):
            return None
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return self.after(node.value), f"{_SYNTAX_NAMES[type(node)]} is not allowed"
        if isinstance(node, ast.Compare):
            return self.after(node.left), f"{_SYNTAX_NAMES[ast.Compare]} is not allowed"
        if isinstance(node, ast.BoolOp):
            return self.after(node.values[0]), f"{_SYNTAX_NAMES[ast.BoolOp]} is not allowed"
        if isinstance(node, ast.Tuple) and node.elts:
            return self.after(node.elts[0]), f"{_SYNTAX_NAMES[ast.Tuple]} is not allowed"
        if isinstance(node, ast.keyword):
            return node.col_offset, "a keyword argument is not allowed: each function takes one argument"
        if not hasattr(node, "col_offset"):
            return None  # a part of a refused node (a comprehension's clauses, a lambda's arguments)
        return node.col_offset, f"{_SYNTAX_NAMES.get(type(node), type(node).__name__)} is not allowed"

    # --- building -----------------------------------------------------------
    def build(self, node) -> _Node:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, (ast.UAdd, ast.USub)):
                a = self.build(node.operand)
                if isinstance(node.op, ast.UAdd):
                    return a
                return _Node(self.sym(operator.neg, a.expr), None if a.value is None else -a.value, a.power)
            self.fail(node, f"the operator '{'not' if isinstance(node.op, ast.Not) else '~'}' is not allowed")
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        # _check_shape has refused everything else already; this is a second line.
        self.fail(*(self._unsupported(node, None) or (node.col_offset, "this syntax is not allowed")))

    def constant(self, node: ast.Constant) -> _Node:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(node, f"{_CONSTANT_KINDS.get(type(v), 'this constant')} is not allowed")
        if not abs(v) <= MAX_CONSTANT:  # also catches 1e999 == inf
            self.fail(node, f"the number {_short(v)} is too large: at most {MAX_CONSTANT:g}")
        return _Node(self.sym(sp.Integer if isinstance(v, int) else sp.Float, v), float(v), 1.0)

    def name(self, node: ast.Name) -> _Node:
        if node.id in VARIABLES:
            return _Node(VARIABLES[node.id], None, 1.0)
        if node.id in CONSTANTS:
            expr, value = CONSTANTS[node.id]
            return _Node(expr, value, 1.0)
        self.fail(*self._unsupported(node, None))

    def binop(self, node: ast.BinOp) -> _Node:
        op = type(node.op)
        a, b = self.build(node.left), self.build(node.right)
        power = max(a.power, b.power)
        if op is ast.Pow:
            return self.pow(node, a, b)
        if op is ast.Div and b.value == 0:
            self.fail(node.right, "division by zero")
        arithmetic = _ARITHMETIC[op]
        value = None
        if a.value is not None and b.value is not None:
            value = self.evaluate(node, lambda: arithmetic(a.value, b.value))
        expr = self.sym(arithmetic, a.expr, b.expr)
        if op is ast.Div and self.symbolic and expr.has(sp.zoo, sp.nan):
            self.fail(node.right, "division by zero (the denominator is identically zero)")
        return _Node(expr, value, power)

    def pow(self, node: ast.BinOp, a: _Node, b: _Node) -> _Node:
        if b.value is None:
            # A variable exponent is fine on a positive constant base (2**x = exp(x log 2)).
            if a.value is None:
                self.fail(node.right, "an exponent that depends on x or y is not allowed on a base that does too "
                                      "(write exp(y*log(x)) for x**y)")
            if not a.value > 0:
                self.fail(node.left, "a base ≤ 0 under an exponent that depends on x or y is not allowed")
            return _Node(self.sym(operator.pow, a.expr, b.expr), None, max(a.power, b.power))
        if not abs(b.value) <= MAX_EXPONENT:
            self.fail(node.right, f"the exponent {_short(b.value)} is too large: at most {MAX_EXPONENT:g} in size")
        power = a.power * max(1.0, abs(b.value))
        if power > MAX_POWER:
            self.fail(node.right, f"powers of powers multiply to {_short(power)}: at most {MAX_POWER:g}")
        value = None
        if a.value is not None:
            if a.value == 0 and b.value < 0:
                self.fail(node, "division by zero (0 to a negative power)")
            value = self.evaluate(node, lambda: a.value ** b.value)
        return _Node(self.sym(operator.pow, a.expr, b.expr), value, power)

    def call(self, node: ast.Call) -> _Node:
        # _check_shape has refused other callees, keywords and starred arguments already.
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            self.fail(node, "this call is not allowed")
        name = node.func.id
        if len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            where = node.args[1] if len(node.args) > 1 else self.after(node.func)
            self.fail(where, f"{name} takes exactly one argument, not {len(node.args)}")
        fn = FUNCTIONS[name]
        a = self.build(node.args[0])
        value = None
        if a.value is not None:
            value = self.evaluate(node, lambda: fn.value(a.value), f"{name}({_short(a.value)})")
        return _Node(self.sym(fn.build, a.expr), value, a.power)

    def evaluate(self, node, compute: Callable[[], Any], what: str = "this constant") -> float:
        """A constant's value as a float: it must exist (no log(−1), 0⁻¹) and stay finite."""
        try:
            v = compute()
        except ZeroDivisionError:
            self.fail(node, "division by zero")
        except OverflowError:
            self.fail(node, f"{what} overflows a float")
        except ValueError:
            self.fail(node, f"{what} is undefined (outside the function's domain)")
        if isinstance(v, complex):
            self.fail(node, f"{what} is a complex number (a negative number to a fractional power)")
        if not math.isfinite(v):
            self.fail(node, f"{what} overflows a float")
        return float(v)


def _short(v: float) -> str:
    return f"{v:.6g}"


def check_formula(text: str) -> None:
    """Refuse, with the column, anything the whitelist does not accept; runs no sympy code.

    >>> try:
    ...     check_formula("x.__class__")
    ... except FormulaError as e:
    ...     print(e.column, e.problem)
    2 attribute access '.' is not allowed
    """
    _Parser(text, symbolic=False).parse()


def parse_formula(text: str) -> sp.Expr:
    """The sympy expression of a whitelisted formula in x and y, or FormulaError saying where it fails.

    This builds the expression in the calling process, and sympy's simplification while
    building cannot be interrupted: untrusted text goes through ``compile_formula``, which
    does this work in a worker process under a deadline.

    >>> parse_formula("x^2 + sin(pi*y)/2")
    x**2 + sin(pi*y)/2
    """
    return _Parser(text).parse()


# --- deriving, in a worker process ------------------------------------------

#: Seconds a worker may spend building, differentiating and printing one formula.
FORMULA_TIMEOUT = 2.0
#: Seconds allowed for a worker process to start (it imports sympy once).
STARTUP_TIMEOUT = 60.0

_EXPECTED = (sp.Symbol, sp.Number, sp.NumberSymbol, sp.Add, sp.Mul, sp.Pow, sp.sin, sp.cos, sp.tan, sp.exp, sp.log,
             sp.tanh, sp.sinh, sp.cosh, sp.atan, sigmoid, softplus, sgn, absolute, relu)


def _real_functions(e: sp.Expr) -> sp.Expr:
    # sympy rewrites sqrt(x**2) as its Abs(x): use our abs, whose derivative is plain.
    if e.has(sp.Abs, sp.sign):
        e = e.replace(sp.Abs, absolute).replace(sp.sign, sgn)
    return e


def _check_tree(text: str, exprs, budget: int, what: str) -> None:
    """Refuse a tree larger than ``budget`` nodes (counted with an early stop), or holding
    anything but numbers, x, y and the whitelisted functions."""
    n = 0
    for e in exprs:
        for node in sp.preorder_traversal(e):
            n += 1
            if n > budget:
                raise FormulaError(text, 1, f"the {what} is too large to evaluate quickly (more than {budget} "
                                            "terms and factors); use fewer factors or less nesting")
            if not isinstance(node, _EXPECTED):
                raise FormulaError(text, 1, f"its {what} holds {type(node).__name__}, which cannot be evaluated")
            if isinstance(node, sp.Pow) and node.base.is_Number and node.base < 0 and not node.exp.is_Integer:
                # sympy writes (-cosh(x))**(1/3) as (-1)**(1/3)*cosh(x)**(1/3): complex wherever it is defined.
                raise FormulaError(text, 1, f"its {what} holds {node}, a complex number: the formula is undefined "
                                            "everywhere (a negative quantity to a fractional power)")


def derive(text: str) -> dict:
    """Parse ``text``, differentiate twice and print numpy code: the work a worker process does.

    Returns strings only: the expression, its derivatives and LaTeX, and the source of two
    numpy functions ``(x, y) -> [f, fx, fy]`` and ``(x, y) -> [fxx, fxy, fyy]`` printed by
    sympy's lambdify (with common subexpressions eliminated).
    """
    f = _real_functions(parse_formula(text))
    _check_tree(text, (f,), MAX_GRADIENT_SIZE, "expression")
    gx, gy = (_real_functions(sp.diff(f, v)) for v in (X, Y))
    _check_tree(text, (gx, gy), MAX_GRADIENT_SIZE, "gradient")
    hxx, hxy, hyy = (_real_functions(e) for e in (sp.diff(gx, X), sp.diff(gx, Y), sp.diff(gy, Y)))
    _check_tree(text, (hxx, hxy, hyy), MAX_HESSIAN_SIZE, "Hessian")
    modules = [{name: None for name in NUMPY}, "numpy"]  # printing only needs the names
    code = [inspect.getsource(sp.lambdify((X, Y), list(exprs), modules=modules, cse=True))
            for exprs in ((f, gx, gy), (hxx, hxy, hyy))]
    return {
        "expression": str(f), "latex": sp.latex(f),
        "gradient": [str(gx), str(gy)], "hessian": [[str(hxx), str(hxy)], [str(hxy), str(hyy)]],
        "code": code,
    }


class _Worker:
    """A Python process running ``engine.surfaces._formula_worker``: one formula in, one answer out.

    It is started once (importing sympy takes about a second) and reused; it is killed when
    an answer is late, and replaced on the next request.
    """

    def __init__(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "engine.surfaces._formula_worker", str(FORMULA_TIMEOUT)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)
        self.buffer = b""
        self.served = 0
        self.ready = False

    def read(self, timeout: float) -> dict | None:
        """The next line the worker writes, as JSON; None if none comes within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def ask(self, text: str) -> dict | None:
        if not self.ready:
            # Only the derivation runs against the deadline, not the worker's start.
            if self.read(STARTUP_TIMEOUT) is None:
                raise EOFError
            self.ready = True
        self.proc.stdin.write(json.dumps({"formula": text}).encode() + b"\n")
        self.proc.stdin.flush()
        self.served += 1
        return self.read(FORMULA_TIMEOUT)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            stream.close()


#: Workers running at once (each derives one formula at a time), and the answers one serves
#: before it is replaced, which bounds the memory sympy's caches can take.
MAX_WORKERS = max(2, os.cpu_count() or 1)
MAX_SERVED = 500
_idle: list[_Worker] = []
_pool_lock = threading.Lock()
_slots = threading.BoundedSemaphore(MAX_WORKERS)


def start_worker() -> None:
    """Start a worker now (it takes about a second to import sympy), so the first formula a
    user types is not the one that waits for it; a server may call this at startup."""
    with _pool_lock:
        if not _idle:
            _idle.append(_Worker())


@atexit.register
def _stop_workers() -> None:
    with _pool_lock:
        workers, _idle[:] = list(_idle), []
    for worker in workers:
        worker.kill()


def _derive_in_worker(text: str) -> dict:
    with _slots:
        with _pool_lock:
            worker = _idle.pop() if _idle else None
        if worker is None:
            worker = _Worker()
        try:
            answer = worker.ask(text)
        except (EOFError, OSError, ValueError):
            worker.kill()
            raise FormulaError(text, 1, "the formula worker stopped before it answered; try again") from None
        if answer is None:
            worker.kill()
            with _pool_lock:  # its replacement starts now, ready by the next request
                _idle.append(_Worker())
            raise FormulaError(text, 1, f"the formula takes longer than {FORMULA_TIMEOUT:g} s to differentiate; "
                                        "simplify it")
        if worker.served < MAX_SERVED:
            with _pool_lock:
                _idle.append(worker)
        else:
            worker.kill()
    if "error" in answer:
        column, problem = answer["error"]
        raise FormulaError(text, column, problem)
    return answer["ok"]


#: Names the printed numpy code may use, and what they are bound to when it is compiled.
_NAMESPACE = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "arctan": np.arctan, "pi": np.pi, "e": np.e, **NUMPY,
}
_CODE_WORDS = {"def", "return", "_lambdifygenerated", "x", "y"}
_TEMPORARY = re.compile(r"x\d+")


def _load(text: str, source: str) -> Callable:
    """Compile sympy's printed numpy code, after checking that it names nothing but x, y, its
    temporaries and the functions of ``_NAMESPACE``; it runs with no builtins."""
    names = {t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.NAME}
    unexpected = {n for n in names if n not in _CODE_WORDS and n not in _NAMESPACE and not _TEMPORARY.fullmatch(n)}
    if unexpected:
        raise FormulaError(text, 1, f"its derivatives use {', '.join(sorted(unexpected))}, which cannot be evaluated")
    namespace = {"__builtins__": {}, **_NAMESPACE}
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
        d = derive(text) if text in _TRUSTED else _derive_in_worker(text)
        return Compiled(d["expression"], d["latex"], tuple(d["gradient"]), tuple(map(tuple, d["hessian"])),
                        _load(text, d["code"][0]), _load(text, d["code"][1]))
    except FormulaError as e:
        return e  # refusals are cached too: a slow formula costs its deadline once


def compile_formula(text: str) -> Compiled:
    """Check, differentiate twice and compile ``text`` to numpy; cached by the text.

    The whitelist check runs here; the sympy work runs in a worker process that is killed
    after ``FORMULA_TIMEOUT`` seconds (sympy's simplification can take seconds on some short
    formulas, and a thread cannot be stopped). Raises FormulaError with the column.
    """
    if isinstance(text, str):
        _check_length(text)  # before hashing a megabyte into the cache
    result = _compile_cached(text)
    if isinstance(result, FormulaError):
        raise FormulaError(result.value, result.column, result.problem)
    return result


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
            _check_length(params["formula"])  # with a column, before the generic length check
        super().__init__(**params)

    def setup(self, formula: str) -> None:
        self.compiled = compile_formula(formula)

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

"""Parsing a typed formula against the whitelist: text → sympy expression, or a FormulaError
naming the column. User text never reaches eval, exec, sympify or parse_expr.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any, Callable, NamedTuple

import sympy as sp

from engine.formula.functions import CONSTANTS, FUNCTIONS, VARIABLES
from engine.params import ParamError

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

ALLOWED = (
    f"numbers up to {MAX_CONSTANT:g}, the variables x and y, the constants pi and e; "
    f"+ - * / and ** (or ^) with a constant exponent of at most {MAX_EXPONENT:g}; "
    f"and the functions {' '.join(FUNCTIONS)}, each of one argument"
)


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


def check_length(text: str) -> None:
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
        check_length(text)
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
    """A number for a message; never raises (an integer literal may be too large for a float).

    >>> _short(1.5e300), _short(-10**400)
    ('1.5e+300', '-100000…(401 digits)')
    """
    if isinstance(v, int) and not -1e300 < v < 1e300:
        try:
            text = str(abs(v))
        except ValueError:  # past Python's 4300-digit limit for str(int)
            return f"{'-' if v < 0 else ''}an integer of about {int(v.bit_length() * 0.30103) + 1} digits"
        return f"{'-' if v < 0 else ''}{text[:6]}…({len(text)} digits)"
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



"""Differentiating a formula twice with sympy and printing the derivatives as numpy code.

This is the slow part (sympy's simplification can take seconds on some short formulas), so
the server runs it in a worker process (engine.formula.workers), never on its own threads.
"""

from __future__ import annotations

import inspect

import sympy as sp

from engine.formula.functions import NUMPY, X, Y, absolute, relu, sgn, sigmoid, softplus
from engine.formula.parser import MAX_GRADIENT_SIZE, MAX_HESSIAN_SIZE, FormulaError, parse_formula


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



"""The compiled twin of a typed formula: the very numpy code the reference runs, as a program of numpy operations.

``CustomSurface`` evaluates its formula with the numpy source sympy printed (``Compiled.code``):
a few assignments ``x0 = sin(3*x)`` and a ``return [f, fx, fy]``, each operator and call one numpy
operation on arrays. ``program`` reads that same source (Python's ``ast``, never ``eval``) and
writes every array operation down as one instruction of a small program; sub-expressions without
x or y are computed here, in Python, exactly as the reference computes them. ``formula_twin`` runs
the program for one point: + − × ÷ and negation in scalar arithmetic (exact, as numpy's), every
other function (sin, exp, tanh, power, …) through numpy's own loop (``engine.twins.ufunc``), with the
strides the reference's arrays have. No formula is ever compiled by numba: one interpreter runs them all.
"""

from __future__ import annotations

import ast
import operator

import numpy as np

from engine.twins import (UFUNC_ABSOLUTE, UFUNC_ARCTAN, UFUNC_COS, UFUNC_COSH, UFUNC_EXP, UFUNC_LOG, UFUNC_LOGADDEXP,
                          UFUNC_MAXIMUM, UFUNC_POWER, UFUNC_RECIPROCAL, UFUNC_SIGN, UFUNC_SIN, UFUNC_SINH, UFUNC_SQRT,
                          UFUNC_SQUARE, UFUNC_TAN, UFUNC_TANH, call_loop, twin)

#: Instructions: (opcode, ufunc, a, b, out) over registers; registers 0 and 1 hold x and y.
OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_NEG, OP_UFUNC1, OP_UFUNC2 = range(7)
WIDTH = 5
#: ints: registers, constants, instructions of value_and_grad and of hessian, then their 3 + 3 output registers.
HEADER = 10
_ARITH = {ast.Add: (OP_ADD, operator.add), ast.Sub: (OP_SUB, operator.sub), ast.Mult: (OP_MUL, operator.mul),
          ast.Div: (OP_DIV, operator.truediv)}
_UNARY = {"sin": UFUNC_SIN, "cos": UFUNC_COS, "tan": UFUNC_TAN, "exp": UFUNC_EXP, "log": UFUNC_LOG,
          "sqrt": UFUNC_SQRT, "tanh": UFUNC_TANH, "sinh": UFUNC_SINH, "cosh": UFUNC_COSH, "arctan": UFUNC_ARCTAN,
          "sgn": UFUNC_SIGN, "absolute": UFUNC_ABSOLUTE}
X, Y = 0, 1


class _Unsupported(Exception):
    pass


class _Builder:
    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.consts: list[float] = []
        self.ops: list[tuple[int, int, int, int, int]] = []
        self.next = 2  # registers 0, 1: x and y; constants follow once counted

    def reg(self) -> int:
        self.next += 1
        return self.next - 1

    def const(self, v) -> int:
        self.consts.append(float(np.float64(v)))
        return -len(self.consts)  # placed after the temporaries once all are known

    def emit(self, op, fn, a, b) -> int:
        out = self.reg()
        self.ops.append((op, fn, a, b, out))
        return out

    def value(self, node, env):
        """(True, register) for an array, (False, python value) for a constant."""
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if node.id in ("pi", "e"):
                return False, self.namespace[node.id]
            raise _Unsupported(node.id)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return False, node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            is_reg, v = self.value(node.operand, env)
            if not is_reg:
                return False, -v if isinstance(node.op, ast.USub) else +v
            return (True, self.emit(OP_NEG, 0, v, 0)) if isinstance(node.op, ast.USub) else (True, v)
        if isinstance(node, ast.BinOp):
            return self.binop(node, env)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1 and not node.keywords:
            return self.call(node.func.id, node.args[0], env)
        raise _Unsupported(ast.dump(node))

    def operand(self, is_reg, v) -> int:
        return v if is_reg else self.const(v)

    def binop(self, node, env):
        (ra, a), (rb, b) = self.value(node.left, env), self.value(node.right, env)
        if not (ra or rb):  # Python arithmetic on Python numbers, as the reference does it
            op = _ARITH.get(type(node.op), (None, operator.pow if isinstance(node.op, ast.Pow) else None))[1]
            if op is None:
                raise _Unsupported(ast.dump(node))
            return False, op(a, b)
        if type(node.op) in _ARITH:
            return True, self.emit(_ARITH[type(node.op)][0], 0, self.operand(ra, a), self.operand(rb, b))
        if not isinstance(node.op, ast.Pow):
            raise _Unsupported(ast.dump(node))
        if ra and not rb:  # ndarray ** python number: numpy's fast paths for 2, -1 and 0.5
            if type(b) is int and b == 2:
                return True, self.emit(OP_UFUNC1, UFUNC_SQUARE, a, 0)
            if type(b) is int and b == -1:
                return True, self.emit(OP_UFUNC1, UFUNC_RECIPROCAL, a, 0)
            if type(b) is float and b == 0.5:
                return True, self.emit(OP_UFUNC1, UFUNC_SQRT, a, 0)
        return True, self.emit(OP_UFUNC2, UFUNC_POWER, self.operand(ra, a), self.operand(rb, b))

    def call(self, name, arg, env):
        is_reg, u = self.value(arg, env)
        if not is_reg:
            if name not in self.namespace:
                raise _Unsupported(name)
            return False, self.namespace[name](u)  # numpy on a Python number, as the reference does
        if name in _UNARY:
            return True, self.emit(OP_UFUNC1, _UNARY[name], u, 0)
        if name == "sigmoid":  # 0.5 * (1.0 + tanh(0.5 * u))
            t = self.emit(OP_UFUNC1, UFUNC_TANH, self.emit(OP_MUL, 0, self.const(0.5), u), 0)
            return True, self.emit(OP_MUL, 0, self.const(0.5), self.emit(OP_ADD, 0, self.const(1.0), t))
        if name == "softplus":  # logaddexp(0.0, u)
            return True, self.emit(OP_UFUNC2, UFUNC_LOGADDEXP, self.const(0.0), u)
        if name == "relu":  # maximum(u, 0.0)
            return True, self.emit(OP_UFUNC2, UFUNC_MAXIMUM, u, self.const(0.0))
        raise _Unsupported(name)

    def function(self, source: str) -> list[int]:
        """Instructions for one printed function; returns the registers of its three results."""
        fn = ast.parse(source).body[0]
        env = {"x": (True, X), "y": (True, Y)}
        outs = []
        for stmt in fn.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                env[stmt.targets[0].id] = self.value(stmt.value, env)
            elif isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.List) and len(stmt.value.elts) == 3:
                for e in stmt.value.elts:
                    is_reg, v = self.value(e, env)
                    outs.append(v if is_reg else self.const(v))
            else:
                raise _Unsupported(ast.dump(stmt))
        if len(outs) != 3:
            raise _Unsupported("no return")
        return outs


def program(code: tuple[str, str], namespace: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """(floats, ints) of the twin for printed ``code`` = (value_and_grad source, hessian source), or None."""
    b = _Builder(namespace)
    try:
        outs = b.function(code[0])
        n_vg = len(b.ops)
        outs += b.function(code[1])
    except (_Unsupported, SyntaxError, ValueError, TypeError, OverflowError, ZeroDivisionError):
        return None
    first_const = b.next
    place = lambda r: first_const + (-r - 1) if r < 0 else r  # noqa: E731
    n_regs = first_const + len(b.consts)
    header = [n_regs, len(b.consts), n_vg, len(b.ops) - n_vg] + [place(r) for r in outs]
    body = [v for op in b.ops for v in (op[0], op[1], place(op[2]), place(op[3]), place(op[4]))]
    return np.array(b.consts, dtype=float), np.array(header + body, dtype=np.int64)


@twin
def _stride(r, first_const):
    """The byte stride of register r's operand in the reference: x and y are columns of the (K, 2)
    points, a constant is a broadcast scalar, anything else a fresh contiguous array."""
    if r <= Y:
        return 16
    return 0 if r >= first_const else 8


@twin
def _run(ip, loops, regs, first, count):
    c = ip[0] - ip[1]  # the first constant's register
    for k in range(first, first + count):
        at = HEADER + WIDTH * k
        op, fn, a, b, out = ip[at], ip[at + 1], ip[at + 2], ip[at + 3], ip[at + 4]
        if op == OP_ADD:
            regs[out] = regs[a] + regs[b]
        elif op == OP_SUB:
            regs[out] = regs[a] - regs[b]
        elif op == OP_MUL:
            regs[out] = regs[a] * regs[b]
        elif op == OP_DIV:
            regs[out] = regs[a] / regs[b]
        elif op == OP_NEG:
            regs[out] = -regs[a]
        elif op == OP_UFUNC1:
            call_loop(loops[fn, 0], loops[fn, 1], 1, regs[a:].ctypes.data, _stride(a, c), regs[out:].ctypes.data,
                      8, 0, 0)
        else:
            call_loop(loops[fn, 0], loops[fn, 1], 1, regs[a:].ctypes.data, _stride(a, c), regs[b:].ctypes.data,
                      _stride(b, c), regs[out:].ctypes.data, 8)


@twin
def _load_registers(sp, ip, work, x, y):
    regs = work[15]
    regs[X], regs[Y] = x, y
    n_regs, n_consts = ip[0], ip[1]
    for c in range(n_consts):
        regs[n_regs - n_consts + c] = sp[c]
    return regs


@twin
def formula_twin(sp, ip, loops, work, x, y):
    """``CustomSurface.value_and_grad`` at one point: the program's first part."""
    regs = _load_registers(sp, ip, work, x, y)
    _run(ip, loops, regs, 0, ip[2])
    return regs[ip[4]], regs[ip[5]], regs[ip[6]]


@twin
def formula_hessian_twin(sp, ip, loops, work, x, y):
    """``CustomSurface.hessian`` at one point: the program's second part."""
    regs = _load_registers(sp, ip, work, x, y)
    _run(ip, loops, regs, ip[2], ip[3])
    return regs[ip[7]], regs[ip[8]], regs[ip[9]]

"""Compiled twins: the scalar code numba compiles, written beside the numpy it must equal.

The numpy code in ``engine/surfaces`` and ``engine/transforms.py`` is the reference: readable,
batched over arrays, and what ``LOSSLAB_ACCEL=0`` runs. Beside each surface and each update
rule sits its *twin*: the same formula for one point (or one row of hyperparameters) in plain
scalar Python, marked ``@twin``. ``engine.accel`` compiles every twin with numba when the fast
path is wanted; until then (and without numba) they are ordinary Python functions.

A twin must give the reference's bits, so it repeats the reference's operations in the
reference's order, with no fused multiply-add and no reassociation (numba's default, not
``fastmath``). Where the reference calls a numpy function whose result numpy computes with its
own SIMD code (``np.tanh``, ``np.exp``, ``np.sin``, ``np.power`` …, which differ from the C
library in the last bit on processors with AVX-512), the twin calls *numpy's own loop* for that
function through ``ufunc`` below, so both paths run the very same machine code.
"""

from __future__ import annotations

import ctypes
from typing import Callable

import numpy as np

#: Every function marked @twin, in definition order (callees before callers); engine.accel compiles them.
TWINS: list[Callable] = []


def twin(fn: Callable) -> Callable:
    """Mark ``fn`` as the compiled twin of a numpy reference (see the module docstring)."""
    TWINS.append(fn)
    return fn


# --- numpy's own loops -------------------------------------------------------------------

#: The numpy functions a twin may need, with their float64 loop; ``UFUNC_TANH`` etc. index this table.
UFUNCS = (np.tanh, np.exp, np.log, np.sin, np.cos, np.tan, np.sinh, np.cosh, np.arctan, np.sqrt, np.logaddexp,
          np.power, np.sign, np.absolute, np.maximum, np.square, np.reciprocal)
(UFUNC_TANH, UFUNC_EXP, UFUNC_LOG, UFUNC_SIN, UFUNC_COS, UFUNC_TAN, UFUNC_SINH, UFUNC_COSH, UFUNC_ARCTAN,
 UFUNC_SQRT, UFUNC_LOGADDEXP, UFUNC_POWER, UFUNC_SIGN, UFUNC_ABSOLUTE, UFUNC_MAXIMUM, UFUNC_SQUARE,
 UFUNC_RECIPROCAL) = range(len(UFUNCS))


class _UFuncHead(ctypes.Structure):
    """The start of numpy's public ``PyUFuncObject`` (numpy/ufuncobject.h), up to the loop table."""

    _fields_ = [("ob_refcnt", ctypes.c_ssize_t), ("ob_type", ctypes.c_void_p), ("nin", ctypes.c_int),
                ("nout", ctypes.c_int), ("nargs", ctypes.c_int), ("identity", ctypes.c_int),
                ("functions", ctypes.POINTER(ctypes.c_void_p)), ("data", ctypes.POINTER(ctypes.c_void_p)),
                ("ntypes", ctypes.c_int), ("reserved1", ctypes.c_int), ("name", ctypes.c_char_p),
                ("types", ctypes.POINTER(ctypes.c_char))]


def _float64_loop(uf: np.ufunc) -> tuple[int, int]:
    """(address of the inner loop numpy runs for ``uf`` on float64 arrays, its data pointer)."""
    head = _UFuncHead.from_address(id(uf))
    if head.name.decode() != uf.__name__ or head.nargs != uf.nargs:
        raise RuntimeError(f"numpy's ufunc layout is not the expected one (at {uf.__name__})")
    want = bytes([np.dtype(np.float64).num]) * uf.nargs
    for i in range(head.ntypes):
        if bytes(head.types[i * uf.nargs + j][0] for j in range(uf.nargs)) == want:
            return head.functions[i] or 0, head.data[i] or 0
    raise RuntimeError(f"numpy has no float64 loop for {uf.__name__}")


def ufunc_loops() -> np.ndarray:
    """``(len(UFUNCS), 2)`` int64: each function's loop address and data pointer, for the kernel."""
    return np.array([_float64_loop(uf) for uf in UFUNCS], dtype=np.int64)


_LOOP = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


def call_loop(fn: int, data: int, n: int, p0: int, s0: int, p1: int, s1: int, p2: int, s2: int) -> None:
    """Run a numpy inner loop on ``n`` elements: operands at addresses p0, p1 (p2) with byte strides.

    The Python form (slow, for calling a twin uncompiled); engine.accel compiles calls to it into
    a direct call of the loop.
    """
    args = (ctypes.c_void_p * 3)(int(p0), int(p1), int(p2))
    steps = (ctypes.c_ssize_t * 3)(s0, s1, s2)
    dims = (ctypes.c_ssize_t * 1)(n)
    _LOOP(int(fn))(ctypes.addressof(args), ctypes.addressof(dims), ctypes.addressof(steps), int(data) or None)


@twin
def ufunc(loops, which, src, dst, n):
    """dst[:n] = f(src[:n]) by numpy's own loop for ``UFUNCS[which]`` (1-D contiguous float64 arrays)."""
    call_loop(loops[which, 0], loops[which, 1], n, src.ctypes.data, 8, dst.ctypes.data, 8, 0, 0)


@twin
def ufunc2(loops, which, a, sa, b, sb, dst, n):
    """dst[:n] = f(a, b) by numpy's own loop; ``sa``/``sb`` are 8 for an array, 0 for a scalar in a[0]/b[0]."""
    call_loop(loops[which, 0], loops[which, 1], n, a.ctypes.data, sa, b.ctypes.data, sb, dst.ctypes.data, 8)


@twin
def ufunc_scalar(loops, which, u, cell):
    """f(u) for one number by numpy's loop; ``cell`` is a scratch array of at least 2 floats."""
    cell[0] = u
    call_loop(loops[which, 0], loops[which, 1], 1, cell.ctypes.data, 8, cell[1:].ctypes.data, 8, 0, 0)
    return cell[1]


@twin
def ufunc2_scalar(loops, which, a, b, cell):
    """f(a, b) for two numbers by numpy's loop; ``cell`` is a scratch array of at least 3 floats."""
    cell[0] = a
    cell[1] = b
    call_loop(loops[which, 0], loops[which, 1], 1, cell.ctypes.data, 8, cell[1:].ctypes.data, 8,
              cell[2:].ctypes.data, 8)
    return cell[2]


@twin
def mean_pairwise(a, n):
    """``a[:n].mean()`` as numpy computes it on a contiguous row: its pairwise sum (8 partial sums), then / n."""
    return pairwise_sum(a, 0, n) / n


@twin
def pairwise_sum(a, start, n):
    """numpy's ``pairwise_sum`` of a[start:start + n] for n ≤ 128: eight accumulators, then a tree.

    (numpy splits longer runs in halves first; no surface with a twin has more than 128 examples.)
    """
    if n < 8:
        s = -0.0
        for i in range(start, start + n):
            s = s + a[i]
        return s
    if True:
        r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
        r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
        i = 8
        whole = n - n % 8
        while i < whole:
            j = start + i
            r0, r1, r2, r3 = r0 + a[j], r1 + a[j + 1], r2 + a[j + 2], r3 + a[j + 3]
            r4, r5, r6, r7 = r4 + a[j + 4], r5 + a[j + 5], r6 + a[j + 6], r7 + a[j + 7]
            i += 8
        s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            s = s + a[start + i]
            i += 1
    return s


@twin
def pairwise_sums(a, b, n):
    """(``pairwise_sum(a, 0, n)``, ``pairwise_sum(b, 0, n)``) in one loop: the two sets of eight chains of
    additions interleave (128 numbers each: 38 ns for both against 90 for one after the other)."""
    if n < 8:
        return pairwise_sum(a, 0, n), pairwise_sum(b, 0, n)
    r0, r1, r2, r3 = a[0], a[1], a[2], a[3]
    r4, r5, r6, r7 = a[4], a[5], a[6], a[7]
    q0, q1, q2, q3 = b[0], b[1], b[2], b[3]
    q4, q5, q6, q7 = b[4], b[5], b[6], b[7]
    i = 8
    whole = n - n % 8
    while i < whole:
        r0, r1, r2, r3 = r0 + a[i], r1 + a[i + 1], r2 + a[i + 2], r3 + a[i + 3]
        r4, r5, r6, r7 = r4 + a[i + 4], r5 + a[i + 5], r6 + a[i + 6], r7 + a[i + 7]
        q0, q1, q2, q3 = q0 + b[i], q1 + b[i + 1], q2 + b[i + 2], q3 + b[i + 3]
        q4, q5, q6, q7 = q4 + b[i + 4], q5 + b[i + 5], q6 + b[i + 6], q7 + b[i + 7]
        i += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    t = ((q0 + q1) + (q2 + q3)) + ((q4 + q5) + (q6 + q7))
    while i < n:
        s = s + a[i]
        t = t + b[i]
        i += 1
    return s, t

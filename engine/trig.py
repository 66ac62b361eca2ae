"""Sine and cosine by plain arithmetic: numpy and the compiled kernel get the same bits on any processor.

The random field (``engine.critical_points``) sums 128 cosines at every point, and an optimizer's step
there needs 128 sines. ``np.sin`` computes them one number at a time (about 11 ns each on the machine
we measured), and the compiled kernel, to give the reference's bits, had to call
numpy's very loop (``engine.twins.ufunc``): tuning a race on the field spent nine tenths of its time
there. Written as additions and multiplications only, the same formula gives identical results in
numpy's array operations and in a numba loop, which the compiler runs several numbers at a time (eight
with AVX-512: about 1.5 ns each). Nor do the results depend on the processor's SIMD code, as numpy's
own functions' may.

The formula is fdlibm's (as musl's ``__rem_pio2``, ``__sin`` and ``__cos`` have it):

- reduce: n = the integer nearest x/(π/2), y = (x − n·p₁) − n·p₂, with π/2 = p₁ + p₂ in two parts
  (p₁ has 31 significant bits, so n·p₁ is exact for |n| < 2²²);
- on |y| ≤ π/4: sin y ≈ y + y³·(S₁ + y²·P(y²)), cos y ≈ 1 − y²/2 + y⁴·Q(y²) (fdlibm's minimax
  polynomials, error below 2⁻⁵⁸ on the interval);
- by the quadrant n mod 4: sin x is sin y, cos y, −sin y or −cos y; cos x is cos y, −sin y, −cos y, sin y.

Without fdlibm's second reduction near multiples of π/2, the results differ from the C library's by at
most 1.1·10⁻¹⁶, one unit in the last place of a result between ½ and 1 (a million points with |x| ≤ 300, in
``tests/engine/test_trig.py``). Beyond |x| = 2²⁰·π/2 the reduction loses accuracy, but the results stay
within ±1 and both paths still agree bit for bit.
"""

from __future__ import annotations

import numpy as np

from engine.twins import twin

_TWO_OVER_PI = 6.36619772367581382433e-01
_ROUNDER = 6755399441055744.0  # 1.5·2⁵²: (t + this) − this is t rounded to the nearest integer (|t| < 2⁵¹)
_PIO2_1 = 1.57079632673412561417e+00   # π/2 to 31 significant bits
_PIO2_1T = 6.07710050650619224932e-11  # π/2 − _PIO2_1
_S1, _S2, _S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
_S4, _S5, _S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10
_C1, _C2, _C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
_C4, _C5, _C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11


@twin
def clamp(y):
    """y within ±1: a no-op after a reduction that worked (|y| ≤ π/4); where it cannot work (|x| ≳ 10¹⁵),
    this keeps the result bounded by 1 and finite, as a sine should be. NaN stays NaN."""
    return np.minimum(np.maximum(y, -1.0), 1.0)


@twin
def reduced(x):
    """(n, sin y, cos y) for x = n·π/2 + y, |y| ≤ π/4; x a number or (in numpy) an array."""
    n = (x * _TWO_OVER_PI + _ROUNDER) - _ROUNDER
    y = clamp((x - n * _PIO2_1) - n * _PIO2_1T)
    z = y * y
    s = y + (z * y) * (_S1 + z * (_S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))))
    r = z * (_C1 + z * (_C2 + z * _C3)) + (z * z) * (z * z) * (_C4 + z * (_C5 + z * _C6))
    half = 0.5 * z
    w = 1.0 - half
    c = w + (((1.0 - w) - half) + z * r)
    return n, s, c


@twin
def odd(n):
    """n (an integer-valued float) is odd: the quadrant is 1 or 3, where the other polynomial applies."""
    h = n * 0.5
    return h != np.floor(h)


@twin
def upper(n):
    """n mod 4 is 2 or 3, where the result is negated."""
    q = n * 0.25
    return q - np.floor(q) >= 0.5


def _sin(x):
    n, s, c = reduced(x)
    v = np.where(odd(n), c, s)
    return np.where(upper(n), -v, v)


def _cos(x):
    n, s, c = reduced(x)
    v = np.where(odd(n), s, c)
    return np.where(upper(n + 1.0), -v, v)


#: Numbers per pass of a large array: numpy's thirty-odd operations then stay within the processor's cache.
BLOCK = 8192


def _blockwise(fn, x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.size <= BLOCK:
        return fn(x)
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    for i in range(0, flat.size, BLOCK):
        out[i:i + BLOCK] = fn(flat[i:i + BLOCK])
    return out.reshape(x.shape)


def sin(x) -> np.ndarray:
    """sin x, elementwise (``sin_one`` gives the same bits)."""
    return _blockwise(_sin, x)


def cos(x) -> np.ndarray:
    """cos x, elementwise (``cos_one`` gives the same bits): sin(x + π/2), one quadrant on."""
    return _blockwise(_cos, x)


@twin
def sin_one(x):
    """``sin`` of one number: inlined into a loop, the compiler still vectorizes the loop."""
    n, s, c = reduced(x)
    v = c if odd(n) else s
    return -v if upper(n) else v


@twin
def cos_one(x):
    """``cos`` of one number."""
    n, s, c = reduced(x)
    v = s if odd(n) else c
    return -v if upper(n + 1.0) else v

"""engine.trig: a sine and cosine as accurate as the C library's, with the same bits in numpy and compiled."""

import math
import platform

import numpy as np
import pytest

from engine import trig

RNG = np.random.default_rng(7)
WIDE = RNG.uniform(-300.0, 300.0, 1_000_000)        # beyond any argument the random field meets in its view
NEAR = np.linspace(-math.pi / 4, math.pi / 4, 100_001)  # where the polynomials alone apply
SPECIAL = np.array([0.0, -0.0, math.pi / 2, -math.pi / 2, math.pi, 3 * math.pi / 4, 1e6, -1e6, 1e12, 1e15, 1e300,
                    -1e300, 5e-324, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("ours, libm", [(trig.sin, np.sin), (trig.cos, np.cos)], ids=["sin", "cos"])
@pytest.mark.parametrize("x", [WIDE, NEAR], ids=["|x| ≤ 300", "|x| ≤ π/4"])
def test_it_agrees_with_the_c_library_to_an_ulp_of_one(ours, libm, x):
    assert np.max(np.abs(ours(x) - libm(x))) <= 1.12e-16


def test_sine_is_odd_and_cosine_even_bit_for_bit():
    assert np.array_equal(trig.sin(-WIDE), -trig.sin(WIDE))
    assert np.array_equal(trig.cos(-WIDE), trig.cos(WIDE))


def test_exact_where_the_answer_is_exact():
    assert trig.sin(0.0) == 0.0 and trig.cos(0.0) == 1.0
    assert trig.sin(math.pi / 2) == 1.0 and trig.cos(math.pi) == -1.0


def test_bounded_by_one_for_every_finite_number_and_nan_beyond():
    with np.errstate(invalid="ignore"):
        s, c = trig.sin(SPECIAL), trig.cos(SPECIAL)
    finite = np.isfinite(SPECIAL)
    assert np.all(np.abs(s[finite]) <= 1.0) and np.all(np.abs(c[finite]) <= 1.0)
    assert np.all(np.isnan(s[~finite])) and np.all(np.isnan(c[~finite]))


def test_a_large_array_in_blocks_gives_each_row_what_it_gets_alone():
    rows = RNG.uniform(-40.0, 40.0, (3 * trig.BLOCK // 128 + 5, 128))
    together = trig.cos(rows)
    assert together.shape == rows.shape
    assert all(np.array_equal(together[i], trig.cos(rows[i])) for i in range(len(rows)))


def _loops():
    """Loops of ``sin_one`` and ``cos_one`` over an array, as the kernel inlines them: compiled, and plain."""
    def sin_all(src, dst):
        for j in range(len(src)):
            dst[j] = trig.sin_one(src[j])

    def cos_all(src, dst):
        for j in range(len(src)):
            dst[j] = trig.cos_one(src[j])

    numba = pytest.importorskip("numba")
    from numba.extending import register_jitable

    for helper in (trig.clamp, trig.reduced, trig.odd, trig.upper, trig.sin_one, trig.cos_one):
        register_jitable(helper)
    return (sin_all, cos_all), (numba.njit(sin_all), numba.njit(cos_all))


@pytest.mark.parametrize("which", [0, 1], ids=["sin", "cos"])
def test_the_compiled_loop_and_the_plain_loop_give_numpys_bits(which):
    plain, compiled = (loop[which] for loop in _loops())
    x = np.concatenate([WIDE, NEAR, SPECIAL])
    with np.errstate(invalid="ignore"):
        reference = (trig.sin, trig.cos)[which](x)
    out = np.empty_like(x)
    compiled(x, out)
    assert np.array_equal(out.view(np.int64), reference.view(np.int64))
    few = np.concatenate([SPECIAL, WIDE[:200]])
    out = np.empty_like(few)
    with np.errstate(invalid="ignore"):
        plain(few, out)
        assert np.array_equal(out.view(np.int64), (trig.sin, trig.cos)[which](few).view(np.int64))


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="reads x86-64 assembly")
def test_the_compiled_loop_runs_several_numbers_at_a_time():
    # the reason for engine.trig: a loop of sin_one compiles to packed (vector) arithmetic
    compiled = _loops()[1][0]
    compiled(WIDE[:8], np.empty(8))
    assembly = next(iter(compiled.inspect_asm().values()))
    # the polynomials' ~20 multiplications, packed (a loop of one number at a time has one or none)
    assert assembly.count("mulpd") >= 15, "the loop multiplies one number at a time"

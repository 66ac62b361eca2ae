"""engine.twins' sums: numpy's own order of additions, which the compiled kernel must repeat bit for bit."""

import numpy as np
import pytest

from engine import twins

RNG = np.random.default_rng(11)
# numbers of very different sizes and signs, so that a different order of additions shows in the last bits
ROWS = [RNG.standard_normal((2, n)) * 10.0 ** RNG.integers(-8, 8, (2, n)) for n in range(0, 129)]


def _compiled():
    numba = pytest.importorskip("numba")
    from numba.extending import register_jitable

    register_jitable(twins.pairwise_sum)
    return numba.njit(twins.pairwise_sum), numba.njit(twins.pairwise_sums)


@pytest.mark.parametrize("path", ["plain", "compiled"])
def test_pairwise_sum_and_two_at_once_are_numpys_sum_of_a_row(path):
    one, two = (twins.pairwise_sum, twins.pairwise_sums) if path == "plain" else _compiled()
    for n, rows in enumerate(ROWS):
        a, b = rows[0].copy(), rows[1].copy()
        want = (np.sum(a), np.sum(b))
        assert np.array_equal(np.sum(rows, -1), want)  # a batch's rows: each as alone
        assert one(a, 0, n) == want[0]
        assert two(a, b, n) == want


def test_a_different_order_would_show():
    # the test above can fail: these numbers' sum in order differs from the pairwise sum
    a = ROWS[128][0]
    in_order = 0.0
    for v in a:
        in_order += v
    assert in_order != np.sum(a)

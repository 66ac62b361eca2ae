"""engine/critical_points.py: saddles outnumber minima as the dimension grows, and minima lie low.

The claims are those of Bray & Dean (2007) and Dauphin et al. (2014) for random smooth
functions; the counts come from a fixed seed, so they are reproducible exactly.
"""

import numpy as np
import pytest

from engine import critical_points as cp


@pytest.fixture(scope="module")
def summary():
    return cp.summary()


def test_field_gradient_and_hessian_against_finite_differences():
    f = cp.random_field(4, seed=3)
    rng = np.random.default_rng(0)
    h = 1e-6
    for x in rng.normal(0, 2, (5, 4)):
        fd_g = np.array([(f.value(x + h * e) - f.value(x - h * e)) / (2 * h) for e in np.eye(4)])
        fd_h = np.stack([(f.grad(x + h * e) - f.grad(x - h * e)) / (2 * h) for e in np.eye(4)], -1)
        np.testing.assert_allclose(f.grad(x), fd_g, atol=1e-7)
        np.testing.assert_allclose(f.hessian(x), fd_h, atol=1e-7)


def test_found_points_are_distinct_critical_points_of_the_stated_index():
    r = cp.critical_points(3, seed=0, starts=100)
    f = cp.random_field(3, seed=0)
    pts = r["points"]
    assert len(pts) > 10
    assert np.max(np.linalg.norm(f.grad(pts), axis=-1)) < 1e-9
    gaps = np.linalg.norm(pts[:, None] - pts[None], axis=-1) + np.eye(len(pts))
    assert gaps.min() > 1e-6
    np.testing.assert_array_equal(r["index"], (np.linalg.eigvalsh(f.hessian(pts)) < 0).sum(-1))
    assert sum(r["counts"][k] for k in ("minima", "saddles", "maxima")) == r["counts"]["total"] == len(pts)


def test_counts_are_reproducible_for_a_fixed_seed(summary):
    again = cp.summary()
    assert again["rows"] == summary["rows"]
    assert cp.critical_points(2, seed=1)["counts"] != cp.critical_points(2, seed=0)["counts"]  # the seed matters


def test_one_dimension_has_no_saddles_and_the_share_of_saddles_grows_with_dimension(summary):
    rows = summary["rows"]
    assert [r["dim"] for r in rows] == list(cp.DIMENSIONS)
    assert rows[0]["saddles"] == 0 and rows[0]["minima"] > 0 and rows[0]["maxima"] > 0
    shares = [r["saddle_share"] for r in rows]
    assert all(a < b for a, b in zip(shares, shares[1:])), shares
    assert shares[-1] > 0.95
    # minima become rare: their share falls from about half to almost none
    assert rows[0]["minima"] / rows[0]["total"] > 0.3 and rows[-1]["minima"] / rows[-1]["total"] < 0.02


@pytest.mark.parametrize("seed", [1, 2])
def test_saddle_share_grows_with_dimension_for_other_seeds_too(seed):
    shares = [cp.critical_points(d, seed=seed, starts=200)["saddle_share"] for d in (1, 2, 4, 8)]
    assert shares[0] == 0.0
    assert all(a < b for a, b in zip(shares, shares[1:])), shares


def test_minima_lie_lower_than_saddles_and_height_rises_with_the_index(summary):
    for r in summary["rows"][1:]:
        if r["mean_value_minima"] is not None:
            assert r["mean_value_minima"] < r["mean_value_saddles"] - 1.0, r
        assert r["index_value_correlation"] > 0.4, r

"""Figures hold the runs' own numbers: every trace is checked against the arrays it draws."""

import numpy as np
import plotly.graph_objects as go
import pytest

import losslab as ll
from losslab import figures

RACE = (ll.Scene("quadratic", lambda_1=1, lambda_2=20, rotation=30).start(-2, -0.5)
        .add("gd", lr=0.09).add("momentum", lr=0.04, momentum=0.7))


@pytest.fixture(scope="module")
def race():
    return RACE.run(steps=60)


def traces(fig, name):
    return [t for t in fig.data if t.name == name]


def test_contour_draws_the_grid_every_path_the_start_and_the_minimum(race):
    fig = race.figure("contour", n=40)
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["loss", "1. Gradient descent", "2. Momentum (heavy ball)", "start", "minimum"]
    xs, ys, z = RACE.engine_surface.grid(40)
    [c] = traces(fig, "loss")
    assert np.array_equal(c.x, xs) and np.array_equal(c.y, ys)
    # The page's log scale: log10 of the height above the grid's minimum.
    eps = max((z.max() - z.min()) * 1e-6, 1e-12)
    assert np.allclose(c.z, np.log10(z - z.min() + eps))
    assert c.colorbar.title.text == "log₁₀ loss"
    for run, color in zip(race, figures.PALETTE):
        [t] = traces(fig, run.label)
        assert np.array_equal(t.x, run.points[:, 0]) and np.array_equal(t.y, run.points[:, 1])
        assert t.line.color == color
        assert np.array_equal(np.asarray(t.customdata)[:, 1], run.losses)
    [start] = traces(fig, "start")
    assert (start.x[0], start.y[0]) == (-2, -0.5)
    [minimum] = traces(fig, "minimum")
    assert (minimum.x[0], minimum.y[0]) == (0.0, 0.0)
    assert tuple(fig.layout.xaxis.range) == (-2.5, 2.5) and fig.layout.yaxis.scaleanchor == "x"


def test_contour_of_a_scene_marks_saddles_and_minima():
    scene = ll.Scene("saddle", wall=0.5).start(-1.8, 0.1)
    fig = scene.figure("contour", n=30)
    assert [t.name for t in fig.data] == ["loss", "start", "minimum", "saddle"]
    [saddle] = traces(fig, "saddle")
    assert [list(p) for p in zip(saddle.x, saddle.y)] == [list(p) for p in scene.engine_surface.saddles]
    [minimum] = traces(fig, "minimum")
    assert len(minimum.x) == len(scene.engine_surface.minima) == 2
    assert traces(fig, "loss")[0].colorbar.title.text == "loss"  # negative heights: no log scale


def test_long_runs_are_thinned_for_drawing_keeping_both_ends():
    result = ll.Scene("quadratic", lambda_1=1, lambda_2=20).add("gd", lr=0.001).run(steps=5000)
    run = result[0]
    fig = figures.contour(result, n=10)
    [t] = traces(fig, run.label)
    assert len(t.x) == figures.MAX_DRAWN
    assert (t.x[0], t.x[-1]) == (run.points[0, 0], run.points[-1, 0])
    assert list(figures.draw_indices(5)) == [0, 1, 2, 3, 4]


def test_surface3d_puts_the_paths_on_the_surface(race):
    fig = race.figure("surface", n=30)
    [surface] = traces(fig, "loss")
    assert isinstance(surface, go.Surface) and np.asarray(surface.z).shape == (30, 30)
    f, label = figures.z_transform(*_range(RACE, 30))
    for run in race:
        [t] = traces(fig, run.label)
        assert isinstance(t, go.Scatter3d)
        assert np.array_equal(t.x, run.points[:, 0]) and np.allclose(t.z, f(run.losses))
    assert fig.layout.scene.zaxis.title.text == label == "log₁₀ loss"


def _range(scene, n):
    z = scene.engine_surface.grid(n)[2]
    return float(z.min()), float(z.max())


def test_loss_curves_use_a_log_axis_only_when_every_loss_is_positive(race):
    fig = race.figure("loss")
    assert fig.layout.yaxis.type == "log"
    for run in race:
        [t] = traces(fig, run.label)
        assert np.array_equal(t.x, np.arange(len(run.losses))) and np.array_equal(t.y, run.losses)
    saddle = ll.Scene("saddle").start(-1.8, 0.1).add("gd", lr=0.05).run(steps=40)
    assert saddle.figure("loss").layout.yaxis.type == "linear"
    grads = figures.loss_curves(race, y="grad_norm")
    assert np.array_equal(grads.data[0].y, race[0].grad_norms)
    with pytest.raises(ValueError, match="kind = 'pie'"):
        race.figure("pie")


def test_sweep_map_shows_measured_steps_diverged_cells_and_the_analytic_rate():
    lrs, betas = np.geomspace(0.01, 0.3, 8), np.linspace(0, 0.9, 6)
    m = RACE.sweep("momentum", lrs=lrs, betas=betas, steps=150)
    fig = m.figure()
    names = [t.name for t in fig.data]
    assert names[:3] == ["measured", "diverged", f"fastest measured ({m.best['steps']} steps)"]
    [measured] = traces(fig, "measured")
    expected = np.where(m.steps_to_tol >= 0, m.steps_to_tol, np.nan)
    assert np.array_equal(np.asarray(measured.z, float), expected, equal_nan=True)
    assert np.array_equal(measured.x, lrs) and np.array_equal(measured.y, betas)
    [diverged] = traces(fig, "diverged")
    assert np.array_equal(~np.isnan(np.asarray(diverged.z, float)), m.diverged)
    [rate] = traces(fig, "rate")
    assert np.allclose(np.asarray(rate.z, float), np.where(m.rate < 1, m.rate, np.nan), equal_nan=True)
    assert len(traces(fig, "rate = 1")) == 2  # the stability edge on both panels
    [star] = [t for t in fig.data if t.name.startswith("theory optimum")]
    assert star.x[0] == pytest.approx(m.theory["momentum_best_lr"]) and star.y[0] == pytest.approx(m.theory["momentum_best_beta"])
    assert fig.layout.xaxis.type == "log"
    loss = m.figure(metric="loss")
    z = np.asarray(traces(loss, "measured")[0].z, float)
    ok = ~m.diverged
    assert np.allclose(z[ok], np.log10(m.final_loss[ok]))


def test_sweep_map_without_beta_is_a_line_and_without_theory_has_one_panel():
    m = RACE.sweep("gd", lrs=np.geomspace(0.01, 0.2, 9), steps=100)
    fig = m.figure()
    [measured] = traces(fig, "measured")
    assert isinstance(measured, go.Scatter) and np.array_equal(measured.x, m.lrs)
    [rate] = traces(fig, "rate")
    assert np.allclose(rate.y, np.max(np.abs(1 - np.outer(m.lrs, [1.0, 20.0])), axis=1))
    plain = ll.sweep("rosenbrock", "adam", lrs=[0.01, 0.1], steps=20).figure()
    assert [t.name for t in plain.data] == ["measured"]


@pytest.mark.parametrize("surface", list(ll.surfaces().names()))
def test_every_surface_draws(surface):
    result = ll.Scene(surface).add("gd", lr=0.01).run(steps=5)
    for kind in ("contour", "surface", "loss"):
        fig = result.figure(kind, **({} if kind == "loss" else {"n": 12}))
        assert any(t.name == result[0].label for t in fig.data)


def test_your_own_formula_draws_in_its_view_with_its_gaps_and_minimum():
    """The custom surface: the grid over its own view, blank where the formula is undefined, the formula as title."""
    scene = ll.Scene("custom", formula="x**2 + y**2 - log(x + 2)", view=(-3, 2, -1.5, 1.5)).start(1, 1)
    result = scene.add("newton").run(steps=10, tol=0)
    fig = result.figure("contour", n=25)
    assert [t.name for t in fig.data] == ["loss", "1. Newton's method", "start", "minimum"]
    assert fig.layout.title.text == "Your own formula: f(x, y) = x**2 + y**2 - log(x + 2)"
    assert tuple(fig.layout.xaxis.range) == (-3, 2) and tuple(fig.layout.yaxis.range) == (-1.5, 1.5)
    xs, ys, z = scene.engine_surface.grid(25, (-3, 2, -1.5, 1.5))
    [c] = traces(fig, "loss")
    assert np.array_equal(c.x, xs) and np.array_equal(c.y, ys)
    assert np.array_equal(np.isnan(np.asarray(c.z, float)), ~np.isfinite(z)) and np.isnan(np.asarray(c.z, float)).any()
    [minimum] = traces(fig, "minimum")
    assert (minimum.x[0], minimum.y[0]) == pytest.approx(result[0].final_point)
    assert result.figure("surface", n=12).layout.scene.xaxis.range == (-3, 2)
    long = ll.Scene("custom", formula="x**2 + " + " + ".join(["y**2"] * 30))
    assert figures._title(long).endswith("…") and len(figures._title(long)) < 120

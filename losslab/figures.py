"""The page's plots as Plotly figures: contour with trajectories, 3D surface, loss curves, (η, β) map.

Every function takes a :class:`~losslab.Result` (or a :class:`~losslab.Scene`, for the
bare surface) and returns a ``plotly.graph_objects.Figure`` to show in a notebook
(``fig.show()``) or save (``fig.write_html("run.html")``). Colours, trace names and the
log scale of the height follow the page.

>>> import losslab as ll
>>> result = ll.Scene("quadratic", lambda_1=1, lambda_2=20).add("gd", lr=0.09).run(steps=20)
>>> fig = contour(result)
>>> [t.name for t in fig.data]
['loss', '1. Gradient descent', 'start', 'minimum']
>>> fig.data[1].x[:3].tolist() == result[0].points[:3, 0].tolist()
True
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import engine

if TYPE_CHECKING:
    from losslab.results import Result
    from losslab.scene import Scene
    from losslab.sweeps import SweepMap
    from losslab.tuning import Tuning

#: The page's colours: the i-th optimizer is drawn in PALETTE[i % 8] (static/js/state.js).
PALETTE = ("#d55e00", "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#f0e442", "#000000")
#: Most points one trace draws; longer runs are thinned evenly for drawing, as on the page.
MAX_DRAWN = 1500
GRID_N = 120
COLORSCALE = "Viridis"


def color_of(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def draw_indices(n: int, max_drawn: int = MAX_DRAWN) -> np.ndarray:
    """Indices of a trajectory of length n to draw: all when few, else an even thinning keeping both ends."""
    if n <= max_drawn:
        return np.arange(n)
    stride = (n - 1) / (max_drawn - 1)
    return np.floor(np.arange(max_drawn) * stride + 0.5).astype(int)


def z_transform(zmin: float | None, zmax: float | None) -> tuple[Callable, str]:
    """The page's height transform: log₁₀ of the height above the minimum when the range is wide."""
    if zmin is not None and zmax is not None and zmin >= 0 and zmax > 0 and zmax / max(zmin, 1e-12) > 50:
        eps = max((zmax - zmin) * 1e-6, 1e-12)
        return (lambda z: np.log10(np.maximum(np.asarray(z, dtype=float) - zmin, 0) + eps)), "log₁₀ loss"
    return (lambda z: np.asarray(z, dtype=float)), "loss"


def _split(obj) -> tuple["Scene", list]:
    # By what the object has, not its class: figures is imported by the scene and result
    # classes, never the other way round.
    if hasattr(obj, "runs") and hasattr(obj, "scene"):  # a Result
        return obj.scene, list(obj.runs)
    if hasattr(obj, "engine_surface"):  # a Scene
        return obj, []
    raise TypeError(f"expected a Scene or a Result, got {type(obj).__name__}")


def _grid(scene: "Scene", n: int, view):
    xs, ys, z = scene.engine_surface.grid(n, view)
    finite = np.isfinite(z)
    z = np.where(finite, z, np.nan)
    zmin = float(z[finite].min()) if finite.any() else None
    zmax = float(z[finite].max()) if finite.any() else None
    f, label = z_transform(zmin, zmax)
    return xs, ys, z, f, label


#: Longest formula a title shows whole; a longer one is cut with "…".
TITLE_FORMULA = 80


def _title(scene: "Scene") -> str:
    if scene.formula:  # the custom surface: its formula, as the page shows it under "f(x, y) ="
        f = scene.formula if len(scene.formula) <= TITLE_FORMULA else scene.formula[:TITLE_FORMULA - 1] + "…"
        return f"{scene.engine_surface.TITLE}: f(x, y) = {f}"
    params = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in scene.surface_params.items())
    return f"{scene.engine_surface.TITLE}" + (f" ({params})" if params else "")


def contour(obj, *, n: int = GRID_N, view=None, critical_points: bool = True) -> go.Figure:
    """The surface's contours with every run's path, the start, minima (★) and saddles (✕).

    Args:
      obj: a Result (its runs are drawn) or a Scene (the surface and start only).
      n: grid points per side.
      view: ``(xmin, xmax, ymin, ymax)``; the surface's own view by default (a custom surface's, its ``view``).
      critical_points: mark the surface's known minima and saddles.
    """
    scene, runs = _split(obj)
    surf = scene.engine_surface
    view = tuple(view or surf.view)
    xs, ys, z, f, label = _grid(scene, n, view)
    fig = go.Figure()
    fig.add_trace(go.Contour(x=xs, y=ys, z=f(z), name="loss", colorscale=COLORSCALE, ncontours=30,
                             line=dict(width=0.5), colorbar=dict(title=dict(text=label)),
                             hovertemplate="x=%{x:.3g}<br>y=%{y:.3g}<br>" + label + "=%{z:.4g}<extra></extra>"))
    for r in runs:
        idx = draw_indices(len(r.points))
        fig.add_trace(go.Scatter(x=r.points[idx, 0], y=r.points[idx, 1], mode="lines+markers", name=r.label,
                                 line=dict(color=color_of(r.index), width=2), marker=dict(size=4),
                                 customdata=np.column_stack([idx, r.losses[idx]]),
                                 hovertemplate="step %{customdata[0]}<br>x=%{x:.4g}, y=%{y:.4g}<br>"
                                               "loss=%{customdata[1]:.4g}<extra>" + r.label + "</extra>"))
    sx, sy = scene.start_point
    fig.add_trace(go.Scatter(x=[sx], y=[sy], mode="markers", name="start",
                             marker=dict(symbol="circle-open", size=12, color="black", line=dict(width=2))))
    if critical_points:
        for name, pts, symbol in (("minimum", surf.minima, "star"), ("saddle", surf.saddles, "x")):
            if pts:
                pts = np.asarray(pts, dtype=float)
                fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=name,
                                         marker=dict(symbol=symbol, size=13, color="white",
                                                     line=dict(color="black", width=1))))
    fig.update_layout(title=_title(scene), xaxis=dict(title="x", range=list(view[:2])),
                      yaxis=dict(title="y", range=list(view[2:]), scaleanchor="x", scaleratio=1),
                      legend=dict(orientation="h", y=-0.15), template="plotly_white", height=600)
    return fig


def surface3d(obj, *, n: int = 80, view=None) -> go.Figure:
    """The surface in 3D with every run's path on it (heights on the page's log scale when it uses one)."""
    scene, runs = _split(obj)
    surf = scene.engine_surface
    view = tuple(view or surf.view)
    xs, ys, z, f, label = _grid(scene, n, view)
    fig = go.Figure()
    fig.add_trace(go.Surface(x=xs, y=ys, z=f(z), name="loss", colorscale=COLORSCALE, opacity=0.9,
                             colorbar=dict(title=dict(text=label)), showscale=True))
    for r in runs:
        idx = draw_indices(len(r.points))
        fig.add_trace(go.Scatter3d(x=r.points[idx, 0], y=r.points[idx, 1], z=f(r.losses[idx]), name=r.label,
                                   mode="lines+markers", line=dict(color=color_of(r.index), width=5),
                                   marker=dict(size=2, color=color_of(r.index))))
    if surf.minima:
        pts = np.asarray(surf.minima, dtype=float)
        fig.add_trace(go.Scatter3d(x=pts[:, 0], y=pts[:, 1], z=f(surf.value(pts)), name="minimum", mode="markers",
                                   marker=dict(symbol="diamond", size=5, color="white", line=dict(color="black"))))
    fig.update_layout(title=_title(scene), template="plotly_white", height=650, legend=dict(orientation="h", y=-0.05),
                      scene=dict(xaxis=dict(title="x", range=list(view[:2])), yaxis=dict(title="y", range=list(view[2:])),
                                 zaxis=dict(title=label)))
    return fig


def loss_curves(result: "Result", *, y: str = "loss", log: bool | None = None) -> go.Figure:
    """Loss (or ``y="grad_norm"``) against the step, one line per run; a log axis when every value is positive."""
    scene, runs = _split(result)
    if y not in ("loss", "grad_norm"):
        raise ValueError(f"y = {y!r}: expected 'loss' or 'grad_norm'")
    series = [r.losses if y == "loss" else r.grad_norms for r in runs]
    if log is None:
        log = bool(series) and all(len(s) == 0 or np.all(s > 0) for s in series) and any(len(s) for s in series)
    fig = go.Figure()
    for r, s in zip(runs, series):
        idx = draw_indices(len(s))
        fig.add_trace(go.Scatter(x=idx, y=s[idx], mode="lines", name=r.label, line=dict(color=color_of(r.index))))
    fig.update_layout(title=_title(scene), template="plotly_white", height=450,
                      xaxis=dict(title="step"),
                      yaxis=dict(title="loss" if y == "loss" else "‖∇f‖", type="log" if log else "linear",
                                 exponentformat="power"))
    return fig


def sweep_map(m: "SweepMap", *, metric: str = "steps") -> go.Figure:
    """The (η, β) map: measured steps to the tolerance (or log₁₀ final loss), diverged cells in grey;
    beside it, on the quadratic, the analytic heavy-ball rate with its edge rate = 1 and the optimum (η*, β*)."""
    if metric not in ("steps", "loss"):
        raise ValueError(f"metric = {metric!r}: expected 'steps' or 'loss'")
    with np.errstate(all="ignore"):
        if metric == "steps":
            z = np.where(m.steps_to_tol >= 0, m.steps_to_tol, np.nan).astype(float)
            zlabel = f"steps to ‖∇f‖ < {m.tol:g}"
        else:
            z = np.where(m.diverged | ~np.isfinite(m.final_loss) | (m.final_loss <= 0), np.nan,
                         np.log10(np.abs(m.final_loss)))
            zlabel = f"log₁₀ loss after {m.steps} steps"
    cols = 2 if m.rate is not None else 1
    rule = "heavy-ball rate" if m.betas is not None else "GD rate max|1 − ηλ|"
    titles = [f"measured: {zlabel}"] + ([f"theory: {rule} (≥ 1 diverges)"] if cols == 2 else [])
    fig = make_subplots(rows=1, cols=cols, subplot_titles=titles, horizontal_spacing=0.16)
    name = f"{m.optimizer} on {m.scene.surface}"
    if m.betas is None:
        _map_1d(fig, m, z, zlabel)
    else:
        _map_2d(fig, m, z, zlabel)
    fig.update_layout(title=f"(η, β) map: {name}, {m.steps} steps", template="plotly_white",
                      height=520, width=560 * cols, legend=dict(orientation="h", y=-0.18))
    span = [math.log10(float(m.lrs.min())), math.log10(float(m.lrs.max()))]
    for c in range(1, cols + 1):
        fig.update_xaxes(title_text="step size η", type="log", row=1, col=c,
                         range=span if m.betas is None and span[0] < span[1] else None)
        if m.betas is not None:
            fig.update_yaxes(title_text="momentum β", row=1, col=c)
    return fig


def _map_2d(fig, m: "SweepMap", z, zlabel):
    fig.add_trace(go.Heatmap(x=m.lrs, y=m.betas, z=z, name="measured", colorscale=COLORSCALE,
                             colorbar=dict(title=dict(text="steps" if "steps" in zlabel else "log₁₀ loss"),
                                           x=0.44 if m.rate is not None else 1.02, thickness=15),
                             hovertemplate="η=%{x:.4g}<br>β=%{y:.3g}<br>%{z}<extra></extra>"), row=1, col=1)
    div = np.where(m.diverged, 1.0, np.nan)
    fig.add_trace(go.Heatmap(x=m.lrs, y=m.betas, z=div, name="diverged", showscale=False,
                             colorscale=[[0, "#9e9e9e"], [1, "#9e9e9e"]], hovertemplate="η=%{x:.4g}<br>β=%{y:.3g}<br>diverged<extra></extra>"),
                  row=1, col=1)
    best = m.best
    if best is not None:
        fig.add_trace(go.Scatter(x=[best["lr"]], y=[best["beta"]], mode="markers", name=f"fastest measured ({best['steps']} steps)",
                                 marker=dict(symbol="circle-open", size=14, color="#ff1744", line=dict(width=3))), row=1, col=1)
    if m.rate is None:
        return
    rate = np.asarray(m.rate, dtype=float)
    fig.add_trace(go.Heatmap(x=m.lrs, y=m.betas, z=np.where(rate < 1, rate, np.nan), name="rate", colorscale="Magma",
                             zmin=0, zmax=1, colorbar=dict(title=dict(text="rate"), x=1.02, thickness=15),
                             hovertemplate="η=%{x:.4g}<br>β=%{y:.3g}<br>rate=%{z:.4f}<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Heatmap(x=m.lrs, y=m.betas, z=np.where(rate >= 1, 1.0, np.nan), name="rate ≥ 1", showscale=False,
                             colorscale=[[0, "#9e9e9e"], [1, "#9e9e9e"]], hoverinfo="skip"), row=1, col=2)
    for col in (1, 2):
        fig.add_trace(go.Contour(x=m.lrs, y=m.betas, z=rate, name="rate = 1", showscale=False, showlegend=col == 1,
                                 contours=dict(start=1, end=1, size=1, coloring="lines"), colorscale=[[0, "black"], [1, "black"]],
                                 line=dict(color="black", width=2, dash="dash"), hoverinfo="skip"), row=1, col=col)
    t = m.theory
    if engine.get_spec(m.optimizer).capabilities.rate == "heavy_ball" and m.betas is not None and t is not None:
        fig.add_trace(go.Scatter(x=[t["momentum_best_lr"]], y=[t["momentum_best_beta"]], mode="markers",
                                 name=f"theory optimum η*, β* (rate {t['momentum_rate']:.3f})",
                                 marker=dict(symbol="star", size=14, color="white", line=dict(color="black", width=1))),
                      row=1, col=2)


def _map_1d(fig, m: "SweepMap", z, zlabel):
    fig.add_trace(go.Scatter(x=m.lrs, y=z[0], mode="lines+markers", name="measured", line=dict(color=PALETTE[1])),
                  row=1, col=1)
    if m.diverged.any():
        d = m.diverged[0]
        fig.add_trace(go.Scatter(x=m.lrs[d], y=np.zeros(int(d.sum())), mode="markers", name="diverged",
                                 marker=dict(symbol="x", color="#9e9e9e", size=8)), row=1, col=1)
    fig.update_yaxes(title_text=zlabel, row=1, col=1)
    if m.rate is None:
        return
    fig.add_trace(go.Scatter(x=m.lrs, y=m.rate[0], mode="lines", name="rate", line=dict(color=PALETTE[0])),
                  row=1, col=2)
    fig.add_hline(y=1, line=dict(dash="dash", color="black"), row=1, col=2)
    t = m.theory
    if t is not None:
        for x, label, pos in ((t["gd_best_lr"], "2/(λmin + λmax)", "top left"), (t["gd_max_lr"], "2/λmax", "top right")):
            fig.add_vline(x=x, line=dict(dash="dot", color="gray"), annotation_text=label, annotation_position=pos,
                          row=1, col=2)
    fig.update_yaxes(title_text="rate", row=1, col=2)


KINDS = {"contour": contour, "surface": surface3d, "3d": surface3d, "loss": loss_curves, "losses": loss_curves}


def figure(obj, kind: str = "contour", **kwargs) -> go.Figure:
    """``contour``, ``surface`` (or ``3d``) or ``loss`` for a Result; ``contour`` or ``surface`` for a Scene."""
    if hasattr(obj, "steps_to_tol") and hasattr(obj, "lrs"):  # a SweepMap
        return sweep_map(obj, **kwargs)
    try:
        make = KINDS[kind]
    except KeyError:
        raise ValueError(f"kind = {kind!r}: expected one of {', '.join(KINDS)}") from None
    return make(obj, **kwargs)


def tune_curves(t: "Tuning", *, cols: int = 2) -> go.Figure:
    """Each optimizer's sensitivity curve from a tuning: steps to the tolerance (or final loss, when no setting
    reached it) against η at the chosen β; diverged settings as crosses, the 2× band shaded, the divergence
    edge dashed and the chosen point a star."""
    n = len(t)
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    lrs = np.asarray(t.protocol["lrs"], dtype=float)
    titles = []
    for o in t:
        forg = "" if o.forgiveness is None else f", forgiving ×{o.forgiveness:.3g}"
        titles.append(f"{o.name}" + ("" if o.beta is None else f" (β = {o.beta:.3g})") + forg)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.1, vertical_spacing=0.18)
    for k, o in enumerate(t):
        r, c = k // cols + 1, k % cols + 1
        key = "final_loss" if o.criterion == "loss" else "steps"
        y = np.array([np.nan if v is None else v for v in o.curve[key]], dtype=float)
        fig.add_trace(go.Scatter(x=lrs, y=y, mode="lines+markers", name=o.name, showlegend=False,
                                 line=dict(color="#2e86ab"), marker=dict(size=5)), row=r, col=c)
        div = np.array(o.curve["diverged"], dtype=bool)
        top = np.nanmax(y) if np.isfinite(y).any() else 1.0
        if div.any():
            fig.add_trace(go.Scatter(x=lrs[div], y=np.full(div.sum(), top), mode="markers", name="diverged",
                                     showlegend=k == 0, marker=dict(symbol="x", color="#d62728", size=7)), row=r, col=c)
        if o.within is not None:
            fig.add_vrect(x0=o.within[0], x1=o.within[1], fillcolor="#3bb273", opacity=0.18, line_width=0, row=r, col=c)
        if o.edge is not None:
            fig.add_vline(x=o.edge, line=dict(color="#d62728", dash="dash"), row=r, col=c)
        if o.lr is not None:
            best = o.steps_to_tol if key == "steps" else o.final_loss
            fig.add_trace(go.Scatter(x=[o.lr], y=[best], mode="markers", name="chosen", showlegend=k == 0,
                                     marker=dict(symbol="star", size=14, color="#f0a202", line=dict(color="#1f2933", width=1))),
                          row=r, col=c)
        fig.update_xaxes(type="log", title_text="step size η", row=r, col=c)
        fig.update_yaxes(type="log", title_text="final loss" if key == "final_loss" else f"steps to ‖∇f‖ < {t.protocol['tol']:g}",
                         row=r, col=c)
    fig.update_layout(title=f"Tuned on {t.before.surface}: {t.protocol['steps']} steps", template="plotly_white",
                      height=330 * rows + 80, width=480 * cols, legend=dict(orientation="h", y=-0.12))
    return fig

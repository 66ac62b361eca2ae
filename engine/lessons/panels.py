"""The lesson panels' data, one function per panel, computed from the scene on screen.

Each function takes the :class:`~engine.lessons.base.Context` of the scene the page shows
and returns what its figure draws; the page has one renderer per panel, under the same
name (``static/js/lessons/panels.js``), and computes nothing itself. :data:`PANELS` is the
registry that joins the two: a step names its panels, the service calls these functions.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from engine import capabilities, sweep, theory
from engine.lessons.base import Context, fmt, run_label

#: Most points per curve a panel sends (runs are decimated evenly, the last point kept).
MAX_POINTS = 600


def _every(n: int) -> np.ndarray:
    """Indices 0 … n − 1, thinned to at most MAX_POINTS, always including the last."""
    if n <= MAX_POINTS:
        return np.arange(n)
    idx = np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(int))
    return idx


def _labels(ctx: Context) -> list[str]:
    return [run_label(c, ctx.configs) for c in ctx.configs]


def iterates(ctx: Context) -> dict:
    """w_k against k (the first coordinate): on the 1D-like bowl each run is the iteration w ← (1 − ηa) w."""
    x0, x1 = ctx.surface.view[:2]
    runs = []
    for i, t in enumerate(ctx.runs):
        k = _every(len(t.points))
        runs.append({"label": _labels(ctx)[i], "k": k, "w": t.points[k, 0]})
    return {"runs": runs, "range": [x0, x1], "steps": ctx.steps}


def eigen_errors(ctx: Context) -> dict:
    """|error| along each eigenvector against k, measured, and (1 − ηλᵢ)ᵏ e₀ for constant-step GD."""
    if ctx.surface.NAME != "quadratic":
        return {"runs": []}
    out = []
    for i, (c, t) in enumerate(zip(ctx.configs, ctx.runs)):
        gd = capabilities.is_plain_gradient_step(c.name, c.params)  # declared on the catalog entry, not by name
        e = theory.eigen_errors(ctx.surface, t.points, c.params["lr"] if gd else None)
        k = _every(len(t.points))
        out.append({"label": _labels(ctx)[i], "k": k,
                    "measured": [np.abs(e["measured"][k, j]) for j in (0, 1)],
                    "predicted": None if e["predicted"] is None else [np.abs(e["predicted"][k, j]) for j in (0, 1)],
                    "factors": e["factors"]})
    return {"runs": out, "eigenvalues": ctx.surface.eigenvalues.tolist()}


def taylor(ctx: Context) -> dict:
    """The second-order model at Newton's current point (run 1's if there is no Newton run)."""
    i = ctx.index_of("newton")
    i = 0 if i is None else i
    p = ctx.point_at(i)
    x0, x1, y0, y1 = ctx.surface.view
    if not (np.all(np.isfinite(p)) and x0 - (x1 - x0) <= p[0] <= x1 + (x1 - x0) and y0 - (y1 - y0) <= p[1] <= y1 + (y1 - y0)):
        return {"run": i, "point": None}
    t = theory.taylor_view(ctx.surface, p, n=41)
    # Drawn as √(m − min m): the same level sets, spaced evenly instead of bunched where the model is steep.
    shown = np.sqrt(np.maximum(t["z"] - np.min(t["z"]), 0.0))
    return {"run": i, "label": _labels(ctx)[i], "shown": shown,
            **{k: t[k] for k in ("point", "kind", "newton_point", "eigenvalues", "x", "y", "z")}}


def rate_map(ctx: Context) -> dict:
    """The heavy ball's (η, β) map: per-step rate (analytic on the quadratic), diverged cells apart."""
    i = ctx.index_of("momentum")  # the map is the heavy ball's: ring a heavy-ball run only
    lam = ctx.surface.eigenvalues if ctx.surface.NAME == "quadratic" else None
    top = 4 / float(np.max(lam)) if lam is not None else 1.0
    lrs = np.geomspace(top / 300, top, 60)
    betas = np.linspace(0.0, 0.99, 50)
    res = sweep(ctx.surface, "momentum", lrs, betas, start=ctx.start, steps=min(ctx.steps, 300), tol=1e-6)
    rate = capabilities.analytic_rate_map(ctx.surface, "momentum", {"lr": lrs[0], "momentum": 0.0}, lrs, betas)
    diverged = res.diverged if rate is None else rate >= 1
    q = ctx.quadratic
    current = None if i is None else [ctx.param(i, "lr"), ctx.param(i, "momentum")]
    return {"lrs": lrs, "betas": betas, "rate": rate, "diverged": diverged, "steps_to_tol": res.steps_to_tol,
            "best": [q["momentum_best_lr"], q["momentum_best_beta"], q["momentum_rate"]] if q else None,
            "current": current,
            "current_rate": capabilities.predicted_rate(ctx.surface, "momentum", {"lr": current[0], "momentum": current[1]})
            if current else None}


def grad_norm(ctx: Context) -> dict:
    out = []
    for i, t in enumerate(ctx.runs):
        k = _every(len(t.grad_norms))
        out.append({"label": _labels(ctx)[i], "k": k, "g": t.grad_norms[k]})
    return {"runs": out}


def hessian(ctx: Context) -> dict:
    """The Hessian's eigenvalues at run 1's current point: a negative one means the surface curves down."""
    p = ctx.point_at(0)
    if not np.all(np.isfinite(p)):
        return {"point": None}
    info = theory.hessian_eigenvalues(ctx.surface, p)
    return {"point": p, "eigenvalues": info["eigenvalues"], "kind": info["kind"]}


def loss_curves(ctx: Context) -> dict:
    """CE and L2 of one output y against the target d, and their slopes."""
    c = theory.output_loss_curves(np.linspace(0.005, 0.995, 199))
    return {"y": c["y"], "curves": c["curves"]}


def _steps_to_fraction(losses: np.ndarray, f_min: float, fraction: float = 0.95) -> int | None:
    """First step from which the loss stays within (1 − fraction) of its start's gap to f_min."""
    gap = losses[0] - f_min
    ok = np.isfinite(losses) & (losses - f_min <= (1 - fraction) * gap)
    if not ok.any() or not ok[-1]:
        return None
    bad = np.nonzero(~ok)[0]
    return int(bad[-1] + 1) if len(bad) else 0


def f_min(surface) -> float:
    return float(min(surface.value(np.asarray(m, dtype=float)) for m in surface.minima))


def compare_losses(ctx: Context) -> dict:
    """The runs' losses on this surface and on the comparison surface (CE and L2), with steps to 95 %."""
    other = ctx.other()
    series = []
    for s, runs in ((ctx.surface, ctx.runs), other):
        name = s.params.get("loss", s.NAME).upper()
        fm = f_min(s)
        for i, t in enumerate(runs):
            k = _every(len(t.losses))
            series.append({"label": f"{name}, {_labels(ctx)[i]}" if len(runs) > 1 else name, "loss": name,
                           "k": k, "gap": np.maximum(t.losses[k] - fm, 1e-16),
                           "steps_95": _steps_to_fraction(t.losses, fm)})
    return {"series": series}


#: Step sizes tried for each loss in the tuned comparison: 2^(k/2) from 1/8 to 181.
TUNED_LRS = 2.0 ** (np.arange(-6, 16) / 2)


def tuned_steps(surface, start, lrs=None, steps: int = 300) -> dict:
    """Plain GD at every η of ``lrs`` at once (beyond the slider's cap), steps to 95 % for each, and the best."""
    lrs = np.asarray(TUNED_LRS if lrs is None else lrs, dtype=float)
    x = np.tile(np.asarray(start, dtype=float), (len(lrs), 1))
    losses = [surface.value(x)]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            _, g = surface.value_and_grad(x)
            x = x - lrs[:, None] * g
            losses.append(surface.value(x))
    losses = np.array(losses)
    fm = f_min(surface)
    k = [_steps_to_fraction(losses[:, j], fm) for j in range(len(lrs))]
    ok = [j for j in range(len(lrs)) if k[j] is not None]
    best = min(ok, key=lambda j: (k[j], lrs[j])) if ok else None
    return {"lrs": lrs, "steps_95": k, "best_lr": None if best is None else float(lrs[best]),
            "best_steps": None if best is None else k[best]}


def tuned(ctx: Context) -> dict:
    """Each loss at its own best step size: the fewest steps to 95 % of the way down, and at which η."""
    other = ctx.other()
    rows = []
    for s in (ctx.surface, other[0]):
        t = tuned_steps(s, ctx.start)
        rows.append({"loss": s.params["loss"].upper(), **t})
    return {"rows": rows}


def weight_norm(ctx: Context) -> dict:
    """‖w‖ against k for the scene's labels and the comparison's (ε = 0 and ε > 0), and 2 ln k."""
    other = ctx.other()
    series = []
    for s, runs in ((ctx.surface, ctx.runs), other):
        eps = s.params["label_smoothing"]
        for t in runs:
            k = _every(len(t.points))
            series.append({"label": f"ε = {fmt(eps)}", "eps": eps, "k": k, "norm": theory.weight_norms(t.points[k])})
    hard = next((s for s in series if s["eps"] == 0), None)
    guide = None
    if hard is not None and hard["k"][-1] > 1:
        k = hard["k"][hard["k"] > 0]
        c = float(hard["norm"][-1] - 2 * np.log(hard["k"][-1]))  # the O(1) term, at the last step
        guide = {"label": f"2 ln k {'+' if c >= 0 else '−'} {fmt(abs(c))}", "k": k, "norm": 2 * np.log(k) + c}
    return {"series": series, "guide": guide}


def variance(ctx: Context) -> dict:
    """Mini-batch gradient variance at the minimum against b < N: measured, the law, and σ²/b."""
    s = ctx.surface
    p = np.asarray(s.minima[0] if s.minima else ctx.start, dtype=float)
    n = s.n_examples
    bs = list(range(1, n))  # b = N has no variance at all: nothing to draw on a log axis
    v = theory.minibatch_variance_curve(s, p, batch_sizes=bs, samples=2000, seed=0)
    return {"point": p, "n": n, "batch_sizes": bs, "measured": v["measured"], "predicted": v["predicted"],
            "one_over_b": v["one_over_b"], "sigma2": v["sigma2"]}


def backprop(ctx: Context) -> dict:
    """Forward and backward pass at run 1's current point for three examples: near the boundary, far, noisy."""
    s = ctx.surface
    p = ctx.point_at(0)
    x, d = s.inputs, s.targets
    side = (x > 0).astype(float)
    agree = d == side
    near = int(np.argmin(np.where(agree, np.abs(x), np.inf)))
    far = int(np.argmax(np.where(agree, np.abs(x), -np.inf)))
    noisy = int(np.argmax(np.where(~agree, np.abs(x), -np.inf)))
    with np.errstate(all="ignore"):
        chains = [theory.backprop_chain(s, p, i) for i in (near, far, noisy)]
    for c, kind in zip(chains, ("near the boundary", "far from it", "a noisy label")):
        c["kind"] = kind
    ok = all(np.all(np.isfinite(c["grad"])) for c in chains)
    return {"point": p, "examples": chains if ok else [], "activation": s.params["activation"], "loss": s.params["loss"]}


def losses(ctx: Context) -> dict:
    """Each run's loss above the surface's lowest minimum (0 where it has none) against k, for a log axis."""
    fm = f_min(ctx.surface) if ctx.surface.minima else 0.0
    out = []
    for i, t in enumerate(ctx.runs):
        k = _every(len(t.losses))
        out.append({"label": _labels(ctx)[i], "k": k, "gap": np.maximum(t.losses[k] - fm, 1e-16)})
    return {"runs": out, "f_min": fm}


#: Panel name → server function. The page's renderers (static/js/lessons/panels.js) use the same names.
PANELS: dict[str, Callable[[Context], dict]] = {
    "iterates": iterates,
    "eigen_errors": eigen_errors,
    "taylor": taylor,
    "rate_map": rate_map,
    "grad_norm": grad_norm,
    "hessian": hessian,
    "loss_curves": loss_curves,
    "compare_losses": compare_losses,
    "tuned": tuned,
    "weight_norm": weight_norm,
    "variance": variance,
    "backprop": backprop,
    "losses": losses,
}

# Lessons 10–13's panels live in their own module (engine/lessons/lecture_panels.py), joined here.
from engine.lessons.lecture_panels import PANELS as _LECTURE_PANELS  # noqa: E402

PANELS.update(_LECTURE_PANELS)

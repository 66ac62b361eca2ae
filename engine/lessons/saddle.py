"""Lesson 5: saddle points. E = x² − y² + w·y⁴ (curvature ratio r = 1, wall w = ½): minima at y = ±1."""

from __future__ import annotations

import numpy as np

from engine import theory
from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, scene

SADDLE = {"curvature_ratio": 1.0, "wall": 0.5}
START = [-1.8, 1e-6]
LR = 0.05


def escape_step(ctx: Context, i: int, threshold: float = 0.5) -> int | None:
    """First step at which run i is more than ``threshold`` from the x-axis (off the saddle's ridge)."""
    y = np.abs(ctx.runs[i].points[:, 1])
    ok = y > threshold
    return int(np.argmax(ok)) if ok.any() else None


def _facts(ctx: Context) -> Facts:
    r = ctx.surface.params["curvature_ratio"]
    f = Facts(values={"neg": fmt(-2 * r), "pos": fmt(2.0)})
    for i, c in enumerate(ctx.configs):
        e = escape_step(ctx, i)
        f.values[f"escape{i}"] = "never" if e is None else str(e)
        f.values[f"eta{i}"] = fmt(c.params["lr"])
        f.notes[i] = "stays at the saddle" if e is None else f"escapes (|y| > 0.5) at step {e}"
    return f


def _step1(ctx: Context) -> Facts:
    f = _facts(ctx)
    r = ctx.surface.params["curvature_ratio"]
    lr = ctx.configs[0].params["lr"]
    g = ctx.runs[0].grad_norms
    e = escape_step(ctx, 0)
    k = int(np.argmin(g[: e or len(g)]))
    f.values.update({"gmin": fmt(g[k]), "gmin_step": str(k), "g0": fmt(g[0]), "grow": fmt(1 + 2 * r * lr),
                     "shrink": fmt(abs(1 - 2 * lr))})
    info = theory.hessian_eigenvalues(ctx.surface, ctx.runs[0].points[k])
    f.claims.append(Claim(f"‖∇E‖ falls from {fmt(g[0])} to {fmt(g[k])} at step {k}", g[k] < 1e-2 * g[0]))
    f.claims.append(Claim(f"there the Hessian's eigenvalues are {fmt(info['eigenvalues'][0])} and "
                          f"{fmt(info['eigenvalues'][1])}: a saddle", info["eigenvalues"][0] < 0 < info["eigenvalues"][1]))
    f.claims.append(Claim(f"GD escapes at step {f.values['escape0']}", e is not None and e > 50))
    return f


def _step2(ctx: Context) -> Facts:
    f = _facts(ctx)
    n = ctx.index_of("newton")
    if n is not None and (short := ctx.too_short(n, 1)):
        f.claims.append(short)
    elif n is not None:
        d = float(np.linalg.norm(ctx.runs[n].points[1]))
        f.values["newton_dist"] = fmt(d)
        f.claims.append(Claim(f"Newton, after one step: {fmt(d)} from the saddle, and stays", escape_step(ctx, n) is None))
    gd = escape_step(ctx, 0)
    for i, name in ((ctx.index_of("momentum"), "momentum"), (ctx.index_of("sgd"), "noisy SGD")):
        if i is None:
            continue
        e = escape_step(ctx, i)
        f.claims.append(Claim(f"{name} escapes at step {f.values[f'escape{i}']}, GD at step {f.values['escape0']}",
                              e is not None and (gd is None or e < gd)))
    return f


LESSON = Lesson(
    "saddle", 5, "Saddle points",
    (
        Step(
            "Gradient descent crawls past a saddle",
            (
                "At a saddle the gradient is zero but the curvature is negative in one direction: E = x² − y² + ½y⁴ "
                "rises along x and falls along y (Hessian eigenvalues {neg} and {pos} at the origin), towards minima "
                "at y = ±1.",
                "GD started almost on the x-axis slides towards the saddle: ‖∇E‖ falls from {g0} to {gmin} (step "
                "{gmin_step}) while the tiny y grows only {grow}× a step, until it escapes at step {escape0}.",
            ),
            scene("saddle", SADDLE, [("gd", {"lr": LR})], START, 250),
            claims=_step1, controls=(Control("lr", 0),), panels=("grad_norm", "hessian"),
        ),
        Step(
            "Newton is drawn in; momentum and noise get away",
            (
                "Newton jumps to where its quadratic model is flat: the saddle itself ({newton_dist} from it after one "
                "step), and stays there.",
                "Momentum builds up speed along the falling direction and escapes at step {escape1}; noisy SGD is "
                "kicked off the ridge at step {escape2}; GD needs {escape0}.",
            ),
            scene("saddle", SADDLE, [("gd", {"lr": LR}), ("momentum", {"lr": LR, "momentum": 0.9}),
                                     ("sgd", {"lr": LR, "noise": 0.1, "seed": 0}), ("newton", {"lr": 1.0})], START, 250),
            claims=_step2, controls=(Control("momentum", 1),), panels=("grad_norm", "hessian"),
            prediction=Prediction("Which run leaves the saddle first?",
                                  ("GD", "momentum", "noisy SGD", "Newton"),
                                  lambda ctx: int(np.argmin([np.inf if (e := escape_step(ctx, i)) is None else e
                                                             for i in range(len(ctx.runs))]))),
        ),
    ),
)

"""The panels of lessons 10–13 (softmax, activations and shapes, SGD's O(1/ε), saddles), one function each.

Like :mod:`engine.lessons.panels`, each takes the :class:`~engine.lessons.base.Context` of the
scene on screen and returns what its figure draws; the page's renderers of the same names live
in ``static/js/lessons/lecture_panels.js``. ``PANELS`` here is merged into the registry there.
The expensive ones (200 seeds × 10,000 SGD steps; Newton from hundreds of starts in up to eight
dimensions) are cached on the settings that determine them.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from engine import activations, backprop as bp, critical_points as cp, sgd_rate, softmax as sm
from engine.lessons.base import Context, run_label
from engine.surfaces import make_surface


def _point(ctx: Context) -> np.ndarray:
    p = ctx.point_at(0)
    return p if np.all(np.isfinite(p)) else ctx.start


# --- lesson 10: the K-class softmax -----------------------------------------------------------------

def softmax_at(surface, p) -> dict:
    """Logits, outputs, target and both gradients at the point p of a softmax3 surface."""
    z = surface.logits(np.asarray(p, dtype=float))
    t = surface.target
    return {"point": np.asarray(p, dtype=float), "z": z, "y": sm.softmax(z), "t": t,
            "dCE_dy": sm.grad_wrt_outputs(z, t), "dCE_dz": sm.grad_wrt_logits(z, t),
            "loss": float(sm.cross_entropy(z, t)), "eps": surface.params["label_smoothing"], "target": 0}


def softmax_grads(ctx: Context) -> dict:
    """Per class at run 1's current point: y, t, ∂CE/∂y (zero off-target for hard targets) and ∂CE/∂z = y − t."""
    return softmax_at(ctx.surface, _point(ctx))


def jacobians(ctx: Context) -> dict:
    """At run 1's current point: the softmax's Jacobian diag(y) − yyᵀ beside σ's diagonal one, and the chain rule."""
    d = softmax_at(ctx.surface, _point(ctx))
    j = activations.jacobians(d["z"], "sigmoid")
    chain = np.asarray(j["softmax_jacobian"]).T @ d["dCE_dy"]
    return {**j, "point": d["point"], "dCE_dy": d["dCE_dy"], "dCE_dz": d["dCE_dz"], "chain": chain,
            "chain_error": float(np.max(np.abs(chain - d["dCE_dz"])))}


# --- lesson 11: activations and backprop shapes -----------------------------------------------------

def activation_curves(ctx: Context) -> dict:
    """σ, tanh and ReLU and their derivatives on z ∈ [−4, 4]; the scene's hidden activation first."""
    c = activations.curves()
    return {**c, "current": ctx.surface.params.get("activation")}


def shapes(ctx: Context) -> dict:
    """The 2-2-1 network at W₂ = run 1's current point: every parameter, its gradient and their shapes."""
    s = ctx.surface
    p = _point(ctx)
    params = s.network_params(p)
    table = bp.shape_table(params, bp.DATA_X[0], bp.DATA_D[0], s.params["activation"])
    value, grads, _ = bp.backward(params, bp.DATA_X, bp.DATA_D, s.params["activation"])
    h = 1e-6
    fd = np.array([(s.value(p + h * e) - s.value(p - h * e)) / (2 * h) for e in np.eye(2)])
    return {"point": p, "activation": s.params["activation"], "example": table,
            "mean_loss": value, "mean_grads": {n: np.asarray(getattr(grads, n)).tolist() for n in bp.PARAM_NAMES},
            "surface_grad": s.grad(p), "finite_difference": fd,
            "fd_error": float(np.max(np.abs(grads.W2[0] - fd))), "n_examples": len(bp.DATA_D)}


# --- lesson 12: SGD's O(1/ε) ----------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _curve(lambda_1: float, lambda_2: float, rotation: float, start: tuple, lr: float, schedule: str,
           noise: float) -> dict:
    s = make_surface("quadratic", lambda_1=lambda_1, lambda_2=lambda_2, rotation=rotation)
    k, ex = sgd_rate.simulate(s, start, lr, schedule, noise, sgd_rate.STEPS, range(sgd_rate.SEEDS))
    with np.errstate(all="ignore"):
        mean = ex.mean(axis=0)
        exact = sgd_rate.expected_excess(s, start, lr, schedule, noise, sgd_rate.STEPS)[k - 1]
    if not (np.all(np.isfinite(mean)) and np.all(mean > 0) and np.all(np.isfinite(exact))):
        # Blown up (a step far past 2/λ): nothing to fit, and JSON takes no infinities.
        ok = lambda a: [float(v) if np.isfinite(v) and v > 0 else None for v in a]  # noqa: E731
        return {"k": k, "mean": ok(mean), "exact": ok(exact), "slope": None}
    slope, _ = sgd_rate.fit_slope(k, mean)
    return {"k": k, "mean": mean, "exact": exact, "slope": slope}


def sgd_curves(ctx: Context) -> dict:
    """Excess loss against k (log-log), averaged over 200 seeds, for each distinct plain-SGD run of the scene."""
    s = ctx.surface
    if s.NAME != "quadratic":
        return {"curves": [], "mu": None}
    lam = np.sort(s.eigenvalues)
    mu = float(lam[0])
    curves, seen = [], set()
    for i, c in enumerate(ctx.configs):
        p = c.params
        if c.name != "sgd" or p.get("momentum", 0) != 0 or p.get("noise", 0) <= 0:
            continue
        sched = p.get("schedule", "constant")
        key = (p["lr"], sched, p["noise"])
        if key in seen or sched not in ("constant", "inverse"):
            continue
        seen.add(key)
        cur = _curve(s.params["lambda_1"], s.params["lambda_2"], s.params["rotation"], tuple(map(float, ctx.start)),
                     *key)
        inverse = sched == "inverse"
        lr, noise = p["lr"], p["noise"]
        constant = 0.5 * float(np.sum(lam * lr ** 2 * noise ** 2 / (2 * lr * lam - 1))) if inverse and 2 * lr * mu > 1 else None
        floor = None if inverse else float(np.sum(lr * noise ** 2 / (2 * (2 - lr * lam)))) if lr * lam[-1] < 2 else None
        curves.append({"run": i, "label": run_label(c, ctx.configs), "lr": lr, "schedule": sched, "noise": noise, **cur,
                       "slope_theory": sgd_rate.theory_slope(lr, sched, mu), "constant": constant, "floor": floor})
    return {"curves": curves, "mu": mu, "L": float(lam[-1]), "lr_threshold": 1 / (2 * mu),
            "seeds": sgd_rate.SEEDS, "steps": sgd_rate.STEPS, "fit_from": sgd_rate.FIT_FROM}


# --- lesson 13: saddles and minima ------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def critical_summary(seed: int) -> dict:
    """``engine.critical_points.summary`` for this seed (the same seed as the landscape on screen)."""
    return cp.summary(seed=seed)


def _seed(ctx: Context) -> int:
    return int(ctx.surface.params.get("seed", cp.SEED))


def saddle_share(ctx: Context) -> dict:
    """Per dimension d: how many critical points Newton found, and the shares of minima, saddles and maxima."""
    s = critical_summary(_seed(ctx))
    return {"seed": s["seed"], "starts": s["starts"], "rows": s["rows"]}


def index_height(ctx: Context) -> dict:
    """Every critical point found, by dimension: its index fraction α = index/d and its height f."""
    s = critical_summary(_seed(ctx))
    return {"seed": s["seed"], "scatter": s["scatter"], "rows": s["rows"]}


def critical_here(ctx: Context) -> dict:
    """The landscape on screen: its minima, saddles and maxima in the view, and each one's height."""
    s = ctx.surface
    kinds = {"minimum": s.minima, "saddle": s.saddles, "maximum": getattr(s, "maxima", [])}
    pts = [{"kind": k, "point": list(p), "value": float(s.value(np.asarray(p)))} for k, ps in kinds.items() for p in ps]
    pts.sort(key=lambda q: q["value"])
    return {"points": pts, "counts": {k: len(v) for k, v in kinds.items()}}


#: Panel name → server function, merged into engine.lessons.panels.PANELS.
PANELS: dict[str, Callable[[Context], dict]] = {
    "softmax_grads": softmax_grads,
    "jacobians": jacobians,
    "activation_curves": activation_curves,
    "shapes": shapes,
    "sgd_curves": sgd_curves,
    "saddle_share": saddle_share,
    "index_height": index_height,
    "critical_here": critical_here,
}

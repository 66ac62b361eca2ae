"""Lesson 8: SGD, batch GD and mini-batches on a logistic neuron with smoothed labels.

Smoothed labels give a finite minimum at which the per-example gradients still disagree, the
setting where constant-step SGD cannot settle. The Hessian there has λ ≈ 0.17 and 0.26, so
η = 4 makes η/k decay slowly enough (ηλ ≈ 1) to reach the minimum before it freezes.
"""

from __future__ import annotations

import numpy as np

from engine import theory
from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, scene
from engine.surfaces import make_surface

SURFACE = {"loss": "ce", "label_smoothing": 0.2}
LR = 4.0
START = [0.0, 3.0]
N = make_surface("logistic_neuron", **SURFACE).n_examples
LECTURE_N, LECTURE_B = 1000, 100


def late_path(ctx: Context, i: int, last: int = 200) -> float:
    """Distance run i travelled over the scene's last ``last`` steps (0 for a run that converged before them)."""
    p = ctx.runs[i].points[max(0, ctx.steps - last):]
    return float(np.sum(np.linalg.norm(np.diff(p, axis=0), axis=1))) if len(p) > 1 else 0.0


def _kind(ctx: Context, i: int) -> str:
    p = ctx.configs[i].params
    if ctx.configs[i].name != "sgd":
        return "other"
    if p["batch_size"] >= ctx.surface.n_examples:
        return "batch"
    return "decaying" if p.get("schedule") == "inverse" else "constant" if p["batch_size"] == 1 else "mini"


def _facts(ctx: Context) -> Facts:
    f = Facts(values={"n": str(ctx.surface.n_examples)})
    groups: dict[str, list[int]] = {}
    for i in range(len(ctx.runs)):
        groups.setdefault(_kind(ctx, i), []).append(i)
        f.notes[i] = f"moved {fmt(late_path(ctx, i))} in its last 200 steps"
    for kind, ids in groups.items():
        f.values[f"path_{kind}"] = fmt(np.mean([late_path(ctx, i) for i in ids]))
    return f, groups


def _step1(ctx: Context) -> Facts:
    f, g = _facts(ctx)
    if "batch" in g and "constant" in g:
        b = late_path(ctx, g["batch"][0])
        c = min(late_path(ctx, i) for i in g["constant"])
        f.claims.append(Claim(f"last 200 steps: batch GD moved {fmt(b)}, SGD b = 1 at least {fmt(c)}", c > 100 * b))
    return f


def _step2(ctx: Context) -> Facts:
    f, g = _facts(ctx)
    if "decaying" in g and "constant" in g:
        d = max(late_path(ctx, i) for i in g["decaying"])
        c = min(late_path(ctx, i) for i in g["constant"])
        m = np.asarray(ctx.surface.minima[0])
        dist = max(float(np.linalg.norm(ctx.runs[i].points[-1] - m)) for i in g["decaying"])
        lam = np.linalg.eigvalsh(ctx.surface.hessian(m))
        f.values.update({"dist": fmt(dist), "eta": fmt(ctx.configs[g["decaying"][0]].params["lr"]),
                         "lmin": fmt(lam[0]), "lmax": fmt(lam[1])})
        f.claims.append(Claim(f"last 200 steps: η/k moved at most {fmt(d)}, constant η at least {fmt(c)}", c > 100 * d))
        f.claims.append(Claim(f"η/k ends within {fmt(dist)} of the minimum", dist < 0.1))
    return f


def _step3(ctx: Context) -> Facts:
    f, g = _facts(ctx)
    from engine.lessons.panels import variance

    v = variance(ctx)
    b = next((ctx.configs[i].params["batch_size"] for i in g.get("mini", [])), 4)
    b = min(b, len(v["batch_sizes"]))
    j = b - 1
    law_lecture = float(theory.minibatch_variance_law(1.0, LECTURE_N, [LECTURE_B])[0])
    f.values.update({"b": str(b), "sigma2": fmt(v["sigma2"]), "var_b": fmt(v["measured"][j]), "law_b": fmt(v["predicted"][j]),
                     "ratio_b": fmt(v["sigma2"] / v["measured"][j]), "lecture_pct": fmt(100 * law_lecture, 2),
                     "lecture_n": str(LECTURE_N), "lecture_b": str(LECTURE_B)})
    ok = bool(np.all(np.abs(v["measured"] - v["predicted"]) < 0.15 * v["predicted"]))
    f.claims.append(Claim(f"b = {b}: variance {fmt(v['measured'][j])} measured, σ²/b · (N − b)/(N − 1) = "
                          f"{fmt(v['predicted'][j])}", ok))
    if "mini" in g and "constant" in g:
        m = late_path(ctx, g["mini"][0])
        c = min(late_path(ctx, i) for i in g["constant"])
        f.claims.append(Claim(f"last 200 steps: b = {b} moved {fmt(m)}, b = 1 at least {fmt(c)}", m < c))
    f.claims.append(Claim(f"N = {LECTURE_N}, b = {LECTURE_B}: {fmt(100 * law_lecture, 2)} % of the variance is left", law_lecture < 0.01))
    return f


def _sgd(b, seed=0, **kw):
    return ("sgd", {"lr": LR, "batch_size": b, "seed": seed, **kw})


LESSON = Lesson(
    "sgd", 8, "SGD, batch GD and mini-batches",
    (
        Step(
            "Batch GD and SGD",
            (
                "Batch GD follows the gradient averaged over all N = {n} examples of this logistic neuron (smoothed "
                "labels); SGD follows one example at a time, an unbiased but noisy estimate of it.",
                "With a constant step SGD never settles: near the minimum the examples still pull different ways. Over "
                "the last 200 steps batch GD moved {path_batch}, the three SGD runs (seeds 0–2) {path_constant} on "
                "average.",
            ),
            scene("logistic_neuron", SURFACE, [_sgd(N)] + [_sgd(1, s) for s in range(3)], START, 1000),
            claims=_step1, controls=(Control("lr", 1),), panels=("losses",),
            prediction=Prediction("Near the minimum, what does SGD with a constant step do?",
                                  ("settles like batch GD", "keeps bouncing around it"),
                                  lambda ctx: 1 if late_path(ctx, 1) > 10 * late_path(ctx, 0) else 0),
        ),
        Step(
            "Decaying steps settle",
            (
                "With η_k = η/k the steps shrink and the noise averages out: the three runs with a decaying step move "
                "{path_decaying} over their last 200 steps, against {path_constant} at a constant step, and end "
                "within {dist} of the minimum.",
                "The decay must be slow enough to get there first: here η = {eta} with the Hessian's eigenvalues "
                "{lmin} and {lmax} at the minimum, so η/k · λ stays near 1 for the first steps.",
            ),
            scene("logistic_neuron", SURFACE, [_sgd(1, s) for s in range(3)] +
                  [_sgd(1, s, schedule="inverse") for s in range(3)], START, 1000),
            claims=_step2, panels=("losses",),
        ),
        Step(
            "Mini-batches divide the variance",
            (
                "A mini-batch of b examples, drawn without replacement, divides the gradient's variance by b, times "
                "(N − b)/(N − 1). The panel measures it at the minimum for every b < N: at b = {b}, {var_b} against "
                "the law's {law_b} (σ² = {sigma2} for one example).",
                "The factor matters only when b is a large part of N: with N = {lecture_n} and b = {lecture_b}, "
                "{lecture_pct} % of the variance is left, nearly all of the full batch's reduction.",
            ),
            scene("logistic_neuron", SURFACE, [_sgd(1, 0), _sgd(4, 0), _sgd(N)], START, 1000),
            claims=_step3, controls=(Control("batch_size", 1),), panels=("variance",),
        ),
    ),
)

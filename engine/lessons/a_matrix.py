"""Lesson 2: the A matrix. On E = ½ wᵀAw the error along each eigenvector changes on its own, by 1 − ηλᵢ a step."""

from __future__ import annotations

import numpy as np

from engine import theory
from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, scene
from engine.lessons.common import BOWL, BOWL_START, bowl_theory, fmt_step, rate_of

T = bowl_theory()


def _values(ctx: Context) -> dict:
    q = ctx.quadratic
    v = {"lmin": fmt(min(q["eigenvalues"])), "lmax": fmt(q["lambda_max"]), "kappa": fmt(q["condition_number"]),
         "eta_max": fmt(q["gd_max_lr"]), "inv_lmax": fmt(1 / q["lambda_max"]), "best_lr": fmt(q["gd_best_lr"]),
         "gd_rate": fmt(q["gd_rate"])}
    lam = np.sort(ctx.surface.eigenvalues)
    for i, c in enumerate(ctx.configs):
        lr = c.params["lr"]
        v[f"eta{i}"] = fmt(lr)
        v[f"fmin{i}"] = fmt(1 - lr * lam[0])
        v[f"fmax{i}"] = fmt(1 - lr * lam[1])
        r = rate_of(ctx, i)
        v[f"rate{i}"] = "—" if r is None else fmt(r)
        v[f"reach{i}"] = fmt_step(ctx.reaches(i))
    return v


def _errors(ctx: Context, i: int) -> np.ndarray:
    """|error| along the eigenvectors of (λmin, λmax) for run i: columns (shallow, steep)."""
    e = np.abs(theory.eigen_errors(ctx.surface, ctx.runs[i].points)["measured"])
    order = np.argsort(ctx.surface.eigenvalues)
    return e[:, order]


def _step1(ctx: Context) -> Facts:
    f = Facts(values=_values(ctx))
    if short := ctx.too_short(0, 1):
        f.claims.append(short)
        return f
    e = _errors(ctx, 0)
    lr, lam = ctx.configs[0].params["lr"], np.sort(ctx.surface.eigenvalues)
    f.claims.append(Claim(f"steep error after one step: {fmt(e[1, 1])} (factor 1 − ηλmax = {fmt(1 - lr * lam[1])})",
                          e[1, 1] < 1e-9 * max(e[0, 1], 1e-300) or e[1, 1] < 1e-12))
    if e[0, 0] > 0 and len(e) > 11:
        f.claims.append(Claim(f"shallow error shrinks by {fmt((e[11, 0] / e[1, 0]) ** 0.1)} a step (1 − ηλmin = "
                              f"{fmt(1 - lr * lam[0])})", abs((e[11, 0] / e[1, 0]) ** 0.1 - abs(1 - lr * lam[0])) < 1e-6))
    ctx.note_reach(f)
    return f


def _step2(ctx: Context) -> Facts:
    f = Facts(values=_values(ctx))
    if short := ctx.too_short(0, 2):
        f.claims.append(short)
        return f
    e = _errors(ctx, 0)
    lr, lam = ctx.configs[0].params["lr"], np.sort(ctx.surface.eigenvalues)
    grow = e[2, 1] / e[1, 1] if e[1, 1] > 0 else np.nan
    f.claims.append(Claim(f"steep error: ×{fmt(grow)} a step (|1 − ηλmax| = {fmt(abs(1 - lr * lam[1]))})",
                          bool(grow > 1)))
    f.claims.append(Claim(f"shallow error: ×{fmt(abs(1 - lr * lam[0]))} a step, converging", abs(1 - lr * lam[0]) < 1))
    dv = ctx.diverged_at(0)
    f.claims.append(Claim(f"the run diverges at step {dv}" if dv else "the run does not diverge", dv is not None))
    ctx.note_reach(f)
    return f


def _step3(ctx: Context) -> Facts:
    f = Facts(values=_values(ctx))
    q = ctx.quadratic
    r = rate_of(ctx, 1)
    f.claims.append(Claim(f"η = {fmt(ctx.configs[1].params['lr'])}: measured rate {fmt(r) if r else '—'}, theory "
                          f"(κ − 1)/(κ + 1) = {fmt(q['gd_rate'])}",
                          r is not None and abs(r - q["gd_rate"]) < 1e-3))
    k0, k1 = ctx.reaches(0), ctx.reaches(1)
    f.claims.append(Claim(f"within 10⁻⁶: η = 1/λmax at step {fmt_step(k0)}, η = 2/(λmin + λmax) at step {fmt_step(k1)}",
                          k1 is not None and (k0 is None or k1 < k0)))
    ctx.note_reach(f)
    return f


def _which_first(ctx: Context) -> int:
    k0, k1 = ctx.reaches(0), ctx.reaches(1)
    k0 = np.inf if k0 is None else k0
    k1 = np.inf if k1 is None else k1
    return 0 if k0 < k1 else 1 if k1 < k0 else 2


LESSON = Lesson(
    "a-matrix", 2, "The A matrix: different slopes in different directions",
    (
        Step(
            "Each direction on its own",
            (
                "For E = ½ wᵀAw the error along each eigenvector of A changes on its own, multiplied by 1 − ηλᵢ at "
                "every step. Here λ = {lmin} and {lmax}: a bowl κ = {kappa} times steeper one way than the other.",
                "η = 1/λmax = {eta0} gives the steep direction the factor {fmax0}: it is gone after one step. The "
                "shallow one gets {fmin0} and crawls. The panel draws both errors against k, measured (lines) and "
                "(1 − ηλᵢ)ᵏ e₀ (circles).",
            ),
            scene("quadratic", BOWL, [("gd", {"lr": 1 / T["lambda_max"]})], BOWL_START, 80),
            claims=_step1, controls=(Control("lr", 0),), panels=("eigen_errors",),
        ),
        Step(
            "One step size for both directions",
            (
                "The step must suit the steepest direction: above 2/λmax = {eta_max} its factor 1 − ηλmax = {fmax0} "
                "is below −1, and the steep error grows while the shallow one still shrinks ({fmin0}).",
                "One unstable direction is enough: the run diverges.",
            ),
            scene("quadratic", BOWL, [("gd", {"lr": 1.05 * T["gd_max_lr"]})], BOWL_START, 200),
            claims=_step2, controls=(Control("lr", 0),), panels=("eigen_errors",),
            prediction=Prediction("Only the steep direction is unstable. What does the run do?",
                                  ("zig-zags but converges", "diverges", "stops in the valley"),
                                  lambda ctx: 1 if ctx.diverged_at(0) is not None else 0),
        ),
        Step(
            "The best fixed step",
            (
                "The best fixed step balances the two factors: η = 2/(λmin + λmax) = {best_lr} makes them equal and "
                "opposite, so the run zig-zags across the valley and shrinks by (κ − 1)/(κ + 1) = {gd_rate} a step "
                "(measured: {rate1}).",
                "η = 1/λmax kills the steep error at once but then crawls along the valley at {rate0} a step. Change "
                "λ1 and λ2 to reshape the bowl.",
            ),
            scene("quadratic", BOWL, [("gd", {"lr": 1 / T["lambda_max"]}), ("gd", {"lr": T["gd_best_lr"]})],
                  BOWL_START, 200),
            claims=_step3, controls=(Control("lambda_2"),), panels=("eigen_errors",),
            prediction=Prediction("Which step size gets within 10⁻⁶ of the minimum first?",
                                  ("η = 1/λmax", "η = 2/(λmin + λmax)", "both at the same step"), _which_first),
        ),
    ),
)

"""Lesson 3: normalization and Newton, on a quadratic, then a convex surface, then a non-convex one."""

from __future__ import annotations

import numpy as np

from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, scene
from engine.lessons.common import BOWL, BOWL_START, bowl_theory, first_of, fmt_step

T = bowl_theory()
#: A logistic neuron with smoothed labels: cross-entropy of a linear model is convex, and ε > 0
#: puts its minimum at a finite point. From (0, 0) pure Newton converges; far out it can overshoot.
CONVEX = {"loss": "ce", "label_smoothing": 0.1}
CONVEX_START = [0.0, 0.0]
ROSEN_START = [0.0, 2.0]  # where the local model is a saddle


def _notes(ctx: Context, f: Facts) -> Facts:
    ctx.note_reach(f)
    for i in range(len(ctx.runs)):
        f.values[f"reach{i}"] = fmt_step(ctx.reaches(i))
        f.values[f"eta{i}"] = fmt(ctx.configs[i].params["lr"])
    return f


def _step1(ctx: Context) -> Facts:
    f = _notes(ctx, Facts())
    gd, pre, newton = 0, ctx.index_of("preconditioned"), ctx.index_of("newton")
    for i, name in ((pre, "preconditioned GD"), (newton, "Newton")):
        if i is None:
            continue
        k = ctx.reaches(i)
        f.claims.append(Claim(f"{name}, η = {fmt(ctx.configs[i].params['lr'])}: at the minimum after {fmt_step(k)} "
                              "step(s)", k == 1))
    k = ctx.reaches(gd)
    f.claims.append(Claim(f"GD at its best fixed step: {fmt_step(k)} steps", k is not None and k > 1))
    return f


def _errors(ctx: Context, i: int, n: int = 7) -> list[float]:
    return [float(v) for v in ctx.distance(i)[:n]]


def _step2(ctx: Context) -> Facts:
    f = _notes(ctx, Facts())
    newton = ctx.index_of("newton")
    lam = np.linalg.eigvalsh(ctx.surface.hessian(ctx.start))
    f.values["hmin"], f.values["hmax"] = fmt(lam[0]), fmt(lam[1])
    if newton is not None:
        e = _errors(ctx, newton)
        f.values["errors"] = ", ".join(fmt(v, 2) for v in e)
        squares = all(e[j + 1] < e[j] for j in range(len(e) - 1) if e[j] > 1e-12)
        f.claims.append(Claim("Newton's distance to the minimum, step by step: " + f.values["errors"],
                              squares and ctx.reaches(newton) is not None))
        later = [j for j in range(2, len(e) - 1) if 1e-10 < e[j + 1] and e[j] < 0.2]
        f.claims.append(Claim("near the minimum each error is about the square of the one before (quadratic "
                              "convergence)", bool(later) and all(e[j + 1] < 3 * e[j] ** 2 + 1e-12 for j in later)))
    k0, kn = ctx.reaches(0), ctx.reaches(newton) if newton is not None else None
    f.claims.append(Claim(f"within 10⁻⁶: GD at step {fmt_step(k0)}, Newton at step {fmt_step(kn)}",
                          kn is not None and (k0 is None or kn < k0)))
    return f


def _step3(ctx: Context) -> Facts:
    f = _notes(ctx, Facts())
    newton = ctx.index_of("newton")
    m = np.asarray(ctx.surface.minima[0])
    lam = np.linalg.eigvalsh(ctx.surface.hessian(m))
    lam0 = np.linalg.eigvalsh(ctx.surface.hessian(ctx.start))
    f.values.update({"ratio": fmt(lam[1] / lam[0]), "h0": fmt(lam0[0]), "h1": fmt(lam0[1]),
                     "edge": fmt(2 / lam[1])})
    f.claims.append(Claim(f"at the start the Hessian's eigenvalues are {fmt(lam0[0])} and {fmt(lam0[1])}: the model is "
                          + ("a saddle" if lam0[0] < 0 < lam0[1] else "not a saddle"), lam0[0] < 0 < lam0[1]))
    if newton is not None:
        k = ctx.reaches(newton)
        f.claims.append(Claim(f"Newton still reaches the minimum, at step {fmt_step(k)}", k is not None))
    k0 = ctx.reaches(0)
    dv = ctx.diverged_at(0)
    f.claims.append(Claim(f"GD η = {fmt(ctx.configs[0].params['lr'])}: " + (
        f"diverged at step {dv}" if dv else f"within 10⁻⁶ at step {k0}" if k0 is not None else
        f"still {fmt(ctx.distance(0)[-1])} from the minimum after {ctx.runs[0].steps_taken} steps"), dv is None))
    f.claims.append(Claim(f"curvature across the valley / along it at the minimum: {f.values['ratio']}", True))
    return f


LESSON = Lesson(
    "newton", 3, "Normalization and Newton",
    (
        Step(
            "Rescaling makes the bowl round",
            (
                "Rescaling the axes by the Hessian, w ← w − η A⁻¹∇E (preconditioning), turns the elongated bowl into a "
                "round one: with η = 1 one step lands on the minimum.",
                "Newton's method rescales at every point, w ← w − H⁻¹∇E, jumping to the minimum of the local quadratic "
                "model E + gᵀd + ½ dᵀHd. On a quadratic that model is the surface itself. GD at its best fixed step "
                "needs {reach0} steps.",
            ),
            scene("quadratic", BOWL, [("gd", {"lr": T["gd_best_lr"]}), ("preconditioned", {"lr": 1.0}),
                                      ("newton", {"lr": 1.0})], BOWL_START, 200),
            claims=_step1, controls=(Control("lr", 2),), panels=("taylor",),
            prediction=Prediction("Which run reaches the minimum first?",
                                  ("GD at its best step", "preconditioned GD and Newton, together", "Newton alone"),
                                  lambda ctx: {0: 0, 1: 2, 2: 2}.get(first_of(ctx, [0, 1, 2]), 1)),
        ),
        Step(
            "A convex surface that is not a quadratic",
            (
                "The lecture's claim is for convex functions. This logistic neuron with smoothed labels is convex: "
                "its Hessian is positive definite everywhere (at the start λ = {hmin} and {hmax}), so every local "
                "model is a bowl, but not the surface itself.",
                "Newton no longer lands in one step, but its distances to the minimum shrink faster and faster, each "
                "about the square of the one before. GD (η = {eta0}) needs {reach0} steps, Newton {reach1}. The panel "
                "shows the model at Newton's current point: press Step.",
            ),
            scene("logistic_neuron", CONVEX, [("gd", {"lr": 4.0}), ("newton", {"lr": 1.0})], CONVEX_START, 60),
            claims=_step2, controls=(Control("lr", 0),), panels=("taylor",),
            prediction=Prediction("How many steps does Newton need here?",
                                  ("one, as on the quadratic", "a handful", "hundreds"),
                                  lambda ctx: (lambda k: 2 if k is None or k > 20 else 0 if k <= 1 else 1)(
                                      ctx.reaches(ctx.index_of("newton") or 0))),
        ),
        Step(
            "Not convex: Rosenbrock's valley",
            (
                "Rosenbrock's valley is not convex. At this start the Hessian's eigenvalues are {h0} and {h1}: the "
                "local model is a saddle, and Newton's first step heads for its stationary point, not for a minimum. "
                "From here it is lucky and still arrives, at step {reach1}.",
                "GD must keep η below 2/λmax at the minimum ({edge}) to be stable; even then it crawls along the "
                "valley, whose curvature across is {ratio} times the curvature along it.",
            ),
            scene("rosenbrock", {"a": 1.0, "b": 100.0}, [("gd", {"lr": 0.0015}), ("newton", {"lr": 1.0})],
                  ROSEN_START, 2000),
            claims=_step3, controls=(Control("lr", 0),), panels=("taylor",),
        ),
    ),
)

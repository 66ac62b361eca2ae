"""Lesson 10: the K-class softmax, its cross-entropy with label smoothing, and its Jacobian.

The surface is one example of class 1 under a softmax over K = 3 classes, y = softmax(z₁, z₂, 0),
over its two free logits (``engine.surfaces.softmax3``); the gradients and the Jacobian come from
``engine.softmax``, which the engine tests check against PyTorch's ``cross_entropy``.
"""

from __future__ import annotations

import numpy as np

from engine import softmax as sm
from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, scene
from engine.lessons.lecture_panels import jacobians, softmax_at

EPS = 0.05
LR = 3.0
START = [-1.0, 1.0]
STEPS = 300


def _vec(v) -> str:
    return "(" + ", ".join(fmt(x) for x in v) + ")"


def _at_start(ctx: Context, f: Facts) -> dict:
    d = softmax_at(ctx.surface, ctx.start)
    f.values.update({"y": _vec(d["y"]), "t": _vec(d["t"]), "dy": _vec(d["dCE_dy"]), "dz": _vec(d["dCE_dz"]),
                     "eps": fmt(d["eps"]), "k": "3"})
    return d


def _hard(ctx: Context) -> Facts:
    f = Facts()
    d = _at_start(ctx, f)
    t = ctx.runs[0]
    z1 = t.points[:, 0]
    half = len(t.losses) // 2
    f.values.update({"z1_half": fmt(z1[half]), "z1_end": fmt(z1[-1]), "loss_end": fmt(t.losses[-1]),
                     "half": str(half), "n": str(len(t.losses) - 1)})
    hard = d["eps"] == 0
    f.claims.append(Claim(f"∂CE/∂y₂ = {fmt(d['dCE_dy'][1])} and ∂CE/∂y₃ = {fmt(d['dCE_dy'][2])}: zero off-target",
                          bool(hard and d["dCE_dy"][1] == 0 and d["dCE_dy"][2] == 0)))
    f.claims.append(Claim(f"∂CE/∂z₂ = y₂ = {fmt(d['dCE_dz'][1])} and ∂CE/∂z₃ = y₃ = {fmt(d['dCE_dz'][2])}: not zero",
                          bool(np.all(np.abs(d["dCE_dz"][1:]) > 1e-6))))
    growing = bool(z1[-1] > z1[half] + 0.3 and np.all(np.diff(t.losses) <= 0) and t.losses[-1] > 0)
    f.claims.append(Claim(f"z₁ grows from {fmt(z1[half])} (step {half}) to {fmt(z1[-1])} (step {len(z1) - 1}) while the "
                          f"loss keeps falling, to {fmt(t.losses[-1])}: no finite minimum", growing and not ctx.minima))
    f.notes[0] = f"z₁ = {fmt(z1[-1])} after {len(z1) - 1} steps, still growing" if growing else f"ends at z₁ = {fmt(z1[-1])}"
    return f


def _smoothed(ctx: Context) -> Facts:
    f = Facts()
    d = _at_start(ctx, f)
    eps = d["eps"]
    f.values["z1_star"] = fmt(np.log((1 - 2 * eps) / eps)) if eps > 0 else "∞"
    f.claims.append(Claim(f"∂CE/∂y₂ = −ε/y₂ = {fmt(d['dCE_dy'][1])}, ∂CE/∂y₃ = {fmt(d['dCE_dy'][2])}: not zero",
                          bool(eps > 0 and np.all(d["dCE_dy"] < 0))))
    k = ctx.reaches(0)
    if ctx.minima and k is not None:
        end = ctx.runs[0].points[-1]
        y_end = sm.softmax(ctx.surface.logits(end))
        f.values.update({"reach": str(k), "y_end": _vec(y_end)})
        f.claims.append(Claim(f"GD reaches the minimum (ln((1 − 2ε)/ε), 0) = ({f.values['z1_star']}, 0) at step {k}, "
                              f"where y = {_vec(y_end)} = t", bool(np.allclose(y_end, d["t"], atol=1e-6))))
        f.notes[0] = f"within 10⁻⁶ of the minimum from step {k}"
    else:
        f.values.update({"reach": "never", "y_end": "—"})
        f.claims.append(Claim("GD reaches a finite minimum", False))
        f.notes[0] = "no finite minimum" if not ctx.minima else f"not at the minimum after {ctx.steps} steps"
    return f


def _jacobian(ctx: Context) -> Facts:
    f = Facts()
    j = jacobians(ctx)
    js = np.asarray(j["softmax_jacobian"])
    f.values.update({"point": _vec(j["point"]), "y": _vec(j["softmax"]), "j_off": fmt(j["softmax_max_off_diagonal"]),
                     "chain_err": fmt(j["chain_error"])})
    f.claims.append(Claim(f"diag(y) − yyᵀ has off-diagonal entries up to {fmt(j['softmax_max_off_diagonal'])}; "
                          f"σ's Jacobian has none", j["softmax_max_off_diagonal"] > 1e-3 and j["scalar_max_off_diagonal"] == 0))
    f.claims.append(Claim(f"each row of diag(y) − yyᵀ sums to {fmt(np.max(np.abs(js.sum(-1))))}",
                          bool(np.max(np.abs(js.sum(-1))) < 1e-12)))
    f.claims.append(Claim(f"(diag(y) − yyᵀ)ᵀ ∂CE/∂y = y − t = {_vec(j['dCE_dz'])} (to {fmt(j['chain_error'])})",
                          j["chain_error"] < 1e-12))
    ctx.note_reach(f)
    return f


def _sm(eps):
    return scene("softmax3", {"label_smoothing": eps}, [("gd", {"lr": LR})], START, STEPS)


LESSON = Lesson(
    "softmax", 10, "K-class softmax and label smoothing",
    (
        Step(
            "Hard targets: ∂CE/∂y is zero off-target",
            (
                "One example of class 1, a softmax over K = {k} classes, y = softmax(z₁, z₂, 0), and CE = −Σ tₖ log yₖ. "
                "At the start y = {y} and the hard target t = {t}.",
                "∂CE/∂yₖ = −tₖ/yₖ = {dy}: zero off-target. Yet ∂CE/∂z = y − t = {dz} moves every logit, because "
                "each yₖ depends on all of them.",
                "CE falls for ever as z₁ grows: z₁ = {z1_half} at step {half}, {z1_end} at step {n}.",
            ),
            _sm(0.0), claims=_hard, panels=("softmax_grads",),
            prediction=Prediction("With hard targets, where does gradient descent go?",
                                  ("to a finite minimum", "z₁ grows for ever, the loss keeps falling"),
                                  lambda ctx: 0 if ctx.minima else 1),
        ),
        Step(
            "Label smoothing: a finite minimum",
            (
                "Label smoothing with ε = {eps} sets t = (1 − (K − 1)ε, ε, ε) = {t}. Now ∂CE/∂y = {dy} at the start: "
                "every output counts, and ∂CE/∂z = y − t = {dz}.",
                "CE is lowest where y = t, at z₁ = ln((1 − 2ε)/ε) = {z1_star}, z₂ = 0: gradient descent gets there at "
                "step {reach}, with y = {y_end}. Move ε to see the minimum move.",
            ),
            _sm(EPS), claims=_smoothed, controls=(Control("label_smoothing"),), panels=("softmax_grads",),
        ),
        Step(
            "The softmax is a vector activation",
            (
                "A scalar activation acts on each logit alone, so its Jacobian is diagonal; the softmax's, "
                "∂y/∂z = diag(y) − yyᵀ, is full: at (z₁, z₂) = {point} (y = {y}) its off-diagonal entries reach {j_off}.",
                "Its rows sum to zero (adding a constant to every logit changes nothing), and the chain rule through "
                "it turns ∂CE/∂y into ∂CE/∂z = y − t (to {chain_err}). Click the contour to move the point.",
            ),
            scene("softmax3", {"label_smoothing": EPS}, [("gd", {"lr": LR})], [1.0, -0.5], STEPS),
            claims=_jacobian, panels=("jacobians",),
        ),
    ),
    conventions=("Class 1 is the true class; z₃ = 0 is pinned (shifting every logit changes nothing).",),
)

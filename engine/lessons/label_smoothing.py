"""Lesson 7: label smoothing. Hard labels on separable data: ‖w‖ grows forever; smoothed: a finite minimum."""

from __future__ import annotations

import numpy as np

from engine import theory
from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, scene

START = [-1.0, 2.0]
EPS = 0.1
CONVENTION = ("Label smoothing ε as in the lecture: with K classes the targets are 1 − (K − 1)ε and ε; here K = 2, so "
              "1 − ε and ε. PyTorch's CrossEntropyLoss(label_smoothing=α) gives 1 − α + α/K and α/K: α = Kε = 2ε.")


def _norms(ctx: Context):
    """‖w‖ along the run with ε = 0 and along the run with ε > 0 (whichever is on screen)."""
    other_s, other_runs = ctx.other()
    pairs = [(ctx.surface.params["label_smoothing"], ctx.runs[0]), (other_s.params["label_smoothing"], other_runs[0])]
    hard = next((t for e, t in pairs if e == 0), None)
    soft = next(((e, t) for e, t in pairs if e > 0), None)
    return hard, soft


def _facts(ctx: Context) -> Facts:
    hard, soft = _norms(ctx)
    f = Facts()
    if hard is not None and len(hard.points) < 11:  # ‖w‖ against 2 ln k needs some k, and its half
        f.claims.append(Claim(f"ε = 0: the run took {len(hard.points) - 1} steps, too few to see ‖w‖ grow like "
                              "2 ln k (give it at least 10)", False))
    elif hard is not None:
        n = theory.weight_norms(hard.points)
        k = len(n) - 1
        h = k // 2
        grow = float(n[k] - n[h])
        f.values.update({"k": str(k), "norm_k": fmt(n[k]), "two_ln_k": fmt(2 * np.log(k)),
                         "offset": fmt(n[k] - 2 * np.log(k)), "grow": fmt(grow), "h": str(h), "two_ln_2": fmt(2 * np.log(2))})
        f.claims.append(Claim(f"ε = 0: ‖w‖ = {fmt(n[k])} at k = {k}, still growing: +{fmt(grow)} since k = {h} "
                              f"(2 ln 2 = {fmt(2 * np.log(2))})", bool(np.all(np.diff(n[5:]) > 0)) and abs(grow - 2 * np.log(2)) < 0.2))
        f.claims.append(Claim(f"‖w‖ − 2 ln k = {fmt(n[k] - 2 * np.log(k))}: ‖w‖ ≈ 2 ln k + O(1)",
                              abs(n[k] - 2 * np.log(k) - (n[h] - 2 * np.log(h))) < 0.3))
    n_here = theory.weight_norms(ctx.runs[0].points)
    f.notes[0] = f"‖w‖ = {fmt(n_here[-1])} after {len(n_here) - 1} steps"
    if soft is not None:
        eps, t = soft
        n = theory.weight_norms(t.points)
        f.values.update({"eps": fmt(eps), "norm_soft": fmt(n[-1]), "t_hi": fmt(1 - eps), "t_lo": fmt(eps),
                         "alpha": fmt(2 * eps)})
        if t.status == "converged":
            f.claims.append(Claim(f"ε = {fmt(eps)}: ‖w‖ settles at {fmt(n[-1])} (converged at step {t.steps_taken})", True))
        elif len(n) <= 100:
            f.claims.append(Claim(f"ε = {fmt(eps)}: the run took {len(n) - 1} steps, too few to see whether ‖w‖ "
                                  "settles (this step looks at its last 100)", False))
        else:
            moved = float(abs(n[-1] - n[-100]))
            f.claims.append(Claim(f"ε = {fmt(eps)}: ‖w‖ = {fmt(n[-1])}, moved {fmt(moved)} in the last 100 steps",
                                  moved < 1e-6))
    return f


LESSON = Lesson(
    "label-smoothing", 7, "Label smoothing",
    (
        Step(
            "Hard labels: the weights grow forever",
            (
                "On separable data with hard labels 0 and 1, a logistic neuron's cross-entropy keeps falling as w grows: "
                "there is no finite minimum, and gradient descent grows the weights forever, slowly.",
                "The weight-norm panel shows it: after {k} steps ‖w‖ = {norm_k}, and it still gains {grow} per doubling "
                "of k (2 ln 2 = {two_ln_2}). It grows like 2 ln k + O(1): 2 ln k is {two_ln_k}, the offset {offset} "
                "stays put.",
            ),
            scene("logistic_neuron", {"loss": "ce", "label_smoothing": 0.0}, [("gd", {"lr": 1.0})], START, 3000,
                  compare={"surfaceParams": {"label_smoothing": EPS}}),
            claims=_facts, panels=("weight_norm",),
            prediction=Prediction("Train longer with hard labels. What does ‖w‖ do?",
                                  ("settles at a finite value", "keeps growing, ever more slowly", "blows up"),
                                  lambda ctx: 1 if (h := _norms(ctx)[0]) is not None and
                                  np.all(np.diff(theory.weight_norms(h.points)[-100:]) > 0) else 0),
        ),
        Step(
            "Smoothed labels: a finite minimum",
            (
                "Label smoothing with ε = {eps} replaces the targets by {t_hi} and {t_lo}: the best output is no "
                "longer 0 or 1, so the minimum lies at a finite point and ‖w‖ settles at {norm_soft}. Drag ε.",
                "The contour now shows the smoothed surface; the panel keeps both curves, ε = 0 still growing.",
            ),
            scene("logistic_neuron", {"loss": "ce", "label_smoothing": EPS}, [("gd", {"lr": 1.0})], START, 3000,
                  compare={"surfaceParams": {"label_smoothing": 0.0}}),
            claims=_facts, controls=(Control("label_smoothing"),), panels=("weight_norm",),
        ),
    ),
    conventions=(CONVENTION,),
)

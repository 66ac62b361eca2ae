"""Lesson 6: cross-entropy against squared error on the two-weight network, at the same and at their own best step."""

from __future__ import annotations

import numpy as np

from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, scene
from engine.lessons.panels import compare_losses, tuned_steps

NET = {"loss": "ce", "activation": "tanh"}
L2 = {"surfaceParams": {"loss": "l2"}}
START = [3.5, -5.0]
LR = 0.5


def _race(ctx: Context) -> tuple[int | None, int | None]:
    """Steps to 95 % of the way down for CE (this surface) and L2 (the comparison), run 1."""
    s = compare_losses(ctx)["series"]
    by = {x["loss"]: x["steps_95"] for x in s}
    return by.get("CE"), by.get("L2")


def _fmt_k(k) -> str:
    return "never" if k is None else str(k)


def _step1(ctx: Context) -> Facts:
    k_ce, k_l2 = _race(ctx)
    other_s, other_runs = ctx.other()
    g_ce, g_l2 = float(ctx.runs[0].grad_norms[0]), float(other_runs[0].grad_norms[0])
    f = Facts(values={"eta": fmt(ctx.configs[0].params["lr"]), "k_ce": _fmt_k(k_ce), "k_l2": _fmt_k(k_l2),
                      "g_ce": fmt(g_ce), "g_l2": fmt(g_l2)})
    f.claims.append(Claim(f"95 % of the way down: CE at step {_fmt_k(k_ce)}, L2 at step {_fmt_k(k_l2)}",
                          k_ce is not None and (k_l2 is None or k_ce < k_l2)))
    f.claims.append(Claim(f"slope at the start: ‖∇E‖ = {fmt(g_ce)} for CE, {fmt(g_l2)} for L2", g_ce > g_l2))
    f.notes[0] = f"CE: 95 % of the way down at step {_fmt_k(k_ce)}; L2 (same η): {_fmt_k(k_l2)}"
    return f


def _step2(ctx: Context) -> Facts:
    y = np.array([1e-6, 0.5, 1 - 1e-6])
    f = Facts(values={"ce_slope1": fmt(-1 / y[-1]), "ce_slope0": fmt(1 / (1 - y[0])),
                      "ce_wrong": fmt(-np.log(y[0])), "l2_wrong": fmt(0.5 * (1 - y[0]) ** 2)})
    f.claims.append(Claim(f"at y = d the CE slope is {f.values['ce_slope1']} (d = 1) and {f.values['ce_slope0']} (d = 0); "
                          "L2's is 0", True))
    f.claims.append(Claim(f"confidently wrong (y = 10⁻⁶, d = 1): CE = {f.values['ce_wrong']}, L2 = {f.values['l2_wrong']}",
                          True))
    k_ce, k_l2 = _race(ctx)
    f.notes[0] = f"CE: 95 % of the way down at step {_fmt_k(k_ce)}; L2 (same η): {_fmt_k(k_l2)}"
    return f


def _step3(ctx: Context) -> Facts:
    other_s, _ = ctx.other()
    ce = tuned_steps(ctx.surface, ctx.start)
    l2 = tuned_steps(other_s, ctx.start)
    k_ce, k_l2 = _race(ctx)
    cap = 10.0
    f = Facts(values={"ce_lr": fmt(ce["best_lr"]), "ce_k": _fmt_k(ce["best_steps"]), "l2_lr": fmt(l2["best_lr"]),
                      "l2_k": _fmt_k(l2["best_steps"]), "eta": fmt(ctx.configs[0].params["lr"]), "k_ce": _fmt_k(k_ce),
                      "k_l2": _fmt_k(k_l2), "cap": fmt(cap)})
    f.claims.append(Claim(f"each at its best η: CE {f.values['ce_k']} step(s) (η = {f.values['ce_lr']}), L2 "
                          f"{f.values['l2_k']} steps (η = {f.values['l2_lr']})",
                          ce["best_steps"] is not None and l2["best_steps"] is not None))
    found = ce["best_lr"] is not None and l2["best_lr"] is not None
    f.claims.append(Claim(f"L2's best η is {fmt(l2['best_lr'] / ce['best_lr']) if found else '—'}× CE's, above the "
                          f"slider's cap of {fmt(cap)}", found and l2["best_lr"] > cap))
    f.notes[0] = f"CE: 95 % of the way down at step {_fmt_k(k_ce)}; L2 (same η): {_fmt_k(k_l2)}"
    return f


LESSON = Lesson(
    "ce-vs-l2", 6, "Cross-entropy vs L2",
    (
        Step(
            "The same network, two losses",
            (
                "The two-weight network y = σ(w2 · tanh(w1 · x)), trained from a confidently wrong start with the same "
                "step η = {eta}: the contour is the cross-entropy (CE) surface, and the loss plot shows the same GD run "
                "on CE and on L2 = ½(y − d)².",
                "CE gets 95 % of the way down at step {k_ce}, L2 at step {k_l2}: at the start CE's slope is {g_ce}, "
                "L2's only {g_l2}, a plateau.",
            ),
            scene("two_weight_net", NET, [("gd", {"lr": LR})], START, 500, compare=L2),
            claims=_step1, controls=(Control("lr", 0),), panels=("compare_losses",),
            prediction=Prediction("Same start, same step. Which loss gets 95 % of the way down first?",
                                  ("cross-entropy", "L2", "both together"),
                                  lambda ctx: (lambda k: 0 if k[0] is not None and (k[1] is None or k[0] < k[1])
                                               else 1 if k[1] is not None and (k[0] is None or k[1] < k[0]) else 2)(_race(ctx))),
        ),
        Step(
            "Why: the slope at the output",
            (
                "L2's slope y − d is multiplied by σ'(z) = y(1 − y), which vanishes when the output saturates: a "
                "confidently wrong network sits on a plateau.",
                "Cross-entropy's slope −d/y + (1 − d)/(1 − y) cancels that factor: at y = d it is {ce_slope1} for d = 1 "
                "and {ce_slope0} for d = 0, and a confidently wrong output costs CE = {ce_wrong}, where L2 stays "
                "below {l2_wrong}.",
            ),
            scene("two_weight_net", NET, [("gd", {"lr": LR})], START, 500, compare=L2),
            claims=_step2, panels=("loss_curves", "compare_losses"),
        ),
        Step(
            "Each loss at its own best step",
            (
                "The race above used one η for both. Tuned separately (GD at η = 2^(k/2), counting the steps until the "
                "loss stays 95 % of the way down), CE needs {ce_k} step(s) at η = {ce_lr} and L2 {l2_k} at η = {l2_lr}: "
                "the gap is far smaller than {k_ce} against {k_l2}.",
                "What the steepness buys is a loss whose good step sizes are ordinary ones: L2 only catches up with a "
                "step far above the slider's cap of {cap}, which is safe on its plateau and nowhere else.",
            ),
            scene("two_weight_net", NET, [("gd", {"lr": LR})], START, 500, compare=L2),
            claims=_step3, controls=(Control("lr", 0),), panels=("tuned", "compare_losses"),
        ),
    ),
)

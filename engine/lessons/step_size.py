"""Lesson 1: the step size on a 1D-like quadratic E = ½ a w².

λ2 is a thousandth of a = λ1: the bowl is a trough whose contours are almost vertical lines,
and a start on the x-axis makes every run exactly the 1D iteration w ← (1 − ηa) w. The runs
then share one line on the contour, so the ``iterates`` panel draws w against k, where each
regime has its own shape.
"""

from __future__ import annotations

import numpy as np

from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, scene

A = 2.0
SURFACE = {"lambda_1": A, "lambda_2": A / 1000, "rotation": 0.0}
START = [2.0, 0.0]


def regime(ctx: Context, i: int) -> str:
    """What run i's iterates did, read off the trajectory: creeps, one step, overshoots, oscillates forever, diverges."""
    w = ctx.runs[i].points[:, 0]
    if ctx.runs[i].status == "diverged" or abs(w[-1]) > abs(w[0]) * (1 + 1e-9):
        return "diverges"
    if len(w) > 1 and np.all(w[1:] == 0):
        return "lands in one step"
    a = np.abs(w)
    if np.allclose(a, a[0], rtol=1e-9):
        return "oscillates forever"
    if np.all(np.sign(w[1:]) == -np.sign(w[:-1])):
        return "overshoots, converges"
    return "creeps"


def _values(ctx: Context) -> dict:
    a = ctx.surface.params["lambda_1"]
    v = {"a": fmt(a), "eta_opt": fmt(1 / a), "eta_max": fmt(2 / a)}
    for i, c in enumerate(ctx.configs):
        v[f"eta{i}"] = fmt(c.params["lr"])
        v[f"factor{i}"] = fmt(1 - c.params["lr"] * a)
        k = ctx.reaches(i)
        v[f"reach{i}"] = "never" if k is None else str(k)
    return v


def _regime_claims(ctx: Context, facts: Facts, expected: dict) -> None:
    for i, want in expected.items():
        got = regime(ctx, i)
        lr = ctx.configs[i].params["lr"]
        facts.claims.append(Claim(f"η = {fmt(lr)}, factor 1 − ηa = {fmt(1 - lr * ctx.surface.params['lambda_1'])}: "
                                  f"{got}", want is None or got == want))
    ctx.note_reach(facts)
    for i in range(len(ctx.runs)):
        if not facts.notes[i].startswith("diverged"):
            facts.notes[i] = f"{regime(ctx, i)}; " + facts.notes[i]


def _first(ctx: Context, i: int, j: int) -> int:
    ki, kj = ctx.reaches(i), ctx.reaches(j)
    ki = np.inf if ki is None else ki
    kj = np.inf if kj is None else kj
    return 0 if ki < kj else 1 if kj < ki else 2


def _step1(ctx: Context) -> Facts:
    f = Facts(values=_values(ctx))
    _regime_claims(ctx, f, {0: "creeps", 1: "lands in one step"})
    return f


def _step2(ctx: Context) -> Facts:
    f = Facts(values=_values(ctx))
    _regime_claims(ctx, f, {0: "creeps", 1: "overshoots, converges"})
    k0, k1 = ctx.reaches(0), ctx.reaches(1)
    f.claims.append(Claim(f"same |1 − ηa|, same speed: within 10⁻⁶ at step {k0} and step {k1}",
                          k0 is not None and k0 == k1))
    return f


def _step3(ctx: Context) -> Facts:
    f = Facts(values=_values(ctx))
    _regime_claims(ctx, f, {0: "oscillates forever", 1: "diverges"})
    return f


def _step4(ctx: Context) -> Facts:
    f = Facts(values=_values(ctx))
    _regime_claims(ctx, f, {0: None, 1: "lands in one step", 2: "overshoots, converges", 3: "diverges"})
    return f


def _edge_answer(ctx: Context) -> int:
    return {"creeps": 0, "overshoots, converges": 0, "lands in one step": 0, "oscillates forever": 1,
            "diverges": 2}[regime(ctx, 0)]


def _gd(*lrs):
    return [("gd", {"lr": lr}) for lr in lrs]


eta = 1 / A
LESSON = Lesson(
    "step-size", 1, "Step size on a 1D-like quadratic",
    (
        Step(
            "One step, or a creep",
            (
                "For E = ½ a w² (here a = {a}) a gradient step multiplies w by 1 − ηa. At η_opt = 1/a = {eta_opt} "
                "that factor is 0: one step lands on the minimum.",
                "A smaller step, η = {eta0}, keeps a positive factor {factor0}: w creeps towards 0 and never crosses it. "
                "The right-hand plot draws w against the step k, where the runs do not hide each other.",
            ),
            scene("quadratic", SURFACE, _gd(0.4 * eta, eta), START, 30),
            claims=_step1, controls=(Control("lr", 0),), panels=("iterates",),
            prediction=Prediction("Which run gets to the minimum first?",
                                  ("the smaller step", "η = η_opt", "both at the same step"),
                                  lambda ctx: _first(ctx, 0, 1)),
        ),
        Step(
            "Overshooting still converges",
            (
                "Past η_opt the factor 1 − ηa turns negative: η = {eta1} gives {factor1}, so w changes sign every "
                "step, overshooting the minimum, yet |w| still shrinks.",
                "What sets the speed is |1 − ηa|: here {factor0} and {factor1} have the same size, so the creeping "
                "and the overshooting run arrive together (steps {reach0} and {reach1}).",
            ),
            scene("quadratic", SURFACE, _gd(0.4 * eta, 1.6 * eta), START, 30),
            claims=_step2, controls=(Control("lr", 1),), panels=("iterates",),
            prediction=Prediction("One run creeps, the other overshoots. Which gets within 10⁻⁶ of the minimum first?",
                                  ("the creeping run", "the overshooting run", "both at the same step"),
                                  lambda ctx: _first(ctx, 0, 1)),
        ),
        Step(
            "The edge at 2η_opt",
            (
                "At η = 2η_opt = 2/a = {eta_max} the factor is exactly −1: w jumps between +w₀ and −w₀ forever. It "
                "does not diverge, and it never converges.",
                "Beyond it, η = {eta1} gives |1 − ηa| = |{factor1}| > 1 and |w| grows every step: the run diverges.",
            ),
            scene("quadratic", SURFACE, _gd(2 * eta, 2.4 * eta), START, 30),
            claims=_step3, controls=(Control("lr", 0),), panels=("iterates",),
            prediction=Prediction("At exactly η = 2η_opt, what does w do?",
                                  ("converges slowly", "jumps between ±w₀ forever", "diverges"), _edge_answer),
        ),
        Step(
            "All four regimes: drag η",
            (
                "The four regimes side by side: η < η_opt creeps, η = η_opt lands in one step, η_opt < η < 2η_opt "
                "overshoots and converges, η > 2η_opt diverges.",
                "Drag the first run's η across the marks 1/λmax = η_opt and 2/λmax = 2η_opt on its slider (here λmax "
                "= a) and watch its regime change in the list below.",
            ),
            scene("quadratic", SURFACE, _gd(0.4 * eta, eta, 1.6 * eta, 2.4 * eta), START, 30),
            claims=_step4, controls=(Control("lr", 0),), panels=("iterates",),
        ),
    ),
)

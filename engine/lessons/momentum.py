"""Lesson 4: momentum (and Nesterov) fix the zig-zag on the ill-conditioned bowl."""

from __future__ import annotations

import numpy as np

from engine import capabilities
from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, r12, scene
from engine.lessons.common import BOWL, BOWL_START, bowl_theory, first_of, fmt_step, rate_of

T = bowl_theory()
SK = float(np.sqrt(T["condition_number"]))
NESTEROV_BETA = (SK - 1) / (SK + 1)
HEAVY_BALL = ("momentum", {"lr": r12(T["momentum_best_lr"]), "momentum": r12(T["momentum_best_beta"])})
GD_BEST = ("gd", {"lr": r12(T["gd_best_lr"])})

CONVENTION = ("Momentum is PyTorch's: v ← βv + g, w ← w − ηv. The lecture's ΔW ← βΔW − η∇E gives the same points "
              "(ΔW = −ηv) as long as η is constant; with a schedule the two differ.")


def predicted_rate(ctx: Context, i: int) -> float | None:
    """Theory's rate for run i, declared by its optimizer's capabilities (None where no theory holds)."""
    c = ctx.configs[i]
    return capabilities.predicted_rate(ctx.surface, c.name, c.params)


def _facts(ctx: Context) -> Facts:
    q = ctx.quadratic
    f = Facts(values={"kappa": fmt(q["condition_number"]), "eta_star": fmt(q["momentum_best_lr"]),
                      "beta_star": fmt(q["momentum_best_beta"]), "hb_rate": fmt(q["momentum_rate"]),
                      "gd_rate": fmt(q["gd_rate"]), "nesterov_theory": fmt(1 - 1 / np.sqrt(q["condition_number"]))})
    ctx.note_reach(f)
    for i, c in enumerate(ctx.configs):
        p, m = predicted_rate(ctx, i), rate_of(ctx, i)
        f.values[f"rate{i}"] = "—" if p is None else fmt(p)
        f.values[f"measured{i}"] = "—" if m is None else fmt(m)
        f.values[f"reach{i}"] = fmt_step(ctx.reaches(i))
        f.values[f"eta{i}"] = fmt(c.params["lr"])
        if "momentum" in c.params:
            f.values[f"beta{i}"] = fmt(c.params["momentum"])
        if p is not None:
            f.notes[i] += f"; rate {f.values[f'measured{i}']} measured, {fmt(p)} theory"
    return f


def _rate_claim(ctx: Context, f: Facts, i: int, name: str) -> None:
    p, m = predicted_rate(ctx, i), rate_of(ctx, i)
    f.claims.append(Claim(f"{name}: rate {fmt(m) if m else '—'} measured, {fmt(p) if p is not None else '—'} theory",
                          # A critically damped heavy ball shrinks as (a + bk)·rᵏ: over a short run it looks a little slower.
                          m is not None and p is not None and abs(m - p) < 0.04 * max(p, 1e-3) + 1e-3))


def _step1(ctx: Context) -> Facts:
    f = _facts(ctx)
    _rate_claim(ctx, f, 0, "GD")
    _rate_claim(ctx, f, 1, "heavy ball")
    k0, k1 = ctx.reaches(0), ctx.reaches(1)
    f.claims.append(Claim(f"within 10⁻⁶: heavy ball at step {fmt_step(k1)}, GD at step {fmt_step(k0)}",
                          k1 is not None and (k0 is None or k1 < k0)))
    return f


def _step2(ctx: Context) -> Facts:
    f = _facts(ctx)
    _rate_claim(ctx, f, 0, "Nesterov")
    _rate_claim(ctx, f, 1, "heavy ball, too much momentum")
    p = predicted_rate(ctx, 1)
    b = ctx.configs[1].params.get("momentum", 0)
    f.claims.append(Claim(f"with β = {fmt(b)} the rate is √β = {fmt(np.sqrt(b))}, slower than GD's best "
                          f"{f.values['gd_rate']}", p is not None and abs(p - np.sqrt(b)) < 1e-9 and p > ctx.quadratic["gd_rate"]))
    return f


def _step3(ctx: Context) -> Facts:
    f = _facts(ctx)
    i = ctx.index_of("momentum")
    if i is not None:
        p = predicted_rate(ctx, i)
        q = ctx.quadratic
        f.values["current_rate"] = fmt(p)
        f.claims.append(Claim(f"your heavy ball (η = {fmt(ctx.param(i, 'lr'))}, β = {fmt(ctx.param(i, 'momentum'))}): "
                              f"rate {fmt(p)}; the best cell (η*, β*) gives {fmt(q['momentum_rate'])}",
                              p >= q["momentum_rate"] - 1e-9))
        edge = 2 * (1 + ctx.param(i, "momentum")) / q["lambda_max"]
        f.values["edge"] = fmt(edge)
        f.claims.append(Claim(f"stability edge 2(1 + β)/λmax = {fmt(edge)}: η below it converges", True))
    return f


LESSON = Lesson(
    "momentum", 4, "Momentum (and Nesterov) fix the zig-zag",
    (
        Step(
            "A velocity cancels the zig-zag",
            (
                "Momentum keeps a velocity: gradients that alternate across the valley cancel in v, those along it add "
                "up. On this bowl (κ = {kappa}) the best heavy ball, η* = {eta_star} and β* = {beta_star}, converges at "
                "(√κ − 1)/(√κ + 1) = {hb_rate} a step; GD at its best only at (κ − 1)/(κ + 1) = {gd_rate}.",
                "Measured on screen: GD {measured0}, heavy ball {measured1}. The map beside the plot colours every (η, "
                "β) by its rate; the star is (η*, β*), the ring the run's setting.",
            ),
            scene("quadratic", BOWL, [GD_BEST, HEAVY_BALL], BOWL_START, 200),
            claims=_step1, controls=(Control("momentum", 1),), panels=("rate_map",),
            prediction=Prediction("Which run gets within 10⁻⁶ of the minimum first?",
                                  ("GD at its best step", "the heavy ball at (η*, β*)", "both at the same step"),
                                  lambda ctx: {0: 0, 1: 1}.get(first_of(ctx, [0, 1]), 2)),
        ),
        Step(
            "Nesterov, and too much momentum",
            (
                "Nesterov's look-ahead at η = 1/λmax and β = (√κ − 1)/(√κ + 1) converges at 1 − 1/√κ = "
                "{nesterov_theory} a step (measured {measured0}).",
                "More momentum is not better: at β = {beta1} the velocity overshoots and spirals, and the rate is √β "
                "= {rate1}, slower than plain GD's best {gd_rate}.",
            ),
            scene("quadratic", BOWL, [("nesterov", {"lr": 1 / T["lambda_max"], "momentum": NESTEROV_BETA}),
                                      ("momentum", {"lr": T["momentum_best_lr"], "momentum": 0.9})], BOWL_START, 200),
            claims=_step2, controls=(Control("momentum", 1),), panels=("rate_map",),
            prediction=Prediction("β = 0.9 keeps more of the velocity. Is it faster than the best β*?",
                                  ("yes, faster", "no, slower: it spirals"),
                                  lambda ctx: 1 if (predicted_rate(ctx, 1) or 0) > ctx.quadratic["momentum_rate"] else 0),
        ),
        Step(
            "Explore the (η, β) map",
            (
                "Click a cell of the map to set the heavy ball's η and β (or drag them). Green cells converge fast, "
                "yellow slowly; grey cells diverge.",
                "Your setting converges at {current_rate} a step. Its slider marks the stability edge 2(1 + β)/λmax = "
                "{edge}, which moves with β: momentum lets η go past GD's 2/λmax.",
            ),
            scene("quadratic", BOWL, [GD_BEST, ("momentum", {"lr": 0.1, "momentum": 0.5})], BOWL_START, 200),
            claims=_step3, controls=(Control("lr", 1), Control("momentum", 1)), panels=("rate_map",),
        ),
    ),
    conventions=(CONVENTION,),
)

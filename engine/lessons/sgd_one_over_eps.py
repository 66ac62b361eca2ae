"""Lesson 12: SGD's O(1/ε): with η_k = η/k the excess loss falls as 1/k, if η is large enough.

The bowl ½ xᵀAx with μ = 0.4, L = 2 and the SGD optimizer's Gaussian gradient noise (σ = 1):
the setting in which ``engine.sgd_rate`` computes the expected excess loss exactly. The panel
averages 200 seeds over 10,000 steps for each SGD run of the scene; the contour shows one seed
of each for the first steps.
"""

from __future__ import annotations

import numpy as np

from engine import sgd_rate
from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, scene
from engine.lessons.lecture_panels import sgd_curves

#: ε for "steps to reach an excess ε".
EPS = 1e-3
SHOWN_STEPS = 300


def _curves(ctx: Context, f: Facts) -> dict:
    d = sgd_curves(ctx)
    blown = [c for c in d["curves"] if c["slope"] is None]
    for c in blown:
        f.notes[c["run"]] = "blows up: its average excess overflows"
        f.claims.append(Claim(f"{c['label']} stays finite", False))
    d = {**d, "curves": [c for c in d["curves"] if c["slope"] is not None]}
    f.values.update({"mu": fmt(d["mu"]) if d["mu"] else "—", "L": fmt(d.get("L", 0)),
                     "threshold": fmt(d.get("lr_threshold", 0)), "seeds": str(sgd_rate.SEEDS),
                     "steps": f"{sgd_rate.STEPS:,}", "sigma": fmt(ctx.configs[0].params.get("noise", 0))})
    by_run = {c["run"]: c for c in d["curves"]}
    for i in range(len(ctx.runs)):
        c = by_run.get(i)
        if c and i not in f.notes:
            f.notes[i] = (f"over {sgd_rate.SEEDS} seeds: excess {fmt(c['mean'][-1])} at k = {sgd_rate.STEPS:,}, "
                          f"log-log slope {fmt(c['slope'])}")
    return d


def _tail(c: dict) -> float:
    """The seed-averaged excess over the last decade of steps (where a constant step has settled)."""
    k = np.asarray(c["k"])
    return float(np.mean(np.asarray(c["mean"])[k >= k[-1] / 10]))


def _floor(ctx: Context) -> Facts:
    f = Facts()
    d = _curves(ctx, f)
    const = [c for c in d["curves"] if c["schedule"] == "constant" and c["floor"] is not None]
    for j, c in enumerate(const[:2]):
        f.values.update({f"lr{j}": fmt(c["lr"]), f"floor{j}": fmt(c["floor"]), f"measured{j}": fmt(_tail(c))})
        f.claims.append(Claim(f"η = {fmt(c['lr'])}: the excess settles at {fmt(_tail(c))}, theory's floor "
                              f"Σ ησ²/(2(2 − ηλᵢ)) = {fmt(c['floor'])}",
                              abs(_tail(c) / c["floor"] - 1) < 0.15 and abs(c["slope"]) < 0.1))
    if len(const) >= 2:
        r = _tail(const[0]) / _tail(const[1])
        f.values["ratio"] = fmt(r)
        f.claims.append(Claim(f"η {fmt(const[0]['lr'])} against {fmt(const[1]['lr'])}: floors in the ratio {fmt(r)}, "
                              f"close to that of the steps, {fmt(const[0]['lr'] / const[1]['lr'])}",
                              abs(r / (const[0]["lr"] / const[1]["lr"]) - 1) < 0.2))
    return f


def _one_over_k(ctx: Context) -> Facts:
    f = Facts()
    d = _curves(ctx, f)
    inv = next((c for c in d["curves"] if c["schedule"] == "inverse" and c["constant"] is not None), None)
    const = next((c for c in d["curves"] if c["schedule"] == "constant"), None)
    if inv is None:
        f.claims.append(Claim("an η/k run with η > 1/(2μ) is on screen", False))
        return f
    k, mean = np.asarray(inv["k"]), np.asarray(inv["mean"])
    c_meas = float(k[-1] * mean[-1])
    f.values.update({"lr": fmt(inv["lr"]), "slope": fmt(inv["slope"]), "C": fmt(inv["constant"]), "C_meas": fmt(c_meas),
                     "eps": fmt(EPS), "k_eps": f"{inv['constant'] / EPS:,.0f}"})
    f.claims.append(Claim(f"η/k, η = {fmt(inv['lr'])}: fitted slope {fmt(inv['slope'])}, theory −1 (±0.1)",
                          abs(inv["slope"] + 1) <= 0.1))
    f.claims.append(Claim(f"k · excess at k = {sgd_rate.STEPS:,}: {fmt(c_meas)}, theory's C = ½ Σ λᵢη²σ²/(2ηλᵢ − 1) = "
                          f"{fmt(inv['constant'])}", abs(c_meas / inv["constant"] - 1) < 0.25))
    if const is not None:
        f.values["floor"] = fmt(_tail(const))
        f.claims.append(Claim(f"a constant η = {fmt(const['lr'])} stalls at {fmt(_tail(const))} > ε = {fmt(EPS)}: it never "
                              "gets there", _tail(const) > EPS))
    return f


def _threshold(ctx: Context) -> Facts:
    f = Facts()
    d = _curves(ctx, f)
    inv = [c for c in d["curves"] if c["schedule"] == "inverse"]
    for c in inv:
        tag = "big" if 2 * c["lr"] * d["mu"] > 1 else "small"
        f.values.update({f"lr_{tag}": fmt(c["lr"]), f"slope_{tag}": fmt(c["slope"]),
                         f"theory_{tag}": fmt(c["slope_theory"]), f"two_eta_mu_{tag}": fmt(2 * c["lr"] * d["mu"])})
        f.claims.append(Claim(f"η/k, η = {fmt(c['lr'])} (2ημ = {fmt(2 * c['lr'] * d['mu'])}): fitted slope "
                              f"{fmt(c['slope'])}, theory −min(1, 2ημ) = {fmt(c['slope_theory'])} (±0.1)",
                              abs(c["slope"] - c["slope_theory"]) <= 0.1))
    tags = {("big" if 2 * c["lr"] * d["mu"] > 1 else "small") for c in inv}
    if tags != {"big", "small"}:
        f.claims.append(Claim(f"one η/k run on each side of 1/(2μ) = {f.values['threshold']}", False))
    return f


def _stalls(ctx: Context) -> int:
    """1 when the constant-step runs' averaged excess has stopped falling (slope within 0.1 of 0), else 0."""
    const = [c for c in sgd_curves(ctx)["curves"] if c["schedule"] == "constant"]
    return int(bool(const) and all(c["slope"] is not None and abs(c["slope"]) < 0.1 for c in const))


def _sgd(lr, schedule="constant", seed=0):
    return ("sgd", {"lr": lr, "schedule": schedule, "noise": sgd_rate.NOISE, "seed": seed})


def _scene(runs):
    return scene("quadratic", sgd_rate.BOWL, runs, list(sgd_rate.START), SHOWN_STEPS)


(_, LR_BIG, _), (_, LR_SMALL, _), (_, LR_CONST, _) = sgd_rate.RUNS

LESSON = Lesson(
    "sgd-rate", 12, "SGD's O(1/ε)",
    (
        Step(
            "A constant step stalls at a noise floor",
            (
                "SGD on the bowl ½ xᵀAx (λ = {mu} and {L}) with noisy gradients ∇E + σξ, σ = {sigma}. The panel "
                "averages the excess loss E(x_k) − E* over {seeds} seeds for {steps} steps; dotted, its exact "
                "expectation.",
                "With a constant step the noise never dies down: η = {lr0} settles at {measured0} (theory {floor0}), "
                "η = {lr1} at {measured1} (theory {floor1}). A smaller step lowers the floor but does not remove it.",
            ),
            _scene([_sgd(LR_CONST), _sgd(LR_CONST / 2)]), claims=_floor, controls=(Control("lr", 0),),
            panels=("sgd_curves",),
            prediction=Prediction("With a constant step, how does the average excess loss behave?",
                                  ("keeps falling towards 0", "stops falling at a floor"),
                                  lambda ctx: _stalls(ctx)),
        ),
        Step(
            "η/k: the excess falls as 1/k",
            (
                "With η_k = η/k the noise is averaged away: for η = {lr} the log-log slope is {slope}, so the excess "
                "is about C/k with C = {C} (measured: k · excess = {C_meas}).",
                "Reaching an excess ε takes about C/ε steps, {k_eps} for ε = {eps}: the lecture's O(1/ε). A constant "
                "step never gets there: it stalls at {floor}.",
            ),
            _scene([_sgd(LR_BIG, "inverse"), _sgd(LR_CONST)]), claims=_one_over_k, panels=("sgd_curves",),
        ),
        Step(
            "…if η is large enough",
            (
                "The guarantee needs η > 1/(2μ) = {threshold}, where μ = λmin = {mu} is the bowl's flattest "
                "curvature. Above it (η = {lr_big}, 2ημ = {two_eta_mu_big}) the "
                "slope is {slope_big}; below it (η = {lr_small}, 2ημ = {two_eta_mu_small}) the flattest direction "
                "shrinks only as k^(−2ημ): slope {slope_small}, theory {theory_small}.",
                "Move the second run's η across {threshold} and watch its slope (Nemirovski et al. 2009).",
            ),
            _scene([_sgd(LR_BIG, "inverse"), _sgd(LR_SMALL, "inverse")]), claims=_threshold,
            controls=(Control("lr", 1),), panels=("sgd_curves",),
        ),
    ),
    conventions=("Excess loss = E(x_k) − E*, averaged over seeds; η_k = η/k at step k = 1, 2, …",),
)

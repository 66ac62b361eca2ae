"""Lesson 13: why saddles outnumber minima in high dimension, and why the minima lie low.

The landscapes are ``engine.critical_points``' random smooth functions (Bray & Dean 2007); the
contour is the two-dimensional one (``random_field``) and the panels count the critical points of
the same seed's landscapes in 1 to 8 dimensions, classified by the Hessian's index.
"""

from __future__ import annotations

import numpy as np

from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, scene
from engine.lessons.lecture_panels import critical_here, critical_summary
from engine.surfaces import RandomField


def _pct(x: float) -> str:
    return f"{fmt(100 * x, 3)} %"


def _here(ctx: Context) -> Facts:
    d = critical_here(ctx)
    c = d["counts"]
    mean = {k: np.mean([p["value"] for p in d["points"] if p["kind"] == k]) if c[k] else np.nan for k in c}
    f = Facts(values={"n_min": str(c["minimum"]), "n_sad": str(c["saddle"]), "n_max": str(c["maximum"]),
                      "f_min": fmt(mean["minimum"]), "f_sad": fmt(mean["saddle"]), "f_max": fmt(mean["maximum"]),
                      "lowest": d["points"][0]["kind"] if d["points"] else "—"})
    f.claims.append(Claim(f"{c['saddle']} saddles, {c['minimum']} minima and {c['maximum']} maxima in view",
                          c["saddle"] > c["minimum"] > 0))
    f.claims.append(Claim(f"mean height: minima {fmt(mean['minimum'])} < saddles {fmt(mean['saddle'])} < maxima "
                          f"{fmt(mean['maximum'])}", bool(mean["minimum"] < mean["saddle"] < mean["maximum"])))
    gd, newton = ctx.index_of("gd"), ctx.index_of("newton")
    s = ctx.surface
    if gd is not None and newton is not None:
        def nearest(p, pts):
            return min((float(np.linalg.norm(np.asarray(p) - np.asarray(q))) for q in pts), default=np.inf)
        at_min = nearest(ctx.runs[gd].points[-1], s.minima) < 1e-4
        at_sad = nearest(ctx.runs[newton].points[-1], s.saddles) < 1e-6
        f.notes[gd] = "ends at a minimum" if at_min else "not at a minimum"
        f.notes[newton] = "ends at a saddle" if at_sad else "not at a saddle"
        f.claims.append(Claim("gradient descent ends at a minimum, Newton's method at a saddle", at_min and at_sad))
    return f


def _rows(ctx: Context) -> list[dict]:
    return critical_summary(int(ctx.surface.params["seed"]))["rows"]


def _share(ctx: Context) -> Facts:
    rows = _rows(ctx)
    first, last = rows[0], rows[-1]
    f = Facts(values={"d_last": str(last["dim"]), "share_2": _pct(next(r for r in rows if r["dim"] == 2)["saddle_share"]),
                      "share_last": _pct(last["saddle_share"]), "min_first": _pct(first["minima"] / first["total"]),
                      "min_last": _pct(last["minima"] / last["total"]), "n_last": str(last["total"]),
                      "dims": ", ".join(str(r["dim"]) for r in rows)})
    shares = [r["saddle_share"] for r in rows]
    f.claims.append(Claim("the saddles' share grows with d: " + " → ".join(_pct(r["saddle_share"]) for r in rows),
                          all(a < b for a, b in zip(shares, shares[1:]))))
    f.claims.append(Claim(f"minima: {_pct(first['minima'] / first['total'])} of the critical points in d = 1, "
                          f"{_pct(last['minima'] / last['total'])} in d = {last['dim']}",
                          last["minima"] / last["total"] < first["minima"] / first["total"]))
    return f


def _height(ctx: Context) -> Facts:
    rows = [r for r in _rows(ctx) if r["dim"] > 1]
    both = [r for r in rows if r["mean_value_minima"] is not None and r["mean_value_saddles"] is not None]
    f = Facts(values={"corr_min": fmt(min(r["index_value_correlation"] for r in rows)),
                      "corr_max": fmt(max(r["index_value_correlation"] for r in rows))})
    for r in both[-1:]:
        f.values.update({"d": str(r["dim"]), "f_min": fmt(r["mean_value_minima"]), "f_sad": fmt(r["mean_value_saddles"])})
    f.claims.append(Claim("minima lie below the saddles on average: " + ", ".join(
        f"d = {r['dim']}: {fmt(r['mean_value_minima'])} < {fmt(r['mean_value_saddles'])}" for r in both),
        bool(both) and all(r["mean_value_minima"] < r["mean_value_saddles"] for r in both)))
    f.claims.append(Claim("height rises with the index fraction: correlation " + ", ".join(
        f"{fmt(r['index_value_correlation'])} (d = {r['dim']})" for r in rows),
        all(r["index_value_correlation"] > 0.3 for r in rows)))
    return f


def _scene(runs=None):
    runs = runs or [("gd", {"lr": 0.1}), ("newton", {"lr": 1.0})]
    return scene("random_field", {"seed": 0}, runs, list(RandomField.DEFAULT_START), RandomField.DEFAULT_STEPS)


LESSON = Lesson(
    "saddles", 13, "More saddles than minima in high dimension",
    (
        Step(
            "Minima, saddles and maxima",
            (
                "A random smooth landscape in two dimensions, its critical points marked: {n_min} minima, {n_sad} "
                "saddles and {n_max} maxima in view. The right panel sorts them by height: minima {f_min}, saddles "
                "{f_sad}, maxima {f_max} on average.",
                "Gradient descent rolls down to a minimum; Newton's method, which jumps to where its quadratic model "
                "is flat, stops at a saddle. Change the seed for another landscape.",
            ),
            _scene(), claims=_here, controls=(Control("seed"),), panels=("critical_here",),
        ),
        Step(
            "More dimensions, more saddles",
            (
                "The same kind of landscape in d = {dims} dimensions: Newton's method from 400 random starts finds "
                "critical points, each classified by its Hessian's index.",
                "A minimum needs all d eigenvalues positive, ever rarer as d grows: saddles are 0 in d = 1, {share_2} "
                "in d = 2 and {share_last} in d = {d_last}; minima fall from {min_first} to {min_last} (Bray & Dean 2007).",
            ),
            _scene(), claims=_share, controls=(Control("seed"),), panels=("saddle_share",),
            prediction=Prediction("In 8 dimensions, what are most critical points?",
                                  ("minima", "saddles", "maxima"),
                                  lambda ctx: int(np.argmax([_rows(ctx)[-1][k] for k in ("minima", "saddles", "maxima")]))),
        ),
        Step(
            "The minima lie low",
            (
                "Each critical point by its index fraction α = index/d and its height: the more directions lead "
                "down, the higher it lies (correlation {corr_min} to {corr_max}); in d = {d} the minima average "
                "{f_min}, the saddles {f_sad}.",
                "So in a big network a critical point with a high loss is almost surely a saddle, and the minima "
                "sit near the bottom: escaping saddles matters more than avoiding bad minima (Dauphin et al. 2014).",
            ),
            _scene(), claims=_height, panels=("index_height",),
        ),
    ),
    conventions=("Index = the number of negative Hessian eigenvalues: 0 a minimum, d a maximum, between a saddle.",),
)

"""Target 4: a 100 × 100 (η, β) momentum sweep of 500 steps on Rosenbrock, on one core, against loops.

    .venv/bin/python bench/bench_sweep.py [--quick]

In-process (no server), pinned to one CPU. The loops do the same 10,000 configurations one
at a time, in the same run: a plain-float Python loop (the fastest Python for one
configuration: the baseline of the target), and engine.run() per configuration on the
compiled path and on the numpy reference (timed on a subset and scaled to all cells).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from common import Result
from bench_engine import START, best_of, scalar_momentum_rosenbrock

STEPS, TOL, N = 500, 1e-6, 100



def run(quick: bool = False) -> list[Result]:
    from engine import accel, make_surface, run as engine_run, sweep

    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})  # one core
    try:
        accel.warm_up(wait=True)
        rosen = make_surface("rosenbrock")
        lrs = np.logspace(-5, -2, N)
        betas = np.linspace(0.0, 0.99, N)
        cells = N * N
        configs = [(float(lr), float(b)) for b in betas for lr in lrs]

        def do_sweep():
            return sweep(rosen, "momentum", lrs, betas, start=START, steps=STEPS, tol=TOL)

        do_sweep()
        t_sweep = best_of(5, do_sweep)
        with accel.disabled():
            t_sweep_ref = best_of(1, do_sweep)

        # The plain-float loop over every configuration (or an even subset when quick).
        pick = configs if not quick else configs[::10]
        t0 = time.perf_counter()
        taken = sum(scalar_momentum_rosenbrock(lr, b, STEPS, TOL)[1] for lr, b in pick)
        t_loop = (time.perf_counter() - t0) * cells / len(pick)

        def engine_loop(subset):
            return lambda: [engine_run(rosen, [("momentum", {"lr": lr, "momentum": b})], start=START, steps=STEPS,
                                       tol=TOL) for lr, b in subset]

        sub = configs[:: cells // (200 if quick else 1000)]
        t_run = best_of(1, engine_loop(sub)) * cells / len(sub)
        sub_ref = configs[:: cells // (10 if quick else 40)]
        with accel.disabled():
            t_run_ref = best_of(1, engine_loop(sub_ref)) * cells / len(sub_ref)
    finally:
        os.sched_setaffinity(0, set(cpus))

    ratio = t_loop / t_sweep
    return [
        Result("4. Sweep 100 × 100 (η, β) × 500 steps, Rosenbrock, one core", f"{t_sweep * 1e3:.1f} ms", "≤ 1 s",
               t_sweep <= 1.0, notes=[f"engine.sweep('momentum'), best of 5, pinned to one CPU; the numpy reference "
                                      f"path takes {t_sweep_ref:.2f} s"]),
        Result("4. Sweep ÷ per-configuration Python loop", f"{ratio:.0f} × ({t_loop:.2f} s / {t_sweep * 1e3:.1f} ms)",
               "≥ 100 ×", ratio >= 100,
               notes=[f"the loop: plain Python floats, one configuration after another, each stopping when it "
                      f"converges or diverges ({taken / len(pick):.0f} steps per configuration on average)"
                      + (", timed on every 10th configuration" if quick else "")]),
        Result("4. … against engine.run() per configuration", f"{t_run / t_sweep:.0f} × compiled ({t_run:.2f} s), "
               f"{t_run_ref / t_sweep:.0f} × numpy reference ({t_run_ref:.0f} s)", "(for information)", None,
               notes=[f"timed on {len(sub)} and {len(sub_ref)} configurations, scaled to {cells:,}"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for r in run(args.quick):
        print(f"{r.target}: {r.figure} (target {r.goal}) {'' if r.met is None else 'MET' if r.met else 'NOT MET'}; "
              f"{'; '.join(r.notes)}")


if __name__ == "__main__":
    main()

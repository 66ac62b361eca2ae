"""Engine benchmark: per-step cost of runs and races, and what batching a sweep buys.

    .venv/bin/python bench/bench_engine.py [--quick]

Prints a Markdown table (paste it into the README). A script, not a test: it measures
and reports, it never asserts. Timings are the best of a few repeats, on whatever else
the machine is doing.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import make_surface, run, sweep  # noqa: E402

START = (-1.2, 1.0)


def best_of(repeats: int, fn) -> float:
    """Shortest wall time of ``repeats`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def scalar_momentum_rosenbrock(lr: float, beta: float, steps: int, tol: float) -> tuple[float, int]:
    """Heavy ball on Rosenbrock (a = 1, b = 100) with Python floats: the hand-written loop
    a learner would write for one configuration (same rule and stopping tests as the engine)."""
    x, y = START
    vx = vy = 0.0
    bound = 1e6 * 3.0
    gx = -2 * (1 - x) - 400 * x * (y - x * x)
    gy = 200 * (y - x * x)
    for k in range(1, steps + 1):
        vx = beta * vx + gx
        vy = beta * vy + gy
        x -= lr * vx
        y -= lr * vy
        r = y - x * x
        gx = -2 * (1 - x) - 400 * x * r
        gy = 200 * r
        g = math.hypot(gx, gy)
        if not math.isfinite(g) or max(abs(x), abs(y)) > bound:
            return float("nan"), k
        if g < tol:
            return (1 - x) ** 2 + 100 * r * r, k
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 30 × 30 grid and fewer repeats (for a smoke run)")
    args = parser.parse_args()
    repeats = 2 if args.quick else 3
    n_grid = 30 if args.quick else 100
    rosen = make_surface("rosenbrock")
    rows: list[tuple[str, str, str]] = []

    # 1. One run: gd on Rosenbrock, 2000 steps.
    steps = 2000
    t = best_of(repeats, lambda: run(rosen, [("gd", {"lr": 1e-3})], start=START, steps=steps))
    single_step = t / steps
    rows.append(("single run: gd on rosenbrock, 2000 steps", f"{t * 1e3:.1f} ms", f"{single_step * 1e6:.1f} µs / step"))

    # 2. A race of four different optimizers, stepped together.
    race = [("gd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3, "momentum": 0.9}), ("adam", {"lr": 0.05}),
            ("newton", {"lr": 1.0})]
    t = best_of(repeats, lambda: run(rosen, race, start=START, steps=steps))
    rows.append(("race: gd + momentum + adam + newton, 2000 steps", f"{t * 1e3:.1f} ms",
                 f"{t / steps * 1e6:.1f} µs / step ({t / steps / single_step:.1f}× one run)"))

    # 3. A momentum (η, β) sweep on Rosenbrock, all cells in one array.
    sweep_steps, tol = 500, 1e-6
    lrs = np.logspace(-5, -2, n_grid)
    betas = np.linspace(0.0, 0.99, n_grid)
    cells = n_grid * n_grid
    work = cells * sweep_steps
    t_sweep = best_of(max(1, repeats - 1), lambda: sweep(rosen, "momentum", lrs, betas, start=START, steps=sweep_steps, tol=tol))
    rows.append((f"sweep: momentum, {n_grid} × {n_grid} (η, β), {sweep_steps} steps", f"{t_sweep:.2f} s",
                 f"{work / t_sweep / 1e6:.2f} M config-steps / s"))

    # 4. The same grid one configuration at a time, timed on a subset and scaled up.
    subset = 100 if cells >= 100 else cells
    pick = np.arange(subset) * (cells // subset) + (np.arange(subset) * 37) % (cells // subset or 1)
    configs = [(float(lrs[i % n_grid]), float(betas[i // n_grid])) for i in pick]

    def loop_run():
        return sum(run(rosen, [("momentum", {"lr": lr, "momentum": beta})], start=START, steps=sweep_steps,
                       tol=tol)[0].steps_taken for lr, beta in configs)

    def loop_scalar():
        return sum(scalar_momentum_rosenbrock(lr, beta, sweep_steps, tol)[1] for lr, beta in configs)

    for label, fn in (("engine.run() per configuration", loop_run), ("plain-float Python loop per configuration", loop_scalar)):
        taken = fn()  # steps actually taken: a loop stops each configuration when it converges or diverges
        t_sub = best_of(max(1, repeats - 1), fn)
        t_full = t_sub * cells / subset
        rows.append((f"loop: {label} ({subset} of {cells} configs, scaled to all)", f"{t_full:.2f} s",
                     f"{taken / t_sub / 1e6:.3f} M config-steps / s ({taken / subset:.0f} steps per config); "
                     f"the sweep is **{t_full / t_sweep:.1f}×** faster"))

    print(f"Loss Lab engine benchmark — Python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs\n")
    print("| what | time | throughput |")
    print("|---|---:|---|")
    for what, t_str, rate in rows:
        print(f"| {what} | {t_str} | {rate} |")
    print("\nThe sweep's throughput counts every cell for every step (it keeps stepping the whole array until "
          "all cells have stopped or the budget is spent); the loops count only the steps they take, since they "
          "stop a configuration as soon as it converges (‖g‖ < 1e-6) or diverges. Times compare the whole grid.")


if __name__ == "__main__":
    main()

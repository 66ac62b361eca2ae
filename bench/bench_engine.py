"""Engine benchmark: per-step cost of runs, races and sweeps, on the compiled path and the numpy reference.

    .venv/bin/python bench/bench_engine.py [--quick]

Prints a Markdown table (bench/run_all.py includes it). A script, not a test: it measures
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


def lesson_cases() -> list[tuple]:
    """The lessons on data surfaces and with SGD, which the compiled path took over last: (what, optimizer-steps, fn)."""
    from engine.lessons import get_lesson

    out = []
    for lesson_id, what in (("label-smoothing", "logistic neuron"), ("ce-vs-l2", "two-weight net"),
                            ("sgd", "SGD mini-batches, logistic neuron"), ("saddle", "SGD with noise, Newton")):
        sc = get_lesson(lesson_id).scene
        surface = make_surface(sc["surface"], **sc["surfaceParams"])
        opts = [(o["name"], o["params"]) for o in sc["optimizers"]]
        out.append((f"lesson {lesson_id} ({what}): {len(opts)} × {sc['steps']:,} steps", len(opts) * sc["steps"],
                    lambda s=surface, o=opts, sc=sc: run(s, o, start=sc["start"], steps=sc["steps"], seed=sc.get("seed", 0))))
    return out


def table(quick: bool = False) -> list[str]:
    """The engine's figures on its compiled path and on the numpy reference, as Markdown lines."""
    from engine import accel

    accel.warm_up(wait=True)
    repeats = 2 if quick else 3
    n_grid = 30 if quick else 100
    rosen = make_surface("rosenbrock")
    steps, sweep_steps, tol = 2000, 500, 1e-6
    race = [("gd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3, "momentum": 0.9}), ("adam", {"lr": 0.05}),
            ("newton", {"lr": 1.0})]
    lrs = np.logspace(-5, -2, n_grid)
    betas = np.linspace(0.0, 0.99, n_grid)
    cells = n_grid * n_grid
    cases = [
        ("single run: gd on Rosenbrock, 2,000 steps", steps,
         lambda: run(rosen, [("gd", {"lr": 1e-3})], start=START, steps=steps)),
        ("race: gd + momentum + adam + newton, 2,000 steps", steps * len(race),
         lambda: run(rosen, race, start=START, steps=steps)),
        (f"sweep: momentum, {n_grid} × {n_grid} (η, β), {sweep_steps} steps", None,
         lambda: sweep(rosen, "momentum", lrs, betas, start=START, steps=sweep_steps, tol=tol)),
        *lesson_cases(),
        ("typed formula (bumpy bowl): gd + momentum + adam + newton, 2,000 steps", steps * len(race),
         lambda: run(make_surface("custom"), race, start=(1.0, 1.5), steps=steps)),
        ("landscape: gd + momentum + adam + newton, 2,000 steps", steps * len(race),
         lambda: run(make_surface("landscape"), race, start=(2.0, 2.2), steps=steps)),
    ]
    lines = [f"Engine, in-process (`bench/bench_engine.py`): Python {platform.python_version()}, numpy {np.__version__}.",
             "", "| what | compiled (engine/accel.py) | numpy reference (LOSSLAB_ACCEL=0) | speed-up |", "|---|---:|---:|---:|"]
    for what, n, fn in cases:
        fn()
        fast = best_of(repeats, fn)
        with accel.disabled():
            ref = best_of(1 if n is None else repeats, fn)
        per = (lambda t: f"{t * 1e3:.2f} ms ({t / n * 1e9:,.0f} ns / step)") if n else (lambda t: f"{t * 1e3:.1f} ms")
        lines.append(f"| {what} | {per(fast)} | {per(ref)} | {ref / fast:,.0f}× |")
    # The grid one configuration at a time with plain Python floats: what the sweep replaces.
    configs = [(float(lr), float(b)) for b in betas for lr in lrs][:: max(1, cells // (100 if quick else 1000))]
    t0 = time.perf_counter()
    for lr, b in configs:
        scalar_momentum_rosenbrock(lr, b, sweep_steps, tol)
    t_loop = (time.perf_counter() - t0) * cells / len(configs)
    lines.append(f"| loop: plain-float Python, one configuration at a time ({len(configs)} of {cells:,}, scaled) | "
                 f"{t_loop:.2f} s | | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 30 × 30 grid and fewer repeats (for a smoke run)")
    args = parser.parse_args()
    print(f"Loss Lab engine benchmark — Python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs\n")
    print("\n".join(table(args.quick)))


if __name__ == "__main__":
    main()

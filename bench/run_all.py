"""Loss Lab's performance suite: all eight targets of the performance issue (and issue 18's tuning, target 9), one command.

    .venv/bin/python bench/run_all.py [--quick] [--chromium /usr/bin/chromium] [--out results.md]

Prints a Markdown report: the machine, then one table row per figure with its target and
whether it is met, then how cost grows (target 8) and the engine's own figures. The
README's performance section is this output. Benchmarks, not tests: nothing here asserts,
everything runs on 127.0.0.1, every wait has a deadline and every process started here
is stopped by its own id. A full run takes about three minutes; run it on a quiet machine
(it prints the load average before and after).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Result, load_average, machine  # noqa: E402


def table(results: list[Result]) -> list[str]:
    lines = ["| # | figure | measured | target | met |", "|---|---|---:|---|:---:|"]
    for r in results:
        num, _, what = r.target.partition(". ")
        met = "—" if r.met is None else ("**MET**" if r.met else "**NOT MET**")
        lines.append(f"| {num} | {what} | {r.figure} | {r.goal} | {met} |")
    return lines


def notes(results: list[Result]) -> list[str]:
    out = []
    for r in results:
        for n in r.notes:
            out.append(f"- {r.target.split('. ', 1)[0]}. {r.target.split('. ', 1)[1]}: {n}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and a 5 s capacity test (a smoke run)")
    parser.add_argument("--chromium", default=os.environ.get("LOSSLAB_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args()

    t0 = time.perf_counter()
    load_before = load_average()
    results: list[Result] = []
    scaling_lines: list[str] = []
    failures: list[str] = []

    import bench_browser
    import bench_class
    import bench_engine
    import bench_http
    import bench_page
    import bench_sweep
    import bench_tune

    engine_lines: list[str] = []
    stages = [("sweep", lambda: bench_sweep.run(args.quick)), ("http", lambda: bench_http.run(args.quick)),
              ("engine", lambda: engine_lines.extend(bench_engine.table(args.quick)) or []),
              ("class", lambda: bench_class.run(args.quick)),
              ("tune", lambda: bench_tune.run(args.quick))]
    # The "feel instant" issue's page targets (drag, Play, big scenes, page load): a table of their own.
    page_results: list[Result] = []
    if not args.skip_browser:
        stages.append(("browser", lambda: bench_browser.run(args.chromium, args.quick)))
        stages.append(("page", lambda: page_results.extend(bench_page.run(args.chromium, args.quick)) or []))
    for name, stage in stages:
        print(f"… {name}", file=sys.stderr, flush=True)
        try:
            out = stage()
            if isinstance(out, tuple):
                out, lines = out
                scaling_lines += lines
            results += out
        except Exception:  # a stage that breaks is reported, the others still run
            failures.append(f"{name}: {traceback.format_exc(limit=3)}")

    results.sort(key=lambda r: int(r.target.split(".")[0]))
    report = [
        f"Measured by `.venv/bin/python bench/run_all.py`{' --quick' if args.quick else ''} on {time.strftime('%Y-%m-%d')}: "
        f"{machine()}. Load average {load_before} before, {load_average()} after; "
        f"{time.perf_counter() - t0:.0f} s in all.",
        "",
        *table(results),
        "",
        "How cost grows (target 8; each figure the best of repeated requests, over HTTP on loopback):",
        "",
        "| series | latency at each size |",
        "|---|---|",
        *scaling_lines,
        "",
        *engine_lines,
        "",
        "What each row measures:",
        "",
        *notes(results),
    ]
    if page_results:
        report += ["", "Issue 17, page side (`bench/bench_page.py`: pictures counted from painted frames):", "",
                   *table(page_results), "", *notes(page_results)]
    if failures:
        report += ["", "Stages that failed:", "", *[f"    {f}" for f in failures]]
    text = "\n".join(report)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()

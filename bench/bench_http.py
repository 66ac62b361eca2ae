"""HTTP benchmarks on loopback: the typical scene against /healthz, grids, capacity, how cost grows.

    .venv/bin/python bench/bench_http.py [--quick]

Targets 1, 5, 7 and 8 of the performance issue. Clients ask for no compression (Accept-Encoding:
identity) unless a row says otherwise: the targets are about the server's work, and on loopback
compressing only adds CPU time (the gzip figures are reported beside them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import time

from common import TYPICAL, Client, Result, Server, median, percentile

TWO_WEIGHT = {"name": "two_weight_net", "params": {}}
TWO_WEIGHT_VIEW = (-4.0, 4.0, -6.0, 6.0)


def scene(steps: int = 500, adams: int | None = None) -> dict:
    """The typical scene, or with ``adams`` Adam runs (step sizes 0.01, 0.02, …) in place of its four."""
    body = dict(TYPICAL, steps=steps)
    if adams is not None:
        body["optimizers"] = [{"name": "adam", "params": {"lr": 0.01 * (i + 1)}} for i in range(adams)]
    return body


# --- target 1 -------------------------------------------------------------------------

def typical_vs_healthz(srv: Server, rounds: int) -> list[Result]:
    """Medians of POST /api/run (typical scene) and GET /healthz, alternating on one keep-alive connection."""
    out = []
    body = json.dumps(TYPICAL).encode()
    figures = {}
    for gzip in (False, True):
        c = Client(srv.port, gzip=gzip)
        for _ in range(100):
            c.timed("GET", "/healthz")
            c.timed("POST", "/api/run", body)
        h, r = [], []
        for _ in range(rounds):
            h.append(c.timed("GET", "/healthz"))
            r.append(c.timed("POST", "/api/run", body))
        c.close()
        figures[gzip] = (median(r), median(h), percentile(r, 95))
    (run, health, p95), (run_gz, health_gz, _) = figures[False], figures[True]
    out.append(Result("1. POST /api/run (typical scene) ÷ GET /healthz", f"{run / health:.2f} × ({run * 1e3:.2f} / "
                      f"{health * 1e3:.2f} ms)", "≤ 3 ×", run / health <= 3,
                      notes=[f"medians of {rounds} alternating requests on one keep-alive connection, no compression "
                             f"asked for; run p95 {p95 * 1e3:.2f} ms; response 129 kB of JSON"]))
    out.append(Result("1. … the same, client accepts gzip", f"{run_gz / health_gz:.2f} × ({run_gz * 1e3:.2f} / "
                      f"{health_gz * 1e3:.2f} ms)", "(for information)", None,
                      notes=["the run's JSON is then compressed at level 1 (58 kB), ~1.5 ms here"]))
    return out


# --- target 5 -------------------------------------------------------------------------

def grid(srv: Server, samples: int) -> list[Result]:
    """A 200 × 200 grid of the two-weight net: first request (cold cache) and the same request again."""
    c = Client(srv.port)
    c.post("/api/grid", {"surface": TWO_WEIGHT, "n": 50})  # the surface itself (and its minima) are built
    cold = []
    for i in range(samples):
        x0, x1, y0, y1 = TWO_WEIGHT_VIEW
        view = [x0 - 1e-3 * (i + 1), x1, y0, y1]  # a new view: a grid the cache has never seen
        t0 = time.perf_counter()
        status, data, _ = c.post("/api/grid", {"surface": TWO_WEIGHT, "n": 200, "view": view})
        cold.append(time.perf_counter() - t0)
        assert status == 200, data[:200]
    body = json.dumps({"surface": TWO_WEIGHT, "n": 200}).encode()
    c.timed("POST", "/api/grid", body)
    cached = [c.timed("POST", "/api/grid", body) for _ in range(30)]
    c.close()
    return [
        Result("5. Grid 200 × 200, two-weight net: first request", f"{median(cold) * 1e3:.1f} ms", "≤ 50 ms",
               median(cold) <= 0.05, notes=[f"POST /api/grid, median of {samples} grids never asked for before "
                                           f"(each a slightly different view); 40,000 cells × 120 examples, 0.9 MB of JSON"]),
        Result("5. Grid 200 × 200: the same request again", f"{median(cached) * 1e3:.2f} ms", "cached",
               median(cached) < median(cold) / 3, notes=["served from the cache: the body is rendered once"]),
    ]


# --- target 7 -------------------------------------------------------------------------

async def _client(port: int, body: bytes, stop_at: float, lat: list, errors: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    req = (b"POST /api/run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Accept-Encoding: identity\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    try:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            writer.write(req)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await asyncio.wait_for(reader.readexactly(length), 30)
            lat.append(time.perf_counter() - t0)
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(head.split(b"\r\n")[0].decode())
    except Exception as e:  # a refused or dropped connection is an error to report, not a crash
        errors.append(f"{type(e).__name__}: {e}")
    finally:
        writer.close()


def _load(port: int, clients: int, seconds: float, body: bytes, q) -> None:
    async def main():
        lat, errors = [], []
        stop_at = time.perf_counter() + seconds
        t0 = time.perf_counter()
        await asyncio.gather(*[_client(port, body, stop_at, lat, errors) for _ in range(clients)])
        q.put((lat, errors, time.perf_counter() - t0))

    asyncio.run(main())


def load(port: int, clients: int, seconds: float, body: dict) -> tuple[list, list, float]:
    """``clients`` keep-alive connections sending ``body`` back to back for ``seconds``, in a process of its own."""
    q = mp.get_context("spawn").Queue()
    p = mp.get_context("spawn").Process(target=_load, args=(port, clients, seconds, json.dumps(body).encode(), q))
    p.start()
    try:
        out = q.get(timeout=seconds + 120)
    finally:
        p.join(30)
        if p.is_alive():
            p.kill()
    return out


def capacity(seconds: float, clients: int, workers: int) -> list[Result]:
    with Server(workers=workers) as srv:
        # 100 runs from ten connections (uvicorn's workers share the socket, so both serve some), then
        # the memory baseline.
        conns = [Client(srv.port) for _ in range(10)]
        done = srv.runs
        for _ in range(10):
            for c in conns:
                c.post("/api/run", TYPICAL)
                done += 1
        for c in conns:
            c.close()
        time.sleep(1.0)
        rss_100 = srv.rss_mb()
        warm_runs = done
        lat, errors, wall = load(srv.port, clients, seconds, TYPICAL)
        done += len(lat)
        extra = 0
        while done < 10_000:  # top up to 10,000 runs for the memory figure
            l2, e2, _ = load(srv.port, 8, max(1.0, (10_000 - done) / 800), TYPICAL)
            done += len(l2)
            extra += len(l2)
            errors += e2
        time.sleep(1.0)
        rss_10k = srv.rss_mb()
    rate = len(lat) / wall
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    growth = rss_10k / rss_100 - 1
    return [
        Result(f"7. Capacity: {clients} clients × {seconds:.0f} s, typical scene: errors", f"{len(errors)}", "0",
               not errors, notes=[f"{workers} uvicorn workers (LOSSLAB_WORKERS={workers}); the load generator runs on the "
                                  f"same 2 cores" + (f"; first error: {errors[0]}" if errors else "")]),
        Result("7. Capacity: latency p50 / p99", f"{p50 * 1e3:.1f} / {p99 * 1e3:.1f} ms", "p99 ≤ 150 ms", p99 <= 0.150),
        Result("7. Capacity: throughput", f"{rate:.0f} runs/s", "(report)", None,
               notes=[f"{len(lat)} runs in {wall:.1f} s with {workers} workers"]),
        Result("7. Memory after 10,000 runs vs after 100", f"{rss_10k:.0f} MB vs {rss_100:.0f} MB ({growth * 100:+.1f} %)",
               "within 10 %", abs(growth) <= 0.10,
               notes=[f"resident memory of the {workers} workers, after {warm_runs} and {done} runs"]),
    ]


# --- target 8 -------------------------------------------------------------------------

def _fit(xs, ys) -> tuple[float, float, float]:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys))
    return a, b, 1 - ss_res / ss_tot if ss_tot else 1.0


def scaling(srv: Server, repeats: int) -> tuple[list[Result], list[str]]:
    c = Client(srv.port)

    def per_size(bodies: list[tuple[str, bytes]], n: int) -> list[float]:
        """Best latency of n for each request, one size at a time after a warm-up request of that size.

        Best, not median: on a shared machine interference only ever adds time, and the fit is of
        cost against size. One size at a time: right after a large response frees its memory, the
        next request faults in fresh pages, which would charge a small request for the large one.
        """
        out = []
        for path, data in bodies:
            c.timed("POST", path, data)
            out.append(min(c.timed("POST", path, data) for _ in range(n)))
        return out

    def run_bodies(bodies):
        return [("/api/run", json.dumps(b).encode()) for b in bodies]

    series = []
    steps = [100, 500, 1000, 2000, 5000, 10_000, 20_000]
    series.append(("steps (4 optimizers, Rosenbrock)", steps, per_size(run_bodies([scene(s) for s in steps]), repeats),
                   f"the best of {repeats} requests per size"))
    opts = list(range(1, 9))
    series.append(("optimizers (Adam × k, 2,000 steps)", opts,
                   per_size(run_bodies([scene(2000, k) for k in opts]), repeats), f"the best of {repeats} requests per size"))
    sides = [50, 100, 150, 200, 300, 400]
    c.post("/api/grid", {"surface": TWO_WEIGHT, "n": 50})
    grid_t = [[] for _ in sides]
    # One size at a time: right after a 400² grid frees its memory, the next request's arrays
    # fault in fresh pages, which would charge a small grid for the large one before it.
    for j, n in enumerate(sides):
        for i in range(max(5, repeats // 2) + 1):  # every request a grid the cache has not seen; the first warms
            x0, x1, y0, y1 = TWO_WEIGHT_VIEW
            body = {"surface": TWO_WEIGHT, "n": n, "view": [x0 - 1e-4 * (i + 1) - n * 1e-7, x1, y0, y1]}
            t = c.timed("POST", "/api/grid", json.dumps(body).encode())
            if i:
                grid_t[j].append(t)
    series.append(("grid cells (two-weight net, first request)", [n * n for n in sides], [min(t) for t in grid_t],
                   f"the best of {len(grid_t[0])} grids never asked for before, per size"))
    c.close()

    results, lines = [], []
    for name, xs, ys, how in series:
        a, b, r2 = _fit(xs, ys)
        # A cliff: some step up costs much more per unit than the series does overall.
        marginal = [(ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1)]
        worst = max(marginal) / b if b > 0 else float("inf")
        results.append(Result(f"8. Cost against {name}", f"R² = {r2:.3f}; worst step {worst:.1f}× the slope",
                              "linear, no cliff", r2 >= 0.98 and worst <= 2.5,
                              notes=[f"least squares on {how}: {a * 1e3:.2f} ms + {b * 1e6:.3f} µs × size"]))
        lines.append(f"| {name} | " + " | ".join(f"{x:,}: {y * 1e3:.1f} ms" for x, y in zip(xs, ys)) + " |")
    return results, lines


def run(quick: bool = False, server: Server | None = None) -> tuple[list[Result], list[str]]:
    own = server is None
    srv = server or Server().__enter__()
    try:
        out = typical_vs_healthz(srv, 150 if quick else 500)
        out += grid(srv, 3 if quick else 7)
        scale, lines = scaling(srv, 9 if quick else 31)
    finally:
        if own:
            srv.stop()
    out += capacity(5.0 if quick else 20.0, 32, 2)
    return out + scale, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    results, lines = run(args.quick)
    for r in results:
        print(f"{r.target}: {r.figure} (target {r.goal}) {'' if r.met is None else 'MET' if r.met else 'NOT MET'}; "
              f"{'; '.join(r.notes)}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

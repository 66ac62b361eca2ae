"""Load test: concurrent clients mixing runs, grids, sweeps and streams, while another user checks the page.

    .venv/bin/python bench/load.py [--seconds 20] [--url http://127.0.0.1:8000] [--no-browser]

Starts `python -m app` on a free loopback port (or targets --url, which must be loopback), warms it
up, then for --seconds keeps every client busy, back to back:

- run:    POST /api/run, four optimizers × 500 steps on Rosenbrock, a different start each time;
- grid:   POST /api/grid, a 120 × 120 grid (the page's size) of a quadratic with new parameters each
          time, so the server's grid cache never answers;
- sweep:  POST /api/sweep, the page's rate map: 60 η × 50 β cells × 300 steps on a new quadratic;
- stream: WS /ws/run, the page's live run (four optimizers × 2000 steps), read to its 'done';
          every third request is superseded mid-stream by the next, as a dragged slider does.

Meanwhile a separate user (the probe) asks for /healthz and a small run every 0.2 s, and, when
Chromium is available, loads the page and waits until its runs are drawn. The same probes run on
the idle server first, for comparison. Server memory (RSS) is read before, half-way (the bounded
caches are full by then), at its peak and after: a leak would show as growth after half-way.

A script, not a test: it measures and reports (a Markdown summary at the end), never asserts.
It stops by itself: every wait has a deadline, and the server it started is stopped by its pid.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from testkit import CHROMIUM_ARGS, free_port  # noqa: E402
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: Clients per kind of work (threads, each with its own connection, back to back).
CLIENTS = {"run": 2, "grid": 1, "sweep": 1, "stream": 3}
TIMEOUT = 60.0


# --- the work ------------------------------------------------------------------------

def run_body(rng: random.Random, steps: int = 500) -> dict:
    return {"surface": {"name": "rosenbrock"},
            "optimizers": [{"name": "gd", "params": {"lr": 0.001}},
                           {"name": "momentum", "params": {"lr": 0.001, "momentum": 0.9}},
                           {"name": "adam", "params": {"lr": 0.05}}, {"name": "newton", "params": {"lr": 1.0}}],
            "start": [round(rng.uniform(-2, 2), 3), round(rng.uniform(-1, 3), 3)], "steps": steps}


def quadratic(rng: random.Random) -> dict:
    return {"name": "quadratic", "params": {"lambda_1": round(rng.uniform(0.5, 2), 4),
                                            "lambda_2": round(rng.uniform(5, 20), 4), "rotation": rng.randint(-90, 90)}}


def grid_body(rng):
    return {"surface": quadratic(rng), "n": 120}


def sweep_body(rng):
    return {"surface": quadratic(rng), "optimizer": {"name": "momentum"}, "start": [-1.5, 2.0], "steps": 300,
            "tol": 1e-6, "lrs": {"min": 0.0001, "max": 0.4, "n": 60, "log": True},
            "betas": {"min": 0, "max": 0.99, "n": 50}}


class Http:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.conn = None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            data = None if body is None else json.dumps(body).encode()
            self.conn.request(method, path, body=data, headers={"content-type": "application/json"} if data else {})
            r = self.conn.getresponse()
            return r.status, r.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise


class Stats:
    """Latencies and errors per kind, thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def add(self, kind: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            if error:
                self.errors[kind].append(error)
            else:
                self.latency[kind].append(seconds)


def http_client(kind: str, base: str, stop: threading.Event, stats: Stats, seed: int) -> None:
    u = urlparse(base)
    client, rng = Http(u.hostname, u.port), random.Random(seed)
    path, make = {"run": ("/api/run", run_body), "grid": ("/api/grid", grid_body),
                  "sweep": ("/api/sweep", sweep_body)}[kind]
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            status, body = client.request("POST", path, make(rng))
            ok = status == 200 and json.loads(body)
            stats.add(kind, time.perf_counter() - t0, None if ok else f"HTTP {status}: {body[:120]!r}")
        except Exception as e:  # noqa: BLE001 — a load test counts every failure
            stats.add(kind, 0, f"{type(e).__name__}: {e}")


def stream_client(base: str, stop: threading.Event, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    url = base.replace("http", "ws", 1) + "/ws/run"
    rid = 0
    while not stop.is_set():
        try:
            with connect(url, open_timeout=TIMEOUT, max_size=None) as ws:
                while not stop.is_set():
                    rid += 1
                    t0 = time.perf_counter()
                    ws.send(json.dumps({**run_body(rng, steps=2000), "id": rid}))
                    if rid % 3 == 0:  # superseded mid-stream, like a dragged slider: only the next one finishes
                        json.loads(ws.recv(timeout=TIMEOUT))
                        stats.add("superseded", time.perf_counter() - t0)
                        continue
                    while True:
                        m = json.loads(ws.recv(timeout=TIMEOUT))
                        if m.get("id") == rid and m["type"] in ("done", "error"):
                            break
                    stats.add("stream", time.perf_counter() - t0, None if m["type"] == "done" else m.get("message"))
        except Exception as e:  # noqa: BLE001
            if not stop.is_set():
                stats.add("stream", 0, f"{type(e).__name__}: {e}")


# --- the other user ------------------------------------------------------------------

def probe(base: str, stop: threading.Event, stats: Stats, prefix: str, every: float = 0.2) -> None:
    """A separate user: /healthz and a small run, spaced out, each on a fresh connection (like a new visitor)."""
    u = urlparse(base)
    small = {"surface": {"name": "quadratic"}, "optimizers": [{"name": "gd"}], "start": [1, 1], "steps": 50}
    while not stop.is_set():
        for kind, method, path, body in (("healthz", "GET", "/healthz", None),
                                         ("small run", "POST", "/api/run", small)):
            t0 = time.perf_counter()
            try:
                status, _ = Http(u.hostname, u.port).request(method, path, body)
                stats.add(f"{prefix}{kind}", time.perf_counter() - t0, None if status == 200 else f"HTTP {status}")
            except Exception as e:  # noqa: BLE001
                stats.add(f"{prefix}{kind}", 0, f"{type(e).__name__}: {e}")
        stop.wait(every)


def page_loads(base: str, n: int, stats: Stats, prefix: str) -> None:
    """Headless Chromium opens the page n times; time until its runs are drawn."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return
    drawn = """() => { const a = window.lossLab; if (!a || !a.store || a.running || !a.grid) return false;
        const t = (document.getElementById('contour-plot').data || []).filter(t => (t.uid || '').startsWith('losslab-run-'));
        return t.length === a.store.runs.length && a.store.runs.every(r => r.xs.length > 1); }"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("LOSSLAB_CHROMIUM") or None, args=CHROMIUM_ARGS)
        try:
            for _ in range(n):
                page = browser.new_page()
                t0 = time.perf_counter()
                try:
                    page.goto(base + "/", timeout=TIMEOUT * 1000)
                    page.wait_for_function(drawn, timeout=TIMEOUT * 1000)
                    stats.add(f"{prefix}page drawn", time.perf_counter() - t0)
                except Exception as e:  # noqa: BLE001
                    stats.add(f"{prefix}page drawn", 0, f"{type(e).__name__}: {e}")
                page.close()
        finally:
            browser.close()


# --- the server ------------------------------------------------------------------------

def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "LOSSLAB_HOST": "127.0.0.1", "LOSSLAB_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


def server_pid(base: str) -> int | None:
    """The pid listening on the URL's port (found through /proc), when it is a process we can read."""
    port = urlparse(base).port
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}").strip("socket:[]") in inodes:
                    return int(pid)
        except OSError:
            continue
    return None


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))
    except OSError:
        return None


# --- the report --------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def table(stats: Stats, kinds: list[str], seconds: float | None) -> list[str]:
    rows = ["| kind | requests | req/s | errors | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kind in kinds:
        lat, err = stats.latency.get(kind, []), stats.errors.get(kind, [])
        if not lat and not err:
            continue
        n = len(lat) + len(err)
        rate = f"{n / seconds:.1f}" if seconds else "–"
        cells = [f"{1000 * pct(lat, q):.0f}" for q in (50, 95, 99)] + [f"{1000 * max(lat):.0f}"] if lat else ["–"] * 4
        rows.append(f"| {kind} | {n} | {rate} | {len(err)} | " + " | ".join(cells) + " |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the load phase (default 20)")
    ap.add_argument("--url", help="a running server on loopback (default: start one)")
    ap.add_argument("--no-browser", action="store_true", help="skip the headless Chromium page loads")
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    args = ap.parse_args()
    if args.url and urlparse(args.url).hostname not in LOOPBACK:
        raise SystemExit("--url must be a loopback address: this script loads a server, it does not attack one")
    args.seconds = max(1.0, min(args.seconds, 600.0))

    proc, base = (None, args.url.rstrip("/")) if args.url else start_server()
    pid = proc.pid if proc else server_pid(base)
    browser = not args.no_browser
    try:
        stats = Stats()
        # Warm up: the engine's compiled path and numpy's first calls, so "before" is a settled server.
        warm = threading.Event()
        for kind in ("run", "grid", "sweep"):
            t = threading.Thread(target=http_client, args=(kind, base, warm, Stats(), 0), daemon=True)
            t.start()
        warm.wait(5.0)
        warm.set()
        time.sleep(1.0)

        # The other user on the idle server (the probe first, then the page, so neither slows the other).
        idle_stop = threading.Event()
        t = threading.Thread(target=probe, args=(base, idle_stop, stats, "idle: "), daemon=True)
        t.start()
        time.sleep(4.0)
        idle_stop.set()
        t.join(TIMEOUT)
        if browser:
            page_loads(base, 3, stats, "idle: ")
        rss_before = rss_mb(pid)

        # The load, and the other user during it.
        stop = threading.Event()
        threads = [threading.Thread(target=probe, args=(base, stop, stats, "loaded: "), daemon=True)]
        for kind, n in CLIENTS.items():
            for i in range(n):
                target, a = (stream_client, (base, stop, stats, i)) if kind == "stream" else \
                    (http_client, (kind, base, stop, stats, i + 1))
                threads.append(threading.Thread(target=target, args=a, daemon=True))
        rss_peak, rss_mid = rss_before or 0.0, None
        t0 = time.monotonic()
        for t in threads:
            t.start()
        browser_thread = None
        if browser:
            browser_thread = threading.Thread(target=page_loads, args=(base, 3, stats, "loaded: "), daemon=True)
            browser_thread.start()
        while time.monotonic() - t0 < args.seconds:
            time.sleep(0.5)
            rss_peak = max(rss_peak, rss_mb(pid) or 0.0)
            if rss_mid is None and time.monotonic() - t0 >= args.seconds / 2:
                rss_mid = rss_mb(pid)  # a leak shows as growth from here to the end, once the caches are full
        stop.set()
        for t in threads:
            t.join(TIMEOUT)
        if browser_thread:
            browser_thread.join(TIMEOUT)
        elapsed = time.monotonic() - t0
        time.sleep(2.0)
        rss_after = rss_mb(pid)
        healthy = urllib.request.urlopen(base + "/healthz", timeout=5).status == 200
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()

    load_kinds = ["run", "grid", "sweep", "stream", "superseded"]
    total = sum(len(stats.latency[k]) + len(stats.errors[k]) for k in load_kinds)
    errors = sum(len(stats.errors[k]) for k in stats.errors)
    lines = [f"Load: {elapsed:.0f} s, {sum(CLIENTS.values())} clients "
             f"({', '.join(f'{n} {k}' for k, n in CLIENTS.items())}), {os.cpu_count()} CPUs; "
             f"{total} requests, {total / elapsed:.1f} req/s, {errors} errors.", ""]
    lines += table(stats, load_kinds, elapsed) + [""]
    lines += ["Another user, idle server vs during the load:", ""]
    others = [f"{w}: {k}" for k in ("healthz", "small run", "page drawn") for w in ("idle", "loaded")]
    lines += table(stats, others, None)
    mem = lambda v: "n/a" if v is None else f"{v:.0f} MB"  # noqa: E731
    lines += ["", f"Server RSS: {mem(rss_before)} before, {mem(rss_mid)} half-way, {mem(rss_peak)} peak, "
              f"{mem(rss_after)} after; healthy after the load: {healthy}."]
    if errors:
        lines += ["", "First errors:"] + [f"- {k}: {e[0][:200]}" for k, e in stats.errors.items() if e]
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"seconds": elapsed, "rss_mb": [rss_before, rss_mid, rss_peak, rss_after],
                                         "latency": stats.latency, "errors": stats.errors}, indent=1))


if __name__ == "__main__":
    main()

"""Shared pieces of the benchmark suite: servers on loopback, a lean HTTP client, statistics.

Benchmarks measure and report; they never assert. Everything here binds to 127.0.0.1,
every wait has a deadline, and every process started here is stopped by its own id.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from testkit import CHROMIUM_ARGS, free_port  # noqa: E402,F401  (CHROMIUM_ARGS: for bench_browser.py)

#: The issue's typical scene: four optimizers, 500 steps, Rosenbrock.
TYPICAL = {
    "surface": {"name": "rosenbrock", "params": {}},
    "optimizers": [
        {"name": "gd", "params": {"lr": 0.001}},
        {"name": "momentum", "params": {"lr": 0.001, "momentum": 0.9}},
        {"name": "adam", "params": {"lr": 0.05}},
        {"name": "newton", "params": {"lr": 1.0}},
    ],
    "start": [-1.2, 1.0],
    "steps": 500,
}
#: The same scene as a page link (state.js's hash format).
TYPICAL_HASH = ("#s=rosenbrock:a=1,b=100&o=gd:lr=0.001|momentum:lr=0.001,momentum=0.9|adam:lr=0.05|newton:lr=1"
                "&start=-1.2,1&steps=500&seed=0")


class Server:
    """``python -m app`` on a free loopback port, stopped (by pid) on exit."""

    def __init__(self, workers: int = 1, **env):
        self.port = free_port()
        self.workers = workers
        self.env = {**os.environ, "LOSSLAB_HOST": "127.0.0.1", "LOSSLAB_PORT": str(self.port),
                    "LOSSLAB_WORKERS": str(workers), **{k: str(v) for k, v in env.items()}}
        self.proc: subprocess.Popen | None = None
        self.runs = 0  # runs the warm-up asked for

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        self.proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("the server did not start within 60 s")
        self.warm_up()
        return self

    def warm_up(self, seconds: float = 30.0) -> None:
        """Until the engine's compiled path serves runs (it compiles in the background at start)."""
        c = Client(self.port)
        deadline = time.monotonic() + seconds
        fast = 0
        while time.monotonic() < deadline and fast < 20:
            t0 = time.perf_counter()
            c.post("/api/run", TYPICAL)
            self.runs += 1
            fast = fast + 1 if time.perf_counter() - t0 < 0.01 else 0
        c.close()

    def pids(self) -> list[int]:
        """The server process and its workers (uvicorn runs workers as child processes)."""
        if self.proc is None:
            return []
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            try:
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/children") as f:
                        todo += [int(c) for c in f.read().split()]
            except OSError:
                pass
        return out

    def rss_mb(self) -> float:
        """Resident memory of the processes that serve requests (the workers when there are several), MB."""
        pids = self.pids()
        serving = pids[1:] if self.workers > 1 and len(pids) > 1 else pids[:1]
        total = 0
        for pid in serving:
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def __exit__(self, *exc) -> None:
        self.stop()


class Client:
    """One keep-alive HTTP/1.1 connection: the least client overhead Python offers."""

    def __init__(self, port: int, gzip: bool = False):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"content-type": "application/json", "accept-encoding": "gzip" if gzip else "identity"}

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, dict]:
        self.conn.request(method, path, body=body, headers=self.headers)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data, dict(r.getheaders())

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, obj) -> tuple[int, bytes, dict]:
        return self.request("POST", path, json.dumps(obj).encode())

    def timed(self, method: str, path: str, body: bytes | None = None) -> float:
        t0 = time.perf_counter()
        status, _, _ = self.request(method, path, body)
        dt = time.perf_counter() - t0
        if status != 200:
            raise RuntimeError(f"{method} {path} answered {status}")
        return dt

    def close(self) -> None:
        self.conn.close()


def median(xs) -> float:
    return statistics.median(xs)


def percentile(xs, q: float) -> float:
    """The q-th percentile (0–100), by linear interpolation."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 0.01 else f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


@dataclass
class Result:
    """One row of the suite's table."""

    target: str
    figure: str
    goal: str
    met: bool | None  # None: informational
    notes: list[str] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024**2:.0f} GB RAM"
    except OSError:
        pass
    import numpy

    try:
        import numba
        nb = f", numba {numba.__version__}"
    except ImportError:
        nb = ", no numba"
    return (f"{cpu}, {os.cpu_count()} CPUs, {mem}; Linux {platform.release()}; Python {platform.python_version()}, "
            f"numpy {numpy.__version__}{nb}")


def load_average() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


# --- the page in headless Chromium (bench_browser.py, bench_page.py) ---------------------------

def wait_ready(page, timeout=30_000) -> None:
    """The page's controls wired and its first runs finished and drawn from a grid."""
    page.wait_for_selector("body[data-ready=true]", timeout=timeout)
    page.wait_for_function("() => { const a = window.lossLab; return a && a.store && !a.running && a.grid; }",
                           timeout=timeout)


# Times in the page, from navigation start: when the controls are wired (main.js sets body[data-ready]),
# when the contour's path layer first shows finished runs, and when every plot first does.
JS_LOAD_MARKS = """(() => {
  new MutationObserver((_, obs) => {
    if (document.body && document.body.dataset.ready === 'true' && !window.__readyAt) {
      window.__readyAt = performance.now();
      obs.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
  window.addEventListener('losslab:rendered', (e) => {
    if (!e.detail.complete) return;
    if (!window.__pathsAt && e.detail.pathsDrawn) window.__pathsAt = e.detail.pathsDrawn;
    if (!window.__drawnAt && !e.detail.lazy) window.__drawnAt = performance.now();
  });
})();"""


def cold_load(browser, url: str, viewport: dict) -> dict:
    """One load of the page in a fresh context (cold cache): its marks (ms from navigation start), the bytes
    of every response as sent (encoded) plus the WebSocket's messages, and each file's Content-Encoding."""
    ctx = browser.new_context(viewport=viewport)
    ctx.add_init_script(JS_LOAD_MARKS)
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, float] = {}
    ws_bytes = [0]
    encodings: dict[str, str] = {}

    def on_response(e):
        h = {k.lower(): v for k, v in e["response"].get("headers", {}).items()}
        encodings[e["response"]["url"].split("?")[0].rsplit("/", 1)[-1] or "/"] = h.get("content-encoding", "none")

    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    cdp.on("Network.webSocketFrameReceived",
           lambda e: ws_bytes.__setitem__(0, ws_bytes[0] + len(e["response"]["payloadData"])))
    cdp.on("Network.responseReceived", on_response)
    try:
        page.goto(url)
        wait_ready(page)
        page.wait_for_function("() => window.__drawnAt && window.__pathsAt && window.__readyAt", timeout=30_000)
        page.wait_for_timeout(800)  # the theory panel's request and the contour's background image, after the first run
        marks = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0]; return { ready: "
                              "window.__readyAt, paths: window.__pathsAt, drawn: window.__drawnAt, "
                              "dcl: n.domContentLoadedEventEnd }; }")
    finally:
        ctx.close()
    return {**marks, "bytes": sum(sizes.values()) + ws_bytes[0], "ws": ws_bytes[0], "encodings": encodings}

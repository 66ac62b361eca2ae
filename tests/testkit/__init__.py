"""Helpers shared by the test folders, the benchmarks and scripts/screenshots.py.

A real Loss Lab server in a subprocess on a free loopback port, the Chromium flags this
workplace needs, and a JSON parser as strict as a browser's.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Headless Chromium as root on a machine with no network but loopback: without the
#: background-networking flags it keeps trying (and failing) to reach Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reject_constant(name: str):
    raise ValueError(f"non-finite JSON constant {name}")


def parse_strict(text: str):
    """json.loads that refuses NaN, Infinity and -Infinity, as a browser's JSON.parse does."""
    return json.loads(text, parse_constant=_reject_constant)


def receive_json(ws, timeout: float = 10.0) -> dict:
    """One message from a TestClient WebSocket within ``timeout`` (TestClient's own receive can wait forever)."""
    import anyio

    async def _get():
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()

    message = ws.portal.call(_get)
    assert message["type"] == "websocket.send", f"socket closed: {message}"
    return parse_strict(message["text"])


class Server:
    """``python -m app`` with LOSSLAB_* settings from ``env``; its output goes to a log file the tests can read."""

    def __init__(self, port: int | None = None, **env: str):
        self.port = port or free_port()
        self.env = {"LOSSLAB_HOST": "127.0.0.1", "LOSSLAB_PORT": str(self.port), **env}
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="losslab-server-", suffix=".log")[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/run"

    def start(self, timeout: float = 30) -> "Server":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env={**os.environ, **self.env},
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start within {timeout:g} s")

    def kill(self) -> None:
        """SIGKILL: the server dies at once, as in a crash or a container being stopped hard."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_chromium(playwright, extra_args: list[str] = ()):
    """Chromium for a test: LOSSLAB_CHROMIUM (the system's, as in CI) when set, else Playwright's own build."""
    return playwright.chromium.launch(executable_path=os.environ.get("LOSSLAB_CHROMIUM") or None,
                                      args=CHROMIUM_ARGS + list(extra_args))


def in_own_playwright(scenario, extra_args: list[str] = ()):
    """Run ``scenario(browser)`` with a Playwright of its own, in a thread of its own.

    A test module's sync Playwright holds the main thread's event loop, and a second sync
    Playwright on that thread refuses to start ("inside the asyncio loop"); a scenario that
    needs its own browser (a server restarted under it, a host name mapped) runs here.
    """
    import concurrent.futures

    from playwright.sync_api import sync_playwright

    def body():
        with sync_playwright() as p:
            browser = launch_chromium(p, extra_args)
            try:
                scenario(browser)
            finally:
                browser.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(body).result()

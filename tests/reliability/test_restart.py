"""The server restarting under an open page: the page says it is reconnecting, reconnects, and re-runs its scene.

Headless Chromium (LOSSLAB_CHROMIUM, else Playwright's own) on a real server that is killed (SIGKILL,
as in a crash) and started again on the same port. The page's drawing must afterwards come from the
new server: the test plants a stale value in the page's run data before the restart, and expects the
re-run to replace it with the new server's numbers.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from testkit import in_own_playwright

from .server import Server, free_port

RECONNECTING = "reconnecting to the server…"
#: The page's runs are finished and drawn: the contour's traces end where the runs end.
RUNS_DRAWN = """() => {
    const app = window.lossLab;
    if (!app || !app.store || app.running || !app.grid || app.behind) return false;
    const drawn = (document.getElementById('contour-plot').data || []).filter(t => (t.uid || '').startsWith('losslab-run-'));
    return drawn.length === app.store.runs.length && app.store.runs.every((r, i) =>
        r.xs.length > 0 && drawn[i].x[drawn[i].x.length - 1] === r.xs[r.xs.length - 1]);
}"""
DRAWN = """() => document.getElementById('contour-plot').data
    .filter(t => (t.uid || '').startsWith('losslab-run-'))
    .map(t => ({x: Array.from(t.x), y: Array.from(t.y)}))"""


class SocketLog:
    """Every WebSocket the page opens, with the run requests it sends and the messages it receives."""

    def __init__(self, page):
        self.sockets: list[dict] = []
        page.on("websocket", self._opened)

    def _opened(self, ws):
        entry = {"sent": [], "received": []}
        self.sockets.append(entry)
        ws.on("framesent", lambda payload: entry["sent"].append(json.loads(payload)))
        ws.on("framereceived", lambda payload: entry["received"].append(json.loads(payload)))


def post_run(server: Server, body: dict) -> dict:
    request = urllib.request.Request(server.url + "/api/run", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())


def test_the_page_reconnects_and_reruns_its_scene_after_a_restart():
    pytest.importorskip("playwright.sync_api")
    in_own_playwright(_reconnects_and_reruns)


def _reconnects_and_reruns(browser):
    port = free_port()
    first = Server(port).start()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        log = SocketLog(page)
        page.goto(first.url + "/")
        page.wait_for_selector("body[data-ready=true]", timeout=20_000)
        page.wait_for_function(RUNS_DRAWN, timeout=15_000)
        assert page.inner_text("#connection") == ""
        request = {k: v for k, v in log.sockets[0]["sent"][-1].items() if k != "id"}

        # A stale value only the old page state holds: the re-run must overwrite it.
        page.evaluate("() => { const r = window.lossLab.store.runs[0]; r.xs[3] = 999; r.ys[3] = -999; }")

        first.kill()
        page.wait_for_function(f"() => document.getElementById('connection').textContent === {RECONNECTING!r}",
                               timeout=10_000)
        time.sleep(0.5)  # a few failed reconnection attempts while nothing listens
        assert page.inner_text("#connection") == RECONNECTING

        second = Server(port).start()
        try:
            page.wait_for_function("() => document.getElementById('connection').textContent === ''", timeout=15_000)
            # The new socket re-sends the scene's request and streams it to the end.
            deadline = time.monotonic() + 15
            while not any(m["type"] == "done" for s in log.sockets[1:] for m in s["received"]):
                assert time.monotonic() < deadline, "the page did not re-run its scene after reconnecting"
                page.wait_for_timeout(50)
            resent = next(s for s in log.sockets[1:] if s["sent"])["sent"][0]
            assert {k: v for k, v in resent.items() if k != "id"} == request
            page.wait_for_function(RUNS_DRAWN, timeout=15_000)

            fresh = post_run(second, request)["runs"]
            stored = page.evaluate("() => window.lossLab.store.runs.map(r => ({xs: r.xs, ys: r.ys, status: r.status}))")
            drawn = page.evaluate(DRAWN)
            for run, s, d in zip(fresh, stored, drawn, strict=True):
                xs, ys = [p[0] for p in run["points"]], [p[1] for p in run["points"]]
                assert (s["xs"], s["ys"]) == (xs, ys), "the page kept data from before the restart"
                assert (d["x"], d["y"]) == (xs, ys), "the drawing is not the new server's run"
                assert s["status"] == run["status"]
            assert page.inner_text("#connection") == ""
        finally:
            second.stop()
    finally:
        context.close()
        first.kill()

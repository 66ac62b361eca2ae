"""A real server on a free loopback port and a headless Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
from urllib.parse import urlparse

import pytest
from testkit import CHROMIUM_ARGS, Server, launch_chromium  # noqa: F401  (CHROMIUM_ARGS: for scripts/screenshots.py)


@pytest.fixture(scope="session")
def server_port():
    with Server() as server:
        yield server.port


@pytest.fixture(scope="session")
def base_url(server_port):
    return f"http://127.0.0.1:{server_port}"


@pytest.fixture(scope="module")
def browser():
    # Per module, not per session: a sync Playwright left open on the main thread makes every later
    # sync Playwright in the session (the widget's and the class-server tests') refuse to start.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


class PageWatch:
    """Console errors and every request that leaves the loopback interface."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", self._request)

    def _request(self, req):
        u = urlparse(req.url)
        if u.scheme in ("http", "https", "ws", "wss") and u.hostname not in ("127.0.0.1", "localhost", "::1"):
            self.outside.append(req.url)


@contextlib.contextmanager
def watched_page(browser, width: int, height: int, **context_args):
    """A page in a context of its own at width × height; on leaving, nothing may have gone wrong in it
    (no console error, no request off the machine)."""
    context = browser.new_context(viewport={"width": width, "height": height}, **context_args)
    pg = context.new_page()
    pg.watch = PageWatch(pg)
    yield pg
    context.close()
    assert pg.watch.errors == [], pg.watch.errors
    assert pg.watch.outside == [], pg.watch.outside


@pytest.fixture
def page(browser, base_url):
    # Every page test also checks that nothing went wrong in the page along the way.
    with watched_page(browser, 1280, 800, accept_downloads=True) as pg:
        yield pg


def open_page(page, url: str):
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    wait_runs_done(page)


def open_step(page, base_url, lesson_id, n):
    """Step n of a lesson opened from its link, evaluated, its runs done and its panels drawn."""
    open_page(page, f"{base_url}/#lesson={lesson_id}&step={n}")
    page.wait_for_selector(f'#lesson-panel[data-evaluated="{lesson_id}#{n}"]', timeout=20_000)
    wait_runs_done(page)
    wait_panels(page)


def wait_panels(page):
    page.wait_for_function("""() => [...document.querySelectorAll('.view-card .plot')].every(el =>
        el.querySelector('.main-svg') || el.querySelector('table') || el.querySelector('p'))""", timeout=15_000)
    page.wait_for_timeout(150)  # Plotly's own layout pass after drawing


def wait_runs_done(page, timeout=15_000):
    """Until every run is finished and drawn: the contour's traces end where the runs end."""
    page.wait_for_function("""() => {
        const app = window.lossLab;
        // (app.behind: only the path layer has drawn the latest change; every plot follows when inputs pause)
        if (!app || !app.store || app.running || !app.grid || app.behind) return false;
        const drawn = (document.getElementById('contour-plot').data || []).filter(t => (t.uid || '').startsWith('losslab-run-'));
        // (a diverged run is drawn up to where it leaves the view)
        return drawn.length === app.store.runs.length && app.store.runs.every((r, i) =>
            r.xs.length > 0 && (r.status === 'diverged' || drawn[i].x[drawn[i].x.length - 1] === r.xs[r.xs.length - 1]));
    }""", timeout=timeout)


def trajectories(page) -> list[dict]:
    """The runs as Plotly holds them on the contour plot (hover, PNG export; the path layer draws them on screen)."""
    return page.evaluate("""() => document.getElementById('contour-plot').data
        .filter(t => (t.uid || '').startsWith('losslab-run-'))
        .map(t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y)}))""")


def drawn_paths(page) -> list[dict]:
    """What the contour's path layer shows of each run: the entries drawn (indices into the run) and the SVG path data."""
    return page.evaluate("""() => {
        const layer = document.getElementById('contour-plot').losslabPaths;
        const paths = [...document.querySelectorAll('#contour-plot .losslab-paths path.run')];
        return layer.drawn.map((d, i) => ({idx: Array.from(d.idx), d: paths[i].getAttribute('d'), color: d.color}));
    }""")


def pytest_configure(config):
    config.addinivalue_line("markers", "viewport(width, height): the window size of the big_page fixture")

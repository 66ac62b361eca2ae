"""Browser benchmarks in headless Chromium: page load, slider to screen, streaming into the page.

    .venv/bin/python bench/bench_browser.py [--chromium /usr/bin/chromium] [--quick]

Targets 2, 3 and 6 of the performance issue. Uses the page's own hooks: ``window.lossLab``
(its state; ``redraw()`` draws it again from memory) and the ``losslab:rendered`` event that
main.js dispatches once Plotly has drawn, saying which run's data the plots now show.
"""

from __future__ import annotations

import argparse
import os
import time

from common import CHROMIUM_ARGS, TYPICAL, TYPICAL_HASH, Result, Server, cold_load, median, percentile, wait_ready

# One slider move or one redraw, timed in the page from just before the input event until the
# plots have drawn the finished new run (`complete`): the page only says so once every chart's
# Plotly call has resolved.
JS_MEASURE = """async ([kind, pos]) => {
  const app = window.lossLab;
  const slider = document.querySelector('#optimizer-list .opt-card .param[data-param=lr] input[type=range]');
  const old = app.store;  // a slider's run replaces it once complete; a redraw draws it again
  return await new Promise((resolve, reject) => {
    const t0 = performance.now();
    let paths = null;
    const timer = setTimeout(() => reject(new Error('no render within 10 s')), 10000);
    const onRendered = (e) => {
      if ((kind === 'slider') === (e.detail.store === old) || !e.detail.complete) return;
      // The contour's path layer shows the new run first; the other plots follow once inputs pause.
      if (paths === null) paths = e.detail.pathsDrawn - t0;
      if (e.detail.lazy) return;
      window.removeEventListener('losslab:rendered', onRendered);
      clearTimeout(timer);
      resolve({ total: performance.now() - t0, started: e.detail.started - t0, flat: e.detail.flatDrawn - t0, paths });
    };
    window.addEventListener('losslab:rendered', onRendered);
    if (kind === 'slider') {
      slider.value = pos;
      slider.dispatchEvent(new Event('input'));
    } else {
      app.redraw();
    }
  });
}"""

JS_STREAM = """async (body) => {
  // A socket of its own, as the page's: time from sending the request to the first chunk and to 'done'.
  const ws = new WebSocket(`ws://${location.host}/ws/run`);
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
  const out = { first: null, done: null, messages: 0, bytes: 0, points: 0 };
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no done within 20 s')), 20000);
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      out.messages += 1;
      out.bytes += ev.data.length;
      if (msg.type === 'chunk') {
        if (out.first === null) out.first = performance.now() - t0;
        out.points += msg.points.length;
      } else if (msg.type === 'done' || msg.type === 'error') {
        out.done = performance.now() - t0;
        out.error = msg.type === 'error' ? msg.message : null;
        clearTimeout(timer);
        resolve();
      }
    };
    ws.send(JSON.stringify({ ...body, id: 1 }));
  });
  ws.close();
  return out;
}"""

JS_DRAWN = """() => {
  const app = window.lossLab;
  const traces = (id) => (document.getElementById(id).data || []);
  const isRun = (t) => (t.uid || '').startsWith('losslab-run-');
  return {
    stored: app.store.runs.map((r) => r.xs.length),
    taken: app.store.runs.map((r) => r.stepsTaken),
    contour: traces('contour-plot').filter(isRun).map((t) => t.x.length),
    losses: traces('loss-plot').map((t) => t.x.length),
    surface: traces('surface-plot').filter((t) => t.type === 'scatter3d').map((t) => t.x.length),
    exported: app.store.toCSV().split('\\n').length - 2,
  };
}"""


def launch(playwright, chromium: str | None):
    return playwright.chromium.launch(executable_path=chromium or None, args=CHROMIUM_ARGS)


def page_load(browser, url: str, repeats: int) -> list[Result]:
    """Target 6: bytes transferred and time to interactive, each load in a fresh (cold-cache) context."""
    loads = [cold_load(browser, url, {"width": 1280, "height": 800}) for _ in range(repeats)]
    b = median([x["bytes"] for x in loads]) / 1e6
    ready = median([x["ready"] for x in loads]) / 1e3
    drawn = median([x["drawn"] for x in loads]) / 1e3
    plotly_enc = ", ".join(sorted({e for f, e in loads[-1]["encodings"].items() if f.startswith("plotly")})) or "?"
    return [
        Result("6. Page load: bytes transferred", f"{b:.2f} MB", "≤ 2 MB", b <= 2.0,
               notes=[f"Plotly.js sent with Content-Encoding: {plotly_enc}; includes the first run over the socket "
                      f"({median([x['ws'] for x in loads]) / 1e3:.0f} kB)"]),
        Result("6. Page load: interactive", f"{ready * 1e3:.0f} ms", "≤ 1.5 s", ready <= 1.5,
               notes=[f"from navigation start to the controls wired (main.js sets body[data-ready]), in the page's "
                      f"clock, cold cache, median of {repeats}; DOMContentLoaded (the page's modules and Plotly.js's "
                      f"2D part evaluated) at {median([x['dcl'] for x in loads]):.0f} ms"]),
        Result("6. Page load: first runs drawn", f"{drawn * 1e3:.0f} ms", "(for information)", None,
               notes=["every plot showing the default scene's finished runs"]),
    ]


def slider(browser, url: str, moves: int) -> list[Result]:
    """Target 2: slider to screen against a redraw from memory, interleaved in one page load."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.goto(url + "/" + TYPICAL_HASH)
    wait_ready(page)
    time.sleep(1.5)  # the contour's background image and the theory panel settle
    for i in range(4):  # warm-up: JIT, caches
        page.evaluate(JS_MEASURE, ["slider", 300 + i])
        time.sleep(0.3)
        page.evaluate(JS_MEASURE, ["redraw", 0])
    slides, redraws = [], []
    for i in range(moves):
        # Positions around η = 0.001 (the scene's value), alternating so each is a new run.
        slides.append(page.evaluate(JS_MEASURE, ["slider", 280 + (i % 2) * 25 + (i % 7)]))
        time.sleep(0.3)  # the theory refresh that follows a move (60 ms debounce) is not part of the next one
        redraws.append(page.evaluate(JS_MEASURE, ["redraw", 0]))
        time.sleep(0.1)
    ctx.close()
    s_all, s_flat = [r["total"] for r in slides], [r["flat"] for r in slides]
    r_all, r_flat = [r["total"] for r in redraws], [r["flat"] for r in redraws]
    med_s, p95_s, med_r = median(s_all), percentile(s_all, 95), median(r_all)
    med_sf, p95_sf, med_rf = median(s_flat), percentile(s_flat, 95), median(r_flat)
    scene = "typical scene (4 optimizers × 500 steps, Rosenbrock)"
    return [
        Result("2. Slider to screen, every plot: median", f"{med_s:.0f} ms", "≤ 50 ms", med_s <= 50,
               notes=[f"{moves} moves of a step-size slider, {scene}, until the contour, loss and 3D plots have all "
                      f"drawn the finished new run; the run reaches the page and drawing starts "
                      f"{median([r['started'] for r in slides]):.0f} ms after the input event (median)"]),
        Result("2. Slider to screen, every plot: p95", f"{p95_s:.0f} ms", "≤ 100 ms", p95_s <= 100),
        Result("2. Slider to screen ÷ redraw from memory, every plot", f"{med_s / med_r:.2f} × ({med_s:.0f} / {med_r:.0f} ms)",
               "≤ 1.5 ×", med_s / med_r <= 1.5,
               notes=["redraw from memory: `lossLab.redraw()` rebuilds every trace from the data the page holds and "
                      "draws the same figures, no server; interleaved with the slider moves in the same page"]),
        Result("2. Slider to screen, 2D plots (contour, loss): median / p95", f"{med_sf:.0f} / {p95_sf:.0f} ms",
               "≤ 50 / ≤ 100 ms", med_sf <= 50 and p95_sf <= 100,
               notes=["the 3D view is drawn in the frame after them"]),
        Result("2. Slider to screen ÷ redraw from memory, 2D plots", f"{med_sf / med_rf:.2f} × ({med_sf:.0f} / {med_rf:.0f} ms)",
               "≤ 1.5 ×", med_sf / med_rf <= 1.5),
    ]


def streaming(browser, url: str, repeats: int) -> list[Result]:
    """Target 3: a 10,000-step run streamed into the page; what the page then draws."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    hash10k = TYPICAL_HASH.replace("steps=500", "steps=10000")
    page.goto(url + "/" + hash10k)
    wait_ready(page)
    body = dict(TYPICAL, steps=10000)
    runs = [page.evaluate(JS_STREAM, body) for _ in range(repeats)]
    drawn = page.evaluate(JS_DRAWN)
    ctx.close()
    first, done = median([r["first"] for r in runs]), median([r["done"] for r in runs])
    most_drawn = max(drawn["contour"] + drawn["losses"] + drawn["surface"])
    # Every step each run took (runs that converge or diverge stop early) is kept, and exported.
    whole = (all(n == k + 1 for n, k in zip(drawn["stored"], drawn["taken"])) and max(drawn["stored"]) == 10001
             and drawn["exported"] == sum(drawn["stored"]))
    return [
        Result("3. Streaming: first chunk in the page", f"{first:.1f} ms", "≤ 20 ms", first <= 20,
               notes=[f"10,000 steps × 4 optimizers on Rosenbrock over the page's WebSocket, median of {repeats}; "
                      f"{runs[-1]['messages']} messages, {runs[-1]['bytes'] / 1e6:.1f} MB of JSON"]),
        Result("3. Streaming: whole run in the page", f"{done:.0f} ms", "≤ 500 ms", done <= 500),
        Result("3. Streaming: points drawn per trace", f"≤ {most_drawn} of 10,001", "decimated; all kept for export",
               most_drawn <= 1500 and whole,
               notes=[f"contour traces {drawn['contour']}, loss traces {drawn['losses']}, 3D traces {drawn['surface']}; "
                      f"the page keeps {drawn['stored']} points per run and exports {drawn['exported']} rows"]),
    ]


def run(chromium: str | None = None, quick: bool = False, server: Server | None = None) -> list[Result]:
    from playwright.sync_api import sync_playwright

    own = server is None
    srv = server or Server().__enter__()
    try:
        with sync_playwright() as p:
            browser = launch(p, chromium)
            try:
                out = page_load(browser, srv.url + "/", 3 if quick else 5)
                out += slider(browser, srv.url, 12 if quick else 40)
                out += streaming(browser, srv.url, 3 if quick else 7)
            finally:
                browser.close()
    finally:
        if own:
            srv.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=os.environ.get("LOSSLAB_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for r in run(args.chromium, args.quick):
        print(f"{r.target}: {r.figure} (target {r.goal}) {'MET' if r.met else 'NOT MET'}; {'; '.join(r.notes)}")


if __name__ == "__main__":
    main()

"""The contour's path layer: a slider drag ends on the final value's picture; big runs are drawn decimated but kept whole."""

import csv
import io
import json
import urllib.request

from conftest import drawn_paths, open_page, trajectories, wait_runs_done

TYPICAL = {
    "surface": {"name": "rosenbrock", "params": {"a": 1, "b": 100}},
    "optimizers": [
        {"name": "gd", "params": {"lr": 0.001}},
        {"name": "momentum", "params": {"lr": 0.001, "momentum": 0.9}},
        {"name": "adam", "params": {"lr": 0.05}},
        {"name": "newton", "params": {"lr": 1.0}},
    ],
    "start": [-1.2, 1.0], "steps": 500, "seed": 0,
}
TYPICAL_HASH = ("#s=rosenbrock:a=1,b=100&o=gd:lr=0.001|momentum:lr=0.001,momentum=0.9|adam:lr=0.05|newton:lr=1"
                "&start=-1.2,1&steps=500&seed=0")

# One input event per animation frame, as a pointer drag delivers them.
DRAG = """async ([frames, from, step]) => {
  const s = document.querySelector('#optimizer-list .opt-card .param[data-param=lr] input[type=range]');
  from = from ?? Number(s.value);
  await new Promise((resolve) => {
    let i = 0;
    const tick = () => {
      if (i >= frames) return resolve();
      s.value = from + step * i++;
      s.dispatchEvent(new Event('input', { bubbles: true }));
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  // The slider's value, read independently of the page's scene: the catalog's spec and controls.js's scale.
  const { sliderScale } = await import('/static/js/controls.js');
  const spec = window.lossLab.catalog.optimizers.gd.params.find((p) => p.name === 'lr');
  return sliderScale(spec).toValue(Number(s.value));
}"""

# What the path layer would draw for these runs, computed afresh by decimate.js under the layer's pixel map.
EXPECTED_PATHS = """async (runs) => {
  const { decimate, pathData } = await import('/static/js/charts/decimate.js');
  const { map } = document.getElementById('contour-plot').losslabPaths.box();
  return runs.map((r) => {
    const xs = r.points.map((p) => p[0]), ys = r.points.map((p) => p[1]);
    return pathData(xs, ys, decimate(xs, ys, map), map);
  });
}"""


def floats(xs):
    """Numbers from the page as Python floats (Playwright hands whole-valued ones over as ints)."""
    return [float(x) for x in xs]


def post_run(base_url, body):
    req = urllib.request.Request(base_url + "/api/run", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["runs"]


# The contour's plot area (Plotly's axes box) in the viewport, for a screenshot of just that.
PLOT_AREA = """() => {
  const el = document.getElementById('contour-plot'), r = el.getBoundingClientRect(), s = el._fullLayout._size;
  return { x: r.left + s.l, y: r.top + s.t, width: s.w, height: s.h };
}"""

# The last answer of the drag is in and drawn, by the path layer alone (the page is still "behind":
# the full redraw waits for the inputs to pause).
LAST_ANSWER_DRAWN_LAZILY = """() => {
  const app = window.lossLab, layer = document.getElementById('contour-plot').losslabPaths;
  return !app.running && app.behind && layer.last && layer.last.runs.length === app.store.runs.length &&
    layer.last.runs.every((r, i) => r.run === app.store.runs[i]);
}"""


def contour_picture(page) -> bytes:
    """What the contour's plot area shows, as PNG (identical pixels encode identically)."""
    return page.screenshot(clip=page.evaluate(PLOT_AREA), animations="disabled")


def test_a_drag_ends_on_exactly_the_picture_of_the_final_slider_value(page, base_url):
    open_page(page, base_url + "/" + TYPICAL_HASH)
    before = drawn_paths(page)
    picture_before = contour_picture(page)
    lr = page.evaluate(DRAG, [60, None, 1])  # 60 frames, the slider moving right from η = 0.001
    # The picture the learner sees as soon as the last answer is drawn: the page is held in its drag mode
    # (only the path layer draws) for the screenshot, however long that takes ...
    page.evaluate("() => { window.lossLab.busyUntil = Infinity; }")
    page.wait_for_function(LAST_ANSWER_DRAWN_LAZILY, timeout=15_000)
    picture_at_once = contour_picture(page)
    assert page.evaluate("() => window.lossLab.behind")  # (Plotly's figure has not been redrawn yet)
    # ... and once inputs pause, every plot is drawn in full: the contour's pixels stay exactly as they were.
    page.evaluate("() => { window.lossLab.busyUntil = 0; window.lossLab.redraw(); }")
    wait_runs_done(page)
    assert contour_picture(page) == picture_at_once
    assert picture_at_once != picture_before
    assert lr > 0.001
    assert page.evaluate("() => window.lossLab.scene.optimizers[0].params.lr") == lr
    # The scene's request as the page would send it now (its tolerance included), at the slider's value.
    body = page.evaluate("async () => (await import('/static/js/state.js')).runRequest(window.lossLab.scene)")
    assert body["optimizers"][0]["params"]["lr"] == lr
    assert [o["params"]["lr"] for o in body["optimizers"]] == [lr, *(o["params"]["lr"] for o in TYPICAL["optimizers"][1:])]
    fresh = post_run(base_url, body)
    # The page holds exactly the fresh run of the final value ...
    stored = page.evaluate("() => window.lossLab.store.runs.map(r => ({xs: r.xs, ys: r.ys}))")
    for run, s in zip(fresh, stored, strict=True):
        assert (floats(s["xs"]), floats(s["ys"])) == ([p[0] for p in run["points"]], [p[1] for p in run["points"]])
    # ... the path layer draws exactly that run's picture ...
    drawn = drawn_paths(page)
    assert [p["d"] for p in drawn] == page.evaluate(EXPECTED_PATHS, fresh)
    assert drawn[0]["d"] != before[0]["d"] and drawn[1:] == before[1:]  # only gradient descent's path moved
    # ... and Plotly's traces (hover, legend, PNG export) hold the same points.
    for run, t in zip(fresh, trajectories(page), strict=True):
        assert (floats(t["x"]), floats(t["y"])) == ([p[0] for p in run["points"]], [p[1] for p in run["points"]])
    assert f"lr={lr:g}" in page.url or f"lr={lr}" in page.url


def test_long_runs_are_drawn_decimated_keeping_ends_and_divergence_marks_and_exported_whole(page, base_url):
    # Gradient descent at η = 0.15 > 2/λmax = 0.1 diverges and leaves the view; momentum runs all 20,000 steps.
    url = (base_url + "/#s=quadratic:lambda_1=1,lambda_2=20,rotation=30&o=gd:lr=0.15|momentum:lr=0.01,momentum=0.5"
           "&start=-2,-0.5&steps=20000&seed=0&tol=0")
    open_page(page, url)
    stored = page.evaluate("() => window.lossLab.store.runs.map(r => ({n: r.xs.length, status: r.status, xs: r.xs, ys: r.ys}))")
    drawn = drawn_paths(page)
    diverged, long = stored
    assert diverged["status"] == "diverged" and long["n"] == 20001
    # The long run: its first and last points drawn, most of the 20,001 (within a pixel of the one before) not.
    assert drawn[1]["idx"][0] == 0 and drawn[1]["idx"][-1] == 20000
    assert len(drawn[1]["idx"]) < 2000
    # The diverged run is drawn from its start until it leaves the view (the plot area cuts that last
    # segment at the edge), and marked there: the last point inside and the first outside are drawn.
    x0, x1, y0, y1 = page.evaluate("() => window.lossLab.catalog.surfaces.quadratic.view")
    leaves = next(k for k, (x, y) in enumerate(zip(diverged["xs"], diverged["ys"])) if not (x0 <= x <= x1 and y0 <= y <= y1))
    assert 0 < leaves < diverged["n"] - 1
    assert drawn[0]["idx"][0] == 0 and drawn[0]["idx"][-2:] == [leaves - 1, leaves]
    marks = page.evaluate("""() => [...document.querySelectorAll('#contour-plot .losslab-paths path.divergence')]
        .map(p => p.getAttribute('stroke'))""")
    assert marks == [drawn[0]["color"]]
    # Exports stay whole: every step of every run.
    with page.expect_download() as info:
        page.get_by_role("button", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(info.value.path()).read())))
    assert len(rows) == diverged["n"] + long["n"]
    assert [float(r["x"]) for r in rows if r["run"] == "1"] == floats(long["xs"])


def test_the_path_layer_draws_again_exactly_when_what_it_shows_changed(page, base_url):
    open_page(page, base_url + "/" + TYPICAL_HASH)
    drawn = drawn_paths(page)
    page.evaluate("""() => {
        window.layerChanges = 0;
        new MutationObserver((m) => { window.layerChanges += m.length; }).observe(
            document.querySelector('#contour-plot .losslab-paths'),
            { subtree: true, attributes: true, childList: true, characterData: true });
    }""")
    # Every plot drawn again from memory: the path layer already shows these runs, and nothing in it is touched.
    page.evaluate("() => window.lossLab.redraw()")
    page.wait_for_function("() => !window.lossLab.renderQueued")
    wait_runs_done(page)
    assert page.evaluate("() => window.layerChanges") == 0
    assert drawn_paths(page) == drawn
    # The first run streamed again from entry 0 (a reconnection to a server whose code changed) ends at the
    # same length with other points: those are drawn.
    moved = page.evaluate("""() => {
        const store = window.lossLab.store, r = store.runs[0];
        const points = r.xs.map((x, k) => [x + 0.25, r.ys[k] - 0.25]);
        store.addChunk({ run: 0, first: 0, points, losses: r.losses.slice(), grad_norms: r.gradNorms.slice() });
        window.lossLab.redraw();
        return [{ points }];
    }""")
    page.wait_for_function("() => window.layerChanges > 0 && !window.lossLab.renderQueued")
    after = drawn_paths(page)
    assert after[0]["d"] == page.evaluate(EXPECTED_PATHS, moved)[0] != drawn[0]["d"]
    assert after[1:] == drawn[1:]


def test_play_draws_every_frame_by_the_path_layer_alone(page, base_url):
    open_page(page, base_url + "/" + TYPICAL_HASH)
    page.get_by_label("Speed").fill("80")  # about 250 steps a second: the cursor moves at every frame
    page.get_by_role("button", name="Reset to the start").click()
    page.evaluate("""() => {
        const el = document.getElementById('contour-plot');
        window.counts = { frames: 0, pictures: 0, plotly: 0 };
        el.on('plotly_afterplot', () => window.counts.plotly++);
        new MutationObserver((m) => { window.counts.pictures += m.some((r) => r.attributeName === 'd') ? 1 : 0; })
            .observe(el.querySelector('.losslab-paths g.runs'), { subtree: true, attributes: true });
        const tick = () => { window.counts.frames++; requestAnimationFrame(tick); };
        requestAnimationFrame(tick);
    }""")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => window.counts.pictures > 0")
    page.evaluate("() => { window.counts = { frames: 0, pictures: 0, plotly: 0 }; }")  # counted from here on
    page.wait_for_timeout(800)
    counts = page.evaluate("() => ({ ...window.counts, playing: document.getElementById('play-btn').textContent })")
    page.get_by_role("button", name="Pause").click()
    assert "Pause" in counts["playing"]  # still playing (500 steps take 2 s)
    # The runs grew at (nearly) every animation frame, and Plotly's contour figure was not redrawn once.
    assert counts["pictures"] >= max(10, 0.8 * counts["frames"]), counts
    assert counts["plotly"] == 0, counts

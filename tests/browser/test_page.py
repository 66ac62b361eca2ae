"""The page as a learner uses it, in headless Chromium against a real server."""

import csv
import io
import re

from conftest import drawn_paths, open_page, trajectories, wait_runs_done


def test_page_loads_clean_and_offline(page, base_url):
    open_page(page, base_url + "/")
    assert page.title().startswith("Loss Lab")
    drawn = trajectories(page)
    assert [t["name"] for t in drawn] == ["1. Gradient descent", "2. Momentum (heavy ball)"]
    # The default scene: 100 steps, or fewer where a run converged (‖∇f‖ < the default tol, 1e-4)
    assert [len(t["x"]) for t in drawn] == [101, 62]
    assert page.locator("#status-table tbody tr").nth(1).locator(".status").inner_text() == "converged at step 61"
    assert page.locator("#status-table tbody tr").count() == 2
    assert page.watch.errors == []
    assert page.watch.outside == []


def test_the_3d_view_loads_its_code_after_the_first_runs_are_drawn(page, base_url):
    """Plotly's 3D trace types are a module of their own (static/vendor/plotly/plotly-3d.js), asked for once
    the contour shows the first runs; then the 3D view draws the surface and every run on it."""
    # When the contour's path layer first shows a run.
    page.add_init_script("""new MutationObserver((_, obs) => {
        if (document.querySelector('#contour-plot .losslab-paths path.run[d^="M"]')) {
          window.__pathsAt = performance.now(); obs.disconnect(); }
      }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['d'] });""")
    open_page(page, base_url + "/")
    page.wait_for_function("() => (document.getElementById('surface-plot').data || []).length === 3", timeout=20_000)
    assert page.evaluate("document.getElementById('surface-plot').data.map((t) => t.type)") == \
        ["surface", "scatter3d", "scatter3d"]
    loaded = dict(page.evaluate("performance.getEntriesByType('resource').filter((r) => r.name.includes('/vendor/'))"
                                ".map((r) => [r.name.split('/').pop(), r.startTime])"))
    assert "plotly-2d.js" in loaded and any(n.startswith("plotly-core-") for n in loaded)
    assert loaded["plotly-3d.js"] >= page.evaluate("window.__pathsAt") > 0
    assert not [n for n in loaded if n.startswith("plotly.min")]  # the whole Plotly.js (4.8 MB) is never sent


def test_step_size_slider_changes_the_trajectory(page, base_url):
    open_page(page, base_url + "/")
    before = trajectories(page)[0]
    slider = page.get_by_label("Step size").first
    slider.focus()
    for _ in range(40):
        page.keyboard.press("ArrowLeft")  # keyboard works: η goes down along the log scale
    output = page.locator("#optimizer-list .opt-card").first.locator("output").first
    assert output.inner_text() != "η = 0.09"
    eta = float(output.inner_text().split("=")[1])
    assert eta < 0.09
    wait_runs_done(page)
    after = trajectories(page)[0]
    assert after["x"][0] == before["x"][0] and after["y"][0] == before["y"][0]  # same start
    assert after["x"][1] != before["x"][1]  # a different first step
    assert f"lr={eta:g}" in page.url or f"lr={eta}" in page.url
    assert page.watch.errors == []


def test_clicking_the_contour_moves_the_start(page, base_url):
    open_page(page, base_url + "/")
    box = page.evaluate("""() => {
        const gd = document.getElementById('contour-plot'), r = gd.getBoundingClientRect();
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return {x: r.left + xa._offset + xa.d2p(1.5), y: r.top + ya._offset + ya.d2p(1.0)};
    }""")
    page.mouse.click(box["x"], box["y"])
    wait_runs_done(page)
    x0, y0 = float(page.input_value("#start-x")), float(page.input_value("#start-y"))
    assert abs(x0 - 1.5) < 0.05 and abs(y0 - 1.0) < 0.05
    for t in trajectories(page):
        assert (t["x"][0], t["y"][0]) == (x0, y0)
    assert re.search(r"start=1\.\d+,(0\.9|1)", page.url)


def test_adding_an_optimizer_adds_a_trajectory(page, base_url):
    open_page(page, base_url + "/")
    page.get_by_role("button", name="+ Add optimizer").click()
    wait_runs_done(page)
    drawn = trajectories(page)
    assert len(drawn) == 3
    assert drawn[2]["name"] == "3. Nesterov momentum"
    assert page.locator("#optimizer-list .opt-card").count() == 3
    page.get_by_role("button", name="Remove optimizer 1").click()
    wait_runs_done(page)
    assert [t["name"] for t in trajectories(page)] == ["1. Momentum (heavy ball)", "2. Nesterov momentum"]


def test_shared_url_restores_the_scene(page, browser, base_url):
    url = (base_url + "/#s=rosenbrock:a=1,b=100&o=adam:lr=0.05,beta1=0.9,beta2=0.999,eps=1e-8|"
           "sgd:lr=0.001,momentum=0.5,batch_size=1,noise=0.5,seed=3,schedule=constant,decay_every=100"
           "&start=-1.2,1.5&steps=300&seed=7")
    open_page(page, url)
    first = trajectories(page)
    assert page.input_value("#surface-select") == "rosenbrock"
    assert page.input_value("#steps-input") == "300"
    assert (first[0]["x"][0], first[0]["y"][0]) == (-1.2, 1.5)
    shared = page.url
    other = browser.new_context(viewport={"width": 1000, "height": 800}).new_page()
    open_page(other, shared)
    assert trajectories(other) == first  # the noisy SGD run too: the seed is in the link
    assert other.url == shared
    other.context.close()


def test_csv_export_downloads_every_point(page, base_url):
    open_page(page, base_url + "/")
    with page.expect_download() as info:
        page.get_by_role("button", name="CSV").click()
    download = info.value
    assert download.suggested_filename == "losslab-trajectories.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path()).read())))
    drawn = trajectories(page)
    assert len(rows) == sum(len(t["x"]) for t in drawn)
    assert rows[0]["optimizer"] == "gd" and rows[0]["step"] == "0"
    assert float(rows[0]["x"]) == drawn[0]["x"][0]
    last_gd = [r for r in rows if r["run"] == "0"][-1]
    assert float(last_gd["x"]) == drawn[0]["x"][-1]


def test_every_control_has_a_label(page, base_url):
    open_page(page, base_url + "/")
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input, select')]
        .filter(el => !el.labels || el.labels.length === 0).map(el => el.id || el.outerHTML.slice(0, 60))""")
    assert unlabeled == []


def test_narrow_window_has_no_horizontal_scroll(browser, base_url):
    ctx = browser.new_context(viewport={"width": 400, "height": 800})
    pg = ctx.new_page()
    open_page(pg, base_url + "/")
    overflow = pg.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    ctx.close()


def test_api_docs_work_offline(page, base_url):
    page.goto(base_url + "/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/run" in paths and "/healthz" in paths


def test_play_step_reset_animate_the_run(page, base_url):
    open_page(page, base_url + "/")
    page.get_by_role("button", name="Reset to the start").click()
    assert page.inner_text("#iteration") == "iteration 0 of 100"
    assert [len(t["x"]) for t in trajectories(page)] == [1, 1]
    page.get_by_role("button", name="Step one iteration").click()
    page.get_by_role("button", name="Step one iteration").click()
    page.wait_for_function("() => document.getElementById('iteration').textContent === 'iteration 2 of 100'")
    assert [len(t["x"]) for t in trajectories(page)] == [3, 3]
    speed = page.get_by_label("Speed")
    speed.fill("80")  # about 250 steps per second
    assert page.inner_text("#speed-output") == f"{round(10 ** 2.4)} steps/s"
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => { const m = document.getElementById('iteration').textContent.match(/iteration (\\d+)/);"
                           " return m && +m[1] > 20; }")
    # A setting changed mid-run: the animation goes on over the new run, from where it was.
    slider = page.get_by_label("Step size").first
    slider.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => !window.lossLab.running")
    page.wait_for_function("() => document.getElementById('play-btn').textContent.includes('Play')", timeout=10_000)
    assert page.inner_text("#iteration") == "iteration 100 of 100"
    stored = page.evaluate("() => window.lossLab.store.runs.map(r => r.xs.length)")
    assert stored == [101, 62]  # momentum converges at step 61
    assert [p["idx"][-1] + 1 for p in drawn_paths(page)] == stored  # the path layer shows the whole runs at once
    wait_runs_done(page)  # Plotly's traces (hover, PNG) follow once the animation has stopped
    assert [len(t["x"]) for t in trajectories(page)] == stored


def test_theory_rates_and_arrows(page, base_url):
    # The default scene with tol = 0 (never stop early), so the rate is measured over all 100 steps
    open_page(page, base_url + "/#s=quadratic:lambda_1=1,lambda_2=20,rotation=30&o=gd:lr=0.09|momentum:lr=0.04,momentum=0.7"
                               "&start=-2,-0.5&steps=100&tol=0")
    # Measured against predicted per-step rate on the quadratic: GD at η = 0.09 on λ = (1, 20)
    # contracts by max|1 − ηλ| = 0.91; heavy ball (0.04, 0.7) by its spectral radius 0.837.
    page.wait_for_function("() => document.querySelectorAll('#status-table tbody tr td').length === 8 &&"
                           " !document.querySelector('#status-table tbody').textContent.includes('/ –')")
    rows = [r.split("\t") for r in page.inner_text("#status-table tbody").splitlines()]
    assert rows[0][3] == "0.91 / 0.91"
    measured, predicted = (float(v) for v in rows[1][3].split(" / "))
    assert predicted == 0.837 and abs(measured - predicted) < 0.01
    assert "κ = λmax/λmin" in page.inner_text("#theory")
    # Stepping shows the downhill arrow of both runs and the momentum run's step.
    page.get_by_role("button", name="Reset to the start").click()
    page.get_by_role("button", name="Step one iteration").click()
    page.wait_for_function("""() => {
        const a = [...document.querySelectorAll('#contour-plot .losslab-paths path.arrow')];
        const run = window.lossLab.store.runs[0];
        return a.length === 3 && a[0].dataset.from === `${run.xs[1]},${run.ys[1]}` && a[0].getAttribute('d') !== '';
    }""")
    page.wait_for_function("() => document.getElementById('contour-plot').data.find(t => t.uid === 'losslab-run-0').x.length === 2")
    arrows = page.evaluate("""() => [...document.querySelectorAll('#contour-plot .losslab-paths path.arrow')]
        .map(a => [...a.dataset.from.split(',').map(Number), ...a.dataset.to.split(',').map(Number)])""")
    # GD's arrow points downhill: along its own next step (GD steps along −∇f).
    t = trajectories(page)[0]
    full = page.evaluate("() => [window.lossLab.store.runs[0].xs.slice(0, 3), window.lossLab.store.runs[0].ys.slice(0, 3)]")
    step = (full[0][2] - full[0][1], full[1][2] - full[1][1])
    arrow = (arrows[0][2] - arrows[0][0], arrows[0][3] - arrows[0][1])
    cos = (step[0] * arrow[0] + step[1] * arrow[1]) / ((step[0] ** 2 + step[1] ** 2) ** 0.5 * (arrow[0] ** 2 + arrow[1] ** 2) ** 0.5)
    assert cos > 0.999999 and len(t["x"]) == 2

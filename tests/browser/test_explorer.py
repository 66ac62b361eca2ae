"""The free-play page works on the first try (issue 14): every acceptance point, in headless Chromium.

Every test also checks (through the ``page`` fixture) that no console error happened and that no
request left the machine.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from conftest import open_page, trajectories, wait_runs_done
from testkit import Server, in_own_playwright

SURFACES = ["quadratic", "saddle", "rosenbrock", "himmelblau", "beale", "landscape", "two_weight_net", "logistic_neuron"]
STATUSES = "() => window.lossLab.store.runs.map(r => [r.optimizer, r.status, r.stepsTaken])"


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def card_marks(page, i: int) -> list[str]:
    return page.locator("#optimizer-list .opt-card").nth(i).locator(".mark").all_inner_texts()


def wait_marks(page, i: int, predicate: str, timeout=10_000):
    page.wait_for_function(f"""() => {{
        const ms = [...document.querySelectorAll('#optimizer-list .opt-card')][{i}]?.querySelectorAll('.mark') || [];
        const texts = [...ms].map(m => m.textContent);
        return ({predicate})(texts);
    }}""", timeout=timeout)


def test_picking_each_surface_applies_its_defaults_and_nothing_diverges(page, base_url):
    requests = []
    page.on("request", lambda r: "/api/" in r.url and requests.append(r))
    bad = []
    page.on("response", lambda r: r.status >= 400 and bad.append((r.url, r.status)))
    open_page(page, base_url + "/")
    catalog = page.evaluate("window.lossLab.catalog.surfaces")
    for name in SURFACES:
        page.locator("#surface-select").focus()
        page.select_option("#surface-select", name)
        wait_runs_done(page)
        entry = catalog[name]
        scene = page.evaluate("window.lossLab.scene")
        assert scene["start"] == entry["default_start"] and scene["steps"] == entry["default_steps"]
        assert [o["params"]["lr"] for o in scene["optimizers"]] == [entry["step_sizes"][o["name"]] for o in scene["optimizers"]]
        statuses = page.evaluate(STATUSES)
        assert all(s != "diverged" for _, s, _ in statuses), (name, statuses)
        # the axes are the catalog's (a network's are its weights)
        assert page.evaluate("document.getElementById('contour-plot').layout.xaxis.title.text") == entry["axes"][0]
        # no ghost of the previous surface's runs
        assert page.evaluate("window.lossLab.store.surfaceKey") == json.dumps({"name": name, "params": scene["surfaceParams"]},
                                                                               separators=(",", ":"))
        assert page.evaluate("document.getElementById('contour-plot').data.filter(t => t.line && t.line.dash === 'dot').length") == 0
        assert focused_id(page) == "surface-select"
    assert bad == []  # one consistent request per change: no 422s


def test_newton_converges_at_step_1_and_the_tolerance_is_a_setting(page, base_url):
    open_page(page, base_url + "/#s=quadratic:lambda_1=1,lambda_2=20,rotation=30&o=newton:lr=1|gd:lr=0.09&start=-2,-0.5&steps=100")
    rows = page.locator("#status-table tbody tr .status")
    assert rows.nth(0).inner_text() == "converged at step 1"
    assert rows.nth(1).inner_text() == "still going after 100 steps"
    tol = page.locator("#tol-input")
    assert float(tol.input_value()) == 1e-4
    tol.fill("0.01")
    tol.press("Enter")
    page.wait_for_function("() => window.lossLab.scene.tol === 0.01 && !window.lossLab.running")
    wait_runs_done(page)
    assert "tol=0.01" in page.url
    assert rows.nth(1).inner_text().startswith("converged at step")


def test_a_diverging_run_keeps_the_loss_axis_log_and_the_others_readable(page, base_url):
    # η = 1.2 on λ = 2: |1 − 2.4| = 1.4 a step, from the first step
    open_page(page, base_url + "/#s=quadratic:lambda_1=1,lambda_2=2,rotation=0&o=gd:lr=1.2|newton:lr=1|gd:lr=0.3"
                               "&start=-2,-0.5&steps=100")
    statuses = page.evaluate(STATUSES)
    assert statuses[0][1] == "diverged" and statuses[0][2] <= 12
    assert statuses[1][1:] == ["converged", 1]  # a loss of exactly 0: still a log axis
    assert page.locator("#status-table tbody tr .status").nth(0).inner_text() == f"diverged at step {statuses[0][2]}"
    y = page.evaluate("document.getElementById('loss-plot').layout.yaxis")
    assert y["type"] == "log"
    lo, hi = y["range"]
    assert hi < 1.5, "the diverged run must not set the top of the loss axis"
    assert hi - lo < 20
    # the contour path stops at the view's edge, where a mark says it diverged
    drawn = trajectories(page)[0]
    assert max(abs(v) for v in drawn["x"] + drawn["y"]) <= 2.5 + 1e-9
    marks = page.evaluate("document.getElementById('contour-plot').data.filter(t => t.name === 'left the view')")
    assert len(marks) == 1 and len(marks[0]["x"]) == 1


def test_each_step_size_slider_carries_only_its_own_theory_marks(page, base_url):
    open_page(page, base_url + "/#s=quadratic:lambda_1=1,lambda_2=10,rotation=0"
                               "&o=gd:lr=0.05|momentum:lr=0.05,momentum=0.5|nesterov:lr=0.05,momentum=0.5|newton:lr=1|adam:lr=0.1"
                               "&start=-2,-0.5&steps=50")
    wait_marks(page, 0, "t => t.length === 2")
    assert card_marks(page, 0) == ["1/λmax = 0.1", "2/λmax = 0.2"]
    wait_marks(page, 1, "t => t.length === 1")
    assert card_marks(page, 1) == ["2(1+β)/λmax = 0.3"]
    assert card_marks(page, 2) == ["Nesterov edge = 0.15"]
    assert card_marks(page, 3) == ["full step = 1"]
    assert card_marks(page, 4) == []
    # marks never overlap: labels in one row are apart
    boxes = page.evaluate("""() => [...document.querySelectorAll('#optimizer-list .opt-card')][0]
        .querySelectorAll('.mark').length && [...[...document.querySelectorAll('#optimizer-list .opt-card')][0]
        .querySelectorAll('.mark')].map(m => { const r = m.getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom]; })""")
    (a, b) = boxes
    assert a[1] <= b[0] or b[1] <= a[0] or a[3] <= b[2] or b[3] <= a[2]
    # the heavy ball's edge moves when β changes
    beta = page.locator("#opt-1-momentum")
    beta.focus()
    for _ in range(60):
        page.keyboard.press("ArrowRight")
    wait_runs_done(page)
    wait_marks(page, 1, "t => t.length === 1 && t[0] !== '2(1+β)/λmax = 0.3'")
    b_now = page.evaluate("window.lossLab.scene.optimizers[1].params.momentum")
    [label] = card_marks(page, 1)
    assert label == f"2(1+β)/λmax = {float(f'{2 * (1 + b_now) / 10:.3g}'):g}"
    assert focused_id(page) == "opt-1-momentum"


def test_momentum_sliders_resolve_0_9_0_99_0_999_and_their_ends_are_valid(page, base_url):
    open_page(page, base_url + "/#o=adam:lr=0.1&steps=30")
    beta2 = page.locator("#opt-0-beta2")
    beta2.focus()
    page.keyboard.press("End")  # the right end: β2 = 0.99999, not 1
    wait_runs_done(page)
    assert page.evaluate("window.lossLab.scene.optimizers[0].params.beta2") == 0.99999
    assert page.evaluate(STATUSES)[0][1] != "diverged"
    assert page.locator("#toast").is_hidden()
    # β1 ∈ [0, 0.9999] on log(1 − β1): four decades over 1000 positions, 0.9, 0.99, 0.999 at 250, 500, 750
    seen = []
    for pos in (250, 500, 750, 1000):
        page.locator("#opt-0-beta1").evaluate(
            f"(el) => {{ el.value = {pos}; el.dispatchEvent(new Event('input', {{bubbles: true}})); }}")
        seen.append(page.evaluate("window.lossLab.scene.optimizers[0].params.beta1"))
    assert seen == [0.9, 0.99, 0.999, 0.9999]
    wait_runs_done(page)
    assert page.locator("#toast").is_hidden()


def test_hash_change_applies_the_whole_state_and_copy_link_keeps_it(page, base_url):
    open_page(page, base_url + "/")
    page.evaluate("location.hash = '#lesson=momentum'")
    page.wait_for_function("() => window.lossLab.scene.lesson === 'momentum'")
    wait_runs_done(page)
    lesson = page.evaluate("window.lossLab.lessons.find(l => l.id === 'momentum').scene")
    scene = page.evaluate("window.lossLab.scene")
    assert scene["surface"] == lesson["surface"] and len(scene["optimizers"]) == len(lesson["optimizers"])
    assert page.locator("#lesson-panel").is_visible()
    # the address now holds the whole lesson scene (written within 500 ms of the last change): Copy link copies it
    page.wait_for_function("() => location.hash.includes('s=')", timeout=5_000)
    page.evaluate("location.hash = '#s=himmelblau&o=adam:lr=0.3&start=1,1&steps=40'")
    page.wait_for_function("() => window.lossLab.scene.surface === 'himmelblau'")
    wait_runs_done(page)
    assert page.locator("#lesson-panel").is_hidden()
    assert page.locator("#surface-select").input_value() == "himmelblau"
    assert page.locator("#optimizer-list .opt-card").count() == 1
    assert page.evaluate("document.getElementById('contour-plot').layout.xaxis.range") == [-5, 5]


def test_focus_stays_on_a_control(page, base_url):
    open_page(page, base_url + "/")
    sel = page.locator("#opt-0-name")
    sel.focus()
    sel.select_option("adam")
    wait_runs_done(page)
    assert focused_id(page) == "opt-0-name"
    sched = page.locator("#opt-1-schedule")
    sched.focus()
    sched.select_option("step")
    wait_runs_done(page)
    assert focused_id(page) == "opt-1-schedule"
    page.locator("#opt-0-remove").click()
    wait_runs_done(page)
    assert focused_id(page) in ("opt-0-remove", "opt-0-name")
    page.select_option("#lesson-select", "momentum")
    wait_runs_done(page)
    page.locator("#lesson-close").click()
    assert focused_id(page) == "lesson-select"


def test_no_toolbar_button_sends_data_off_the_machine(page, base_url):
    open_page(page, base_url + "/")
    # (the 3D view draws once its code has loaded, after the first runs)
    page.wait_for_function("() => (document.getElementById('surface-plot').data || []).length > 0", timeout=20_000)
    for plot in ("contour-plot", "loss-plot", "surface-plot"):
        cfg = page.evaluate(f"document.getElementById('{plot}')._context")
        assert all(cfg.get(k) in (False, None) for k in ("showSendToCloud", "showEditInChartStudio", "showLink"))
        buttons = page.locator(f"#{plot} .modebar-btn").evaluate_all("bs => bs.map(b => b.getAttribute('data-title'))")
        assert not any(re.search(r"share|cloud|chart studio|edit", (b or "").lower()) for b in buttons), buttons
    # the contour has no zoom or pan mode to fight click-to-set-start; hover boxes are opaque
    contour_buttons = page.locator("#contour-plot .modebar-btn").evaluate_all("bs => bs.map(b => b.getAttribute('data-title'))")
    assert not any(re.search(r"zoom|pan", (b or "").lower()) for b in contour_buttons), contour_buttons
    assert page.evaluate("document.getElementById('contour-plot').layout.hoverlabel.bgcolor") == "#ffffff"
    # eight optimizers: the legend never shrinks the contour
    width = page.evaluate("document.getElementById('contour-plot')._fullLayout._size.w")
    for _ in range(6):
        page.locator("#add-optimizer").click()
        wait_runs_done(page)
    assert page.evaluate("document.getElementById('contour-plot')._fullLayout._size.w") == pytest.approx(width, abs=2)
    colors = page.evaluate("window.lossLab.store.runs.map((_, i) => getComputedStyle("
                           "document.querySelectorAll('#optimizer-list .opt-card')[i]).getPropertyValue('--opt-color'))")
    assert len(set(colors)) == 8


def test_phone_layout_keeps_the_contour_next_to_the_controls(browser, base_url):
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    try:
        open_page(page, base_url + "/")
        slider = page.locator("#opt-0-lr")
        slider.scroll_into_view_if_needed()
        box = page.locator("#contour-plot").bounding_box()
        s = slider.bounding_box()
        assert box["y"] >= -1 and box["y"] + box["height"] <= 844, "the contour is on screen"
        assert 0 <= s["y"] <= 844 - s["height"], "and so is the slider"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        ctx.close()


def _restart_scenario(browser):
    port = int(os.environ.get("_EXPLORER_PORT", "0"))
    server = Server(port=port).start()
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    errors = []
    try:
        open_page(page, server.url + "/")
        page.evaluate("window.lossLab.grid.stale = true")
        server.kill()
        page.wait_for_function("() => document.getElementById('connection').textContent !== ''", timeout=10_000)
        server.start()
        page.wait_for_function("() => window.lossLab.grid && !window.lossLab.grid.stale", timeout=30_000)
        wait_runs_done(page)
        assert page.locator("#connection").inner_text() == ""
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    finally:
        ctx.close()
        server.stop()
    assert errors == []


def test_a_server_restart_refetches_the_contour():
    pytest.importorskip("playwright.sync_api")
    in_own_playwright(_restart_scenario)


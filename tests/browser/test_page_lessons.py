"""Every lesson step as the page shows it: opened from its link at 1440 × 900 (and 1280 × 800), the step's
text, controls, contour and panels on the first screen, and its claims read from the DOM, not the engine.

The numbers themselves are checked against theory in tests/engine/test_lesson_steps.py; here the page
must show what the engine computed for the scene on screen, where the eye is, and the claim must be
visible in the figures' data (which run converged first and at which step, the marks, the curves).
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from conftest import open_page, open_step, trajectories, wait_runs_done, watched_page
from lecture_checks import CHECKS as LECTURE_CHECKS
from engine.lessons import LESSONS

STEPS = [(lesson.id, n) for lesson in LESSONS for n in range(1, len(lesson.steps) + 1)]
IDS = [f"{lid}#{n}" for lid, n in STEPS]


@pytest.fixture
def big_page(browser, request):
    """A page at 1440 × 900 (or the size a test asks for with @pytest.mark.viewport)."""
    marker = request.node.get_closest_marker("viewport")
    w, h = marker.args if marker else (1440, 900)
    with watched_page(browser, w, h) as pg:
        yield pg


def evaluation(base_url, lesson_id, n, scene) -> dict:
    """What the server says about this scene: the page must show exactly this."""
    body = {"surface": {"name": scene["surface"], "params": scene["surfaceParams"]},
            "optimizers": scene["optimizers"], "start": scene["start"], "steps": scene["steps"], "seed": scene["seed"],
            "tol": scene["tol"]}
    req = urllib.request.Request(f"{base_url}/api/lessons/{lesson_id}/steps/{n}", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def page_scene(page) -> dict:
    return page.evaluate("() => window.lossLab.scene")


def plot_data(page, view) -> list[dict]:
    """The traces a lesson panel draws, as Plotly holds them."""
    return page.evaluate("""(v) => (document.querySelector(`.view-card[data-view="${v}"] .plot`).data || [])
        .map(t => ({name: t.name, type: t.type || 'scatter', x: t.x && Array.from(t.x), y: t.y && Array.from(t.y),
                    z: t.z && Array.from(t.z, r => Array.from(r))}))""", view)


def boxes_outside(page, width, height) -> list[str]:
    """Every element the lesson needs whose box is not wholly inside the first screen."""
    return page.evaluate("""([w, h]) => {
        const need = ['#lesson-title', '.step-nav', '.step-title', '.step-text p', '.step-controls .field',
                      '.prediction', '.claims li', '.convention', '#contour-plot .main-svg', '.view-card',
                      '.lesson-runs-table tr', '.player'];
        const out = [];
        for (const sel of need) for (const el of document.querySelectorAll(sel)) {
            const r = el.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue;
            if (r.left < -1 || r.top < -1 || r.right > w + 1 || r.bottom > h + 1) out.push(`${sel} ${JSON.stringify([r.left, r.top, r.right, r.bottom].map(Math.round))}`);
        }
        // Nothing scrolls: not the page, not the lesson text, not a panel's table.
        const doc = document.documentElement;
        if (doc.scrollHeight > h + 1 || doc.scrollWidth > w + 1) out.push(`page scrolls: ${doc.scrollWidth}x${doc.scrollHeight}`);
        for (const sel of ['#lesson-panel', '.view-card .table-view', '.lesson-runs']) for (const el of document.querySelectorAll(sel))
            if (el.scrollHeight > el.clientHeight + 2) out.push(`${sel} scrolls: ${el.scrollHeight} > ${el.clientHeight}`);
        // Views the lesson does not need are hidden.
        for (const sel of ['#surface-plot', '#loss-plot', '.controls', '#theory']) {
            const el = document.querySelector(sel);
            if (el && el.getBoundingClientRect().height > 0) out.push(`${sel} is shown`);
        }
        return out;
    }""", [width, height])


# --- per-step claims, read off the page -----------------------------------------------------------------

def notes(page) -> list[str]:
    return page.locator(".lesson-runs-table td.note").all_inner_texts()


def value(page, name) -> str:
    return page.inner_text(f'.num[data-value="{name}"]')


def check_step_size_1(page):
    w = {t["name"]: t["y"] for t in plot_data(page, "iterates")}
    assert w["GD η = 0.5"][1] == 0 and all(v == 0 for v in w["GD η = 0.5"][1:])  # one step
    creep = w["GD η = 0.2"]
    assert all(a > b > 0 for a, b in zip(creep, creep[1:]))  # creeps, never crossing
    assert page.locator(".step-controls .mark").all_inner_texts() == ["1/λmax = 0.5", "2/λmax = 1"]
    assert notes(page)[1].startswith("lands in one step; within 10⁻⁶ of the minimum from step 1")
    assert value(page, "eta_opt") == "0.5"


def check_step_size_2(page):
    n = notes(page)
    assert n[0].endswith("from step 29") and n[1].endswith("from step 29")
    w = {t["name"]: t["y"] for t in plot_data(page, "iterates")}
    over = w["GD η = 0.8"]
    assert all((a > 0) != (b > 0) for a, b in zip(over, over[1:]))


def check_step_size_3(page):
    w = {t["name"]: t["y"] for t in plot_data(page, "iterates")}
    assert all(abs(v) == 2 for v in w["GD η = 1"])  # ±w₀ forever
    grow = [abs(v) for v in w["GD η = 1.2"]]
    assert all(b > a for a, b in zip(grow, grow[1:]))


def check_step_size_4(page):
    traces = plot_data(page, "iterates")
    assert len(traces) == 4 and len({json.dumps(t["y"]) for t in traces}) == 4
    assert [t["name"] for t in trajectories(page)] == ["1. GD η = 0.2", "2. GD η = 0.5", "3. GD η = 0.8", "4. GD η = 1.2"]


def check_a_matrix_1(page):
    steep = next(t for t in plot_data(page, "eigen_errors") if "steep" in t["name"])
    assert steep["y"][1] is None or steep["y"][1] < 1e-12


def check_a_matrix_2(page):
    assert notes(page)[0].startswith("diverged at step")


def check_a_matrix_3(page):
    assert value(page, "rate1") == value(page, "gd_rate") == "0.905"
    assert "from step 146" in notes(page)[1] and notes(page)[0].startswith("not within")


def check_newton_1(page):
    n = notes(page)
    assert n[1].endswith("from step 1") and n[2].endswith("from step 1") and not n[0].endswith("from step 1")
    assert page.get_attribute('.view-card[data-view="taylor"] .plot', "data-kind") == "minimum"


def check_newton_2(page):
    assert int(value(page, "reach1")) < int(value(page, "reach0"))
    assert page.get_attribute('.view-card[data-view="taylor"] .plot', "data-kind") == "minimum"


def check_newton_3(page):
    assert page.get_attribute('.view-card[data-view="taylor"] .plot', "data-kind") == "saddle"
    assert not any(n.startswith("diverged") for n in notes(page))


def check_momentum_1(page):
    names = [t["name"] for t in plot_data(page, "rate_map")]
    assert names[:2] == ["diverges", "converges"] and "(η*, β*)" in names and "this run" in names
    assert float(value(page, "measured1")) < float(value(page, "measured0"))


def check_momentum_2(page):
    assert float(value(page, "rate1")) > float(value(page, "gd_rate"))


def check_momentum_3(page):
    assert page.locator('.step-control[data-param="lr"] .mark').all_inner_texts() == ["2(1+β)/λmax = 0.15"]


def check_saddle_1(page):
    [g] = [t["y"] for t in plot_data(page, "grad_norm")]
    assert min(v for v in g if v) < 1e-2 * g[0]
    assert "saddle" in page.inner_text('.view-card[data-view="hessian"]')


def check_saddle_2(page):
    n = notes(page)
    assert n[3] == "stays at the saddle" and all(x.startswith("escapes") for x in n[:3])


def check_ce_vs_l2_1(page):
    names = [t["name"] for t in plot_data(page, "compare_losses")]
    assert names == ["CE: 95 % at step 18", "L2: 95 % at step 371"]


def check_ce_vs_l2_2(page):
    assert len(plot_data(page, "loss_curves")) == 8
    assert len(plot_data(page, "compare_losses")) == 2


def check_ce_vs_l2_3(page):
    rows = page.locator(".tuned-table tbody tr").all()
    best = {r.get_attribute("data-loss"): float(r.locator("td.num").first.inner_text()) for r in rows}
    assert best["L2"] > 10 > best["CE"]


def check_label_smoothing(page):
    traces = {t["name"]: t["y"] for t in plot_data(page, "weight_norm")}
    assert set(traces) == {"ε = 0", "ε = 0.1", "2 ln k − 5.47"}
    assert abs(traces["ε = 0"][-1] - 10.5) < 0.1 and traces["ε = 0.1"][-1] < 2


def check_sgd_1(page):
    assert [t["name"] for t in trajectories(page)][1:] == ["2. SGD b = 1, seed 0", "3. SGD b = 1, seed 1", "4. SGD b = 1, seed 2"]


def check_sgd_2(page):
    names = [t["name"] for t in trajectories(page)]
    assert len(set(names)) == 6 and "6. SGD seed 2, η/k" in names


def check_sgd_3(page):
    traces = {t["name"]: t for t in plot_data(page, "variance")}
    assert max(traces["measured"]["x"]) < 8 and all(v > 1e-6 for v in traces["measured"]["y"])


def check_backprop_1(page):
    kinds = page.locator(".bp-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["near the boundary", "far from it", "a noisy label"]


def check_backprop_2(page):
    assert value(page, "left") == value(page, "right") == value(page, "engine")


CHECKS = {
    ("step-size", 1): check_step_size_1, ("step-size", 2): check_step_size_2, ("step-size", 3): check_step_size_3,
    ("step-size", 4): check_step_size_4, ("a-matrix", 1): check_a_matrix_1, ("a-matrix", 2): check_a_matrix_2,
    ("a-matrix", 3): check_a_matrix_3, ("newton", 1): check_newton_1, ("newton", 2): check_newton_2,
    ("newton", 3): check_newton_3, ("momentum", 1): check_momentum_1, ("momentum", 2): check_momentum_2,
    ("momentum", 3): check_momentum_3, ("saddle", 1): check_saddle_1, ("saddle", 2): check_saddle_2,
    ("ce-vs-l2", 1): check_ce_vs_l2_1, ("ce-vs-l2", 2): check_ce_vs_l2_2, ("ce-vs-l2", 3): check_ce_vs_l2_3,
    ("label-smoothing", 1): check_label_smoothing, ("label-smoothing", 2): check_label_smoothing,
    ("sgd", 1): check_sgd_1, ("sgd", 2): check_sgd_2, ("sgd", 3): check_sgd_3,
    ("backprop", 1): check_backprop_1, ("backprop", 2): check_backprop_2,
}
CHECKS.update(LECTURE_CHECKS)  # lessons 10–13 (tests/browser/lecture_checks.py)


def test_every_step_has_a_check():
    assert set(CHECKS) == set(STEPS)


@pytest.mark.parametrize("lesson_id,n", STEPS, ids=IDS)
def test_each_step_shows_its_claim_on_one_screen(big_page, base_url, lesson_id, n):
    page = big_page
    open_step(page, base_url, lesson_id, n)
    assert boxes_outside(page, 1440, 900) == []
    # What the page shows is what the engine computed for the scene on screen.
    ev = evaluation(base_url, lesson_id, n, page_scene(page))
    for k, v in ev["values"].items():
        for el in page.locator(f'.num[data-value="{k}"]').all():
            assert el.inner_text() == v, k
    assert "…" not in page.inner_text(".step-text")
    claims = page.locator(".claims li").all()
    assert [c.inner_text()[2:] for c in claims] == [c["text"] for c in ev["claims"]]
    assert all(c.get_attribute("data-holds") == "true" for c in claims)
    assert notes(page) == [r["note"] for r in ev["runs"]]
    # Runs are labelled by what differs, on the contour and in the table alike.
    labels = [f"{i + 1}. {r['label']}" for i, r in enumerate(ev["runs"])]
    assert [t["name"] for t in trajectories(page)] == labels and len(set(labels)) == len(labels)
    CHECKS[(lesson_id, n)](page)
    assert f"lesson={lesson_id}" in page.url and f"step={n}" in page.url


@pytest.mark.viewport(1280, 800)
@pytest.mark.parametrize("lesson_id,n", STEPS, ids=IDS)
def test_each_step_fits_1280_by_800(big_page, base_url, lesson_id, n):
    open_step(big_page, base_url, lesson_id, n)
    assert boxes_outside(big_page, 1280, 800) == []


@pytest.mark.viewport(390, 844)
@pytest.mark.parametrize("lesson_id", [lesson.id for lesson in LESSONS])
def test_on_a_phone_the_text_and_its_controls_sit_right_above_the_plot(big_page, base_url, lesson_id):
    page = big_page
    open_step(page, base_url, lesson_id, 1)
    tops = page.evaluate("""() => Object.fromEntries(['.step-text', '.step-controls', '.player', '#contour-plot', '.claims']
        .map(s => { const r = document.querySelector(s).getBoundingClientRect(); return [s, [r.top, r.bottom, r.width]]; }))""")
    assert tops[".step-text"][1] <= tops[".step-controls"][0] + 1
    assert tops[".step-controls"][1] <= tops[".player"][0] + 1 <= tops["#contour-plot"][0] + 1
    assert tops[".player"][0] - tops[".step-controls"][1] < 40  # right above: nothing in between
    assert tops[".claims"][0] >= tops["#contour-plot"][1]  # the rest follows the plot
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("lesson_id,n", [(lid, n) for lid, n in STEPS if next(
    lesson for lesson in LESSONS if lesson.id == lid).step(n).prediction], ids=lambda v: str(v))
def test_a_prediction_is_revealed_by_running(big_page, base_url, lesson_id, n):
    page = big_page
    open_step(page, base_url, lesson_id, n)
    answer = evaluation(base_url, lesson_id, n, page_scene(page))["answer"]
    page.locator("#speed-input").fill("100")  # 1000 steps a second
    wrong = (answer + 1) % page.locator(".prediction .choice").count()
    page.locator(f'.prediction .choice[data-choice="{wrong}"] input').check()
    page.wait_for_selector('.prediction[data-revealed="true"]', timeout=30_000)
    assert page.get_attribute(f'.prediction .choice[data-choice="{answer}"]', "data-state") == "right"
    assert page.get_attribute(f'.prediction .choice[data-choice="{wrong}"]', "data-state") == "wrong"
    assert page.inner_text(".prediction .verdict").startswith("Not quite")


def test_next_back_and_step_links(big_page, base_url):
    page = big_page
    open_step(page, base_url, "a-matrix", 1)
    page.click(".step-next")
    page.wait_for_selector('#lesson-panel[data-evaluated="a-matrix#2"]')
    wait_runs_done(page)
    assert page.url.endswith("lesson=a-matrix&step=2")
    assert page.inner_text(".step-title") == "One step size for both directions"
    page.click(".step-back")
    page.wait_for_selector('#lesson-panel[data-evaluated="a-matrix#1"]')
    assert "step=1" in page.url
    # A copied link reproduces the step, with the learner's own scene.
    link = page.url
    page.goto("about:blank")
    open_page(page, link)
    page.wait_for_selector('#lesson-panel[data-evaluated="a-matrix#1"]')
    assert page.inner_text(".step-title") == "Each direction on its own"
    # Closing the lesson gives the free-play page back.
    page.click("#lesson-close")
    assert page.locator("#lesson-panel").is_hidden() and page.locator(".controls").is_visible()
    assert "lesson=" not in page.url


def test_changing_a_setting_updates_the_numbers_and_flags_a_claim_that_no_longer_holds(big_page, base_url):
    page = big_page
    open_step(page, base_url, "step-size", 1)
    slider = page.locator('.step-control[data-run="0"] input[type=range]')
    slider.evaluate("(el) => { el.value = 800; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    page.wait_for_function("() => document.querySelector('.num[data-value=eta0]').textContent !== '0.2'")
    wait_runs_done(page)
    page.wait_for_selector('.claim[data-holds="false"]')
    eta = value(page, "eta0")
    assert float(eta) > 1
    bad = page.locator('.claim[data-holds="false"]').first.inner_text()
    assert bad.startswith(f"✗ η = {eta}") and "(not with these settings)" in bad
    page.wait_for_function("(e) => window.lossLab && document.getElementById('contour-plot').data.some(t => t.name === `1. GD η = ${e}`)", arg=eta)


def test_rate_map_click_sets_both_sliders_and_moves_the_edge_mark(big_page, base_url):
    page = big_page
    open_step(page, base_url, "momentum", 3)
    before = page.locator('.step-control[data-param="lr"] .mark').all_inner_texts()
    target = page.evaluate("""() => {
        const el = document.querySelector('.view-card[data-view=rate_map] .plot'), r = el.getBoundingClientRect();
        const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
        return {x: r.left + xa._offset + xa.d2p(0.02), y: r.top + ya._offset + ya.d2p(0.8)};
    }""")
    page.mouse.click(target["x"], target["y"])
    page.wait_for_function("() => Math.abs(window.lossLab.scene.optimizers[1].params.momentum - 0.8) < 0.03")
    wait_runs_done(page)
    mom = page.evaluate("() => window.lossLab.scene.optimizers[1].params")
    assert abs(mom["lr"] - 0.02) / 0.02 < 0.1
    page.wait_for_function("(b) => JSON.stringify([...document.querySelectorAll('.step-control[data-param=lr] .mark')]"
                           ".map(m => m.textContent)) !== JSON.stringify(b)", arg=before)
    edge = page.locator('.step-control[data-param="lr"] .mark').all_inner_texts()
    expected = float(f"{2 * (1 + mom['momentum']) / 20:.3g}")
    assert edge == [f"2(1+β)/λmax = {expected:g}"]

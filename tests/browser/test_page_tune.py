"""The Tune button: the opening race re-runs with the tuned settings, the panel shows the protocol and each
optimizer's curve, a map click sets the sliders, and Undo puts the settings back."""

import json
import urllib.request

from conftest import open_page, trajectories, wait_runs_done


def _api_tune(base_url, body):
    req = urllib.request.Request(base_url + "/api/tune", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


OPENING = {
    "surface": {"name": "quadratic", "params": {"lambda_1": 1, "lambda_2": 20, "rotation": 30}},
    "optimizers": [{"name": "gd", "params": {"lr": 0.09, "schedule": "constant", "decay_every": 100}},
                   {"name": "momentum", "params": {"lr": 0.04, "momentum": 0.7, "schedule": "constant", "decay_every": 100}}],
    "start": [-2, -0.5], "steps": 100, "seed": 0, "ring": 0,
}


def _params(page):
    return page.evaluate("() => window.lossLab.scene.optimizers.map(o => o.params)")


def _run_params(page):
    return page.evaluate("() => window.lossLab.store.runs.map(r => r.params)")


def test_tune_reruns_the_race_shows_the_curves_and_undo_restores(page, base_url):
    open_page(page, base_url + "/")
    before_runs = trajectories(page)
    expected = _api_tune(base_url, OPENING)
    gd, hb = expected["optimizers"]
    assert (gd["lr"], hb["lr"], hb["beta"]) == (0.075, 0.133, 0.438)

    page.get_by_role("button", name="Tune the race").click()
    page.wait_for_selector("#tune-panel:not([hidden])")
    page.wait_for_function("() => window.lossLab.scene.optimizers[1].params.momentum === 0.438")
    wait_runs_done(page)
    # the race re-ran with the tuned settings: scene, runs, sliders and link agree
    assert [p["lr"] for p in _params(page)] == [0.075, 0.133]
    assert [p["lr"] for p in _run_params(page)] == [0.075, 0.133] and _run_params(page)[1]["momentum"] == 0.438
    assert trajectories(page)[1]["x"] != before_runs[1]["x"]
    assert "o=gd:lr=0.075," in page.url and "momentum:lr=0.133,momentum=0.438," in page.url
    outputs = page.locator("#optimizer-list output").all_inner_texts()
    assert outputs[0] == "η = 0.075" and "β = 0.438" in outputs
    # the protocol, the table and the theory beside the tuned values
    protocol = page.inner_text("#tune-protocol")
    assert "41 values log-spaced" in protocol and "Budget: 100 steps per run from (-2, -0.5)" in protocol
    assert "fewest steps to the goal" in protocol
    rows = [r.split("\t") for r in page.inner_text("#tune-table tbody").splitlines() if "\t" in r]
    assert rows[1][:4] == ["2. Momentum (heavy ball)", "η 0.04, β 0.7", "η 0.133, β 0.438", str(hb["steps_to_tol"])]
    forgiveness = float(f"{hb['forgiveness']:.3g}")
    assert rows[1][4].startswith(f"×{forgiveness:g}")
    theory = page.inner_text("#tune-theory")
    assert "GD: 2/(λmin + λmax)\t0.0952\ttuned GD: η 0.075" in theory
    assert "heavy ball η*, β*\t0.134, 0.403\ttuned momentum: η 0.133, β 0.438" in theory
    # a sensitivity curve per optimizer: the criterion over the η grid, the tuned point starred
    curves = page.evaluate("""() => [...document.querySelectorAll('.tune-curve')].map(el => ({
        x: el.data[0].x, y: el.data[0].y, star: el.data.find(t => t.name === 'chosen'),
        shapes: el.layout.shapes.map(s => s.type)}))""")
    assert len(curves) == 2
    for c, t in zip(curves, expected["optimizers"]):
        assert c["x"] == expected["protocol"]["lrs"]
        assert c["star"]["x"] == [t["lr"]]
        assert "line" in c["shapes"]  # the divergence edge
    assert curves[1]["star"]["y"] == [hb["steps_to_tol"]] and "rect" in curves[1]["shapes"]  # the 2× band
    # runs stopped once they could not be within 2× of the best: said in the protocol, drawn on that line
    assert hb["stopped_at"] == 2 * hb["steps_to_tol"] < OPENING["steps"]
    assert f"momentum at step {hb['stopped_at']}" in protocol and "can no longer come within 2× of the best" in protocol
    missed = page.evaluate("() => document.querySelector('#tune-curve-1').data.find(t => t.name === 'not reached')")
    within = expected["protocol"]["within"]
    assert set(missed["y"]) == {hb["stopped_at"]} and f"more than {hb['stopped_at']} steps" in missed["hovertemplate"]
    assert f"slower than {within:g}× the best" in missed["hovertemplate"]
    assert f"Forgiving ({within:g}× range of η)" in page.inner_text("#tune-table thead")  # the protocol's factor
    # the measured (η, β) map beside the analytic one, the tuned point marked
    maps = page.evaluate("() => [...document.querySelectorAll('#tune-plots .tune-map')].map(el => el.id)")
    assert maps == ["tune-map-1", "tune-rate-1"]

    # Undo: the previous settings, re-run
    page.get_by_role("button", name="Undo").click()
    page.wait_for_function("() => window.lossLab.scene.optimizers[0].params.lr === 0.09")
    wait_runs_done(page)
    assert _params(page)[1]["lr"] == 0.04 and _params(page)[1]["momentum"] == 0.7
    assert [p["lr"] for p in _run_params(page)] == [0.09, 0.04]
    assert trajectories(page)[1]["x"] == before_runs[1]["x"]
    assert "o=gd:lr=0.09," in page.url
    assert page.get_by_role("button", name="Undo").is_disabled()
    assert "Undone" in page.inner_text("#tune-note")


def test_clicking_the_measured_map_sets_eta_and_beta(page, base_url):
    open_page(page, base_url + "/")
    page.get_by_role("button", name="Tune the race").click()
    page.wait_for_selector("#tune-map-1 .nsewdrag")
    wait_runs_done(page)
    page.locator("#tune-map-1").scroll_into_view_if_needed()
    box = page.evaluate("""() => { const el = document.getElementById('tune-map-1'), r = el.getBoundingClientRect();
        const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
        return {x: r.left + xa._offset + xa.d2p(0.01), y: r.top + ya._offset + ya.d2p(0.9)}; }""")
    page.mouse.click(box["x"], box["y"])
    page.wait_for_function("() => window.lossLab.scene.optimizers[1].params.lr === 0.01")
    p = _params(page)[1]
    assert (p["lr"], p["momentum"]) == (0.01, 0.9)  # the grid cell clicked
    wait_runs_done(page)
    assert _run_params(page)[1]["lr"] == 0.01
    # the scene still tunes the same race: Undo still puts back the settings from before Tune
    page.get_by_role("button", name="Undo").click()
    page.wait_for_function("() => window.lossLab.scene.optimizers[1].params.lr === 0.04")


def test_a_changed_scene_marks_the_tuning_stale(page, base_url):
    open_page(page, base_url + "/")
    page.get_by_role("button", name="Tune the race").click()
    page.wait_for_selector("#tune-panel:not([hidden])")
    wait_runs_done(page)
    page.fill("#start-x", "1")
    page.dispatch_event("#start-x", "change")
    page.wait_for_selector("#tune-panel[data-stale=true]")
    assert "press Tune again" in page.inner_text("#tune-note")
    assert page.get_by_role("button", name="Undo").is_disabled()

"""Lessons 10–13 on the page, interactively, at 1440 × 900: a setting or a click changes the numbers the
step shows (computed by the server for the new scene), and a claim that no longer holds is flagged.
Every step's own claim on its own scene is checked by test_page_lessons.py with lecture_checks.py.
(Named apart from tests/engine/test_lecture_lessons.py: the test folders share one module namespace.)"""

from __future__ import annotations

import math

from lecture_checks import cells, number, value
from test_page_lessons import big_page  # noqa: F401  (a fixture)

from conftest import open_step, wait_runs_done


def set_slider(page, run, pos):
    page.locator(f'.step-control[data-run="{run}"] input[type=range]').evaluate(
        "(el, p) => { el.value = p; el.dispatchEvent(new Event('input', {bubbles: true})); }", pos)


def test_moving_epsilon_moves_the_target_and_the_minimum(big_page, base_url):
    page = big_page
    open_step(page, base_url, "softmax", 2)
    assert value(page, "t") == "(0.9, 0.05, 0.05)"
    set_slider(page, "surface", 1000)  # ε = 0.3, the slider's top
    page.wait_for_function("() => document.querySelector('.num[data-value=t]').textContent === '(0.4, 0.3, 0.3)'")
    wait_runs_done(page)
    assert number(value(page, "z1_star")) == round(math.log(0.4 / 0.3), 3)
    assert cells(page, "t") == ["0.4", "0.3", "0.3"]
    set_slider(page, "surface", 0)  # ε = 0: hard targets again
    page.wait_for_selector('.claim[data-holds="false"]')
    assert value(page, "z1_star") == "∞"
    bad = page.locator('.claim[data-holds="false"]').all_inner_texts()
    assert any(t.startswith("✗ GD reaches a finite minimum") for t in bad)
    assert page.locator('.sm-table tr[data-row="dy"] td[data-zero="true"]').count() == 2


def test_clicking_the_contour_moves_the_point_of_the_jacobian(big_page, base_url):
    page = big_page
    open_step(page, base_url, "softmax", 3)
    assert value(page, "point") == "(1, −0.5)"
    before = page.locator(".mat.softmax-jac").inner_text()
    xy = page.evaluate("""() => {
        const el = document.getElementById('contour-plot'), L = el._fullLayout, r = el.getBoundingClientRect();
        return [r.left + L.xaxis._offset + L.xaxis.l2p(5), r.top + L.yaxis._offset + L.yaxis.l2p(3)]; }""")
    page.mouse.click(*xy)
    page.wait_for_function("() => document.querySelector('.num[data-value=point]').textContent !== '(1, −0.5)'")
    wait_runs_done(page)
    page.wait_for_function("(b) => document.querySelector('.mat.softmax-jac').innerText !== b", arg=before)
    z1, z2 = (number(v) for v in value(page, "point").strip("()").split(", "))
    assert abs(z1 - 5) < 0.3 and abs(z2 - 3) < 0.3
    assert all(c.get_attribute("data-holds") == "true" for c in page.locator(".claims li").all())


def test_changing_the_seed_redraws_the_landscape_and_recounts(big_page, base_url):
    page = big_page
    open_step(page, base_url, "saddles", 1)
    assert (value(page, "n_min"), value(page, "n_sad")) == ("7", "13")
    box = page.locator('.step-control[data-run="surface"] input[type=number]')
    box.fill("3")
    box.dispatch_event("change")
    page.wait_for_function("() => document.querySelector('.num[data-value=n_sad]').textContent !== '13'", timeout=30_000)
    wait_runs_done(page)
    n_min = int(value(page, "n_min"))
    # the contour marks the new landscape's minima: as many as the text says
    page.wait_for_function("(n) => document.getElementById('contour-plot').data.some(t => t.name === 'minimum' && t.x.length === n)",
                           arg=n_min)


def test_moving_the_second_eta_above_the_threshold_flags_the_step(big_page, base_url):
    page = big_page
    open_step(page, base_url, "sgd-rate", 3)
    set_slider(page, 1, 1000)  # η far above 1/(2μ) = 1.25
    page.wait_for_selector('.claim[data-holds="false"]', timeout=60_000)
    bad = page.locator('.claim[data-holds="false"]').all_inner_texts()
    assert any("one η/k run on each side of 1/(2μ) = 1.25" in t for t in bad)

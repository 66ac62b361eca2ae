"""Every lesson opens from the list, shows its text and its plots, and logs no error."""

import json
import urllib.request

import pytest

from conftest import open_page, trajectories, wait_runs_done


def _lessons(base_url):
    with urllib.request.urlopen(base_url + "/api/lessons") as r:
        return json.load(r)["lessons"]


def test_each_lesson_opens_from_the_list(page, base_url):
    open_page(page, base_url + "/")
    lessons = _lessons(base_url)
    assert len(lessons) == 9
    for lesson in lessons:
        page.select_option("#lesson-select", lesson["id"])
        wait_runs_done(page)
        assert page.locator("#lesson-panel").is_visible()
        assert page.inner_text("#lesson-title") == f"{lesson['number']}. {lesson['title']}"
        assert lesson["text"][0][:40] in page.inner_text("#lesson-body")
        assert f"lesson={lesson['id']}" in page.url
        assert page.input_value("#surface-select") == lesson["scene"]["surface"]
        assert len(trajectories(page)) == len(lesson["scene"]["optimizers"])
        for view in lesson["scene"]["views"]:
            card = page.locator(f".view-card[data-view={view}]")
            if view in ("slider_marks", "taylor"):
                continue  # drawn on the existing slider and contour
            card.wait_for(state="visible", timeout=10_000)
            # Every card fills in: a Plotly plot or a table of numbers.
            page.wait_for_function(
                "(v) => { const el = document.querySelector(`.view-card[data-view=${v}] .plot`);"
                " return el && (el.querySelector('.main-svg') || el.querySelector('table') || el.querySelector('p')); }",
                arg=view, timeout=10_000)
    assert page.watch.errors == []


def test_lesson_link_opens_the_lesson(page, base_url):
    open_page(page, base_url + "/")
    page.select_option("#lesson-select", "step-size")
    wait_runs_done(page)
    link = page.url
    page.goto("about:blank")
    open_page(page, link)
    assert page.locator("#lesson-panel").is_visible()
    marks = page.locator("#optimizer-list .mark").all_inner_texts()
    # each mark is labelled with its value
    assert "η_opt = 1/a = 0.5" in marks and "2η_opt = 2/a = 1" in marks
    statuses = page.locator("#status-table tbody td.status").all_inner_texts()
    assert statuses[3].startswith("diverged")  # η > 2η_opt
    assert [s.startswith("still going") for s in statuses[:3]] == [True, True, True]


@pytest.mark.parametrize("lesson", ["momentum"])
def test_rate_map_click_sets_both_sliders(page, base_url, lesson):
    open_page(page, base_url + f"/#lesson={lesson}")
    page.select_option("#lesson-select", lesson)
    wait_runs_done(page)
    plot = page.locator(".view-card[data-view=rate_map] .plot")
    page.wait_for_function("() => document.querySelector('.view-card[data-view=rate_map] .plot')?._fullLayout?.xaxis")
    plot.scroll_into_view_if_needed()
    target = page.evaluate("""() => {
        const el = document.querySelector('.view-card[data-view=rate_map] .plot'), r = el.getBoundingClientRect();
        const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
        return {x: r.left + xa._offset + xa.d2p(0.02), y: r.top + ya._offset + ya.d2p(0.5)};
    }""")
    page.mouse.click(target["x"], target["y"])
    wait_runs_done(page)
    mom = page.evaluate("() => window.lossLab.scene.optimizers.find(o => o.name === 'momentum').params")
    assert abs(mom["lr"] - 0.02) / 0.02 < 0.1
    assert abs(mom["momentum"] - 0.5) < 0.03
    assert plot.is_visible()

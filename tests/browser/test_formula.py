"""Typing your own surface: live validation, the contour redraws and the runs follow."""

from conftest import open_page, trajectories, wait_runs_done


def contour_z(page):
    return page.evaluate("() => document.getElementById('contour-plot').data[0].z.flat().slice(0, 50)")


def test_typing_a_formula_redraws_the_contour_and_runs_on_it(page, base_url):
    open_page(page, base_url + "/")
    page.select_option("#surface-select", "custom")
    wait_runs_done(page)
    before = contour_z(page)
    box = page.get_by_label("f(x, y) =")
    box.fill("x**2 + 3*y**2 + foo(x)")
    status = page.locator("#formula-status")
    status.filter(has_text="column 17").wait_for(timeout=10_000)
    assert "not allowed" in status.inner_text() and "sin cos" in status.inner_text()
    assert box.get_attribute("aria-invalid") == "true"
    # The browser logs the checker's 422 as a failed load; that one is the expected answer.
    page.watch.errors[:] = [e for e in page.watch.errors if "422" not in e]
    box.fill("(x - 1)**2 + 3*(y + 0.5)**2")
    status.filter(has_text="∇f = (").wait_for(timeout=10_000)
    page.wait_for_function("(old) => { const z = document.getElementById('contour-plot').data[0].z.flat().slice(0, 50);"
                           " return JSON.stringify(z) !== JSON.stringify(old); }", arg=before, timeout=10_000)
    wait_runs_done(page)
    assert "f=(x%20-%201)**2%20%2B%203*(y%20%2B%200.5)**2" in page.url
    # The default momentum run converges to the typed bowl's minimum at (1, -0.5).
    run = trajectories(page)[1]
    assert abs(run["x"][-1] - 1) < 1e-3 and abs(run["y"][-1] + 0.5) < 1e-3
    # The link reproduces the typed surface.
    link = page.url
    page.goto("about:blank")
    open_page(page, link)
    assert page.input_value("#formula-input") == "(x - 1)**2 + 3*(y + 0.5)**2"
    assert abs(trajectories(page)[1]["x"][-1] - 1) < 1e-3

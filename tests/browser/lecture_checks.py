"""Lessons 10–13, step by step: each step's claim read off the page (its panels' tables and traces).

These checks join ``CHECKS`` in test_page_lessons.py, whose parametrized test opens every step from
``#lesson=ID&step=N`` at 1440 × 900, asserts that everything the step needs is on the first screen,
that the numbers and claims shown are the server's for the scene on screen, and then runs the
step's check below. Each reads what the page shows (the DOM and the traces Plotly draws), not the
engine.
"""

from __future__ import annotations

import math

import numpy as np


def plot_data(page, view) -> list[dict]:
    return page.evaluate("""(v) => (document.querySelector(`.view-card[data-view="${v}"] .plot`).data || [])
        .map(t => ({name: t.name, type: t.type || 'scatter', x: t.x && Array.from(t.x), y: t.y && Array.from(t.y)}))""", view)


def value(page, name) -> str:
    return page.inner_text(f'.num[data-value="{name}"]')


def number(text: str) -> float:
    """A number as the page prints it: "−1.06", "1.72·10⁻⁴", "1,905", "51.5 %"."""
    t = text.replace("−", "-").replace(",", "").replace("%", "").strip()
    if "·10" in t:
        m, e = t.split("·10")
        e = e.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789"))
        return float(m) * 10 ** int(e)
    return float(t)


def cells(page, row) -> list[str]:
    return page.locator(f'.sm-table tr[data-row="{row}"] td').all_inner_texts()


def slope(trace, k_min=100) -> float:
    k, y = np.asarray(trace["x"], float), np.asarray(trace["y"], float)
    m = k >= k_min
    return float(np.polyfit(np.log(k[m]), np.log(y[m]), 1)[0])


# --- 10. softmax -------------------------------------------------------------------------------------

def check_softmax_1(page):
    assert cells(page, "t") == ["1", "0", "0"]
    dy = page.locator('.sm-table tr[data-row="dy"] td')
    assert dy.nth(0).inner_text() != "0"
    assert [dy.nth(k).get_attribute("data-zero") for k in (1, 2)] == ["true", "true"]  # zero off-target, drawn so
    assert all(number(v) != 0 for v in cells(page, "dz"))  # ∂CE/∂z is not
    assert number(cells(page, "dz")[1]) == number(cells(page, "y")[1])  # ∂CE/∂z₂ = y₂ − 0
    assert number(value(page, "z1_end")) > number(value(page, "z1_half")) > 0


def check_softmax_2(page):
    assert cells(page, "t") == ["0.9", "0.05", "0.05"]
    assert all(number(v) < 0 for v in cells(page, "dy"))  # every output counts
    assert page.locator('.sm-table td[data-zero="true"]').count() == 0
    assert number(value(page, "z1_star")) == round(math.log(0.9 / 0.05), 2)
    assert value(page, "y_end") == "(0.9, 0.05, 0.05)" and 0 < int(value(page, "reach")) <= 300


def check_softmax_3(page):
    def mat(cls):
        return np.array([[number(c) for c in row.locator("td").all_inner_texts()]
                         for row in page.locator(f".mat.{cls} tr").all()])
    js, jd = mat("softmax-jac"), mat("scalar-jac")
    off = ~np.eye(3, dtype=bool)
    assert np.all(js[off] < 0) and np.all(np.diag(js) > 0)  # diag(y) − yyᵀ: full
    assert np.all(jd[off] == 0) and np.all(np.diag(jd) > 0)  # diag(σ'(z)): diagonal
    assert np.allclose(js.sum(axis=1), 0, atol=2e-3)  # rows sum to 0 (to the 3 digits shown)
    assert np.allclose(js, js.T)


# --- 11. activations and shapes ----------------------------------------------------------------------

def _curves(page):
    return {t["name"]: t for t in plot_data(page, "activation_curves")}


def check_activations_1(page):
    c = _curves(page)
    ds = c["σ' (max 0.25)"]
    dt = c["tanh' (max 1)"]
    i = int(np.argmax(ds["y"]))
    assert ds["x"][i] == 0 and ds["y"][i] == 0.25 and max(dt["y"]) == 1.0
    z, tanh = np.asarray(c["tanh"]["x"]), np.asarray(c["tanh"]["y"])
    zs, sig = np.asarray(c["σ"]["x"]), np.asarray(c["σ"]["y"])
    # tanh(z) = 2σ(2z) − 1, read off the two drawn curves where 2z is on the grid too
    pairs = [(tanh[i], 2 * sig[j[0]] - 1) for i, v in enumerate(z) if len(j := np.flatnonzero(np.abs(zs - 2 * v) < 1e-9))]
    assert len(pairs) > 40 and max(abs(a - b) for a, b in pairs) < 1e-12
    assert number(value(page, "sfar")) < 0.02


def check_activations_2(page):
    c = _curves(page)
    marker = next(t for t in c.values() if t["name"].startswith("ReLU'(0) ="))
    assert marker["x"] == [0] and marker["y"] == [number(value(page, "sub"))]
    assert number(value(page, "left")) <= marker["y"][0] <= number(value(page, "right"))
    d = c["ReLU' (max 1)"]
    assert {y for x, y in zip(d["x"], d["y"]) if x < 0} == {0} and {y for x, y in zip(d["x"], d["y"]) if x > 0} == {1}


def check_activations_3(page):
    rows = page.locator(".shape-table tbody tr").all()
    got = [(r.get_attribute("data-param"), r.locator(".shape").first.get_attribute("data-shape"),
            r.locator(".grad-shape").get_attribute("data-shape")) for r in rows]
    assert got == [("W1", "2x2", "2x2"), ("b1", "2", "2"), ("W2", "1x2", "1x2"), ("b2", "1", "1")]
    agree = next(t for t in page.locator(".claims li").all_inner_texts() if "central differences agree to" in t)
    assert number(agree.rsplit(" ", 1)[1]) < 1e-7
    fd = page.locator(".shape-table ~ p").last.inner_text()  # "… by backprop (a, b); by central differences … (a, b)."
    assert fd.count(page.locator('.shape-table tr[data-param="W2"] td.num').inner_text().strip("[]")) == 2


# --- 12. SGD's O(1/ε) ---------------------------------------------------------------------------------

def _sgd(page):
    return [t for t in plot_data(page, "sgd_curves") if t["name"] != "exact E[excess]"]


def check_sgd_rate_1(page):
    curves = _sgd(page)
    assert len(curves) == 2
    for j, t in enumerate(curves):
        k, y = np.asarray(t["x"]), np.asarray(t["y"])
        tail = float(np.mean(y[k >= k[-1] / 10]))
        assert abs(tail / number(value(page, f"measured{j}")) - 1) < 0.01  # the text quotes the plotted curve
        assert abs(tail / number(value(page, f"floor{j}")) - 1) < 0.15  # … and theory's floor
        assert abs(slope(t)) < 0.1  # flat
    assert number(value(page, "measured1")) < number(value(page, "measured0"))


def check_sgd_rate_2(page):
    inv, const = _sgd(page)
    s = slope(inv)
    assert abs(s + 1) <= 0.1 and abs(s - number(value(page, "slope"))) < 0.01
    assert inv["y"][-1] < number(value(page, "eps")) < min(const["y"][-20:])  # one gets below ε, the other never
    k_eps = number(value(page, "k_eps"))
    assert abs(k_eps / (number(value(page, "C")) / number(value(page, "eps"))) - 1) < 0.01  # C is shown to 3 digits


def check_sgd_rate_3(page):
    big, small = _sgd(page)
    assert abs(slope(big) + 1) <= 0.1
    assert abs(slope(small) - number(value(page, "theory_small"))) <= 0.1 and number(value(page, "theory_small")) == -0.4
    assert number(value(page, "lr_big")) > number(value(page, "threshold")) > number(value(page, "lr_small"))


# --- 13. saddles -----------------------------------------------------------------------------------------

def check_saddles_1(page):
    t = {tr["name"].split()[1]: tr for tr in plot_data(page, "critical_here")}
    assert [len(t[k]["y"]) for k in ("minima", "saddles", "maxima")] == [
        int(value(page, "n_min")), int(value(page, "n_sad")), int(value(page, "n_max"))]
    means = [float(np.mean(t[k]["y"])) for k in ("minima", "saddles", "maxima")]
    assert means[0] < means[1] < means[2]
    assert abs(means[0] - number(value(page, "f_min"))) < 0.01 * max(1, abs(means[0]))
    assert len(t["saddles"]["y"]) > len(t["minima"]["y"])


def check_saddles_2(page):
    bars = {t["name"]: t for t in plot_data(page, "saddle_share")}
    share = bars["saddles"]["y"]
    assert bars["saddles"]["x"][0] == "d = 1" and share[0] == 0
    assert all(a < b for a, b in zip(share, share[1:])) and share[-1] > 0.95
    assert abs(100 * share[-1] - number(value(page, "share_last"))) < 0.1
    assert bars["minima"]["y"][-1] < bars["minima"]["y"][0]


def check_saddles_3(page):
    for t in plot_data(page, "index_height"):
        x, y = np.asarray(t["x"]), np.asarray(t["y"])
        assert np.corrcoef(x, y)[0, 1] > 0.3, t["name"]
        if np.any(x == 0) and np.any((x > 0) & (x < 1)):
            assert y[x == 0].mean() < y[(x > 0) & (x < 1)].mean(), t["name"]  # minima below saddles


CHECKS = {
    ("softmax", 1): check_softmax_1, ("softmax", 2): check_softmax_2, ("softmax", 3): check_softmax_3,
    ("activations", 1): check_activations_1, ("activations", 2): check_activations_2,
    ("activations", 3): check_activations_3,
    ("sgd-rate", 1): check_sgd_rate_1, ("sgd-rate", 2): check_sgd_rate_2, ("sgd-rate", 3): check_sgd_rate_3,
    ("saddles", 1): check_saddles_1, ("saddles", 2): check_saddles_2, ("saddles", 3): check_saddles_3,
}

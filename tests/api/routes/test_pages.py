"""GET / and the page's Plotly.js (GET /vendor/plotly/{name}): all from this server, fetched at once."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VENDOR = ROOT / "static" / "vendor" / "plotly"


def _preloads(client) -> list[str]:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    return re.findall(r'<link rel="modulepreload" href="([^"]+)">', r.text)


def test_the_page_names_every_module_it_imports_up_front(client):
    urls = _preloads(client)
    # Every module main.js reaches through its imports, at any depth, and the 2D part of Plotly.js ...
    for deep in ["/static/js/charts/decimate.js", "/static/js/render.js", "/static/js/lessons/lecture_panels.js",
                 "/vendor/plotly/plotly-2d.js"]:
        assert deep in urls, deep
    core = [u for u in urls if u.startswith("/vendor/plotly/plotly-core-")]
    assert len(core) == 1
    # ... but not the 3D view's code (loaded after the first runs are drawn), nor a module nothing imports.
    assert "/vendor/plotly/plotly-3d.js" not in urls
    assert "/static/js/docs-init.js" not in urls
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_plotly_modules_are_the_vendored_build_sent_compressed(client):
    names = sorted(p.name for p in VENDOR.glob("*.js"))
    assert "plotly-2d.js" in names and "plotly-3d.js" in names
    for name in names:
        r = client.get(f"/vendor/plotly/{name}", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/javascript")
        assert r.headers["content-encoding"] == "gzip"
        assert r.content == (VENDOR / name).read_bytes()  # httpx decoded the gzip body
        assert int(r.headers["content-length"]) < 0.45 * len(r.content)
    # The entries import the shared chunk by its (content-hashed) name, which is cached for good.
    core = next(n for n in names if n.startswith("plotly-core-"))
    assert f"./{core}" in (VENDOR / "plotly-2d.js").read_text()
    assert "immutable" in client.get(f"/vendor/plotly/{core}").headers["cache-control"]


def test_plotly_entries_are_revalidated_by_etag(client):
    r = client.get("/vendor/plotly/plotly-2d.js")
    assert r.headers["cache-control"] == "no-cache"
    again = client.get("/vendor/plotly/plotly-2d.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/vendor/plotly/plotly-2d.js", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.content == r.content


def test_an_unknown_plotly_module_is_a_404_naming_it(client):
    for name in ["plotly.min.js", "VERSION", "plotly-2d.js.map"]:
        r = client.get(f"/vendor/plotly/{name}")
        assert r.status_code == 404
        assert f"No Plotly.js module '{name}'" in r.json()["message"]
    assert client.get("/vendor/plotly/..%2F..%2Fjs%2Fstate.js").status_code == 404


def test_the_2d_build_has_the_page_s_trace_types_and_not_the_rest():
    text = (VENDOR / "plotly-2d.js").read_text() + next(VENDOR.glob("plotly-core-*.js")).read_text()
    for kind in ['"contour"', '"heatmap"', '"bar"', '"scatter"']:
        assert kind in text, kind
    # No map, geo or WebGL 2D traces: the whole Plotly.js was 4.8 MB.
    assert "maplibre" not in text.lower()
    assert sum(p.stat().st_size for p in VENDOR.glob("*.js") if p.name != "plotly-3d.js") < 1.5e6
    assert '"surface"' in (VENDOR / "plotly-3d.js").read_text()

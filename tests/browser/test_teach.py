"""Teaching with the page: embed links, the Embed snippet in another origin's page, Record, present mode."""

import base64
import functools
import http.server
import re
import threading
import time
from pathlib import Path

import pytest
from testkit import CHROMIUM_ARGS, Server, free_port  # noqa: F401
from testkit.frames import check_start_and_end, decode

import losslab as ll
from conftest import open_page, trajectories, wait_runs_done
from losslab import render

# 40 steps: the runs' ends are apart from each other, from the start and from the minimum's mark.
SCENE = ("#s=quadratic:lambda_1=1,lambda_2=20,rotation=30&o=gd:lr=0.02|momentum:lr=0.01,momentum=0.7"
         "&start=-2,-0.5&steps=40&seed=0")
# Long enough to see the embedded figure play on a busy machine (10 s at 30 steps a second).
LONG_SCENE = SCENE.replace("steps=40", "steps=300")
PART_SELECTORS = {"header": ".topbar", "controls": "aside.controls", "player": ".player", "contour": "#contour-plot",
                  "loss": "#loss-plot", "3d": "#surface-plot", "runs": ".status-card"}


def visible_parts(page_or_frame) -> set[str]:
    return {name for name, sel in PART_SELECTORS.items() if page_or_frame.locator(sel).is_visible()}


def drawn_lengths(page_or_frame) -> list[int]:
    return page_or_frame.evaluate("""() => (document.getElementById('contour-plot').data || [])
        .filter(t => /^\\d+\\. /.test(t.name || '')).map(t => t.x.length)""")


def watch_drawing(page):
    """From now on, window.__drawn lists the iteration the page shows ("iteration k of N") at every drawing."""
    page.add_init_script("""window.__drawn = []; window.addEventListener('losslab:rendered', () => {
        const m = /iteration (\\d+) of/.exec(document.getElementById('iteration').textContent || '');
        if (m) window.__drawn.push(Number(m[1])); });""")


def wait_ready(page_or_frame, timeout=20_000):
    page_or_frame.wait_for_selector("body[data-ready=true]", timeout=timeout)


def open_lesson_page(page, url):
    """A lesson step's page, its runs finished (lesson mode names the paths by the step, not '1. …')."""
    page.goto(url)
    wait_ready(page)
    page.wait_for_function("() => { const a = window.lossLab; return a.store && !a.running && a.grid &&"
                           " (document.getElementById('contour-plot').data || []).length > 2; }", timeout=30_000)


def path_width(page) -> float:
    return page.evaluate("() => document.getElementById('contour-plot').data.filter((t) => t.mode && "
                         "t.mode.startsWith('lines') && t.name && t.name !== 'loss')[0].line.width")


def test_embed_link_shows_only_the_chosen_parts_filling_the_frame_and_animates(browser, base_url):
    context = browser.new_context(viewport={"width": 960, "height": 540})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    watch_drawing(page)
    page.goto(base_url + "/" + LONG_SCENE + "&embed=contour,loss")
    wait_ready(page)
    assert visible_parts(page) == {"contour", "loss"}
    # Sized to its frame: the two plots share the window's width and fill its height.
    for sel in ("#contour-plot", "#loss-plot"):
        box = page.locator(sel).bounding_box()
        assert box["height"] > 0.75 * 540 and 0.35 * 960 < box["width"] < 0.55 * 960, (sel, box)
    assert page.evaluate("document.documentElement.scrollHeight") <= 541
    # It plays by itself: the paths grow step by step, from the start to the last step.
    # (How many frames it shows depends on the machine's load; at 30 steps a second it takes 10 s.)
    # (Before it, a long run may be drawn part-way while it streams in, or whole once it is in:
    # the play is the last climb from step 0 to 300.)
    page.wait_for_function("() => { const d = window.__drawn || []; const i = d.findIndex((n, k) => n <= 1 &&"
                           " k > d.indexOf(300)); return i >= 0 && d.slice(i).includes(300); }", timeout=45_000)
    seen = page.evaluate("window.__drawn")
    first_whole = seen.index(300)
    grew = seen[next(i for i, n in enumerate(seen) if n <= 1 and i > first_whole):]
    assert any(1 < n < 300 for n in grew) and grew[-1] == 300 and grew == sorted(grew), seen
    page.wait_for_selector("body[data-played=true]", state="attached")
    assert "iteration 300 of 300" in page.inner_text("#iteration")
    # The link keeps its flags through a change of scene (here: a new start point by hand).
    page.evaluate("() => { location.hash = location.hash.replace('start=-2,-0.5', 'start=-1,1'); }")
    page.wait_for_function("() => window.lossLab.scene.start[0] === -1")
    assert "&embed=contour,loss" in page.url
    assert visible_parts(page) == {"contour", "loss"}
    assert errors == []
    context.close()


def test_hide_flag_hides_parts_of_the_whole_page(page, base_url):
    open_page(page, base_url + "/" + SCENE + "&hide=controls,3d")
    assert visible_parts(page) == {"header", "player", "contour", "loss", "runs"}
    page.click("#step-btn")
    page.wait_for_function("() => document.getElementById('iteration').textContent === 'iteration 1 of 40'")


# --- the Embed snippet in a course page of another origin ------------------------------------

class CourseSite:
    """A static site on its own port (another origin than Loss Lab's) with one page holding the snippet."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
        handler.log_message = lambda *a: None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page_with(self, snippet: str) -> str:
        (self.root / "course.html").write_text(
            f'<!doctype html><html><head><title>Week 3: momentum</title><link rel="icon" href="data:,"></head><body>'
            f"<h1>Week 3: momentum</h1><p>Watch the two runs race.</p>{snippet}</body></html>")
        return self.origin + "/course.html"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def course_site(tmp_path):
    site = CourseSite(tmp_path)
    yield site
    site.close()


def embed_snippet(browser, lab_url: str) -> tuple[str, list]:
    """The Embed dialog's snippet for SCENE, and the trajectories the page itself draws."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    open_page(page, lab_url + "/" + SCENE)
    expected = trajectories(page)
    page.click("#embed-btn")
    assert page.locator("#embed-dialog").is_visible()
    page.uncheck("#embed-part-player")
    snippet = page.input_value("#embed-snippet")
    context.close()
    return snippet, expected


def test_embed_snippet_reproduces_the_scene_in_an_allowed_origin(browser, course_site):
    with Server(LOSSLAB_FRAME_ANCESTORS=f"'self' {course_site.origin}") as lab:
        snippet, expected = embed_snippet(browser, lab.url)
        assert re.fullmatch(r'<iframe src="http://127\.0\.0\.1:\d+/#s=quadratic:[^"]*&amp;embed=contour,loss" '
                            r'width="960" height="540" style="border:0;max-width:100%" title="Loss Lab: [^"]+" '
                            r'loading="lazy"></iframe>', snippet), snippet
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(course_site.page_with(snippet))
        page.wait_for_function(f"() => document.querySelector('iframe').contentWindow !== null")
        deadline = time.monotonic() + 20
        while not (inner := next((f for f in page.frames if f.url.startswith(lab.url)), None)):
            assert time.monotonic() < deadline, [f.url for f in page.frames]
            time.sleep(0.1)
        inner.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
        # It played once by itself; then it shows the whole runs, as the page does.
        inner.wait_for_selector("body[data-played=true]", state="attached", timeout=30_000)
        wait_runs_done(inner, timeout=20_000)
        assert trajectories(inner) == expected
        assert visible_parts(inner) == {"contour", "loss"}
        box = page.locator("iframe").bounding_box()
        assert (round(box["width"]), round(box["height"])) == (960, 540)
        assert errors == []
        context.close()


def test_embed_snippet_is_refused_by_an_origin_not_allowed(browser, base_url, course_site):
    """The session's server runs with the default LOSSLAB_FRAME_ANCESTORS ('self')."""
    snippet, _ = embed_snippet(browser, base_url)
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(course_site.page_with(snippet))
    page.wait_for_timeout(1500)
    frames = [f for f in page.frames if f != page.main_frame]
    assert len(frames) == 1
    assert not frames[0].url.startswith(base_url), frames[0].url  # the browser showed its error page instead
    assert any("frame-ancestors" in e for e in errors), errors
    # The same page's own origin may frame it ('self').
    page.goto(base_url + "/")
    page.evaluate("(s) => { document.body.innerHTML = s; }", snippet)
    page.wait_for_function("() => { try { return document.querySelector('iframe').contentDocument.body.dataset.ready"
                           " === 'true'; } catch (e) { return false; } }", timeout=30_000)
    context.close()


# --- Record -------------------------------------------------------------------------

def test_record_plays_the_scene_and_downloads_a_playable_file(page, base_url, tmp_path):
    watch_drawing(page)
    open_page(page, base_url + "/" + SCENE)
    assert page.locator("#record-btn").is_enabled()
    page.evaluate("() => { window.__drawn = []; }")
    page.select_option("#record-format", "webm")
    with page.expect_download(timeout=60_000) as dl:
        page.click("#record-btn")
        assert page.locator("#record-btn").is_disabled()
    download = dl.value
    assert download.suggested_filename == "losslab-race.webm"
    path = tmp_path / "race.webm"
    download.save_as(path)
    frames = decode(path)
    assert frames.shape == (41, 720, 1280, 3)
    result = ll.Scene.from_url(SCENE).run()
    check_start_and_end(frames, render.marks(result, (1280, 720)))
    assert page.text_content("#toast").startswith("Saved losslab-race.webm: 41 frames of 1280×720 at 30 fps")
    assert page.locator("#record-btn").is_enabled()
    # Meanwhile the page played the race from the start to the end.
    drawn = page.evaluate("window.__drawn")
    assert 0 in drawn, drawn
    played = drawn[drawn.index(0):]
    assert played[-1] == 40 and played == sorted(played), drawn
    # The browser plays it: a <video> loads it, knows its size and length, and reaches the end
    # (on a blank page: the app's own CSP allows no media from blob: URLs, and needs none).
    data = base64.b64encode(path.read_bytes()).decode()
    player = page.context.new_page()
    info = player.evaluate("""async (b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const v = document.createElement('video');
        v.muted = true;
        v.src = URL.createObjectURL(new Blob([bytes], {type: 'video/webm'}));
        document.body.append(v);
        await new Promise((ok, fail) => { v.onloadeddata = ok; v.onerror = () => fail(new Error('cannot play')); });
        v.playbackRate = 4;
        await v.play();
        await new Promise((ok) => { v.onended = ok; });
        const out = {w: v.videoWidth, h: v.videoHeight, duration: v.duration, played: v.currentTime};
        v.remove();
        return out;
    }""", data)
    player.close()
    assert (info["w"], info["h"]) == (1280, 720)
    assert info["duration"] == pytest.approx(41 / 30, abs=0.05)
    assert info["played"] == pytest.approx(info["duration"], abs=0.05)


# --- present mode --------------------------------------------------------------------

def test_present_mode_shows_one_large_figure_and_steps_with_the_keyboard(page, base_url):
    open_lesson_page(page, base_url + "/#lesson=step-size")
    normal_font = page.evaluate("() => document.getElementById('contour-plot')._fullLayout.font.size")
    page.click("#present-btn")
    page.wait_for_function("() => location.hash.includes('present=1')", timeout=5_000)  # the URL is written within 500 ms
    assert visible_parts(page) == {"player", "contour"}
    assert page.locator("#lesson-panel").is_visible()
    page.wait_for_function("(f) => document.getElementById('contour-plot')._fullLayout.font.size > 1.5 * f",
                           arg=normal_font)
    assert path_width(page) == pytest.approx(2.5 * 1.6)
    title = page.inner_text("#lesson-title")
    page.keyboard.press("ArrowRight")
    # Next: the lesson's step 2, then 3, …; past its last step, the next lesson.
    page.wait_for_function("() => location.hash.includes('&step=2')")
    assert "present=1" in page.url and "lesson=step-size" in page.url
    assert visible_parts(page) == {"player", "contour"}
    steps = page.evaluate("() => window.lossLab.lessons.find((l) => l.id === 'step-size').steps.length")
    for n in range(3, steps + 1):
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => location.hash.includes('&step={n}')")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(t) => document.getElementById('lesson-title').textContent !== t", arg=title)
    page.wait_for_function("() => ['lesson=a-matrix', '&step=1', 'present=1'].every((p) => location.hash.includes(p))",
                           timeout=5_000)
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("(t) => document.getElementById('lesson-title').textContent === t", arg=title)
    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.hash.includes('present=1')")
    assert {"header", "player", "contour"} <= visible_parts(page)  # the lesson's own layout again
    assert page.locator(".present-hint").is_hidden()
    page.wait_for_function("(f) => document.getElementById('contour-plot')._fullLayout.font.size === f",
                           arg=normal_font)


def test_present_mode_uses_a_lesson_step_api_when_the_page_has_one(page, base_url):
    open_lesson_page(page, base_url + "/#lesson=step-size&present=1")
    page.evaluate("() => { window.lossLab.calls = []; window.lossLab.lessonStep = (d) => (window.lossLab.calls.push(d), true); }")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("PageDown")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("window.lossLab.calls") == [1, 1, -1]
    assert "lesson=step-size" in page.url

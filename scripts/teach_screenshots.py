"""Take the README's "Teaching with Loss Lab" pictures: python scripts/teach_screenshots.py (servers started here).

docs/teach-embed.png     a course page on another origin with the Embed snippet in it
docs/teach-record.png    the last frame of `losslab render` (what Record downloads)
docs/teach-notebook.png  scene.widget()'s front end, driven by a real kernel
docs/teach-present.png   present mode on a lesson step
"""

import functools
import http.server
import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "browser"), str(ROOT / "tests" / "losslab"), str(ROOT / "tests")]
from conftest import open_page  # noqa: E402
from testkit import CHROMIUM_ARGS, Server, free_port  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

DOCS = ROOT / "docs"
SCENE = ("#s=quadratic:lambda_1=1,lambda_2=20,rotation=30&o=gd:lr=0.09|momentum:lr=0.04,momentum=0.7"
         "&start=-2,-0.5&steps=100&seed=0")


def record_frame() -> None:
    import numpy as np
    from PIL import Image

    import losslab as ll
    from losslab import render

    result = ll.Scene.from_url(SCENE).run()
    frame = list(render.frames(result, (1280, 720), cursors=[60]))[0]
    Image.fromarray(np.asarray(frame)[..., :3]).save(DOCS / "teach-record.png")
    print("wrote", DOCS / "teach-record.png")


def main() -> None:
    record_frame()
    site_dir = Path(tempfile.mkdtemp())
    site_port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site_dir))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", site_port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = Server(LOSSLAB_FRAME_ANCESTORS=f"'self' http://127.0.0.1:{site_port}").start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("LOSSLAB_CHROMIUM", "/usr/bin/chromium"),
                                        args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            open_page(page, server.url + "/" + SCENE)
            page.click("#embed-btn")
            page.uncheck("#embed-part-player")
            snippet = page.input_value("#embed-snippet").replace('width="960" height="540"', 'width="900" height="460"')
            (site_dir / "course.html").write_text(
                '<!doctype html><html><head><title>Week 3</title><link rel="icon" href="data:,"><style>body{font:17px/1.5 '
                'Georgia,serif;max-width:960px;margin:24px auto;color:#222}h1{font-size:28px}</style></head><body>'
                "<h1>Week 3: momentum</h1><p>The heavy ball keeps a velocity; gradients that alternate across the "
                "valley cancel in it. Watch the two runs race from the same start:</p>" + snippet +
                "<p>Question: why does gradient descent zig-zag?</p></body></html>")
            page = browser.new_page(viewport={"width": 1000, "height": 720})
            page.goto(f"http://127.0.0.1:{site_port}/course.html")
            frame = None
            while frame is None:
                page.wait_for_timeout(200)
                frame = next((f for f in page.frames if f.url.startswith(server.url)), None)
            frame.wait_for_selector("body[data-played=true]", state="attached", timeout=60_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(DOCS / "teach-embed.png"))
            print("wrote", DOCS / "teach-embed.png")
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(server.url + "/#lesson=momentum&present=1")
            page.wait_for_function("() => { const a = window.lossLab; return document.body.dataset.ready && a.store"
                                   " && !a.running && a.grid; }", timeout=60_000)
            page.wait_for_timeout(2500)
            page.screenshot(path=str(DOCS / "teach-present.png"))
            print("wrote", DOCS / "teach-present.png")
            notebook(browser)
            browser.close()
    finally:
        server.stop()
        httpd.shutdown()


def notebook(browser) -> None:
    from test_widget import FAKE_MODEL, SCENE_CODE, KernelBridge

    bridge = KernelBridge()
    try:
        bridge.execute(SCENE_CODE)
        page = browser.new_page(viewport={"width": 720, "height": 560})
        page.expose_function("toKernel", lambda text: None)
        page.evaluate(FAKE_MODEL, [bridge.state, bridge.state["_esm"], bridge.state.get("_css", "")])
        page.evaluate("() => { document.body.style.margin = '12px'; }")
        page.locator("#out").screenshot(path=str(DOCS / "teach-notebook.png"))
        print("wrote", DOCS / "teach-notebook.png")
    finally:
        bridge.close()


if __name__ == "__main__":
    main()

"""Take the README's screenshots: python scripts/screenshots.py [--lessons] [URL-hash …] (server started here).

--lessons takes every lesson at 1440 × 900 and 390 × 844 (docs/lesson-<id>-1440.png, -390.png);
each extra hash becomes docs/lesson-<last part>.png at 1280 × 800.
"""

import os
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS / "browser"), str(TESTS)]
from conftest import open_page  # noqa: E402
from testkit import CHROMIUM_ARGS, Server  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
SHOTS = [("screenshot-1280.png", 1280, 800, ""), ("screenshot-400.png", 400, 800, "")]


def lesson_shots() -> list[tuple[str, int, int, str]]:
    from engine.lessons import LESSONS

    return [(f"lesson-{lesson.id}-{w}.png", w, h, f"#lesson={lesson.id}&step=1")
            for lesson in LESSONS for w, h in ((1440, 900), (390, 844))]


def main(args: list[str]) -> None:
    server = Server().start()
    port = server.port
    shots = lesson_shots() if "--lessons" in args else SHOTS
    shots += [(f"lesson-{h.split('=')[-1]}.png", 1280, 800, h) for h in args if h != "--lessons"]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("LOSSLAB_CHROMIUM", "/usr/bin/chromium"),
                                        args=CHROMIUM_ARGS)
            for name, w, h, hash_ in shots:
                page = browser.new_page(viewport={"width": w, "height": h})
                open_page(page, f"http://127.0.0.1:{port}/{hash_}")
                if "lesson=" in hash_:
                    page.wait_for_selector("#lesson-panel[data-evaluated]", timeout=20_000)
                page.wait_for_timeout(1200)
                page.screenshot(path=str(DOCS / name), full_page=w < 800)
                print("wrote", DOCS / name)
                page.close()
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])

"""Take the README's screenshots: python scripts/screenshots.py [URL-hash …] (server started here)."""

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


def main(extra: list[str]) -> None:
    server = Server().start()
    port = server.port
    shots = SHOTS + [(f"lesson-{h.split('=')[-1]}.png", 1280, 800, h) for h in extra]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("LOSSLAB_CHROMIUM", "/usr/bin/chromium"),
                                        args=CHROMIUM_ARGS)
            for name, w, h, hash_ in shots:
                page = browser.new_page(viewport={"width": w, "height": h})
                open_page(page, f"http://127.0.0.1:{port}/{hash_}")
                page.wait_for_timeout(800)
                page.screenshot(path=str(DOCS / name), full_page=w < 800)
                print("wrote", DOCS / name)
                page.close()
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])

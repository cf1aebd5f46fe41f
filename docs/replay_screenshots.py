"""Make the replay screenshots in docs/ (needs Chromium and Playwright).

    python docs/replay_screenshots.py

Writes docs/replay-campus.html's two views: the campus with frames on the move and a
room switch's MAC table, and one IMAP frame's headers and bytes.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "campus.html"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "netsim.cli",
                "animate",
                str(DOCS.parent / "scenarios" / "campus.yaml"),
                "-o",
                str(page_file),
                "--from",
                "2s",
                "--to",
                "4s",
            ],
            check=True,
        )
        with sync_playwright() as p:
            browser = p.chromium.launch_persistent_context(
                Path(tmp) / "profile",
                executable_path="/usr/bin/chromium",
                headless=True,
                args=FLAGS,
                viewport={"width": 1600, "height": 1000},
            )
            page = browser.new_page()
            page.route(
                "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
            )
            page.goto(page_file.as_uri())
            for _ in range(131):
                page.click("#step")
            page.dispatch_event('g.node[data-name="f1r2"]', "click")
            page.click("#play")
            page.wait_for_timeout(1200)
            page.click("#play")
            page.screenshot(path=DOCS / "replay-campus.png")
            page.locator("#events tbody tr", has_text='LOGIN "f1r2h04"').first.click()
            page.mouse.move(0, 0)
            page.screenshot(path=DOCS / "replay-frame.png")
            browser.close()


if __name__ == "__main__":
    main()

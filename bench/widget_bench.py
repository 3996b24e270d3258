"""The widget: its JavaScript's size, and time to first answer in a real browser.

    .venv/bin/python bench/widget_bench.py [--base http://127.0.0.1:8000] [--user ceo]
        [--questions 20] [--chromium /usr/bin/chromium]

Needs a demo server (``make run``, or ``companion demo``; demo mode serves /demo/). Reports
``widget.js`` raw and gzipped (-9) size, then signs in through /demo/login in Chromium,
opens the widget and asks ``--questions`` questions (bench/common.QUESTIONS in turn, each in
a new conversation): the time from pressing Send to the answer on screen (the stream's
final event rendered), median and p95. The first question, which warms the page and the
server, is not counted.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

sys.path.insert(0, os.path.dirname(__file__))

from common import QUESTIONS, p  # noqa: E402

WIDGET = Path(__file__).resolve().parents[1] / "src/companion/web/widget/widget.js"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="ceo")
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--chromium", default=shutil.which("chromium"))
    args = parser.parse_args()

    served = httpx.get(f"{args.base}/widget.js", timeout=10).content
    source = WIDGET.read_bytes()
    assert served == source, "the server serves another widget.js than this checkout's"
    print(f"widget.js: {len(source):,} bytes, {len(gzip.compress(source, 9)):,} gzipped (-9)")
    if not args.chromium:
        sys.exit("chromium not found: apt-get install -y chromium, or pass --chromium")

    samples: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page(base_url=args.base)
        page.goto("/demo/login")
        page.click(f"button[data-user='{args.user}']")
        page.wait_for_url("**/demo/")
        page.locator("companion-widget .launcher").click()
        answers = page.locator("companion-widget .msg.assistant:has(.tools)")
        for n in range(args.questions + 1):
            page.locator("companion-widget button[data-act='new']").click()
            page.locator("companion-widget textarea").fill(QUESTIONS[n % len(QUESTIONS)])
            started = time.perf_counter()
            page.locator("companion-widget .send").click()
            answers.first.wait_for(state="visible", timeout=120_000)
            elapsed = (time.perf_counter() - started) * 1000
            if n:
                samples.append(elapsed)
        browser.close()
    print(
        f"time to first answer in the browser, {len(samples)} questions as {args.user}: "
        f"p50 {p(samples, 50):.0f} ms, p95 {p(samples, 95):.0f} ms, max {max(samples):.0f} ms"
    )


if __name__ == "__main__":
    main()

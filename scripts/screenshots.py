"""Screenshots of Your clients and a client's overview, at desktop width and at 320 CSS pixels, for the README.

Starts the portal itself (fresh data folder, demo data, as the bench scripts do), signs in as the demo agent and
writes docs/screenshots/{clients,client-overview}-{desktop,320}.png. Run: scripts/screenshots
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _support import sign_in, start_portal  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
OUT = ROOT / "docs" / "screenshots"
# The top of each page: what a person sees first, and small enough to keep in the repository.
WIDTHS = {"desktop": {"width": 1280, "height": 1000}, "320": {"width": 320, "height": 1400}}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    server = start_portal()
    try:
        origin = server.base_url
        cookies = [{"name": c.name, "value": c.value, "url": origin} for c in sign_in(origin)]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                         "--disable-dev-shm-usage"])
            for label, viewport in WIDTHS.items():
                context = browser.new_context(viewport=viewport, device_scale_factor=1)
                context.add_cookies(cookies)
                page = context.new_page()
                page.goto(origin + "/clients")
                page.get_by_role("heading", name="Your clients", level=1).wait_for()
                page.screenshot(path=OUT / f"clients-{label}.png", full_page=False)
                href = page.locator("#clients-results tbody a").first.get_attribute("href")
                page.goto(origin + href)
                page.get_by_text("You are acting for").wait_for()
                page.screenshot(path=OUT / f"client-overview-{label}.png", full_page=False)
                context.close()
            browser.close()
    finally:
        server.stop()
    for path in sorted(OUT.glob("*.png")):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())

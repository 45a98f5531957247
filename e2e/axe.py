"""Accessibility checks with axe-core 4.14.1 (test-only), a WCAG 2.2 A and AA scan of every page a journey visits."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
# The pinned copy in e2e/vendor/ (the same version frontend/package.json pins) means the tests need no node;
# AXE_PATH tries another build.
CANDIDATES = (Path(__file__).resolve().parent / "vendor" / "axe.min.js",)
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN_AXE = "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"

# When scripting is disabled the HTML parser parses <noscript> content as markup, and fragment parsing through
# innerHTML follows the document's scripting flag: a way to tell from inside the page whether scripts run.
SCRIPTS_DISABLED = """() => {
  const probe = document.createElement('div');
  probe.innerHTML = '<noscript><p></p></noscript>';
  return probe.querySelector('noscript p') !== null;
}"""
SCRIPT_ELEMENT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)


def axe_path() -> Path:
    if env := os.environ.get("AXE_PATH"):
        candidates: tuple[Path, ...] = (Path(env),)
    else:
        candidates = CANDIDATES
    for path in candidates:
        if path.is_file():
            return path
    pytest.fail(
        f"axe-core not found (looked at {', '.join(map(str, candidates))}): restore e2e/vendor/axe.min.js "
        "(see e2e/vendor/README.md) or set AXE_PATH to an axe.min.js.",
        pytrace=False,
    )


@cache
def _axe_source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _inject(page: Page) -> None:
    if page.evaluate("() => typeof window.axe !== 'undefined'"):
        return
    # Evaluated through Playwright (DevTools' Runtime.evaluate), which the page's CSP (script-src 'self') does
    # not govern, so the policy under test stays exactly as the portal sends it (no bypass_csp), and no
    # <script> element is left in the page for the HTML checks to find.
    page.evaluate(_axe_source(axe_path()) + "\n;undefined")


def _violations(page: Page) -> list[dict]:
    _inject(page)
    return page.evaluate(RUN_AXE, TAGS)["violations"]


@contextmanager
def scriptable(page: Page) -> Iterator[tuple[Page, bool]]:
    """(a page where scripts can run showing exactly what `page` shows, whether `page` has scripts disabled).

    With java_script_enabled=False, page.evaluate still runs (it goes through DevTools), and axe's source can be
    evaluated, but add_script_tag's script never executes and axe.run never settles: the page's timers and
    callbacks do not run. So the exact DOM the JS-off visitor has (including states that only a POST reaches,
    such as the sign-in page with errors) is serialised, its <script> elements removed, and served at the same
    URL to a JS-on page in a fresh context of the same browser, where the checks run. Stylesheets and images
    still load from the live server, so colour contrast, visibility, sizes and layout are judged on the real
    styles; cookies are not needed because nothing but the static assets is fetched from the server.
    """
    if not page.evaluate(SCRIPTS_DISABLED):
        yield page, False
        return
    html = SCRIPT_ELEMENT.sub("", page.content())
    url = page.url.split("#", 1)[0]
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(java_script_enabled=True, viewport=page.viewport_size)
    try:
        context.route(lambda u: u.split("#", 1)[0] == url,
                      lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
        snapshot = context.new_page()
        snapshot.goto(url, wait_until="load")
        yield snapshot, True
    finally:
        context.close()


def violations(page: Page) -> list[dict]:
    """axe's WCAG 2.2 A and AA violations on the page as it is now (JavaScript on or off)."""
    with scriptable(page) as (view, _):
        return _violations(view)


def format_violations(state: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {state!r}:"]
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"][:3]]
        more = f" (+{len(v['nodes']) - 3} more)" if len(v["nodes"]) > 3 else ""
        lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} -> {', '.join(targets)}{more}")
    return "\n".join(lines)


def assert_accessible(page: Page, state: str) -> None:
    """Fail listing every WCAG 2.2 AA violation axe-core finds on the page as it is now."""
    with scriptable(page) as (view, scripts_disabled):
        found = _violations(view)
    if found:
        pytest.fail(format_violations(f"{state} ({page.url}{', JavaScript off' if scripts_disabled else ''})",
                                      found), pytrace=False)

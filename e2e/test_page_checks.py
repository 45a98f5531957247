"""Each of scan()'s page checks can fail: a page broken on purpose, with JavaScript on and off."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from e2e.axe import scriptable
from e2e.conftest import scan
from e2e.page_checks import CLS_EPSILON, findings

# Served without the portal's headers (no CSP), so it can style itself inline. Every fault is in the markup,
# so the JavaScript-off copy of the page has them too; the layout shift needs a script (below).
BROKEN = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Broken on purpose</title></head>
<body><main><h1>Broken on purpose</h1>
<p hx-get="/not-valid-html">An htmx attribute without its data- prefix is not valid HTML.</p>
<pre>A-line-of-preformatted-text-far-wider-than-three-hundred-and-twenty-pixels-scrolls-the-page-sideways</pre>
<ul style="margin: 0; padding: 0; list-style: none; font: 12px/14px sans-serif">
<li><a href="/one">One</a></li>
<li><a href="/two">Two</a></li>
</ul>
<p>A link <a href="/in-a-sentence" style="font-size: 10px">inside a sentence</a> is exempt from the target size.</p>
<p id="spacer">Content that moves.</p>
</main></body></html>"""

SHIFT_AFTER_LOAD = """() => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(() => {
  const block = document.createElement('div');
  block.style.height = '200px';
  document.querySelector('main').prepend(block);
  resolve();
})))"""


@pytest.fixture
def broken(page: Page, base_url: str) -> Page:
    url = base_url + "/broken-on-purpose"
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=BROKEN))
    page.goto(url)
    return page


def test_each_check_reports_its_fault(broken: Page, js: bool) -> None:
    if js:
        broken.evaluate(SHIFT_AFTER_LOAD)
    with scriptable(broken) as (view, _):  # as scan() does: with JavaScript off, a copy where checks can run
        found = findings(view, html=broken.content())
    assert found["overflow"] > 100, found
    assert any("pre" in c for c in found["overflowing"]), found
    assert any('"One"' in t and '"Two"' in t for t in found["small_targets"]), found
    assert not any("in-a-sentence" in t or "inside a sentence" in t for t in found["small_targets"]), found
    assert any("hx-get" in e for e in found["html_errors"]), found
    if js:
        assert found["cls"] > CLS_EPSILON, found
    else:
        assert found["cls"] == 0, found  # nothing in the markup moves


def test_scan_fails_on_the_broken_page(broken: Page) -> None:
    with pytest.raises(pytest.fail.Exception) as failure:
        scan(broken, "deliberately broken page")
    message = str(failure.value)
    assert "scrolls sideways" in message
    assert "small target" in message
    assert "invalid HTML" in message


def test_a_sound_page_passes(page: Page) -> None:
    page.goto("/sign-in")
    scan(page, "sign-in page, for the self-test")

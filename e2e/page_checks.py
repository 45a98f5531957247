"""What every page and state a journey visits must pass, beyond axe (issue 9). conftest.scan() calls check_page().

- reflow (WCAG 1.4.10): at 320 CSS pixels wide the document does not scroll sideways;
- layout stability: no layout shift after load (the browser's own 'layout-shift' entries, as CLS counts them);
- target size (WCAG 2.5.8): every interactive target is at least 24 x 24 CSS pixels, or spaced so that a
  24-pixel circle centred on it meets no other target or circle; links inside a sentence are exempt;
- the Nu Html Checker (vnu-jar on Java): no errors in the page's HTML.

Each check returns what it found (a list of problems, or a figure); check_page() fails the test listing all of
them. test_page_checks.py proves each one fails on a page broken on purpose.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page

from e2e.axe import SCRIPTS_DISABLED

ROOT = Path(__file__).resolve().parent.parent
NARROW = 320  # CSS pixels: WCAG 1.4.10's width, 1280 px at 400% zoom
MIN_TARGET = 24  # CSS pixels: WCAG 2.5.8 Target Size (Minimum)
# Cumulative layout shift below this counts as none. A layout-shift score is (impact fraction) x (distance
# fraction): moving a 100-pixel-tall, full-width block by a single pixel in the 1280 x 720 test viewport scores
# (101 x 1280 / 921,600) x (1 / 1280) = 0.00011. Anything a person could notice scores more; sub-pixel rounding
# during layout scores less. So the bar is 0.0001, a thousandth of the 0.1 that Core Web Vitals calls "good".
CLS_EPSILON = 0.0001
VNU_JAR = Path(os.environ.get("VNU_JAR", ROOT / ".tools" / "vnu" / "node_modules" / "vnu-jar" / "build" / "dist"
                              / "vnu.jar"))


# ---- Reflow ----------------------------------------------------------------------------------------------

OVERFLOW = """() => {
  const root = document.documentElement;
  const over = Math.max(root.scrollWidth, document.body ? document.body.scrollWidth : 0) - root.clientWidth;
  if (over <= 0) return {over: 0, culprits: []};
  // The elements sticking out past the right edge, to say what to fix.
  const width = root.clientWidth, culprits = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    // Its box sticks out, or its content spills out of a box that does not clip it.
    const spills = getComputedStyle(el).overflowX === 'visible' && r.left + el.scrollWidth > width + 0.5;
    if ((r.right > width + 0.5 || spills) && r.width > 0) culprits.push(el);
  }
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '') + ' (right edge ' +
    Math.round(el.getBoundingClientRect().left + el.scrollWidth) + ' px)';
  // The innermost ones: an element that holds another culprit sticks out only because of it.
  const innermost = culprits.filter(el => !culprits.some(c => c !== el && el.contains(c)));
  return {over, culprits: innermost.slice(0, 5).map(describe)};
}"""


@contextmanager
def narrow(page: Page, width: int = NARROW) -> Iterator[None]:
    """The page at `width` CSS pixels wide (same height), restored afterwards."""
    size = page.viewport_size or {"width": 1280, "height": 720}
    page.set_viewport_size({"width": width, "height": size["height"]})
    try:
        yield
    finally:
        page.set_viewport_size(size)


def horizontal_overflow(page: Page) -> tuple[int, list[str]]:
    """(pixels the page scrolls sideways at the current width, the elements that stick out)."""
    found = page.evaluate(OVERFLOW)
    return int(found["over"]), found["culprits"]


# ---- Layout shift ----------------------------------------------------------------------------------------

# The page's layout-shift entries since `since` (a performance.now() value), except those within 500 ms of
# input, which CLS does not count either. buffered: true delivers the shifts that happened before the observer
# was made (from the first paint on); two animation frames let any pending layout happen and be reported.
LAYOUT_SHIFTS = """async (since) => {
  if (!('PerformanceObserver' in window) ||
      !(PerformanceObserver.supportedEntryTypes || []).includes('layout-shift')) return null;
  const entries = [];
  const observer = new PerformanceObserver(list => entries.push(...list.getEntries()));
  observer.observe({type: 'layout-shift', buffered: true});
  await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 0))));
  entries.push(...observer.takeRecords());
  observer.disconnect();
  const describe = node => node && node.nodeType === 1 ? node.tagName.toLowerCase() + (node.id ? '#' + node.id : '') +
    (node.classList.length ? '.' + [...node.classList].join('.') : '') : String(node && node.nodeName);
  const seen = new Set(), counted = [];
  for (const e of entries) {
    const key = e.startTime + ':' + e.value;
    if (seen.has(key) || e.hadRecentInput || e.startTime < since) continue;
    seen.add(key);
    counted.push({value: e.value, at: Math.round(e.startTime),
                  moved: (e.sources || []).map(s => describe(s.node) + ' ' + Math.round(s.previousRect.y) + '->' +
                                               Math.round(s.currentRect.y))});
  }
  window.__pageChecksSince = performance.now();
  return counted;
}"""


def layout_shifts(page: Page) -> tuple[float, list[dict]]:
    """(sum of the layout-shift values since load or since this page was last checked, the shifts)."""
    if page.evaluate(SCRIPTS_DISABLED):  # its callbacks would never run: check a copy (axe.scriptable) instead
        raise ValueError("layout_shifts needs a page whose scripts run")
    since = page.evaluate("() => window.__pageChecksSince || 0")
    shifts = page.evaluate(LAYOUT_SHIFTS, since)
    if shifts is None:
        pytest.fail("this browser reports no layout-shift entries: the layout check cannot run", pytrace=False)
    return sum(s["value"] for s in shifts), shifts


FIRST_PAINT = "() => performance.getEntriesByType('paint').some(e => e.name === 'first-paint')"


def narrow_load_shifts(page: Page) -> tuple[float, list[dict]]:
    """Layout shift while the page at page.url loads on a phone (320 px wide) whose scripts arrive after the
    first paint, as they do on a slow connection: whatever the scripts change must not move what was drawn.

    A new tab of the same browser context (so signed in as the journey is), its script requests held until
    the first paint. Pages are fetched with GET, which changes nothing in the portal."""
    url = page.url.split("#", 1)[0]
    tab = page.context.new_page()
    held = []
    try:
        tab.set_viewport_size({"width": NARROW, "height": (page.viewport_size or {"height": 720})["height"]})
        tab.route(lambda u: u.split("?", 1)[0].endswith(".js"), lambda route: held.append(route))
        tab.goto(url, wait_until="commit")
        tab.wait_for_function(FIRST_PAINT)
        for route in held:
            route.continue_()
        tab.unroute_all()
        tab.wait_for_load_state("load")
        tab.wait_for_function("() => document.body.classList.contains('govuk-frontend-supported') || "
                              "!document.querySelector('script[type=module]')")
        return layout_shifts(tab)
    finally:
        tab.close()


def mark_checked(page: Page) -> None:
    """Shifts before now (for example those the checks' own viewport changes cause) are not the page's."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => "
                  "{ window.__pageChecksSince = performance.now(); r(); })))")


# ---- Target size -----------------------------------------------------------------------------------------

SMALL_TARGETS = """(min) => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], ' +
                   '[role=link], [tabindex]:not([tabindex^="-"])';
  const visible = el => {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const r = el.getBoundingClientRect();
    // Visually hidden until focused (the skip link): a 1-pixel box, not a target anyone aims at.
    return r.width > 1 && r.height > 1;
  };
  // WCAG 2.5.8's inline exception: a link inside a sentence, its size set by the line-height of the text
  // around it. The link is inline and its block holds text of its own beside it.
  const inSentence = el => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
    if (!block) return false;
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const owner = node.parentElement.closest('a, button');
      if (!owner || !block.contains(owner) || owner === block) return true;
    }
    return false;
  };
  // A control the browser draws and the author did not resize (user agent exception), e.g. a native
  // checkbox; GOV.UK's radios and checkboxes are 40-pixel inputs, so this rarely applies.
  // While a modal dialog is open (the timeout warning), the page behind it cannot be reached by pointer or
  // keyboard: only the dialog's own controls are targets, and nothing inside an inert subtree is one.
  const modal = document.querySelector('[aria-modal="true"]');
  const targets = [...(modal || document).querySelectorAll(selector)].filter(visible)
    .filter(el => !el.closest('[inert]'))
    .filter(el => !el.closest('label') || el.tagName !== 'A')
    .map(el => ({el, r: el.getBoundingClientRect(), inline: inSentence(el)}));
  // A label is part of its control's target: measure radios and checkboxes by their label too.
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '') +
    ' "' + (el.textContent || el.value || el.getAttribute('aria-label') || '').trim()
      .replace(/\\s+/g, ' ').slice(0, 40) + '"';
  const centre = r => [r.left + r.width / 2, r.top + r.height / 2];
  const undersized = t => !t.inline && (t.r.width < min - 0.01 || t.r.height < min - 0.01);
  const distanceToRect = ([x, y], r) =>
    Math.hypot(Math.max(r.left - x, 0, x - r.right), Math.max(r.top - y, 0, y - r.bottom));
  const problems = [];
  for (const t of targets) {
    if (!undersized(t)) continue;
    const c = centre(t.r);
    // The spacing exception: a 24-pixel circle centred on this target must not intersect another target,
    // nor the 24-pixel circle of another undersized target.
    const clash = targets.find(o => o !== t && !o.el.contains(t.el) && !t.el.contains(o.el) && (
      distanceToRect(c, o.r) < min / 2 - 0.01 ||
      (undersized(o) && Math.hypot(c[0] - centre(o.r)[0], c[1] - centre(o.r)[1]) < min - 0.01)));
    if (clash) problems.push(describe(t.el) + ' is ' + Math.round(t.r.width) + 'x' + Math.round(t.r.height) +
                             ' px and too close to ' + describe(clash.el));
  }
  return problems;
}"""


def small_targets(page: Page) -> list[str]:
    """Targets smaller than 24 x 24 CSS pixels that lack the spacing WCAG 2.5.8 allows instead."""
    return page.evaluate(SMALL_TARGETS, MIN_TARGET)


# ---- Nu Html Checker -------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child: Linux sends it SIGTERM when the test process dies, even if killed before atexit runs."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Vnu:
    """One vnu-jar HTTP service (nu.validator.servlet.Main) on a loopback port for the whole test session:
    the JVM takes seconds to start, a check through it takes milliseconds."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> str:
        if self.process is not None and self.process.poll() is None:
            return self.url
        java = shutil.which("java")
        if not java or not VNU_JAR.is_file():
            pytest.fail(f"the Nu Html Checker needs java and {VNU_JAR} (scripts/test installs both: run it once, or "
                        "`npm install --prefix .tools/vnu vnu-jar` and `apt-get install default-jre-headless`)",
                        pytrace=False)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [java, "-Dnu.validator.servlet.bind-address=127.0.0.1", "-cp", str(VNU_JAR),
             "nu.validator.servlet.Main", str(port)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        atexit.register(self.stop)
        self.url = f"http://127.0.0.1:{port}/?out=json"
        deadline = time.monotonic() + 60
        while True:
            try:
                self._post(b"<!DOCTYPE html><html lang=en><title>t</title></html>")
                return self.url
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    self.log.seek(0)
                    output = self.log.read().decode(errors="replace")[-2000:]
                    pytest.fail(f"the Nu Html Checker did not start:\n{output}", pytrace=False)
                time.sleep(0.2)

    def _post(self, html: bytes) -> list[dict]:
        request = urllib.request.Request(self.url, data=html, method="POST",
                                         headers={"Content-Type": "text/html; charset=utf-8"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)["messages"]

    def errors(self, html: str) -> list[str]:
        self.start()
        messages = self._post(html.encode("utf-8"))
        return [f"line {m.get('lastLine', '?')}: {m.get('message', '')} [{m.get('extract', '').strip()[:80]}]"
                for m in messages if m.get("type") in ("error", "non-document-error")]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


VNU = Vnu()


def html_errors(page: Page, html: str | None = None) -> list[str]:
    """The Nu Html Checker's errors on the page's DOM as it is now (every state, including htmx swaps and the
    results of POSTs), serialised with its doctype; or on `html`."""
    return VNU.errors(page.content() if html is None else html)


# ---- All together ----------------------------------------------------------------------------------------


def findings(page: Page, html: str | None = None, phone_load: bool = False) -> dict[str, object]:
    """Every figure the checks measure, for the notes and for check_page: cls, shifts, overflow px at 320,
    what overflows, small targets (at the page's width and at 320), HTML errors. phone_load (for pages whose
    scripts run): also the shifts while the page loads at 320 px with its scripts late (narrow_load_shifts)."""
    cls, shifts = layout_shifts(page)  # first: the checks below resize the viewport
    if phone_load:
        phone_cls, phone_shifts = narrow_load_shifts(page)
        cls += phone_cls
        shifts += [{**s, "on": f"loading at {NARROW} px"} for s in phone_shifts]
    targets = small_targets(page)
    with narrow(page):
        over, culprits = horizontal_overflow(page)
        narrow_targets = [f"at {NARROW} px: {t}" for t in small_targets(page) if t not in targets]
    mark_checked(page)
    return {"cls": cls, "shifts": shifts, "overflow": over, "overflowing": culprits,
            "small_targets": targets + narrow_targets, "html_errors": html_errors(page, html)}


def problems(found: dict[str, object]) -> list[str]:
    """What findings() found that breaks reflow, layout stability, target size or HTML validity, one per line."""
    out: list[str] = []
    if found["overflow"]:
        out.append(f"scrolls sideways by {found['overflow']} px at {NARROW} px wide: "
                   + "; ".join(found["overflowing"]))  # type: ignore[arg-type]
    if found["cls"] > CLS_EPSILON:  # type: ignore[operator]
        out.append(f"layout shift {found['cls']:.4f} after load: {found['shifts']}")
    out += [f"small target: {target}" for target in found["small_targets"]]  # type: ignore[attr-defined]
    out += [f"invalid HTML: {error}" for error in found["html_errors"]]  # type: ignore[attr-defined]
    return out


def report(state: str, url: str, found: list[str]) -> str:
    lines = "\n".join(f"- {p}" for p in found[:40])
    more = f"\n  (+{len(found) - 40} more)" if len(found) > 40 else ""
    return f"{len(found)} page check problem(s) on {state!r} ({url}):\n{lines}{more}"


def check_page(page: Page, state: str) -> None:
    """Fail listing everything on this page and state (JavaScript on) that breaks reflow, layout stability,
    target size or HTML validity."""
    found = problems(findings(page, phone_load=True))
    if found:
        pytest.fail(report(state, page.url, found), pytrace=False)

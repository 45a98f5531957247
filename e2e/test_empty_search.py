"""Journey 4: a search that matches nobody says so, and offers a way back to every client."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.conftest import SignIn, scan

NOBODY = "zzzznotaname"


def test_search_with_no_results(page: Page, js: bool, sign_in: SignIn) -> None:
    sign_in(page)
    expect(page.get_by_role("heading", name="Your clients", level=1)).to_be_visible()
    box = page.get_by_label("Search by name or tax reference")
    if js:
        box.press_sequentially(NOBODY, delay=20)  # the debounced htmx search, no button press
    else:
        box.fill(NOBODY)
        page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"[?&]q={NOBODY}(&|$)"))
    expect(page.get_by_role("heading", name="No clients match your search", level=2)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("No clients found")
    expect(page.get_by_role("table")).to_have_count(0)
    scan(page, "empty search result")

    page.get_by_role("link", name="Clear your search").click()
    expect(page).to_have_url(re.compile(r"/clients$"))
    expect(box).to_have_value("")
    expect(page.get_by_role("table").locator("tbody").get_by_role("row")).to_have_count(20)

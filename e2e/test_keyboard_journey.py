"""Keyboard only: search for a client, page to the next results, open a client, change client and come back to
the same results, with focus checked at each step (issue 9), with JavaScript on and off."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from e2e.conftest import SignIn, client_links, h1, scan

# Every demo name word starting with "m" (Mia, Morgan, Meadow, ...): more than one page of results.
SEARCH = "m"
PAGE_2 = re.compile(r"^Showing 21 to 40 of \d+ clients found$")


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page: Page, target: Locator, limit: int = 60) -> int:
    """Press Tab until `target` has focus (as a keyboard user would); the number of presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if is_focused(target):
            return presses
    raise AssertionError(f"{limit} presses of Tab never reached {target}")



def test_keyboard_only_search_page_open_and_change_client(page: Page, js: bool, sign_in: SignIn) -> None:
    sign_in(page)
    h1(page, "Your clients")
    count = page.get_by_role("status")

    # Search: Tab to the box and type. With JavaScript the results follow the typing and focus stays in the box;
    # without, Enter submits the search form.
    box = page.get_by_label("Search by name or tax reference")
    tab_to(page, box)
    page.keyboard.type(SEARCH, delay=20)
    if not js:
        page.keyboard.press("Enter")
    # The form's other fields ride along empty (the tax service; an administrator's group and member filters).
    expect(page).to_have_url(re.compile(rf"/clients\?q={SEARCH}(&service=)?(&group=)?(&member=)?$"))
    expect(count).to_have_text(re.compile(r"^Showing 1 to 20 of \d+ clients found$"))
    if js:
        expect(box).to_be_focused()

    # Next page: Tab to "Next" and press Enter.
    first_of_page_1 = client_links(page).first.inner_text()
    next_link = page.get_by_role("navigation", name="Results pages").get_by_role("link", name="Next page")
    tab_to(page, next_link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/clients\?q={SEARCH}&page=2$"))
    expect(count).to_have_text(PAGE_2)
    expect(client_links(page).first).not_to_have_text(first_of_page_1)
    results = page.get_by_role("table", name=re.compile(r"^Clients, page 2 of \d+$"))
    if js:
        # The link that had focus was swapped away: focus is on the new results (named by their caption, and
        # the count was announced by its status region), not on the page body, so the next Tab reaches the
        # first client on the new page, not the footer.
        expect(results).to_be_focused()
        page.keyboard.press("Tab")
        expect(client_links(page).first).to_be_focused()
    else:
        # A new page: focus starts at the top, where the skip link is the first stop.
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
        tab_to(page, client_links(page).first)
    scan(page, f"Your clients, search {SEARCH!r}, page 2, reached from the keyboard")

    # Open the first client on page 2.
    name = client_links(page).first.inner_text().strip()
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(name)
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    if js:
        expect(heading).to_be_focused()  # an htmx switch: focus on the new client's name, as a page load would
    else:
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

    # Change client: back to the same results, search and page as the agent left them.
    change = page.get_by_role("link", name="Change client", exact=True)
    tab_to(page, change)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/clients\?q={SEARCH}&page=2$"))
    h1(page, "Your clients")
    expect(box).to_have_value(SEARCH)
    expect(count).to_have_text(PAGE_2)
    expect(client_links(page).first).to_have_text(name)
    page.keyboard.press("Tab")  # a page load: focus starts at the top again
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

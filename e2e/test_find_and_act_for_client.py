"""Journey 2 (the issue's): find a client among hundreds, act for them, then switch to another client."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.conftest import SignIn, client_links, open_client, scan, title

COUNT = re.compile(r"^Showing 1 to 20 of (\d+) clients$")


def search(page: Page, js: bool, text: str) -> None:
    """Type into the search box: with JS the results follow the typing; without, the Search button reloads."""
    box = page.get_by_label("Search by name or tax reference")
    if js:
        box.press_sequentially(text, delay=20)  # real key presses, so htmx's debounced `input` trigger fires
    else:
        box.fill(text)
        page.get_by_role("button", name="Search").click()



def test_find_and_act_for_a_client(page: Page, js: bool, sign_in: SignIn) -> None:
    sign_in(page)
    expect(page.get_by_role("heading", name="Your clients", level=1)).to_be_visible()
    table = page.get_by_role("table")
    expect(table.locator("tbody").get_by_role("row")).to_have_count(20)
    count = page.get_by_role("status")
    expect(count).to_have_text(COUNT)
    total = int(COUNT.match(count.inner_text().strip()).group(1))
    assert total > 20
    scan(page, "Your clients")

    # Search by a surname read from the list (the demo data changes with the date).
    first_name = client_links(page).first.inner_text().strip()
    surname = first_name.split()[-1]
    main_document = page.evaluate("() => { window.__e2eSameDocument = true; return document.URL }")
    search(page, js, surname)
    expect(page).to_have_url(re.compile(r"/clients\?(.*&)?q=" + re.escape(surname) + "(&|$)"))
    expect(count).to_have_text(re.compile(r" found$"))
    expect(client_links(page).first).to_contain_text(surname)
    for name in client_links(page).all_inner_texts():
        assert surname.lower() in name.lower()
    if js:  # the results were swapped in by htmx: no page load, no button press
        assert main_document.endswith("/clients")
        assert page.evaluate("() => window.__e2eSameDocument === true")
    expect(page.get_by_label("Search by name or tax reference")).to_have_value(surname)
    scan(page, "Your clients, search by name")

    # Clear the name, filter by tax service VAT and go to page 2.
    page.get_by_label("Search by name or tax reference").fill("")
    page.get_by_label("Tax service").select_option(label="VAT")
    if not js:
        page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/clients\?(.*&)?service=VAT(&|$)"))
    expect(count).to_have_text(re.compile(r"^Showing 1 to 20 of \d+ clients found$"))
    for services in table.locator("tbody tr td:nth-child(3)").all_inner_texts():
        assert "VAT" in services
    page.get_by_role("navigation", name="Results pages").get_by_role("link", name="Page 2", exact=True).click()
    expect(page).to_have_url(re.compile(r"/clients\?service=VAT&page=2$"))
    expect(page).to_have_title(re.compile(r"^Your clients \(page 2 of \d+\) – "))
    expect(count).to_have_text(re.compile(r"^Showing 21 to 40 of \d+ clients found$"))
    expect(page.get_by_role("link", name="Page 2", exact=True)).to_have_attribute("aria-current", "page")
    scan(page, "Your clients, VAT, page 2")

    # Choose a client.
    name, client_id = open_client(page, 2)
    heading = page.get_by_role("heading", level=1)
    expect(page).to_have_title(title(f"Overview – {name}"))
    expect(page.get_by_text(f"You are acting for {name}")).to_be_visible()
    # "Change client" goes back to the list as the agent left it: VAT only, page 2.
    change_client = page.get_by_role("link", name="Change client", exact=True)  # not "Change client reference"
    expect(change_client).to_have_attribute("href", "/clients?service=VAT&page=2")
    expect(page.get_by_role("heading", name="What is due", level=2)).to_be_visible()
    if js:
        assert page.evaluate("() => window.__e2eSameDocument === true"), "the client overview was not an htmx swap"
        expect(heading).to_be_focused()
    scan(page, "client overview")

    # Back returns to the list with the search still applied.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/clients\?service=VAT&page=2$"))
    expect(page.get_by_role("heading", name="Your clients", level=1)).to_be_visible()
    expect(page.get_by_label("Tax service")).to_have_value("VAT")
    expect(page).to_have_title(re.compile(r"^Your clients \(page 2 of \d+\) – "))
    expect(client_links(page).nth(2)).to_have_text(name)
    scan(page, "Your clients, VAT, page 2, after Back")

    # Forward to the client again, then "Change client" and choose another.
    page.go_forward()
    expect(page).to_have_url(re.compile(rf"/clients/{client_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    page.get_by_role("link", name="Change client", exact=True).click()
    expect(page).to_have_url(re.compile(r"/clients\?service=VAT&page=2$"))
    expect(page.get_by_role("heading", name="Your clients", level=1)).to_be_visible()
    expect(page.get_by_label("Tax service")).to_have_value("VAT")
    expect(count).to_have_text(re.compile(r"^Showing 21 to 40 of \d+ clients found$"))
    second = client_links(page).filter(has_not_text=name).nth(1)
    second_name = second.inner_text().strip()
    second.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(second_name)
    expect(page).to_have_title(title(f"Overview – {second_name}"))
    expect(page.get_by_text(f"You are acting for {second_name}")).to_be_visible()
    expect(page).not_to_have_url(re.compile(rf"/clients/{client_id}$"))
    scan(page, "overview of the second client")

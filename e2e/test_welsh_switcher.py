"""The client switcher journey in Welsh (issue 10): an agent switches to Welsh with the toggle, finds a client, acts
for them and switches to another, every page and htmx swap in Welsh and passing the page checks; then switches
back to English on the page they are on."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.conftest import SERVICE_NAME, SignIn, client_links, open_client, scan, title
from portal import i18n

SEARCH_LABEL = "Chwilio yn ôl enw neu gyfeirnod treth"
# "Showing 1 to 20 of 320 clients" in Welsh (the demo firm has hundreds of clients).
ALL_CLIENTS = re.compile(r"^Yn dangos 1 i 20 o (\d+) o gleientiaid$")
# A search's count: "5 clients found", or "Showing 1 to 20 of 42 clients found" (six plural forms in Welsh).
FOUND = re.compile(r"^(Canfuwyd \d+ (o gleientiaid|cleient|gleient|chleient)|Yn dangos 1 i \d+ o \d+ o gleientiaid "
                   r"a ganfuwyd)$")


def welsh_title(text: str) -> str:
    """A page's title in Welsh: the service's name is in Welsh too."""
    with i18n.using("cy"):
        return f"{text} – {i18n.gettext(SERVICE_NAME)}"


def search(page: Page, js: bool, text: str) -> None:
    """Type into the search box: with JS the results follow the typing; without, the Search button reloads."""
    box = page.get_by_label(SEARCH_LABEL)
    if js:
        box.press_sequentially(text, delay=20)  # real key presses, so htmx's debounced `input` trigger fires
    else:
        box.fill(text)
        page.get_by_role("button", name="Chwilio", exact=True).click()



def in_welsh(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "cy")


def test_the_client_switcher_in_welsh(page: Page, js: bool, sign_in: SignIn) -> None:
    sign_in(page)
    try:
        switch_clients_in_welsh(page, js)
    finally:  # the demo agent's account keeps the language chosen: the journeys after this one are in English
        page.goto("/language/en")


def switch_clients_in_welsh(page: Page, js: bool) -> None:
    expect(page.get_by_role("heading", name="Your clients", level=1)).to_be_visible()

    # The toggle in the service navigation: the same page, in Welsh.
    page.get_by_role("link", name=re.compile(r"^CYM")).click()
    expect(page).to_have_url(re.compile(r"/clients$"))
    in_welsh(page)
    expect(page.get_by_role("heading", name="Eich cleientiaid", level=1)).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Eich cleientiaid \(tudalen 1 o \d+\) – "))
    count = page.get_by_role("status")
    expect(count).to_have_text(ALL_CLIENTS)
    expect(page.get_by_role("table").get_by_role("columnheader", name="Math o gleient")).to_be_visible()
    expect(page.get_by_role("search", name="Cleientiaid")).to_be_visible()
    scan(page, "Your clients, in Welsh")

    # Search by a surname read from the list (the demo data changes with the date).
    surname = client_links(page).first.inner_text().strip().split()[-1]
    main_document = page.evaluate("() => { window.__e2eSameDocument = true; return document.URL }")
    search(page, js, surname)
    expect(page).to_have_url(re.compile(r"/clients\?(.*&)?q=" + re.escape(surname) + "(&|$)"))
    expect(count).to_have_text(FOUND)
    expect(client_links(page).first).to_contain_text(surname)
    if js:  # the results and the count were swapped in by htmx, in Welsh
        assert main_document.endswith("/clients")
        assert page.evaluate("() => window.__e2eSameDocument === true")
    in_welsh(page)
    expect(page).to_have_title(re.compile(r"^Eich cleientiaid( \(tudalen 1 o \d+\))? – "))
    expect(page.get_by_label(SEARCH_LABEL)).to_have_value(surname)
    scan(page, "Your clients, search by name, in Welsh")

    # Clear the name and filter by VAT ("TAW").
    page.get_by_label(SEARCH_LABEL).fill("")
    page.get_by_label("Gwasanaeth treth").select_option(label="TAW")
    if not js:
        page.get_by_role("button", name="Chwilio", exact=True).click()
    expect(page).to_have_url(re.compile(r"/clients\?(.*&)?service=VAT(&|$)"))
    expect(count).to_have_text(re.compile(r"^Yn dangos 1 i 20 o \d+ o gleientiaid a ganfuwyd$"))
    for services in page.get_by_role("table").locator("tbody tr td:nth-child(3)").all_inner_texts():
        assert "TAW" in services
    scan(page, "Your clients, VAT, in Welsh")

    # Act for a client.
    name, client_id = open_client(page, 2)
    heading = page.get_by_role("heading", level=1)
    expect(page).to_have_title(welsh_title(f"Trosolwg – {name}"))
    expect(page.get_by_text(f"Rydych yn gweithredu ar ran {name}")).to_be_visible()
    expect(page.get_by_role("heading", name="Beth sy’n ddyledus", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name=f"Rhagor ar gyfer {name}", level=2)).to_be_visible()
    expect(page.get_by_role("link", name="Ffurflenni TAW", exact=True)).to_be_visible()
    if js:
        assert page.evaluate("() => window.__e2eSameDocument === true"), "the client overview was not an htmx swap"
        expect(heading).to_be_focused()
    in_welsh(page)
    scan(page, "client overview, in Welsh")

    # "Change client" ("Newid cleient") goes back to the list as the agent left it, still in Welsh.
    change_client = page.get_by_role("link", name="Newid cleient", exact=True)
    expect(change_client).to_have_attribute("href", "/clients?service=VAT")
    change_client.click()
    expect(page).to_have_url(re.compile(r"/clients\?service=VAT$"))
    expect(page.get_by_role("heading", name="Eich cleientiaid", level=1)).to_be_visible()
    expect(page.get_by_label("Gwasanaeth treth")).to_have_value("VAT")
    expect(count).to_have_text(re.compile(r"^Yn dangos 1 i 20 o \d+ o gleientiaid a ganfuwyd$"))
    in_welsh(page)
    scan(page, "Your clients, VAT, after Change client, in Welsh")

    second = client_links(page).filter(has_not_text=name).nth(1)
    second_name = second.inner_text().strip()
    second.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(second_name)
    expect(page).to_have_title(welsh_title(f"Trosolwg – {second_name}"))
    expect(page.get_by_text(f"Rydych yn gweithredu ar ran {second_name}")).to_be_visible()
    expect(page).not_to_have_url(re.compile(rf"/clients/{client_id}$"))
    second_url = page.url
    in_welsh(page)
    scan(page, "overview of the second client, in Welsh")

    # Back to English from here: the toggle keeps the agent on the page they are on, even after htmx swaps.
    page.get_by_role("link", name=re.compile(r"^ENG")).click()
    expect(page).to_have_url(second_url)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title(title(f"Overview – {second_name}"))
    expect(page.get_by_text(f"You are acting for {second_name}")).to_be_visible()

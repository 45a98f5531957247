"""An agent's pages across and around clients that the other journeys do not visit: What's due, the firm's
activity, a client's Income Tax, cancelling a request and stopping acting (each up to its confirmation, so
the shared demo data is left as it was). Every page and state is scanned with axe."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.conftest import SignIn, h1, scan


def test_whats_due_and_the_firms_activity(page: Page, js: bool, sign_in: SignIn) -> None:
    sign_in(page)
    page.get_by_role("link", name="What’s due").click()
    h1(page, "What’s due")
    expect(page.get_by_text(re.compile(r"Showing 1 to 20 of"))).to_be_visible()
    expect(page.get_by_role("link", name="Download as CSV")).to_be_visible()
    scan(page, "what's due")

    page.get_by_label("Due within (days)").fill("soon")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    scan(page, "what's due with an error")

    page.get_by_label("Due within (days)").fill("")
    page.get_by_label("Tax service").select_option(label="VAT")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"service=VAT"))
    expect(page.get_by_role("table")).to_contain_text("VAT return")
    scan(page, "what's due, VAT only")

    page.get_by_role("link", name="Activity", exact=True).click()
    h1(page, "What your firm has done")
    scan(page, "the firm's activity")


def test_a_clients_income_tax_pages(page: Page, js: bool, sign_in: SignIn) -> None:
    sign_in(page)
    page.goto("/clients?service=ITSA")
    page.get_by_role("table").get_by_role("link").first.click()
    page.get_by_role("link", name="Income Tax: quarterly updates and final declaration").click()
    h1(page, "Income Tax")
    scan(page, "a client's Income Tax")

    page.get_by_role("link", name=re.compile(r"^Send quarterly update")).first.click()
    h1(page, re.compile(r"^Quarterly update for "))
    scan(page, "a quarterly update")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_label("Income")).to_be_visible()
    scan(page, "a quarterly update with errors")


def test_cancelling_a_request_and_stopping_acting_ask_first(page: Page, js: bool, sign_in: SignIn) -> None:
    sign_in(page)
    page.get_by_role("link", name="Authorisation requests").click()
    page.get_by_role("link", name=re.compile(r"^Cancel request")).first.click()
    expect(page.get_by_role("group", name=re.compile(r"cancel", re.IGNORECASE))).to_be_visible()
    scan(page, "cancel a request: are you sure")
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/authorisation-requests$"))

    page.goto("/clients?service=VAT")
    page.get_by_role("table").get_by_role("link").first.click()
    page.get_by_role("link", name="Stop acting for this client").click()
    scan(page, "stop acting: which service")
    page.get_by_label("VAT").check()
    page.get_by_role("button", name="Continue").click()
    h1(page, re.compile(r"^Are you sure you want to stop acting for .+ for VAT\?$"))
    expect(page.get_by_role("button", name=re.compile(r"^Stop acting for this client"))).to_be_visible()
    scan(page, "stop acting: are you sure")

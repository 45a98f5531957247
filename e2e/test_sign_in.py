"""Journey 1: a wrong password, then signing in, then signing out ends the session on the server."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.conftest import SignIn, scan, title


def test_sign_in_error_then_sign_in_and_sign_out(page: Page, js: bool, sign_in: SignIn) -> None:
    page.goto("/sign-in")
    expect(page).to_have_title(title("Sign in"))
    scan(page, "sign-in page")

    sign_in(page, password="not-the-password", goto=False)
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    error_link = summary.get_by_role("link", name="Enter a correct email address and password")
    expect(error_link).to_have_attribute("href", "#email")
    expect(page).to_have_title(re.compile(r"^Error: Sign in – "))
    expect(page.get_by_label("Password")).to_have_value("")  # never echoed back
    if js:
        expect(summary).to_be_focused()  # GOV.UK Frontend's error summary takes focus on load
    scan(page, "sign-in page with errors")

    sign_in(page, goto=False)
    expect(page).to_have_url(re.compile(r"/clients$"))
    expect(page.get_by_role("heading", name="Your clients", level=1)).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Your clients"))

    page.get_by_role("navigation", name="Menu").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You have signed out", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/signed-out$"))
    scan(page, "signed-out page")

    page.go_back()
    page.reload()  # whatever the browser kept, the server must not serve the list again
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fclients$|/sign-in\?next=/clients$"))
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)

"""Emails you get (issue 11's page), as a firm's administrator and as a taxpayer, passes every page check."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.conftest import SignIn, h1, scan
from portal.devdata.demo import DemoAccounts


def test_emails_you_get(page: Page, sign_in: SignIn, demo_accounts: DemoAccounts) -> None:
    for email, question in (
            (demo_accounts.agent_email, "get a copy of the emails about your firm’s authorisation requests?"),
            (demo_accounts.client_email, "Do you want an email when someone acting for you sends a return")):
        page.context.clear_cookies()
        sign_in(page, email)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        page.goto("/account")
        page.get_by_role("link", name="Choose the emails you get").click()
        h1(page, "Emails you get")
        expect(page.get_by_role("group", name=question)).to_be_visible()
        scan(page, f"emails you get, as {email}")

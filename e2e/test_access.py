"""Journey 3: an agent cannot reach another firm's client; a signed-out visitor is sent to sign in and back."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import SignIn, scan, title
from portal.devdata.demo import DemoAccounts


def test_another_firms_client_is_not_found(
    page: Page, new_context: Callable[..., BrowserContext], sign_in: SignIn, demo_accounts: DemoAccounts
) -> None:
    # Read one of the other firm's client ids from their own list (ids depend on the seed).
    other = new_context().new_page()
    sign_in(other, demo_accounts.other_agent_email)
    expect(other.get_by_role("heading", name="Your clients", level=1)).to_be_visible()
    their_client = other.get_by_role("table").get_by_role("rowheader").get_by_role("link").first
    expect(their_client).to_have_attribute("href", re.compile(r"^/clients/\d+$"))
    href = their_client.get_attribute("href")
    other.context.close()

    sign_in(page, demo_accounts.agent_email)
    expect(page.get_by_role("heading", name="Your clients", level=1)).to_be_visible()
    response = page.goto(href)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_visible()
    expect(page).to_have_title(title("Page not found"))
    expect(page.get_by_text("You are acting for")).to_have_count(0)
    scan(page, "404 page (another firm's client)")


def test_signed_out_visitor_is_returned_to_their_page_after_signing_in(
    page: Page, sign_in: SignIn, demo_accounts: DemoAccounts
) -> None:
    page.goto("/clients")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    scan(page, "sign-in page after following a link to /clients")
    sign_in(page, demo_accounts.agent_email, goto=False)
    expect(page).to_have_url(re.compile(r"/clients$"))
    expect(page.get_by_role("heading", name="Your clients", level=1)).to_be_visible()

"""The pages every footer links to (help, cookies, accessibility statement) pass every page check, signed out."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.conftest import scan


def test_the_footer_pages(page: Page) -> None:
    page.goto("/sign-in")
    for link in ("Help and contact", "Cookies", "Accessibility statement"):
        page.get_by_role("contentinfo").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        scan(page, f"footer page: {link}")

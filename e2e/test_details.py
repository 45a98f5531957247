"""A taxpayer changes their own address and contact details: question, errors, check answers, saved.
Both runs (JavaScript on and off) save the same values, so running twice changes nothing further."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.conftest import SignIn, h1, scan


def _open_details(page: Page) -> None:
    page.goto("/account")
    page.get_by_role("link", name="Jane Whitfield").click()
    page.get_by_role("link", name="Your details").click()
    h1(page, "Your details")


def test_a_taxpayer_changes_their_address_and_contact_details(page: Page, js: bool, sign_in: SignIn,
                                                              demo_accounts) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, demo_accounts.client_email)
    _open_details(page)
    scan(page, "your details")

    page.get_by_role("link", name="Change postal address").click()
    page.get_by_label("Address line 1").fill("")
    page.get_by_label("Postcode").fill("not a postcode")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Enter address line 1, typically the building and street")).to_be_visible()
    expect(page.get_by_role("link", name="Enter a real postcode")).to_be_visible()
    expect(page.get_by_label("Postcode")).to_have_value("not a postcode")  # nothing typed is lost
    scan(page, "change address with errors")

    page.get_by_label("Address line 1").fill("14 Larkspur Road")
    page.get_by_label("Town or city").fill("York")
    page.get_by_label("Postcode").fill("yo1 7hh")
    page.get_by_role("button", name="Continue").click()
    h1(page, "Check your answers")
    expect(page.get_by_text("YO1 7HH")).to_be_visible()
    scan(page, "check the new address")
    page.get_by_role("button", name=re.compile(r"^Save address")).click()
    expect(page.get_by_role("heading", name="Address updated")).to_be_visible()
    scan(page, "address saved")

    _open_details(page)
    expect(page.get_by_text("14 Larkspur Road")).to_be_visible()
    page.get_by_role("link", name="Change email address").click()
    page.get_by_label("Email address").fill("jane.whitfield@example.com")
    page.get_by_label("Phone number (optional)").fill("call me")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    scan(page, "change contact details with an error")
    page.get_by_label("Phone number (optional)").fill("+44 1904 555 0123")
    page.get_by_role("button", name="Continue").click()
    h1(page, "Check your answers")
    page.get_by_role("button", name=re.compile(r"^Save")).click()
    expect(page.get_by_role("heading", name="Contact details updated")).to_be_visible()
    scan(page, "contact details saved")

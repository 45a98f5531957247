"""Journey 5: a person asks someone to be their trusted helper; the helper signs up from the link, accepts and
sees only what a helper may; the person removes them and the helper's access ends at once. JS on and off.

The live server is shared by both modes: each run invites a helper with a new email address, and removes them
at the end, so Jane's list of helpers is the same for the other mode.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import SignIn, h1, scan, title
from portal.devdata import demo

PERSON = "Jane Whitfield"  # client@example.com's own tax account in the demo data
NewContext = Callable[..., BrowserContext]


def invite_helper(page: Page, email: str) -> str:
    """From "People who help you", ask `email` to help; returns the link shown on the confirmation."""
    page.goto("/trusted-helpers")
    h1(page, "People who help you with your tax")
    scan(page, "people who help you")
    page.get_by_role("button", name="Ask someone to help you").click()
    question = "What is the email address of the person you want to help you?"
    h1(page, question)
    scan(page, "invite a helper: email")
    page.get_by_role("button", name="Continue").click()  # no answer first: the error state
    expect(page).to_have_title(title(f"Error: {question}"))
    expect(page.get_by_role("alert").get_by_role(
        "link", name="Enter the email address of the person you want to help you")).to_be_visible()
    scan(page, "invite a helper: email, with an error")
    page.get_by_label(question).fill(email)
    page.get_by_role("button", name="Continue").click()

    h1(page, "Check before you ask someone to help you")
    expect(page.get_by_text(f"You are asking {email} to help you with your tax.")).to_be_visible()
    scan(page, "invite a helper: check")
    page.get_by_role("button", name="Ask them to help you").click()
    expect(page).to_have_url(re.compile(r"/trusted-helpers/invite/sent$"))
    h1(page, "Invitation ready to send")
    link = page.get_by_label(f"Send this link to {email}")
    expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/trusted-helpers/accept/[\w-]+$"))
    scan(page, "invitation ready to send")
    return link.input_value()


def test_a_trusted_helper_is_invited_accepts_sees_only_what_a_helper_may_and_is_removed(
    page: Page, new_context: NewContext, sign_in: SignIn, demo_accounts: demo.DemoAccounts
) -> None:
    unique = uuid.uuid4().hex[:10]
    helper_email, helper_name = f"helper-{unique}@example.com", f"Pat Helper {unique}"
    person = page
    sign_in(person, demo_accounts.client_email)
    expect(person).to_have_url(re.compile(r"/account$"))
    link = invite_helper(person, helper_email)

    # Someone signed in with another email address cannot use the link.
    someone_else = new_context().new_page()
    sign_in(someone_else, demo_accounts.helper_email)
    someone_else.goto(link)
    h1(someone_else, "This invitation was sent to a different email address")
    expect(someone_else.get_by_text("this invitation was sent to h***@example.com")).to_be_visible()
    expect(someone_else.get_by_role("button", name="Accept")).to_have_count(0)
    scan(someone_else, "invitation opened with a different email address")
    someone_else.context.close()

    # The helper opens the link signed out, creates sign-in details with the invited address and accepts.
    helper = new_context().new_page()
    helper.goto(link)
    h1(helper, f"{PERSON} has asked you to help them with their tax")
    scan(helper, "invitation opened signed out")
    helper.get_by_role("link", name="Create sign-in details").click()
    expect(helper).to_have_url(re.compile(r"/sign-up\?next=(%2F|/)trusted-helpers(%2F|/)accept(%2F|/)"))
    h1(helper, "Create your sign-in details")
    scan(helper, "sign up from the invitation")
    helper.get_by_label("Full name").fill(helper_name)
    helper.get_by_label("Email address").fill(helper_email)
    helper.get_by_label("Create a password").fill(demo.DEMO_PASSWORD)
    helper.get_by_label("Confirm password").fill(demo.DEMO_PASSWORD)
    helper.get_by_role("button", name="Create sign-in details").click()
    expect(helper).to_have_url(link)
    h1(helper, f"Do you want to help {PERSON}?")
    expect(helper.get_by_text(f"deal with {PERSON}’s tax returns", exact=False)).to_be_visible()
    scan(helper, "do you want to help")
    helper.get_by_role("button", name="Accept").click()

    expect(helper).to_have_url(re.compile(r"/helping$"))
    h1(helper, "People you help")
    expect(helper.get_by_role("link", name=PERSON, exact=True)).to_be_visible()
    scan(helper, "people you help")
    helper.get_by_role("link", name=PERSON, exact=True).click()
    expect(helper).to_have_url(re.compile(r"/clients/\d+$"))
    person_page = helper.url
    h1(helper, PERSON)
    expect(helper).to_have_title(title(f"Overview – {PERSON}"))
    expect(helper.get_by_text(f"You are helping {PERSON}")).to_be_visible()
    expect(helper.get_by_role("link", name="Change person you are helping")).to_have_attribute("href", "/helping")
    # A helper is never offered a return: no Income Tax updates or declarations, no VAT returns.
    expect(helper.get_by_text("Quarterly update")).to_have_count(0)
    expect(helper.get_by_text("Final declaration")).to_have_count(0)
    expect(helper.get_by_text("VAT return")).to_have_count(0)
    expect(helper.get_by_text("You are acting for")).to_have_count(0)
    scan(helper, "helper's view of the person")

    response = helper.goto("/authorisation-requests")
    assert response is not None and response.status == 404
    h1(helper, "Page not found")
    scan(helper, "helper at /authorisation-requests")
    helper.goto("/clients")
    expect(helper).to_have_url(re.compile(r"/account$"))
    h1(helper, "Your account")
    scan(helper, "helper's account page")

    # The link is used up once accepted.
    response = helper.goto(link)
    assert response is not None and response.status == 404

    # The person sees the helper as active and removes them; the helper loses access at once.
    person.goto("/trusted-helpers")
    h1(person, "People who help you with your tax")
    expect(person.get_by_role("term").filter(has_text=helper_name)).to_be_visible()
    entry = person.get_by_role("definition").filter(has_text=helper_email)
    expect(entry.get_by_text("Helping you")).to_be_visible()
    scan(person, "people who help you, with the new helper")
    person.get_by_role("link", name=f"Remove {helper_name}", exact=True).click()
    h1(person, f"Are you sure you want to remove {helper_name}?")
    scan(person, "confirm removing the helper")
    person.get_by_role("button", name="Remove helper").click()
    expect(person).to_have_url(re.compile(r"/trusted-helpers$"))
    expect(person.get_by_role("term").filter(has_text=helper_name)).to_have_count(0)
    expect(person.get_by_role("definition").filter(has_text=helper_email)).to_have_count(0)
    scan(person, "people who help you, after removing the helper")

    response = helper.goto(person_page)
    assert response is not None and response.status == 404
    h1(helper, "Page not found")
    expect(helper.get_by_text(f"You are helping {PERSON}")).to_have_count(0)
    scan(helper, "helper's former person page")
    helper.goto("/helping")
    h1(helper, "People you help")
    expect(helper.get_by_text("You are not helping anyone at the moment.")).to_be_visible()
    scan(helper, "people you help, nobody")

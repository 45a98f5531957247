"""Email, end to end: a person invites a trusted helper; the helper reads the invitation from the SMTP server the
live portal's worker delivers to, opens the emailed link, signs in with the invited address and accepts.
JavaScript on and off; each run invites a new address and removes the helper at the end."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import SignIn, h1, scan, sign_up
from portal.devdata import demo
from tests.mailbox import Mailbox, Received

PERSON = "Jane Whitfield"  # client@example.com's own tax account in the demo data
NewContext = Callable[..., BrowserContext]


def emailed_to(mailbox: Mailbox, address: str, number: int = 1, timeout: float = 20.0) -> Received:
    """The `number`th email the worker delivers to `address` (it sends within a second or so of the change)."""
    deadline = time.monotonic() + timeout
    while len(found := mailbox.to(address)) < number:
        assert time.monotonic() < deadline, f"email {number} to {address} did not arrive within {timeout} s"
        time.sleep(0.1)
    return found[number - 1]


def test_the_helper_accepts_from_the_emailed_link(page: Page, new_context: NewContext, sign_in: SignIn,
                                                  demo_accounts: demo.DemoAccounts, mailbox: Mailbox) -> None:
    unique = uuid.uuid4().hex[:10]
    helper_email, helper_name = f"mail-helper-{unique}@example.com", f"Robin Mail {unique}"

    # The helper already has sign-in details with the address they will be invited at.
    helper = new_context().new_page()
    helper.goto("/sign-up")
    sign_up(helper, mailbox, helper_name, helper_email)
    expect(helper.get_by_role("button", name="Sign out")).to_be_visible()
    helper.get_by_role("button", name="Sign out").click()
    expect(helper.get_by_role("button", name="Sign out")).to_have_count(0)

    # Jane invites them.
    sign_in(page, demo_accounts.client_email)
    expect(page).to_have_url(re.compile(r"/account$"))
    page.goto("/trusted-helpers")
    page.get_by_role("button", name="Ask someone to help you").click()
    page.get_by_label("What is the email address of the person you want to help you?").fill(helper_email)
    page.get_by_role("button", name="Continue").click()
    h1(page, "Check before you ask someone to help you")
    page.get_by_role("button", name="Ask them to help you").click()
    h1(page, "Invitation ready to send")
    scan(page, "invitation ready to send (emailed too)")

    # The invitation arrives, with the link to the live server, in the email and nowhere else.
    invitation = emailed_to(mailbox, helper_email, 2)  # the first was the link that confirmed their address
    assert invitation.subject == f"{PERSON} has asked you to help them with their tax"
    match = re.search(r"http://127\.0\.0\.1:\d+/trusted-helpers/accept/[\w-]+", invitation.text)
    assert match, invitation.text
    link = match.group(0)
    assert f'href="{link}"' in invitation.html
    assert all(link not in r.text for r in mailbox.received if r is not invitation)

    # The helper opens it, signs in with the invited address and accepts.
    helper.goto(link)
    h1(helper, f"{PERSON} has asked you to help them with their tax")
    scan(helper, "emailed invitation opened signed out")
    helper.get_by_role("button", name="Sign in").click()
    sign_in(helper, helper_email, goto=False)
    expect(helper).to_have_url(link)
    h1(helper, f"Do you want to help {PERSON}?")
    scan(helper, "emailed invitation: do you want to help")
    helper.get_by_role("button", name="Accept").click()
    expect(helper).to_have_url(re.compile(r"/helping$"))
    h1(helper, "People you help")
    expect(helper.get_by_role("link", name=PERSON, exact=True)).to_be_visible()
    scan(helper, "people you help, after the emailed invitation")

    # Jane removes them again (so the other JavaScript mode starts from the same list); both are told.
    page.goto("/trusted-helpers")
    page.get_by_role("link", name=f"Remove {helper_name}", exact=True).click()
    page.get_by_role("button", name="Remove helper").click()
    expect(page).to_have_url(re.compile(r"/trusted-helpers$"))
    ended = emailed_to(mailbox, helper_email, 3)
    assert ended.subject == f"{PERSON} has removed you as their trusted helper"
    helper.context.close()

"""A firm's team, end to end: an administrator invites a colleague; the colleague reads the invitation from the
SMTP server the live portal's worker delivers to, signs in with the invited address and joins; the administrator
removes them and their session ends at once. JavaScript on and off; each run invites a new address."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import SignIn, h1, scan, set_up_authenticator_app, sign_up
from e2e.test_email_invitation import emailed_to
from portal.devdata import demo
from tests.mailbox import Mailbox


def test_a_colleague_joins_from_the_emailed_link_and_is_removed(
    page: Page, js: bool, new_context: Callable[..., BrowserContext], sign_in: SignIn,
    demo_accounts: demo.DemoAccounts, mailbox: Mailbox,
) -> None:
    unique = uuid.uuid4().hex[:10]
    email, name = f"colleague-{unique}@example.com", f"Casey Colleague {unique}"

    colleague = new_context().new_page()
    colleague.goto("/sign-up")
    sign_up(colleague, mailbox, name, email)  # a confirmed address: only such a person may join a firm
    expect(colleague.get_by_role("button", name="Sign out")).to_be_visible()
    colleague.get_by_role("button", name="Sign out").click()
    expect(colleague.get_by_role("button", name="Sign out")).to_have_count(0)

    sign_in(page, demo_accounts.agent_email)
    page.get_by_role("link", name="Manage account").click()
    page.get_by_role("link", name="Manage team members").click()
    h1(page, "Team members")
    scan(page, "Team members")
    page.get_by_role("link", name="Invite a team member").click()
    h1(page, "Invite a team member")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Standard user").check()
    scan(page, "Invite a team member")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation sent to {email}")).to_be_visible()
    expect(page.get_by_role("cell", name=email, exact=True)).to_be_visible()
    scan(page, "Team members with an invitation sent")

    invitation = emailed_to(mailbox, email, number=2)  # the first confirmed the address at sign-up
    assert invitation.subject == "You have been invited to join Harbour & Reed Tax Advisers LLP"
    match = re.search(r"http://127\.0\.0\.1:\d+/join/[\w-]+", invitation.text)
    assert match, invitation.text
    link = match.group(0)

    colleague.goto(link)
    h1(colleague, "Join Harbour & Reed Tax Advisers LLP")
    scan(colleague, "Team invitation opened signed out")
    colleague.get_by_role("button", name="Sign in").click()
    sign_in(colleague, email, goto=False)
    expect(colleague).to_have_url(link)
    scan(colleague, "Join the firm")
    colleague.get_by_role("button", name="Join Harbour & Reed Tax Advisers LLP").click()
    scan(colleague, "Joined: set up 2-step verification before any client")
    set_up_authenticator_app(colleague)  # a member of an agent firm has 2-step verification, from the start
    h1(colleague, "Your clients")

    page.reload()
    expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()
    scan(page, "Team members with a colleague who joined")
    page.get_by_role("button", name=f"Remove {name} from your firm").click()
    expect(page.get_by_role("cell", name=name, exact=True)).to_have_count(0)

    colleague.goto("/clients")  # their session ended with the removal
    expect(colleague).to_have_url(re.compile(r"/sign-in"))

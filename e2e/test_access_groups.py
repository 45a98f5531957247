"""Access groups, by an administrator in the browser: create a group, add clients ticked on two pages of a
search, watch a standard user's list shrink, add them to the group, see the unassigned clients, remove them.

The demo firm (Harbour & Reed) already uses groups; this test adds one of its own and deletes it at the end,
so the other tests (and the js-off run after the js-on one) find the demo as it was."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import SignIn, h1, scan
from portal.devdata.demo import DemoAccounts


def client_count(page: Page) -> int:
    """The number of clients a person's list says they have ("Showing 1 to 20 of 123 clients")."""
    page.goto("/clients")
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile(r"[\d,]+ clients?$"))
    return int(re.findall(r"([\d,]+) clients?$", status.inner_text().strip())[0].replace(",", ""))


def test_an_administrator_groups_clients_and_a_standard_user_sees_only_theirs(
    page: Page, js: bool, new_context: Callable[..., BrowserContext], sign_in: SignIn, demo_accounts: DemoAccounts
) -> None:
    staff = new_context().new_page()
    sign_in(staff, demo_accounts.staff_email)
    before = client_count(staff)

    sign_in(page, demo_accounts.agent_email)
    page.get_by_role("link", name="Manage account").click()
    h1(page, "Manage account")
    scan(page, "Manage account")

    group_name = f"Browser test {'js-on' if js else 'js-off'}"
    page.get_by_role("link", name="Create an access group").click()
    page.get_by_role("button", name="Create access group").click()  # no name yet: an error
    expect(page.get_by_role("link", name="Enter a name for the access group")).to_be_visible()
    scan(page, "Create an access group, with an error")
    page.get_by_label("What do you want to call this access group?").fill(group_name)
    page.get_by_role("button", name="Create access group").click()
    h1(page, group_name)
    scan(page, "An access group with no clients or members")

    # Clients in no group (so the standard user sees them today): tick two on page 1 and one on page 2.
    page.get_by_role("link", name=re.compile("^Add or remove clients")).click()
    h1(page, "Add or remove clients")
    page.get_by_label("Access group").select_option(label="Not in any group")
    page.get_by_role("button", name="Search").click()
    ticks = page.get_by_role("checkbox")
    expect(ticks).to_have_count(20)
    scan(page, "Choosing clients for a group")
    chosen = [ticks.nth(i).get_attribute("id") for i in (0, 1)]
    ticks.nth(0).check()
    ticks.nth(1).check()
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text(re.compile(r"^2 clients ticked"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Page 2 of \d+$"))).to_be_visible()
    page.get_by_role("checkbox").first.check()
    page.get_by_role("button", name="Previous page").click()
    for tick_id in chosen:  # the ticks on page 1 were kept on the server
        expect(page.locator(f"#{tick_id}")).to_be_checked()
    page.get_by_role("button", name="Add ticked clients to group").click()
    expect(page.get_by_text(f"3 clients added to {group_name}")).to_be_visible()
    scan(page, "Clients added to a group")

    # The standard user is not in the group: its three clients leave their list at once.
    assert client_count(staff) == before - 3

    page.get_by_role("link", name="Back").click()
    h1(page, group_name)
    expect(page.get_by_text("3 clients are in this group")).to_be_visible()
    page.get_by_label("Add a team member to this group").select_option(label="Tom Okafor (staff@example.com)")
    page.get_by_role("button", name="Add team member").click()
    expect(page.get_by_role("cell", name="Tom Okafor", exact=True)).to_be_visible()
    scan(page, "An access group with clients and a member")
    assert client_count(staff) == before

    page.goto("/manage-account")
    page.get_by_role("link", name="Clients who are not in any group").click()
    h1(page, "Clients who are not in any group")
    scan(page, "Unassigned clients")

    # Removed from the group: the member loses its clients on their next page.
    page.goto("/manage-account")
    page.get_by_role("link", name=group_name).click()
    page.get_by_role("button", name="Remove Tom Okafor from this group").click()
    expect(page.get_by_text("Nobody is in this group yet.")).to_be_visible()
    assert client_count(staff) == before - 3

    page.get_by_role("button", name="Delete access group").click()
    h1(page, "Manage account")
    expect(page.get_by_role("link", name=group_name)).to_have_count(0)
    assert client_count(staff) == before

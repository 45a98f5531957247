"""Issue 12 in the browser, JavaScript on and off, with the page scans: confirming an address at sign-up, setting
up an authenticator app, signing in with a code and with a recovery code, a forgotten password end to end, a
passkey with Chromium's virtual authenticator (JavaScript on only), and the timeout dialog under Playwright's
clock (no real waiting)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import SignIn, allow_code_again, emailed_link, emailed_to, enter_code, h1, scan, sign_up
from portal.devdata import demo
from tests.mailbox import Mailbox

NewContext = Callable[..., BrowserContext]
CODE = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$")


def _new_person(page: Page, mailbox: Mailbox, *, axe: bool = False) -> str:
    email = f"person-{uuid.uuid4().hex[:10]}@example.com"
    page.goto("/sign-up")
    sign_up(page, mailbox, "Ceri Jones", email, axe=axe)
    expect(page).to_have_url(re.compile(r"/account$"))
    return email


def _sign_out(page: Page) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("button", name="Sign out").click()
    h1(page, "You have signed out")


def _password_only(page: Page, email: str, password: str = demo.DEMO_PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_up_confirm_set_up_an_app_then_sign_in_with_a_code_and_with_a_recovery_code(
    page: Page, mailbox: Mailbox
) -> None:
    email = _new_person(page, mailbox, axe=True)
    h1(page, "Your account")
    page.get_by_role("link", name="View or change your sign in and security details").click()
    h1(page, "Sign in and security details")
    scan(page, "sign in and security details")
    page.get_by_role("link", name="Add an authenticator app").click()
    h1(page, "Set up an authenticator app")
    expect(page.locator(".app-qr-code svg")).to_be_visible()
    scan(page, "set up an authenticator app")
    secret = page.locator("[data-secret-key]").inner_text().replace(" ", "")
    page.get_by_label("Enter the 6 digit code the app shows").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert").get_by_role("link", name=re.compile("The code you entered is not correct"))
           ).to_be_visible()
    scan(page, "set up an authenticator app, wrong code")
    page.get_by_label("Enter the 6 digit code the app shows").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    h1(page, "Save your recovery codes")
    scan(page, "recovery codes, shown once")
    codes = [c.strip() for c in page.locator("[data-recovery-codes] code").all_inner_texts()]
    assert len(codes) == 10 and all(CODE.match(c) for c in codes)
    page.get_by_role("link", name="I have saved my recovery codes").click()
    h1(page, "Sign in and security details")
    _sign_out(page)

    # With a code from the app.
    _password_only(page, email)
    h1(page, "Enter the 6 digit code from your authenticator app")
    scan(page, "second step: enter the code")
    page.get_by_label("Enter the 6 digit code from your authenticator app").fill("123")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert").get_by_role("link", name="Enter the code using only 6 digits")).to_be_visible()
    scan(page, "second step, with an error")
    enter_code(page, secret)
    expect(page).to_have_url(re.compile(r"/account$"))
    _sign_out(page)

    # With a recovery code: the phone is lost.
    _password_only(page, email)
    page.get_by_role("link", name="Use a recovery code").click()
    h1(page, "Enter a recovery code")
    scan(page, "second step: a recovery code")
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    # Emailed: 1 the sign-up link, 2 the app set up, 3 this sign-in with a recovery code.
    assert "You have 9 left" in emailed_to(mailbox, email, 3).text


def test_forgotten_password_end_to_end(page: Page, mailbox: Mailbox) -> None:
    email = _new_person(page, mailbox)
    _sign_out(page)
    page.goto("/sign-in")
    page.get_by_role("link", name="Forgotten your password?").click()
    h1(page, "Reset your password")
    scan(page, "reset your password")
    page.get_by_label("Email address").fill(email)
    before = len(mailbox.to(email))  # the sign-up's confirmation, already delivered and followed
    page.get_by_role("button", name="Send the link").click()
    h1(page, "Check your email")
    scan(page, "reset: check your email")
    page.goto(emailed_link(mailbox, email, before + 1))
    h1(page, "Create a new password")
    scan(page, "create a new password")
    page.get_by_label("New password", exact=True).fill("a brand new password")
    page.get_by_label("Confirm new password").fill("a brand new password")
    page.get_by_role("button", name="Reset password").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    _sign_out(page)
    _password_only(page, email, "a brand new password")
    expect(page).to_have_url(re.compile(r"/account$"))


def test_an_agent_is_asked_for_a_code_and_the_demo_secret_works(page: Page, sign_in: SignIn,
                                                               demo_accounts: demo.DemoAccounts) -> None:
    _password_only(page, demo_accounts.staff_email)
    h1(page, "Enter the 6 digit code from your authenticator app")
    page.goto("/clients")  # straight to a page: back to the second step
    h1(page, "Enter the 6 digit code from your authenticator app")
    enter_code(page)
    expect(page).to_have_url(re.compile(r"/clients$"))


def test_passkey_enrol_and_sign_in_with_a_virtual_authenticator(page: Page, js: bool, context: BrowserContext,
                                                                 live_server: str, mailbox: Mailbox) -> None:
    if not js:
        pytest.skip("passkeys need JavaScript; without it people use an authenticator app")
    # WebAuthn needs a domain, not an IP address, as its relying party: localhost is one, and a secure context.
    local = live_server.replace("127.0.0.1", "localhost")
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    email = f"passkey-{uuid.uuid4().hex[:10]}@example.com"
    page.goto(local + "/sign-up")
    sign_up(page, mailbox, "Pat Key", email, origin=local)
    page.goto(local + "/account/security")
    page.get_by_role("link", name="Add a passkey or security key").click()
    h1(page, "Add a passkey or security key")
    scan(page, "add a passkey")
    page.get_by_role("button", name="Add a passkey or security key").click()
    h1(page, "Save your recovery codes")
    page.goto(local + "/account/security")
    expect(page.get_by_text("Passkey or security key", exact=True)).to_be_visible()
    _sign_out(page)
    page.goto(local + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    h1(page, "Use your passkey or security key")
    scan(page, "second step: passkey")
    page.get_by_role("button", name="Use a passkey or security key").click()
    expect(page).to_have_url(re.compile(r"/account$"))


def test_the_timeout_dialog_warns_keeps_the_session_and_signs_out(page: Page, js: bool, sign_in: SignIn,
                                                                  demo_accounts: demo.DemoAccounts) -> None:
    if not js:
        # Without JavaScript: the server's timeout, said on the page (the fast tests let it run out).
        sign_in(page, demo_accounts.client_email)
        expect(page.get_by_text("we will sign you out if you do nothing for 15 minutes")).to_be_visible()
        expect(page.locator("meta[name=hmrc-timeout-dialog]")).to_have_attribute("data-timeout", re.compile(r"^\d+$"))
        return
    page.clock.install()
    sign_in(page, demo_accounts.client_email)
    expect(page).to_have_url(re.compile(r"/account$"))
    page.clock.fast_forward("13:01")
    dialog = page.get_by_role("dialog", name="You’re about to be signed out")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("For your security, we will sign you out in", exact=True)).to_be_visible()
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    live = dialog.locator("[aria-live=assertive]")
    expect(live).to_contain_text("2 minutes")
    scan(page, "timeout dialog", phone_load=False)  # page.clock: a new tab of this context would never paint
    page.clock.fast_forward("01:05")  # under a minute left: seconds shown, announced in 20-second steps only
    expect(dialog.locator(".app-timeout-dialog__countdown")).to_have_text(re.compile(r"^\d{1,2} seconds$"))
    expect(live).to_contain_text(re.compile(r"\b(60|40|20) seconds"))
    with page.expect_response("**/keep-alive") as kept:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert kept.value.status == 204
    expect(dialog).to_have_count(0)
    page.clock.fast_forward("13:01")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")  # Esc keeps the session too
    expect(dialog).to_have_count(0)
    page.clock.fast_forward("15:01")
    h1(page, "For your security, we signed you out")
    scan(page, "timed out", phone_load=False)  # still on the fake clock
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_tabs_stay_in_step(context: BrowserContext, js: bool, sign_in: SignIn,
                           demo_accounts: demo.DemoAccounts) -> None:
    if not js:
        pytest.skip("BroadcastChannel is JavaScript")
    first = context.new_page()
    first.clock.install()  # the clock belongs to the context: both tabs share it
    sign_in(first, demo_accounts.helper_email)
    second = context.new_page()
    second.goto("/account")
    first.clock.fast_forward("13:01")
    expect(first.get_by_role("dialog")).to_be_visible()
    expect(second.get_by_role("dialog")).to_be_visible()
    second.bring_to_front()
    second.get_by_role("dialog").get_by_role("button", name="Stay signed in").click()
    expect(second.locator(".app-timeout-dialog")).to_have_count(0)
    expect(first.locator(".app-timeout-dialog")).to_have_count(0)  # the other tab heard, and closed its warning


def test_a_firms_contact_address_becomes_the_contact_only_through_its_emailed_link(page: Page,
                                                                                   mailbox: Mailbox) -> None:
    """Issue 12: registering with another contact address keeps the administrator's own until the link emailed to
    that address is followed; later changes go the same way."""
    from e2e.test_handshake import register_firm

    firm = register_firm(page, mailbox, "Contact", axe=False)
    contact = f"practice-{firm.name.split()[1]}@example.com"
    expect(page.get_by_text(f"We have emailed a link to {contact}.", exact=False)).to_be_visible()
    scan(page, "agent services account created, contact address waiting for its link")
    link = emailed_link(mailbox, contact)
    assert "Confirm this email address" in emailed_to(mailbox, contact).text
    page.goto(link)
    h1(page, "Confirm your firm’s contact email address")
    scan(page, "confirm a firm's contact address")
    page.get_by_role("button", name="Confirm").click()
    h1(page, "Contact email address confirmed")
    expect(page.get_by_text(f"{contact} is now the contact email address of {firm.name}.")).to_be_visible()
    scan(page, "firm's contact address confirmed")

    page.goto("/account/emails")
    page.get_by_role("link", name="Change your firm’s contact email address").click()
    h1(page, "Your firm’s contact email address")
    expect(page.get_by_text(f"We send messages about your agent services account to {contact}.")).to_be_visible()
    scan(page, "firm's contact address")
    page.get_by_role("button", name="Send the link").click()
    expect(page).to_have_title(re.compile(r"^Error: Your firm’s contact email address"))
    scan(page, "firm's contact address, with an error")
    newer = f"office-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("New contact email address").fill(newer)
    page.get_by_role("button", name="Send the link").click()
    h1(page, "Check your email")
    expect(page.get_by_text(f"Until then, we keep using {contact}.", exact=False)).to_be_visible()
    page.goto("/manage-account/contact-email")
    expect(page.get_by_text(f"We have emailed a link to {newer}.", exact=False)).to_be_visible()
    scan(page, "firm's contact address, a link waiting")
    assert "/firm-contact/confirm/" in emailed_link(mailbox, newer)


def test_an_administrator_proves_it_is_them_before_resetting_a_members_2_step(
    page: Page, sign_in: SignIn, demo_accounts: demo.DemoAccounts
) -> None:
    from sqlalchemy import select, update

    from e2e.conftest import LIVE
    from portal.domain import two_step
    from portal.domain.accounts import hash_password
    from portal.domain.models import Membership, User, UserSession, utcnow
    from portal.domain.sql import unit_of_work
    from portal.settings import Settings

    sealing_settings = Settings(database_url="sqlite://", secret_key="e2e-" + "k" * 60, environment="test")
    unique = uuid.uuid4().hex[:8]
    with unit_of_work(LIVE["engine"]) as db:  # a member of the demo firm of their own, so no other journey notices
        admin = db.execute(select(User).where(User.email == demo_accounts.agent_email)).scalar_one()
        firm_id = db.execute(select(Membership.firm_id).where(Membership.user_id == admin.id)).scalar_one()
        member = User(email=f"member-{unique}@example.com", name=f"Member {unique}", email_confirmed_at=utcnow(),
                      password_hash=hash_password(sealing_settings, demo.DEMO_PASSWORD))
        db.add(member)
        db.flush()
        db.add(Membership(firm_id=firm_id, user_id=member.id, role="standard"))
        two_step.enrol_totp(db, sealing_settings, member.id, demo.DEMO_TOTP_SECRET)
        name = member.name
    sign_in(page)
    with LIVE["engine"].begin() as connection:  # signed in a while ago: the second step is no longer recent
        connection.execute(update(UserSession).values(reauthenticated_at=utcnow() - timedelta(minutes=6)))
    page.goto("/account/team")
    page.get_by_role("link", name=f"Reset 2-step verification for {name}").click()
    h1(page, "Confirm it is you")
    expect(page.get_by_text("Before you reset a team member’s 2-step verification, we need to check it is you.")
           ).to_be_visible()
    scan(page, "confirm it is you, before resetting a member's 2-step verification")
    page.get_by_label("Enter the 6 digit code from your authenticator app, or a recovery code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile(r"^Error: Confirm it is you"))
    allow_code_again()
    page.get_by_label("Enter the 6 digit code from your authenticator app, or a recovery code").fill(
        pyotp.TOTP(demo.DEMO_TOTP_SECRET).now())
    page.get_by_role("button", name="Continue").click()
    h1(page, f"Reset 2-step verification for {name}")
    page.get_by_role("button", name="Reset 2-step verification").click()
    expect(page.get_by_text("You reset their 2-step verification. We have emailed them.")).to_be_visible()


def test_a_common_password_is_refused_at_sign_up(page: Page) -> None:
    page.goto("/sign-up")
    page.get_by_label("Full name").fill("Ceri Jones")
    page.get_by_label("Email address").fill(f"common-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Create a password").fill("qwertyuiopasdfghjkl")
    page.get_by_label("Confirm password").fill("qwertyuiopasdfghjkl")
    page.get_by_role("button", name="Create sign-in details").click()
    expect(page).to_have_title(re.compile(r"^Error: Create your sign-in details"))
    expect(page.get_by_role("alert").get_by_role("link", name=re.compile("^Enter a stronger password"))
           ).to_be_visible()
    scan(page, "sign up, a common password")


def test_signing_out_of_another_browser_from_the_sessions_list(page: Page, new_context: NewContext,
                                                               mailbox: Mailbox) -> None:
    email = _new_person(page, mailbox)
    elsewhere = new_context().new_page()
    _password_only(elsewhere, email)
    h1(elsewhere, "Your account")
    page.goto("/account/security")
    h1(page, "Sign in and security details")
    scan(page, "sign in and security details, signed in on another browser too")
    page.get_by_role("button", name=re.compile(r"^Sign out\s+of (?!all other)")).click()
    h1(page, "Sign in and security details")
    expect(page.get_by_text("You have signed out of that device or browser")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Sign out\s+of (?!all other)"))).to_have_count(0)
    elsewhere.goto("/account")
    h1(elsewhere, "Sign in")

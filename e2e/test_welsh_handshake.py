"""The handshake in Welsh (issue 10), with JavaScript on and off: (1) the client opens the agent's link in Welsh,
signs in and accepts, every Welsh page scanned; (2) an agent part-way through asking a client for authorisation
switches to Welsh with the toggle and lands on the same question, in Welsh, with the answer they gave.

Each test makes a firm (and, for the client's side, a client with a request waiting) of its own in the live
server's database, so nothing another test counts on changes, and neither mode's run sees the other's.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date

from playwright.sync_api import Page, expect

from e2e.conftest import LIVE, SignIn, h1, scan
from portal.devdata import demo
from portal.domain import handshake, identifiers, two_step
from portal.domain.accounts import hash_password
from portal.domain.client_links import client_link
from portal.domain.models import Firm, Membership, Taxpayer, TaxpayerIdentifier, User, utcnow
from portal.domain.services import BY_KEY
from portal.domain.sql import unit_of_work
from portal.settings import Settings

# Only the cheap password hashing of the live server's "test" environment is wanted from these settings.
HASHING = Settings(database_url="sqlite://", secret_key="e2e-" + "k" * 60, environment="test")


@dataclass(frozen=True)
class Made:
    firm_name: str
    agent_email: str
    client_email: str
    client_name: str
    link: str


def _serial() -> int:
    """A number for references of this test's own: above the demo data's, random so each run differs."""
    return 9_000_000 + int(uuid.uuid4().hex[:6], 16) % 1_000_000


def make_firm_and_client(*, with_request: bool) -> Made:
    """A firm of its own with an administrator (the demo authenticator app), and a business client with its own
    sign-in, registered for VAT; with_request: the firm has asked the client for VAT already."""
    unique, serial = uuid.uuid4().hex[:8], _serial()
    with unit_of_work(LIVE["engine"]) as db:
        firm = Firm(arn=identifiers.make_arn(serial), name=f"Cymraeg {unique} Tax LLP",
                    email=f"practice-{unique}@example.com", link_uid=f"CY{unique[:6].upper()}")
        agent = User(email=f"agent-{unique}@example.com", name=f"Agent {unique}",
                     password_hash=hash_password(HASHING, demo.DEMO_PASSWORD), email_confirmed_at=utcnow())
        owner = User(email=f"client-{unique}@example.com", name=f"Owner {unique}",
                     password_hash=hash_password(HASHING, demo.DEMO_PASSWORD), email_confirmed_at=utcnow())
        db.add_all([firm, agent, owner])
        db.flush()
        db.add(Membership(firm_id=firm.id, user_id=agent.id, role="admin"))
        # Sealed under the live server's secret key, which HASHING shares.
        two_step.enrol_totp(db, HASHING, agent.id, demo.DEMO_TOTP_SECRET)
        taxpayer = Taxpayer(client_type="business", name=f"Bragdy {unique} Cyf", postcode="CF10 1EP",
                            owner_user_id=owner.id)
        db.add(taxpayer)
        db.flush()
        db.add(TaxpayerIdentifier(taxpayer_id=taxpayer.id, kind="vrn", value=identifiers.make_vrn(serial),
                                  registered_on=date(2019, 4, 1)))
        db.flush()
        if with_request:
            handshake.create_request(db, firm_id=firm.id, user_id=agent.id, service=BY_KEY["HMRC-MTD-VAT"],
                                     taxpayer=taxpayer, today=date.today())
        return Made(firm.name, agent.email, owner.email, taxpayer.name,
                    client_link(firm, BY_KEY["HMRC-MTD-VAT"].url_part))


def sign_in_either_language(page: Page, email: str) -> None:
    """The sign-in form, whichever language the accounts pages speak by now (a client has no second step)."""
    h1(page, re.compile(r"^(Sign in|Mewngofnodi)$"))
    page.get_by_label(re.compile(r"^(Email address|Cyfeiriad e-bost)$")).fill(email)
    page.get_by_label(re.compile(r"^(Password|Cyfrinair)$")).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile(r"^(Sign in|Mewngofnodi)$")).click()


def test_a_client_accepts_in_welsh(page: Page) -> None:
    made = make_firm_and_client(with_request=True)
    firm = made.firm_name

    page.goto(made.link + "?lang=cy")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    h1(page, f"Mae {firm} am ddelio â’ch treth")
    expect(page.get_by_text(f"Mae {firm} wedi gofyn i chi eu hawdurdodi i ddelio â TAW ar eich rhan.")
           ).to_be_visible()
    scan(page, "Welsh: client link start page")
    page.get_by_role("button", name="Dechrau nawr").click()

    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    sign_in_either_language(page, made.client_email)

    expect(page).to_have_url(re.compile(re.escape(made.link) + "/respond$"))
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    h1(page, f"Mae {firm} am fod yn asiant i chi ar gyfer TAW")
    expect(page.get_by_role("heading", name=f"Yr hyn y bydd {firm} yn gallu ei wneud")).to_be_visible()
    expect(page.get_by_text("bwrw golwg dros eich Ffurflenni TAW, eu newid a’u cyflwyno")).to_be_visible()
    scan(page, "Welsh: consent page")

    page.get_by_role("button", name="Parhau").click()  # no answer: the error state, in Welsh
    expect(page).to_have_title(re.compile(r"^Gwall: "))
    expect(page.get_by_role("alert").get_by_role("link", name=f"Dewiswch ‘Iawn’ os ydych am awdurdodi {firm}")
           ).to_be_visible()
    scan(page, "Welsh: consent page, with an error")

    page.get_by_role("group", name=f"A ydych am awdurdodi {firm} i fod yn asiant i chi ar gyfer TAW?") \
        .get_by_role("radio", name="Iawn").check()
    page.get_by_role("button", name="Parhau").click()
    h1(page, "Gwiriwch eich ateb")
    expect(page.get_by_role("term").filter(has_text=f"A ydych am awdurdodi {firm}")).to_be_visible()
    scan(page, "Welsh: client, check your answer")

    page.get_by_role("button", name="Derbyn ac anfon").click()
    expect(page).to_have_url(re.compile(r"/authorisation-response/\d+/accepted$"))
    h1(page, f"Rydych wedi awdurdodi {firm}")
    expect(page.get_by_text("i fod yn asiant i chi ar gyfer TAW")).to_be_visible()
    scan(page, "Welsh: client, you have authorised")

    page.get_by_role("link", name="Rheoli pwy sy’n gallu delio â’ch treth").click()
    h1(page, "Rheoli pwy sy’n gallu delio â’ch treth")
    agents = page.get_by_role("table", name="Asiantau a chynorthwywyr sy’n gallu delio â’ch treth")
    expect(agents.get_by_role("rowheader", name=firm)).to_be_visible()
    expect(agents.get_by_role("link", name=f"Tynnu {firm} ar gyfer TAW")).to_be_visible()
    expect(page.get_by_role("table", name="Hanes, y diweddaraf yn gyntaf").get_by_role("row")
           .filter(has_text=firm).filter(has_text="Gwnaethoch dderbyn y cais")).to_have_count(1)
    scan(page, "Welsh: manage who can deal with your tax")


def test_switching_to_welsh_mid_journey_keeps_the_answer(page: Page, sign_in: SignIn) -> None:
    made = make_firm_and_client(with_request=False)
    vrn = identifiers.make_vrn(_serial())
    shown = identifiers.format_for_display(identifiers.IdentifierKind.VRN, vrn)
    sign_in(page, made.agent_email)

    page.goto("/authorisation-requests/new")
    h1(page, "What type of client is this?")
    page.get_by_role("radio", name="Company or partnership").check()
    page.get_by_role("button", name="Continue").click()
    h1(page, "What do you want your client to authorise you for?")
    page.get_by_role("radio", name="VAT", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    h1(page, "What is your client's VAT registration number?")
    page.get_by_label("What is your client's VAT registration number?").fill(vrn)
    page.get_by_role("button", name="Continue").click()
    h1(page, "When did your client's VAT registration start?")
    page.get_by_role("link", name="Back").click()
    h1(page, "What is your client's VAT registration number?")
    question = page.url

    # The toggle: a plain link, so it works with JavaScript off too.
    page.get_by_role("link", name=re.compile(r"^CYM")).click()
    expect(page).to_have_url(question)
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    h1(page, "Beth yw rhif cofrestru TAW eich cleient?")
    expect(page.get_by_label("Beth yw rhif cofrestru TAW eich cleient?")).to_have_value(shown)
    scan(page, "Welsh: ask, VAT registration number, after the toggle")

    # Back one question, the earlier answer is kept as well.
    page.get_by_role("link", name=re.compile(r"^(Yn ôl|Back)$")).click()
    h1(page, "Ar gyfer beth rydych am i’ch cleient eich awdurdodi?")
    expect(page.get_by_role("radio", name="TAW", exact=True)).to_be_checked()
    scan(page, "Welsh: ask, service")
    page.get_by_role("button", name="Parhau").click()
    h1(page, "Beth yw rhif cofrestru TAW eich cleient?")
    page.get_by_role("button", name="Parhau").click()
    h1(page, "Pryd ddechreuodd cofrestriad TAW eich cleient?")
    page.get_by_role("button", name="Parhau").click()  # no date: a Welsh error
    expect(page).to_have_title(re.compile(r"^Gwall: "))
    expect(page.get_by_role("alert").get_by_role("link", name="Nodwch y dyddiad y dechreuodd cofrestriad TAW eich "
                                                              "cleient")).to_be_visible()
    scan(page, "Welsh: ask, VAT registration date, with an error")

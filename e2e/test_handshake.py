"""Journey 4: the digital handshake between a new agent firm and a client, from registering the firm to the
client removing it again. Two browser contexts (the agent's and the client's), with JavaScript on and off.

The live server is shared by both modes, so each test registers a firm of its own through the registration
pages (unique email and firm name); the clients are demo taxpayers nobody else's test asks.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import SignIn, h1, scan, set_up_authenticator_app, sign_up, title
from portal.devdata import demo
from portal.domain.handshake import EXPIRY_DAYS
from portal.web.formatting import govuk_date
from tests.mailbox import Mailbox

MEADOW = demo.NEW_CLIENTS[0]
SAM = demo.NEW_CLIENTS[1]
MEADOW_VRN = MEADOW.references[0][1]
MEADOW_VAT_DATE = MEADOW.references[0][2]
SAM_NINO = SAM.references[0][1]
ARN = re.compile(r"^[A-Z]ARN[0-9]{7}$")
NewContext = Callable[..., BrowserContext]


@dataclass(frozen=True)
class Firm:
    name: str
    arn: str


def continue_(page: Page) -> None:
    page.get_by_role("button", name="Continue").click()


def register_firm(page: Page, mailbox: Mailbox, label: str, axe: bool = True) -> Firm:
    """Sign up with a fresh email and create an agent services account through every registration page."""
    unique = uuid.uuid4().hex[:10]
    firm_name = f"{label} {unique} Tax LLP"
    page.goto("/register")
    h1(page, "Create an agent services account")
    scan(page, "registration start, signed out", axe)
    page.get_by_role("button", name="Create sign-in details").click()
    expect(page).to_have_url(re.compile(r"/sign-up\?next=%2Fregister%2Ffirm-name$"))
    h1(page, "Create your sign-in details")
    scan(page, "sign up", axe)
    sign_up(page, mailbox, f"Agent {unique}", f"agent-{unique}@example.com", axe=axe)

    expect(page).to_have_url(re.compile(r"/register/firm-name$"))
    h1(page, "What is your firm's name?")
    continue_(page)  # an empty answer first: the error state is part of the journey too
    expect(page).to_have_title(title("Error: What is your firm's name?"))
    expect(page.get_by_role("alert").get_by_role("link", name="Enter your firm's name")).to_be_visible()
    scan(page, "firm name, with an error", axe)
    page.get_by_label("Firm name").fill(firm_name)
    continue_(page)
    h1(page, "What email address should we use to contact your firm?")
    scan(page, "contact email", axe)
    page.get_by_label("Contact email address").fill(f"practice-{unique}@example.com")
    continue_(page)
    h1(page, "What is your firm's UK address?")
    scan(page, "firm address", axe)
    page.get_by_label("Address line 1").fill("2 Quay Street")
    page.get_by_label("Town or city").fill("Bristol")
    page.get_by_label("Postcode").fill("bs1 4dj")
    continue_(page)
    h1(page, "Your anti-money laundering supervision")
    scan(page, "supervision", axe)
    page.get_by_label("Supervisory body").select_option(label="HM Revenue and Customs (HMRC)")
    page.get_by_label("Registration number").fill("XAML00000123456")
    continue_(page)

    h1(page, "Check your answers")
    expect(page.get_by_role("definition").filter(has_text=firm_name)).to_be_visible()
    expect(page.get_by_text("BS1 4DJ")).to_be_visible()
    scan(page, "registration, check your answers", axe)
    page.get_by_role("button", name="Create account").click()
    set_up_authenticator_app(page)  # a new member of an agent firm sets up 2-step verification first
    expect(page).to_have_url(re.compile(r"/register/complete$"))
    h1(page, "Agent services account created")
    arn_text = page.get_by_text(re.compile(r"^[A-Z]ARN[0-9]{7}$"))
    expect(arn_text).to_be_visible()
    arn = arn_text.inner_text().strip()
    assert ARN.fullmatch(arn), arn
    expect(page.get_by_text(f"You are the administrator of the agent services account for {firm_name}.")
           ).to_be_visible()
    scan(page, "agent services account created", axe)
    return Firm(firm_name, arn)


def ask_meadow_for_vat(page: Page) -> str:
    """From the registration confirmation, ask Meadow Print Works for VAT, with one wrong date on the way."""
    page.get_by_role("link", name="Ask a client to authorise you").click()
    h1(page, "What type of client is this?")
    scan(page, "ask: client type")
    page.get_by_role("radio", name="Company or partnership").check()
    continue_(page)
    h1(page, "What do you want your client to authorise you for?")
    scan(page, "ask: service")
    page.get_by_role("radio", name="VAT", exact=True).check()
    continue_(page)
    h1(page, "What is your client's VAT registration number?")
    scan(page, "ask: VAT registration number")
    page.get_by_label("What is your client's VAT registration number?").fill(MEADOW_VRN)
    continue_(page)

    h1(page, "When did your client's VAT registration start?")
    scan(page, "ask: VAT registration date")
    wrong = MEADOW_VAT_DATE + timedelta(days=1)
    fill_date(page, wrong)
    continue_(page)
    expect(page).to_have_url(re.compile(r"/authorisation-requests/new/client-not-found$"))
    h1(page, "We could not find your client")
    expect(page.get_by_role("definition").filter(has_text=govuk_date(wrong))).to_be_visible()
    scan(page, "ask: we could not find your client")
    page.get_by_role("link", name="Change VAT registration date").click()
    h1(page, "When did your client's VAT registration start?")
    expect(page.get_by_label("Day")).to_have_value(str(wrong.day))
    fill_date(page, MEADOW_VAT_DATE)
    continue_(page)

    return confirm_and_send(page, MEADOW.name, "VAT")


def ask_sam_for_income_tax(page: Page, axe: bool = True) -> str:
    page.goto("/authorisation-requests/new")
    h1(page, "What type of client is this?")
    page.get_by_role("radio", name="Individual or sole trader").check()
    continue_(page)
    h1(page, "What do you want your client to authorise you for?")
    scan(page, "ask: service, individual", axe)
    page.get_by_role("radio", name="Making Tax Digital for Income Tax").check()
    continue_(page)
    h1(page, "How do you want to act for your client?")
    scan(page, "ask: agent role", axe)
    page.get_by_role("radio", name="As their main agent").check()
    continue_(page)
    h1(page, "What is your client's National Insurance number?")
    scan(page, "ask: National Insurance number", axe)
    page.get_by_label("What is your client's National Insurance number?").fill(SAM_NINO)
    continue_(page)
    h1(page, "What is your client's postcode?")
    scan(page, "ask: postcode", axe)
    page.get_by_label("What is your client's postcode?").fill(SAM.postcode)
    continue_(page)
    return confirm_and_send(page, SAM.name, "Making Tax Digital for Income Tax (main agent)", axe)


def fill_date(page: Page, day: date) -> None:
    page.get_by_label("Day").fill(str(day.day))
    page.get_by_label("Month").fill(str(day.month))
    page.get_by_label("Year").fill(str(day.year))


def confirm_and_send(page: Page, client_name: str, service_name: str, axe: bool = True) -> str:
    """Confirm the client, check the answers, send; returns the client link read from the confirmation."""
    h1(page, f"Is {client_name} the client you want authorisation from?")
    scan(page, "ask: confirm the client", axe)
    page.get_by_role("radio", name="Yes").check()
    continue_(page)
    h1(page, "Check your answers")
    expect(page.get_by_text(f"You are asking {client_name} to authorise you.")).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text=re.compile(rf"^\s*{re.escape(service_name)}\s*$"))
           ).to_be_visible()
    scan(page, "ask: check your answers", axe)
    page.get_by_role("button", name="Confirm and send").click()

    expect(page).to_have_url(re.compile(r"/authorisation-requests/\d+/sent$"))
    h1(page, "Authorisation request created")
    respond_by = govuk_date(date.today() + timedelta(days=EXPIRY_DAYS))
    expect(page.get_by_text(f"They need to respond by {respond_by}.")).to_be_visible()
    link = page.get_by_text(re.compile(r"^http://127\.0\.0\.1:\d+/appoint-someone-to-deal-with-HMRC-for-you/"))
    expect(link).to_be_visible()
    scan(page, "authorisation request created", axe)
    return link.inner_text().strip()


def accept_request(page: Page, link: str, email: str, firm: Firm, role: str, service: str,
                   sign_in: SignIn, replaces: str | None = None, signed_in: bool = False,
                   axe: bool = True) -> None:
    """The client opens the link, signs in, reads the consent page and accepts."""
    page.goto(link)
    h1(page, f"{firm.name} wants to deal with your tax")
    scan(page, "client link start page", axe)
    page.get_by_role("button", name="Start now").click()
    if not signed_in:
        expect(page).to_have_url(re.compile(r"/sign-in\?next="))
        scan(page, "sign in from the client link", axe)
        sign_in(page, email, goto=False)
    expect(page).to_have_url(link + "/respond")
    h1(page, f"{firm.name} wants to be your {role} for {service}")
    expect(page.get_by_role("definition").filter(has_text=firm.name)).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text=re.compile(rf"^\s*{re.escape(service)}"))).to_be_visible()
    if replaces is not None:
        expect(page.get_by_text(f"If you authorise {firm.name}, we will remove {replaces} as your {role} "
                                "for this service.")).to_be_visible()
    scan(page, "consent page", axe)

    continue_(page)  # no answer: the error state
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.get_by_role("alert").get_by_role("link", name=f"Select yes if you want to authorise {firm.name}")
           ).to_be_visible()
    scan(page, "consent page, with an error", axe)
    page.get_by_role("radio", name="Yes").check()
    continue_(page)
    h1(page, "Check your answer")
    scan(page, "client: check your answer", axe)
    page.get_by_role("button", name="Accept and send").click()
    expect(page).to_have_url(re.compile(r"/authorisation-response/\d+/accepted$"))
    h1(page, f"You have authorised {firm.name}")
    scan(page, "client: you have authorised", axe)


def open_client_overview(page: Page, client_name: str, axe: bool = True) -> str:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Your clients").click()
    h1(page, "Your clients")
    expect(page.get_by_role("status")).to_have_text("1 client")
    scan(page, "Your clients, one client", axe)
    page.get_by_role("rowheader").get_by_role("link", name=client_name).click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    h1(page, client_name)
    expect(page.get_by_text(f"You are acting for {client_name}")).to_be_visible()
    scan(page, "client overview", axe)
    return page.url


def expect_not_found(page: Page, url: str, state: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 404
    h1(page, "Page not found")
    expect(page.get_by_text("You are acting for")).to_have_count(0)
    scan(page, state)


def remove_agent(page: Page, firm: Firm, service: str) -> None:
    page.goto("/manage-your-tax-agents")
    h1(page, "Manage who can deal with your tax")
    agents = page.get_by_role("table", name="Agents and helpers who can deal with your tax")
    expect(agents.get_by_role("rowheader", name=firm.name)).to_be_visible()
    scan(page, "manage who can deal with your tax")
    agents.get_by_role("link", name=f"Remove {firm.name} for {service}").click()
    h1(page, f"Are you sure you want to remove {firm.name} for {service}?")
    scan(page, "client: confirm removing the agent")
    page.get_by_role("button", name="Remove authorisation").click()
    expect(page).to_have_url(re.compile(r"/manage-your-tax-agents/removed/\d+$"))
    h1(page, f"You have removed {firm.name}")
    scan(page, "client: agent removed")


def test_agent_registers_asks_client_is_accepted_then_removed(
    page: Page, new_context: NewContext, sign_in: SignIn, demo_accounts: demo.DemoAccounts, mailbox: Mailbox
) -> None:
    agent = page
    firm = register_firm(agent, mailbox, "Handshake")
    link = ask_meadow_for_vat(agent)

    client = new_context().new_page()
    accept_request(client, link, demo_accounts.business_email, firm, "agent", "VAT", sign_in)

    overview = open_client_overview(agent, MEADOW.name)
    agent.get_by_role("navigation", name="Menu").get_by_role("link", name="Authorisation requests").click()
    h1(agent, "Manage your recent authorisation requests")
    row = agent.get_by_role("row").filter(has=agent.get_by_role("rowheader", name=MEADOW.name))
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").filter(has_text="Accepted by client")).to_be_visible()
    scan(agent, "track requests, accepted")

    remove_agent(client, firm, "VAT")
    client.get_by_role("link", name="Manage who can deal with your tax").click()
    expect(client.get_by_role("table", name="Agents and helpers who can deal with your tax")
           .get_by_role("rowheader", name=firm.name)).to_have_count(0)
    expect(client.get_by_role("table", name="History, newest first").get_by_role("row")
           .filter(has_text=firm.name).filter(has_text="No longer authorised: removed by you")).to_have_count(1)
    scan(client, "manage who can deal with your tax, after removing")

    expect_not_found(agent, overview, "agent: former client's overview")
    agent.goto("/clients")
    h1(agent, "Your clients")
    expect(agent.get_by_role("status")).to_have_text("No clients found")
    expect(agent.get_by_role("link", name=MEADOW.name)).to_have_count(0)
    scan(agent, "Your clients, none")


def test_a_new_main_agent_replaces_the_old_one_at_once(page: Page, new_context: NewContext, sign_in: SignIn,
                                                      mailbox: Mailbox) -> None:
    income_tax = "Income Tax (Making Tax Digital)"
    first = page
    # Pages the handshake test scans already are not scanned again here; the new ones (Income Tax's questions,
    # the consent page's warning, removing an Income Tax agent, the replaced agent's 404) are.
    first_firm = register_firm(first, mailbox, "First", axe=False)
    link = ask_sam_for_income_tax(first)
    client = new_context().new_page()
    accept_request(client, link, SAM.email, first_firm, "main agent", income_tax, sign_in, axe=False)
    first_overview = open_client_overview(first, SAM.name, axe=False)

    second = new_context().new_page()
    second_firm = register_firm(second, mailbox, "Second", axe=False)
    link = ask_sam_for_income_tax(second, axe=False)
    accept_request(client, link, SAM.email, second_firm, "main agent", income_tax, sign_in,
                   replaces=first_firm.name, signed_in=True)

    expect_not_found(first, first_overview, "replaced agent: former client's overview")
    open_client_overview(second, SAM.name, axe=False)
    # Leave Sam as nobody's client, so the other mode's run starts from the same place.
    remove_agent(client, second_firm, income_tax)
    expect(client.get_by_text("This does not remove a separate Self Assessment authorisation.")).to_be_visible()

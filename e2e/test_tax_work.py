"""Issue 4's journeys: an agent files a VAT return for a client (once, however often it is sent); the client then
sees it in their activity; a trusted helper is not offered, and cannot reach, a return. Issue 15's: an agent adds
savings and dividends to a client's final declaration and checks HMRC's breakdown before declaring. JS on and off.

The live server is shared by both modes, and a VAT period can be filed only once, so each mode files for a
different Harbour & Reed VAT client: the Nth of "Your clients" filtered by VAT, N chosen by mode and journey.
(Meadow Print Works, the demo taxpayer with its own sign-in, has a single open VAT period, too few for two modes:
instead journey 2 gives a Harbour client its own sign-in through "Link your tax account".)
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import SignIn, h1, scan, title
from portal.devdata import demo

HARBOUR = "Harbour & Reed Tax Advisers LLP"
AGENT_NAME = "Amira Reed"
JANE = "Jane Whitfield"
DECLARATION = "I confirm that the information I have given is correct and complete"
REFERENCE = re.compile(r"^[A-HJ-NP-Z2-9]{12}$")
# (box, typed) for the boxes a person fills in; box 3 and box 5 are worked out.
FIGURES = (("1", "1000.00"), ("2", "0"), ("4", "250.50"), ("6", "5000"), ("7", "1000"), ("8", "0"), ("9", "0"))
NewContext = Callable[..., BrowserContext]


@dataclass(frozen=True)
class Filed:
    period: str  # "1 October 2026 to 31 December 2026"
    reference: str


def open_vat_client(page: Page, js: bool, index: int, axe: bool = True) -> str:
    """From "Your clients", filtered by VAT, open the index-th client's overview; returns the client's name."""
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Your clients").click()
    h1(page, "Your clients")
    page.get_by_label("Tax service").select_option(label="VAT")
    if not js:  # with JavaScript the list follows the select; without, the Search button reloads it
        page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/clients\?(.*&)?service=VAT(&|$)"))
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Showing 1 to 20 of \d+ clients found$"))
    scan(page, "Your clients, VAT", axe)
    chosen = page.get_by_role("table").get_by_role("rowheader").get_by_role("link").nth(index)
    name = chosen.inner_text().strip()
    chosen.click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    h1(page, name)
    expect(page.get_by_text(f"You are acting for {name}")).to_be_visible()
    scan(page, "client overview, VAT client", axe)
    return name


def open_first_vat_return(page: Page, client: str, axe: bool = True) -> str:
    """From the overview, "VAT returns" then the first period still to send; returns the period."""
    page.get_by_role("link", name="VAT returns", exact=True).click()
    expect(page).to_have_url(re.compile(r"/clients/\d+/vat$"))
    h1(page, "VAT")
    expect(page).to_have_title(title(f"VAT – {client}"))
    scan(page, "VAT obligations", axe)
    to_send = page.get_by_role("table", name="VAT returns still to send")
    row = to_send.get_by_role("row").filter(has=page.get_by_role("link", name=re.compile(r"^Submit VAT return"))).first
    period = row.get_by_role("cell").first.inner_text().strip()
    row.get_by_role("link", name=f"Submit VAT return for {period}").click()
    expect(page).to_have_url(re.compile(r"/vat/returns/\d+$"))
    h1(page, "Submit VAT return")
    expect(page).to_have_title(title(f"Submit VAT return – {client}"))
    expect(page.get_by_text(f"For the period {period}, due by")).to_be_visible()
    return period


def fill_boxes(page: Page, client: str, axe: bool = True) -> None:
    """The boxes: first sent empty (every typed box in error, in the summary and by its field), then filled."""
    scan(page, "VAT return form", axe)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(title(f"Error: Submit VAT return – {client}"))
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(len(FIGURES))
    for box, _ in FIGURES:
        message = f"Enter the amount for box {box}. Enter 0 if there is none"
        expect(summary.get_by_role("link", name=message)).to_have_attribute("href", f"#box{box}")
        expect(page.get_by_label(f"Box {box}:")).to_have_accessible_description(
            re.compile(rf"Error:\s+{re.escape(message)}\s*$"))
    scan(page, "VAT return form, every box in error", axe)
    for box, typed in FIGURES:
        page.get_by_label(f"Box {box}:").fill(typed)
    page.get_by_role("button", name="Continue").click()


def check_and_submit(page: Page, client: str, period: str, axe: bool = True) -> Filed:
    """Check your VAT return; the declaration left unticked first; then sent. Returns the receipt's reference."""
    expect(page).to_have_url(re.compile(r"/vat/returns/\d+/check$"))
    h1(page, "Check your VAT return")
    expect(page.get_by_text(f"For the period {period}.")).to_be_visible()
    figures = page.get_by_role("definition")
    expect(figures.filter(has_text=re.compile(r"^\s*£1,000\.00\s*$"))).to_have_count(2)  # box 1 and box 3
    expect(figures.filter(has_text=re.compile(r"^\s*£749\.50 to pay\s*$"))).to_be_visible()  # box 5
    expect(page.get_by_role("term").filter(has_text="Box 3: Total VAT due (calculated)")).to_be_visible()
    expect(page.get_by_text(f"{client} will need to pay £749.50 to HMRC.")).to_be_visible()
    expect(page.get_by_role("link", name="Change box 4, VAT reclaimed")).to_be_visible()
    scan(page, "check your VAT return", axe)

    page.get_by_role("button", name="Submit VAT return").click()
    expect(page).to_have_title(title(f"Error: Check your VAT return – {client}"))
    expect(page.get_by_role("alert").get_by_role("link", name="Select the box to confirm")).to_be_visible()
    expect(page.get_by_role("group", name="Declaration")).to_have_accessible_description(
        re.compile(r"^\s*Error:\s+Select the box to confirm\s*$"))
    expect(page.get_by_role("checkbox", name=DECLARATION)).not_to_be_checked()
    scan(page, "check your VAT return, declaration not confirmed", axe)

    page.get_by_role("checkbox", name=DECLARATION).check()
    page.get_by_role("button", name="Submit VAT return").click()
    return read_receipt(page, client, period)


def read_receipt(page: Page, client: str, period: str, expected: Filed | None = None) -> Filed:
    """The receipt's reference; with `expected`, the receipt must be that submission's."""
    expect(page).to_have_url(re.compile(r"/vat/returns/\d+/receipt$"))
    h1(page, "VAT return submitted")
    expect(page).to_have_title(title(f"VAT return submitted – {client}"))
    reference = page.get_by_text(REFERENCE)
    expect(reference).to_have_count(1)
    if expected is not None:
        expect(reference).to_have_text(expected.reference)
    expect(page.get_by_role("definition").filter(has_text=period)).to_be_visible()
    return Filed(period, reference.inner_text().strip())


def receipt_link(filed: Filed) -> re.Pattern[str]:
    # The link reads "Receipt ABC… for 1 July 2026 to …"; hidden text can bring its own spaces.
    return re.compile(rf"^Receipt\s+{filed.reference}\s+for {re.escape(filed.period)}$")


def expect_filed(page: Page, filed: Filed) -> None:
    """The VAT page lists the period as sent, with its reference, and no longer as one to send."""
    h1(page, "VAT")
    sent = page.get_by_role("table", name="VAT returns sent").get_by_role("row").filter(has_text=filed.period)
    expect(sent).to_have_count(1)
    expect(sent.get_by_role("link", name=receipt_link(filed))).to_be_visible()
    expect(sent.get_by_role("cell").filter(has_text=re.compile(r"^\s*£749\.50 to pay\s*$"))).to_be_visible()
    expect(page.get_by_role("link", name=f"Submit VAT return for {filed.period}")).to_have_count(0)


def test_an_agent_files_a_vat_return_for_a_client_once(page: Page, js: bool, sign_in: SignIn) -> None:
    sign_in(page)
    h1(page, "Your clients")
    client = open_vat_client(page, js, 0 if js else 1)
    period = open_first_vat_return(page, client)
    fill_boxes(page, client)
    expect(page).to_have_url(re.compile(r"/check$"))
    check_url = page.url

    # A second tab on the same return, still showing the declaration: sending it after the first sees one receipt.
    other_tab = page.context.new_page()
    other_tab.goto(check_url)
    h1(other_tab, "Check your VAT return")

    filed = check_and_submit(page, client, period)
    expect(page.get_by_role("definition").filter(has_text=f"{AGENT_NAME}, {HARBOUR}")).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text=re.compile(r"^\s*£749\.50 to pay\s*$"))).to_be_visible()
    scan(page, "VAT return submitted")
    receipt_url = page.url

    other_tab.get_by_role("checkbox", name=DECLARATION).check()
    other_tab.get_by_role("button", name="Submit VAT return").click()
    read_receipt(other_tab, client, period, filed)
    expect(other_tab).to_have_url(receipt_url)
    # Back, from the receipt to the declaration: the server sends the receipt again instead.
    other_tab.go_back()
    read_receipt(other_tab, client, period, filed)
    other_tab.close()

    # Reloading the receipt, or opening the declaration or the boxes again: still the one submission. (In this
    # tab Back would reach the declaration's POST with an error, which a browser will not resend unasked.)
    page.reload()
    read_receipt(page, client, period, filed)
    page.goto(check_url)
    read_receipt(page, client, period, filed)
    # The return's pages now lead to the receipt, not to a second submission.
    page.goto(check_url.removesuffix("/check"))
    read_receipt(page, client, period, filed)

    page.get_by_role("link", name=f"Back to VAT for {client}").click()
    expect_filed(page, filed)
    scan(page, "VAT obligations, after submitting")


def link_tax_account(page: Page, vrn: str, postcode: str) -> str:
    """A new person signs up and links the tax account with its VAT registration number and postcode."""
    unique = uuid.uuid4().hex[:10]
    page.goto("/sign-up")
    h1(page, "Create your sign-in details")
    scan(page, "sign up")
    page.get_by_label("Full name").fill(f"Owner {unique}")
    page.get_by_label("Email address").fill(f"owner-{unique}@example.com")
    page.get_by_label("Create a password").fill(demo.DEMO_PASSWORD)
    page.get_by_label("Confirm password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Create sign-in details").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    h1(page, "Your account")
    expect(page.get_by_text("There is no tax account linked to your sign-in details yet.")).to_be_visible()
    scan(page, "your account, no tax account")

    page.get_by_role("link", name="Link your tax account").click()
    h1(page, "Link your tax account")
    scan(page, "link your tax account")
    page.get_by_role("button", name="Link tax account").click()
    expect(page).to_have_title(title("Error: Link your tax account"))
    alert = page.get_by_role("alert")
    expect(alert.get_by_role("link", name="Select which tax reference you want to use")).to_be_visible()
    expect(alert.get_by_role("link", name="Enter your postcode")).to_be_visible()
    scan(page, "link your tax account, with errors")
    page.get_by_role("radio", name="VAT registration number").check()
    page.get_by_label("Your tax reference").fill(vrn)
    page.get_by_label("Postcode").fill(postcode)
    page.get_by_role("button", name="Link tax account").click()
    h1(page, "Tax account linked")
    scan(page, "tax account linked")
    page.get_by_role("link", name="See your tax account").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    return page.url


def test_the_client_sees_the_return_their_agent_filed_in_their_activity(
    page: Page, js: bool, new_context: NewContext, sign_in: SignIn
) -> None:
    agent = page
    sign_in(agent)
    h1(agent, "Your clients")
    # Pages journey 1 scans (the client list, an overview, the return's pages) are not scanned again here.
    client = open_vat_client(agent, js, 2 if js else 3, axe=False)
    vrn = agent.get_by_role("definition").filter(has_text=re.compile(r"^\s*\d{9}\s*$")).inner_text().strip()
    agent.get_by_role("link", name="Contact details and address").click()
    h1(agent, "Client details")
    expect(agent).to_have_title(title(f"Details – {client}"))
    scan(agent, "client details, for the agent")
    address = agent.get_by_role("definition").filter(has_text=re.compile(r"[A-Z0-9]{2,4} [0-9][A-Z]{2}\s*$"))
    postcode = address.inner_text().strip().splitlines()[-1].strip()

    owner = new_context().new_page()
    overview = link_tax_account(owner, vrn, postcode)
    h1(owner, client)
    expect(owner.get_by_text("You are acting for")).to_have_count(0)
    scan(owner, "the client's own overview")

    agent.get_by_role("link", name="Back to the client overview").click()
    h1(agent, client)
    period = open_first_vat_return(agent, client, axe=False)
    fill_boxes(agent, client, axe=False)
    filed = check_and_submit(agent, client, period, axe=False)

    owner.get_by_role("link", name="Activity on your account").click()
    expect(owner).to_have_url(overview + "/activity")
    h1(owner, "Activity on your account")
    expect(owner).to_have_title(title(f"Activity on your account – {client}"))
    activity = owner.get_by_role("table", name="Activity on your account")
    newest = activity.get_by_role("row").nth(1)  # the header row first, then the newest event
    expect(newest.get_by_role("cell").nth(1)).to_have_text(f"{AGENT_NAME}, {HARBOUR}")
    expect(newest.get_by_role("cell").nth(2)).to_have_text(f"Submitted a VAT return (reference {filed.reference})")
    expect(activity.get_by_role("row").filter(has_text="Linked this tax account to a sign-in")
           .get_by_role("cell").nth(1)).to_have_text("You")
    scan(owner, "activity on your account")

    owner.get_by_role("link", name="Back to your overview").click()
    h1(owner, client)
    owner.get_by_role("link", name="VAT returns", exact=True).click()
    expect_filed(owner, filed)
    scan(owner, "the client's VAT page, with the agent's return")
    owner.get_by_role("link", name=receipt_link(filed)).click()
    read_receipt(owner, client, period, filed)
    expect(owner.get_by_role("definition").filter(has_text=f"{AGENT_NAME}, {HARBOUR}")).to_be_visible()
    scan(owner, "the client's view of the receipt")


def expect_not_found(page: Page, url: str, state: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 404
    h1(page, "Page not found")
    expect(page.get_by_text(f"You are helping {JANE}")).to_have_count(0)
    scan(page, state)


def test_a_helper_is_not_offered_and_cannot_reach_a_return(
    page: Page, new_context: NewContext, sign_in: SignIn, demo_accounts: demo.DemoAccounts
) -> None:
    # Jane herself shows where her returns are: a VAT return and a quarterly update she could send.
    jane = new_context().new_page()
    sign_in(jane, demo_accounts.client_email)
    expect(jane).to_have_url(re.compile(r"/account$"))
    jane.get_by_role("link", name=JANE, exact=True).click()
    h1(jane, JANE)
    own_pages = jane.url
    jane.get_by_role("link", name="VAT returns", exact=True).click()
    h1(jane, "VAT")
    scan(jane, "the taxpayer's own VAT page")
    vat_return = jane.get_by_role("link", name=re.compile(r"^Submit VAT return for ")).first.get_attribute("href")
    jane.goto(own_pages)
    jane.get_by_role("link", name="Income Tax: quarterly updates and final declaration").click()
    h1(jane, "Income Tax")
    scan(jane, "the taxpayer's own Income Tax page")
    update = jane.get_by_role("link", name=re.compile(r"^Send quarterly update for ")).first.get_attribute("href")
    assert vat_return and update
    jane.context.close()

    helper = page
    sign_in(helper, demo_accounts.helper_email)
    helper.goto("/helping")
    h1(helper, "People you help")
    scan(helper, "people you help")
    helper.get_by_role("link", name=JANE, exact=True).click()
    expect(helper).to_have_url(own_pages)
    h1(helper, JANE)
    expect(helper.get_by_text(f"You are helping {JANE}")).to_be_visible()
    expect(helper.get_by_role("link", name="VAT returns")).to_have_count(0)
    expect(helper.get_by_role("link", name=re.compile("Income Tax"))).to_have_count(0)
    expect(helper.get_by_role("link", name=re.compile("Submit|Send"))).to_have_count(0)
    expect(helper.get_by_role("button", name=re.compile("Submit|Send"))).to_have_count(0)
    scan(helper, "helper's view of the person")

    for path, state in ((own_pages + "/vat", "VAT page"), (own_pages + "/income-tax", "Income Tax page"),
                        (vat_return, "a VAT return"), (update, "a quarterly update")):
        expect_not_found(helper, path, f"helper asks for the person's {state}")

    helper.goto(own_pages)
    helper.get_by_role("link", name="Contact details and address").click()
    h1(helper, "Client details")
    expect(helper).to_have_title(title(f"Details – {JANE}"))
    expect(helper.get_by_text(f"You are helping {JANE}")).to_be_visible()
    expect(helper.get_by_role("link", name="Change postal address")).to_be_visible()
    scan(helper, "helper's view of the person's details")


def open_ready_final_declaration(page: Page) -> str:
    """The first Harbour & Reed Income Tax client whose final declaration is ready to make (every quarterly update
    sent, the year ended); each mode declares once, so the second finds the next client. Returns the client."""
    page.goto("/clients?service=ITSA")
    clients = page.get_by_role("table").get_by_role("link")
    expect(clients.first).to_be_visible()
    for href in [clients.nth(i).get_attribute("href") for i in range(clients.count())]:
        page.goto(f"{href}/income-tax")
        review = page.get_by_role("link", name=re.compile(r"^Review and submit final declaration"))
        if review.count() == 0:
            continue
        review.first.click()
        h1(page, re.compile(r"^Final declaration for the \d{4} to \d{4} tax year$"))
        if page.get_by_role("heading", name="Income and claims").count():
            return page.locator(".govuk-caption-l").first.inner_text().strip()
    raise AssertionError("no Harbour & Reed client has a final declaration ready to make")


def test_an_agent_adds_savings_and_dividends_and_sees_hmrcs_breakdown_before_declaring(
        page: Page, js: bool, sign_in: SignIn) -> None:
    sign_in(page)
    h1(page, "Your clients")
    client = open_ready_final_declaration(page)
    declaration_url = page.url
    # What the figure leaves out is named before the declaration, so nobody takes it for the whole story.
    expect(page.get_by_role("heading", name="What this calculation does not include")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="The High Income Child Benefit Charge")).to_be_visible()
    answers = page.get_by_role("heading", name="Income and claims").locator("xpath=following-sibling::dl[1]")
    expect(answers.get_by_role("definition").filter(has_text=re.compile(r"^\s*No\s*$"))).to_have_count(1)  # Scottish
    scan(page, "final declaration, before any answers")

    # Whether the client is a Scottish taxpayer is recorded in their details, not guessed; the link goes there.
    page.get_by_role("link", name="Change whether a Scottish taxpayer").click()
    h1(page, f"Is {client} a Scottish taxpayer?")
    scan(page, "is the client a Scottish taxpayer")
    page.get_by_role("radio", name="Yes, the main home is in Scotland").check()
    page.get_by_role("button", name="Continue").click()
    h1(page, "Check your answers")
    expect(page.get_by_role("definition").filter(has_text="Yes, the main home is in Scotland")).to_be_visible()
    page.get_by_role("button", name="Save Scottish taxpayer status").click()
    h1(page, "Scottish taxpayer status updated")
    scan(page, "Scottish taxpayer status updated")
    page.goto(declaration_url)
    expect(answers.get_by_role("definition").filter(has_text="Yes: Scottish rates on profits")).to_be_visible()
    expect(page.get_by_role("table", name="Income Tax").get_by_role(
        "rowheader", name="Income Tax on profits (Scottish rates)")).to_be_visible()

    page.get_by_role("link", name="Change savings interest").click()
    h1(page, "Savings interest and dividends")
    expect(page).to_have_title(title(f"Savings interest and dividends – {client}"))
    page.get_by_label("Interest from banks, building societies and savings").fill("12.50")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(title(f"Error: Savings interest and dividends – {client}"))
    message = "Savings interest must be a whole number of pounds, like 350"
    expect(page.get_by_role("alert").get_by_role("link", name=message)).to_have_attribute("href", "#savings_interest")
    expect(page.get_by_label("Interest from banks, building societies and savings")).to_have_accessible_description(
        re.compile(re.escape(message)))
    scan(page, "savings interest and dividends, with an error")
    page.get_by_label("Interest from banks, building societies and savings").fill("1,500")
    page.get_by_label("Dividends from shares in UK companies").fill("2500")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(declaration_url)
    expect(answers.get_by_role("definition").filter(has_text="£1,500.00")).to_be_visible()
    expect(answers.get_by_role("definition").filter(has_text="£2,500.00")).to_be_visible()
    income_tax = page.get_by_role("table", name="Income Tax")
    expect(income_tax.get_by_role("rowheader", name="Income Tax on savings interest")).to_be_visible()
    expect(income_tax.get_by_role("rowheader", name="Income Tax on dividends")).to_be_visible()
    # The first £500 of dividends is taxed at 0%, and still shown as HMRC shows it.
    allowance = income_tax.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Dividend Allowance"))
    expect(allowance.get_by_role("cell")).to_have_text(["0%", "£500.00", "£0.00"])
    scan(page, "final declaration, with savings and dividends")

    page.get_by_role("button", name="Submit final declaration").click()
    expect(page.get_by_role("alert").get_by_role("link", name="Select the box to confirm")).to_be_visible()
    page.get_by_role("checkbox", name=re.compile(r"^I confirm that the information is correct")).check()
    page.get_by_role("button", name="Submit final declaration").click()
    h1(page, "Final declaration submitted")
    expect(page.get_by_role("table", name="Income Tax").get_by_role("rowheader", name="Income Tax on dividends")
           ).to_be_visible()
    scan(page, "final declaration submitted, with savings and dividends")


def test_every_question_of_a_final_declaration_passes_the_page_checks(page: Page, sign_in: SignIn) -> None:
    """The declaration's own questions beyond savings and dividends (issue 15's pages, after issue 9's checks): each
    one the declaration links to, opened and left unanswered, so the declaration stays for the other tests."""
    sign_in(page)
    h1(page, "Your clients")
    open_ready_final_declaration(page)
    answers = page.get_by_role("heading", name="Income and claims").locator("xpath=following-sibling::dl[1]")
    expect(answers.get_by_role("link").first).to_be_visible()
    hrefs = {link.get_attribute("href") or "" for link in answers.get_by_role("link").all()}
    # Savings and dividends (with an error) and the Scottish taxpayer question are scanned by the journey above.
    questions = sorted(href for href in hrefs if "/final-declaration/" in href and not href.endswith("/other-income"))
    assert any(href.endswith("/trading-allowance") for href in questions), hrefs
    for href in questions:
        page.goto(href)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        scan(page, f"final declaration question {href.rsplit('/', 1)[1]}")

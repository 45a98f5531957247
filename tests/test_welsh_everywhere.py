"""Every page, fully in Welsh (issue 10): with Welsh chosen, each kind of person walks every page they can reach by
links from their home, and every page must say `<html lang="cy">`, have a Welsh `<title>` and show no English
outside data (names, addresses, references, email addresses) and text marked `lang="en"`.

English is found by its common function words, none of which is a Welsh word ("the", "your", "and", "with"...):
a sentence left in English has one of them, and a Welsh sentence has none. Text is read from the page's text nodes
and from the attributes a screen reader reads (aria-label, alt, title, placeholder).

The question forms met on the way are also sent empty (only forms whose POST validates a question: never a confirm,
submit, remove or sign-out button), and the error page must be Welsh too: "Gwall:" title, "Mae problem wedi codi".
Pages no link reaches (they come after a POST, or from an emailed link) are walked as journeys, once their state
is arranged, each question first sent empty:
- an agent: asking for authorisation (every question, the check, sent, resend, cancel, cancelled; already
  authorised, already pending, client not found, a trust's question), a VAT return and an Income Tax update (check,
  receipt), registering software, connected applications, the API reference, the OAuth error page, confirm it is
  you, inviting a team member and the emailed join page, stopping acting (question, confirm, stopped), the CSV's
  headings;
- a client: the link an agent sent, consent, decline and declined, check your answer and accepted, removing an
  agent and removed, changing their details (check, saved), a final declaration and its receipt, inviting a helper
  (check, sent), the helper's emailed invitation (signed out and in, accepted), removing the helper and removed;
- before signing in: start, sign in, sign up, password reset, signed out, timed out, the 404; the second step and
  recovery code, setting up 2-step verification; a password reset from its email; signing up, confirming the email,
  registering a firm (every question, check, complete) and linking a tax account;
and the emails these journeys send, rendered in Welsh.
Not walked: the one-use sign-in link, removing a second-step method.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import html5lib
import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from starlette.testclient import TestClient

from portal.app import create_app
from portal.devdata import demo
from portal.domain import handshake
from portal.domain.client_links import client_link
from portal.domain.models import Authorisation, HelperLink, Membership, Obligation
from portal.domain.outbox_models import OutboxEmail
from portal.domain.services import BY_KEY
from portal.domain.sql import make_engine, unit_of_work
from portal.i18n import CATALOGUES
from portal.mail.render import render as render_email
from portal.settings import Settings
from tests import factories
from tests.conftest import _check_html_and_links
from tests.factories import World, set_up_authenticator_app, sign_in
from tests.links import route_of
from tests.test_income_tax import _tax_year as income_tax_year
from tests.welsh import choose_welsh

TODAY = date.today()
WELSH_PO = CATALOGUES / "cy" / "LC_MESSAGES" / "messages.po"
MAX_PAGES = 150  # per person
PAGES_PER_ROUTE = 5  # a route's page in a few states (a client with VAT, one with Income Tax...), not all of them

# Words of English sentences that are not Welsh words; whole words, any case.
ENGLISH_WORDS = re.compile(r"(?<![\w’'-])(the|your|you|and|of|with|for|this|has|have|not|will|are|is)(?![\w’'-])", re.I)


def _english_messages() -> frozenset[str]:
    """The catalogue's English messages that Welsh says differently: shown whole on a Welsh page, one is a leak
    even with no function word in it ("Help with tax", "Due")."""
    with WELSH_PO.open("rb") as po:
        catalogue = read_po(po, locale="cy")
    return frozenset(m.id for m in catalogue if isinstance(m.id, str) and m.id and m.string != m.id
                     and "%(" not in m.id and "<" not in m.id and len(m.id) > 2)


ENGLISH_MESSAGES = _english_messages()
# Attributes whose words reach people: read aloud, shown as table labels on a phone, or put on the page by a script
# (the timeout warning's text).
READ_ALOUD = ("aria-label", "alt", "title", "placeholder", "data-label", "data-title", "data-message",
              "data-message-suffix", "data-keep-alive-button-text", "data-sign-out-button-text", "data-minutes",
              "data-minute", "data-seconds", "data-second")
SKIPPED_ELEMENTS = {"script", "style", "template"}

# Not crawled: leaving the site or the session, the toggle, files and machine endpoints, one-use links.
NOT_CRAWLED = re.compile(r"^/(?:sign-out|language/|keep-alive|static/|api/openapi\.json|agents/|organisations/|oauth/"
                         r"|agent-authorisation-test-support/|sign-in/link/|join/|confirm-email/|password-reset/"
                         r"|trusted-helpers/accept/|sign-up/confirm/)|\.csv$")
# Forms never sent empty: their POST acts (or an empty answer is a valid one).
ACTING_FORMS = re.compile(r"sign-out|remove|confirm|submit|cancel|decline|accept|delete|leave|stop|withdraw|resend|"
                          r"/role$|invitations|revoke|access-groups|members$|passkey|recovery-codes|check|/send|"
                          r"authorize|reset|client-reference|connected-applications|/clients$|/keep-alive|language|"
                          r"/other-income$")  # its empty answer is an answer: none


@dataclass(frozen=True)
class Person:
    email: str
    start: tuple[str, ...]


PEOPLE = {
    "firm administrator": Person("agent@example.com", ("/", "/clients", "/whats-due", "/authorisation-requests",
                                                       "/activity", "/manage-account", "/account")),
    "standard user": Person("staff@example.com", ("/", "/clients", "/whats-due", "/account")),
    "client taxpayer": Person("client@example.com", ("/", "/account", "/manage-your-tax-agents", "/trusted-helpers")),
    "business client": Person("business@example.com", ("/", "/account")),
    "trusted helper": Person("helper@example.com", ("/", "/helping", "/account")),
}


@dataclass
class Walk:
    pages: Counter[str] = field(default_factory=Counter)  # route name -> pages seen
    visited: list[str] = field(default_factory=list)
    forms: list[tuple[str, str]] = field(default_factory=list)  # (page, action) of the question forms met
    problems: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    partials: int = 0


@pytest.fixture(scope="module")
def demo_engine(postgres_engine: Engine | None, settings: Settings,  # type: ignore[no-untyped-def]
                tmp_path_factory) -> Iterator[Engine]:
    """The demo data, small: requests in each state, a helper, groups, returns due and sent."""
    if postgres_engine is not None:
        pytest.skip("the walk reads a seeded SQLite file; PostgreSQL runs the same templates")
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('welsh') / 'demo.db'}")
    SQLModel.metadata.create_all(engine)
    with unit_of_work(engine) as db:
        demo.seed(db, settings, today=TODAY, clients=12)
    yield engine
    engine.dispose()


# Tables whose text is data people entered or were given (not codes, not sentences the portal wrote).
NOT_DATA = {"outbox_email", "outbox_attempt", "audit_event", "api_idempotency_key", "rate_limit_event", "user_session",
            "email_token", "api_token", "api_authorization_code", "recovery_code", "taxpayer_name_word"}


# Columns holding the portal's own words (a label chosen from a list), which are translated where shown.
NOT_DATA_COLUMNS = {"firm.amls_body"}


def data_values(engine: Engine) -> re.Pattern[str]:
    """Every text value held about people, firms and clients (names, addresses, emails, references), as whole
    words, longest first (so "Jane Whitfield Ltd" goes before "Jane Whitfield")."""
    values: set[str] = set()
    with Session(engine) as db:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in NOT_DATA:
                continue
            columns = [c for c in table.columns if f"{table.name}.{c.name}" not in NOT_DATA_COLUMNS]
            for row in db.execute(select(*columns)).all():
                values.update(v for v in row if isinstance(v, str) and len(v) >= 3)
    ordered = sorted(values, key=len, reverse=True)
    return re.compile(r"(?<![\w@.-])(?:" + "|".join(map(re.escape, ordered)) + r")(?![\w@-])")


def _parse(html: str) -> Element:
    return html5lib.parse(html, namespaceHTMLElements=False)  # type: ignore[no-any-return]


def english_in(tree: Element, data: re.Pattern[str]) -> list[str]:
    """The pieces of text on the page that read as English, outside data and lang="en"."""
    found: list[str] = []

    def check(text: str | None) -> None:
        if not text or not text.strip():
            return
        text = " ".join(text.split())
        if text in ENGLISH_MESSAGES:
            found.append(text)
            return
        text = data.sub(" ", text)
        if ENGLISH_WORDS.search(text):
            found.append(text.strip())

    def visit(element: Element, skipped: bool) -> None:
        if not skipped:
            check(element.text)
            for attribute in READ_ALOUD:
                check(element.get(attribute))
        for child in element:
            if isinstance(child.tag, str):
                lang = child.get("lang", "")
                visit(child, skipped or child.tag in SKIPPED_ELEMENTS or lang == "en" or lang.startswith("en-"))
            if not skipped:
                check(child.tail)

    visit(tree, False)
    return found


def title_of(tree: Element) -> str:
    title = tree.find(".//title")
    return " ".join((title.text or "").split()) if title is not None else ""


def check_page(where: str, html: str, data: re.Pattern[str], problems: list[str], *,
               error_page: bool = False, email: bool = False) -> Element:
    tree = _parse(html)
    html_element = tree if tree.tag == "html" else tree.find(".//html")
    lang = html_element.get("lang") if html_element is not None else None
    if lang != "cy":
        problems.append(f"{where}: <html lang={lang!r}>")
    title = title_of(tree)
    if " – " not in title and not email:
        problems.append(f"{where}: title {title!r} does not say the page and the service")
    if error_page:
        if not title.startswith("Gwall:"):
            problems.append(f"{where}: error page title {title!r} does not start 'Gwall:'")
        if "Mae problem wedi codi" not in html:
            problems.append(f"{where}: error page has no 'Mae problem wedi codi'")
    problems += [f"{where}: English {text!r}" for text in dict.fromkeys(english_in(tree, data))]
    return tree


def walk(client: TestClient, app, person: Person, data: re.Pattern[str]) -> Walk:  # type: ignore[no-untyped-def]
    """Breadth first from the person's start pages, GET links on this site only."""
    seen: set[str] = set()
    partials: set[str] = set()
    result = Walk()
    queue = deque(person.start)
    while queue and len(result.visited) < MAX_PAGES:
        path = queue.popleft().split("#")[0]
        bare = path.split("?")[0]
        name = route_of(app, "GET", bare)
        if path in seen or name is None or NOT_CRAWLED.search(bare) or result.pages[name] >= PAGES_PER_ROUTE:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code in (302, 303, 307):
            location = urlsplit(response.headers["location"])
            if not location.netloc or location.netloc == "testserver":
                queue.appendleft(location.path + (f"?{location.query}" if location.query else ""))
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        result.pages[name] += 1
        result.visited.append(path)
        if response.status_code != 200:
            result.not_found.append(f"{path}: {response.status_code}")  # its error page is checked all the same
        if not response.text.lstrip().lower().startswith("<!doctype"):
            continue  # an htmx partial: its text is checked on the page that includes it
        tree = check_page(path, response.text, data, result.problems)
        for element in tree.iter("a"):
            href = element.get("href") or ""
            if href.startswith("/") and not href.startswith("//"):
                queue.append(href)
        for element in tree.iter():
            partial = element.get("data-hx-get") or element.get("hx-get")
            if isinstance(element.tag, str) and partial and partial.startswith("/") and partial not in partials:
                partials.add(partial)  # the htmx partial it asks for, as htmx asks
                answer = client.get(partial, headers={"HX-Request": "true"})
                if answer.status_code == 200 and answer.headers.get("content-type", "").startswith("text/html"):
                    result.partials += 1
                    result.problems += [f"{partial} (htmx): English {text!r}" for text in
                                        dict.fromkeys(english_in(html5lib.parseFragment(
                                            answer.text, namespaceHTMLElements=False), data))]
        for form in tree.iter("form"):
            action = form.get("action") or path
            if (form.get("method") or "get").lower() == "get":
                if action.startswith("/"):
                    queue.append(action)  # a search form: its page with no query
                continue
            if is_question(form) and action.startswith("/") and not ACTING_FORMS.search(urlsplit(action).path):
                result.forms.append((path, action))
    return result


def is_question(form: Element) -> bool:
    """A GOV.UK question: at least one field a person answers."""
    for element in form.iter():
        if element.tag in ("textarea", "select"):
            return True
        if element.tag == "input" and (element.get("type") or "text") in (
                "text", "email", "tel", "radio", "checkbox", "password", "number", "search"):
            return True
    return False


def hidden_fields(html: str, action: str) -> dict[str, str]:
    tree = _parse(html)
    for form in tree.iter("form"):
        if form.get("action") == action:
            return {i.get("name") or "": i.get("value") or "" for i in form.iter("input")
                    if i.get("type") == "hidden" and i.get("name")}
    return {}


def post_empty(client: TestClient, forms: list[tuple[str, str]], data: re.Pattern[str], problems: list[str]) -> int:
    """Each question form sent with no answers: the page comes back with its errors, in Welsh."""
    posted = 0
    for page, action in dict.fromkeys(forms):
        fresh = client.get(page)
        if fresh.status_code != 200:
            continue
        fields = hidden_fields(fresh.text, action)
        if "csrf_token" not in fields:
            continue
        response = client.post(action, data=fields)
        posted += 1
        where = f"POST {action} (from {page})"
        if response.status_code in (302, 303):
            problems.append(f"{where}: accepted an empty form ({response.headers['location']})")
            continue
        check_page(where, response.text, data, problems, error_page=True)
    return posted


@pytest.mark.parametrize("who", list(PEOPLE))
def test_every_page_a_person_reaches_is_in_welsh(demo_engine: Engine, settings: Settings, who: str) -> None:
    person = PEOPLE[who]
    app = create_app(settings=settings, engine=demo_engine)
    data = data_values(demo_engine)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        client.event_hooks["response"].append(_check_html_and_links(app))
        choose_welsh(client)
        sign_in(client, person.email, demo.DEMO_PASSWORD, demo.DEMO_TOTP_SECRET)
        result = walk(client, app, person, data)
        posted = post_empty(client, result.forms, data, result.problems)
    print(f"{who}: {len(result.visited)} pages, {len(result.pages)} routes, {posted} forms posted empty,"
          f" {result.partials} htmx partials;"
          f" not 200: {result.not_found}; routes: {sorted(result.pages)}")
    assert len(result.visited) > 3, result.visited
    assert result.problems == [], f"{who}: not all Welsh:\n" + "\n".join(result.problems)


# --- pages behind a POST, visited after arranging their state ---------------------------------------------------------


class Journey:
    """Walks a journey in Welsh the way a person does: each page is checked, each question is first sent empty
    (its error page is checked), then answered; redirects are followed and the page they lead to checked."""

    def __init__(self, client: TestClient, data: re.Pattern[str]) -> None:
        self.client, self.data = client, data
        self.problems: list[str] = []
        self.visited: list[str] = []
        self.posted = 0

    def page(self, path: str, status: int = 200):  # type: ignore[no-untyped-def]
        response = self.client.get(path)
        for _ in range(5):
            if response.status_code not in (302, 303):
                break
            path = response.headers["location"]
            response = self.client.get(path)
        self.visited.append(path)
        if response.status_code != status:
            self.problems.append(f"{path}: answered {response.status_code}")
        check_page(path, response.text, self.data, self.problems)
        return response

    def question(self, path: str) -> None:
        """A question page and its answer left empty, not answered."""
        shown = self.page(path)
        self.posted += 1
        empty = self.client.post(path, data=hidden_fields(shown.text, path) or {"csrf_token": _csrf(shown.text)})
        check_page(f"POST {path} (empty)", empty.text, self.data, self.problems, error_page=True)

    def answer(self, path: str, *, empty: bool = True, **fields: str) -> str:
        """Answers the question at `path`; returns where the answer led."""
        page = self.page(path)
        hidden = hidden_fields(page.text, path) or {"csrf_token": _csrf(page.text)}
        if empty:
            again = self.client.post(path, data=hidden)
            self.posted += 1
            if again.status_code in (302, 303):
                self.problems.append(f"POST {path}: accepted an empty form")
            else:
                check_page(f"POST {path} (empty)", again.text, self.data, self.problems, error_page=True)
        response = self.client.post(path, data={**hidden, **fields})
        if response.status_code == 200:  # a page shown once, in answer to the POST (a new secret, say)
            assert "Mae problem wedi codi" not in response.text, f"POST {path} {fields} was refused"
            self.visited.append(f"POST {path}")
            check_page(f"POST {path}", response.text, self.data, self.problems)
            return path
        assert response.status_code == 303, f"POST {path} {fields}: {response.status_code}"
        location = str(response.headers["location"])
        self.page(location)
        return location


def emails_in_welsh(engine: Engine, data: re.Pattern[str]) -> tuple[set[str], list[str]]:
    """Every email the journeys queued, rendered in Welsh (as for a recipient who chose Welsh): (kinds, problems)."""
    problems: list[str] = []
    with Session(engine) as db:
        rows = db.execute(select(OutboxEmail)).scalars().all()
    for row in rows:
        rendered = render_email(row.kind, "cy", row.context, base_url="http://testserver")
        where = f"email {row.kind}"
        problems += [f"{where}: English subject {rendered.subject!r}" for _ in english_in(
            html5lib.parseFragment(f"<p>{rendered.subject}</p>", namespaceHTMLElements=False), data)]
        check_page(where, rendered.html, data, problems, email=True)
        problems += [f"{where} (text): English {line!r}" for line in rendered.text.splitlines()
                     if line.strip() and not line.strip().startswith("http")
                     and english_in(html5lib.parseFragment(line, namespaceHTMLElements=False), data)]
    return {row.kind for row in rows}, problems


def emailed_link(client: TestClient, address: str) -> str:
    """The path of the link in the last email to `address`."""
    return re.findall(r"https?://[^/\s]+(/\S+)", factories.last_email_to(client, address).text)[0]


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    return match.group(1) if match else ""


NEW = "/authorisation-requests/new"


def test_the_pages_behind_an_agents_answers_are_in_welsh(client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, world.agent.email)
    choose_welsh(client)
    journey = Journey(client, data_values(engine))
    # Asking a client for authorisation, every question, then the request sent, resent and cancelled.
    journey.page(NEW)
    journey.answer(f"{NEW}/client-type", client_type="personal")
    journey.answer(f"{NEW}/service", service="income-tax")
    journey.answer(f"{NEW}/agent-role", role="main")
    journey.answer(f"{NEW}/client-id", identifier="CE654321A")
    journey.answer(f"{NEW}/known-fact", postcode="LS1 4DY")
    journey.answer(f"{NEW}/confirm-client", confirm="yes")
    sent = journey.answer(f"{NEW}/check-your-answers", empty=False)
    request_id = re.findall(r"/authorisation-requests/(\d+)/sent", sent)[0]
    journey.page(f"/authorisation-requests/{request_id}/resend")
    # Asking again while that request waits: the journey says one is pending. And a trust's own question.
    journey.answer(f"{NEW}/client-type", empty=False, client_type="personal")
    journey.answer(f"{NEW}/service", empty=False, service="income-tax")
    journey.answer(f"{NEW}/agent-role", empty=False, role="main")
    journey.answer(f"{NEW}/client-id", empty=False, identifier="CE654321A")
    pending = journey.answer(f"{NEW}/known-fact", empty=False, postcode="LS1 4DY")
    if pending.endswith("/confirm-client"):
        pending = journey.answer(pending, empty=False, confirm="yes")
    assert pending == f"{NEW}/already-pending"
    journey.answer(f"{NEW}/client-type", empty=False, client_type="trust")
    journey.answer(f"{NEW}/service", empty=False, service="trusts")
    journey.question(f"{NEW}/trust-taxable")
    journey.answer(f"/authorisation-requests/{request_id}/cancel", confirm="yes")
    # The journey's dead ends: a client the firm already acts for, a client HMRC cannot find.
    ends = []
    for identifier in ("AB123456C", "AA112233A"):
        journey.answer(f"{NEW}/client-type", empty=False, client_type="personal")
        journey.answer(f"{NEW}/service", empty=False, service="income-tax")
        journey.answer(f"{NEW}/agent-role", empty=False, role="main")
        journey.answer(f"{NEW}/client-id", empty=False, identifier=identifier)
        ended = journey.answer(f"{NEW}/known-fact", empty=False, postcode="LS1 4DY")
        if ended.endswith("/confirm-client"):
            ended = journey.answer(ended, empty=False, confirm="yes")
        ends.append(ended)
    assert ends == [f"{NEW}/already-authorised", f"{NEW}/client-not-found"]
    # A VAT return and an Income Tax quarterly update, each checked and sent, and their receipts.
    with Session(engine) as db:
        vat, itsa = (db.execute(select(Obligation.id).where(Obligation.taxpayer_id == taxpayer.id,
                                                            Obligation.regime == regime)).scalars().first()
                     for taxpayer, regime in ((world.vat_client, "VAT"), (world.itsa_client, "ITSA")))
    vat_return = f"/clients/{world.vat_client.id}/vat/returns/{vat}"
    journey.answer(vat_return, box1="1,250.50", box2="0", box4="300.25", box6="20000", box7="5000", box8="0", box9="0")
    journey.answer(f"{vat_return}/check", confirm="yes")
    update = f"/clients/{world.itsa_client.id}/income-tax/updates/{itsa}"
    journey.answer(update, income="9,000", expenses="1500")
    journey.answer(f"{update}/check", empty=False)  # no declaration to tick: its button sends
    # Software for the API: registering it, the applications connected, the reference.
    journey.page("/api/reference")
    journey.answer("/developer/applications", name="Ledger Desk", redirect_uris="https://example.com/callback")
    journey.page("/account/connected-applications")
    journey.question("/account/security/confirm-it-is-you")
    # What's due as CSV: its column headings are Welsh.
    heading = client.get("/whats-due.csv").text.splitlines()[0]
    journey.problems += [f"/whats-due.csv: English heading {cell!r}" for cell in heading.split(",")
                         if cell.strip('"') in ENGLISH_MESSAGES or ENGLISH_WORDS.search(cell)]
    journey.page("/oauth/authorize", status=400)  # software that sent no client: the error page a person sees
    # Inviting someone to the team; they open the emailed link.
    journey.answer("/manage-account/team/invite", email="nia@example.com", role="standard")
    joining = emailed_link(client, "nia@example.com")
    # Stopping acting for a client.
    journey.answer(f"/clients/{world.vat_client.id}/stop-acting", service="HMRC-MTD-VAT")
    journey.answer(f"/clients/{world.vat_client.id}/stop-acting/HMRC-MTD-VAT", empty=False)
    client.cookies.delete("session")
    journey.page(joining)
    kinds, problems = emails_in_welsh(engine, journey.data)
    journey.problems += problems
    print(f"agent's journeys: {len(journey.visited)} pages, {journey.posted} forms posted empty: {journey.visited};"
          f" emails: {sorted(kinds)}")
    assert journey.problems == [], "\n".join(journey.problems)


def test_the_pages_behind_a_clients_answers_are_in_welsh(client: TestClient, world: World, engine: Engine,
                                                         settings: Settings) -> None:
    def ask() -> int:
        with unit_of_work(engine) as db:
            return handshake.create_request(db, firm_id=world.other_firm.id, user_id=world.other_agent.id,
                                            service=BY_KEY["HMRC-MTD-VAT"], taxpayer=world.itsa_client,
                                            today=date.today()).id

    made = [ask()]
    sign_in(client, world.client_user.email)
    choose_welsh(client)
    journey = Journey(client, data_values(engine))
    link = client_link(world.other_firm, BY_KEY["HMRC-MTD-VAT"].url_part)
    journey.page(link)
    journey.page(link + "/respond")
    journey.answer(f"/authorisation-response/{made[0]}/consent", authorise="no")
    journey.answer(f"/authorisation-response/{made[0]}/decline", empty=False)
    made.append(ask())
    journey.answer(f"/authorisation-response/{made[1]}/consent", authorise="yes")
    page = journey.page(f"/authorisation-response/{made[1]}/check-your-answer")
    response = client.post(f"/authorisation-response/{made[1]}/accept", data={"csrf_token": _csrf(page.text)})
    assert response.status_code == 303
    journey.page(response.headers["location"])
    with Session(engine) as db:
        authorisation = db.execute(select(Authorisation).where(
            Authorisation.taxpayer_id == world.itsa_client.id, Authorisation.service == "HMRC-MTD-VAT")).scalars().one()
    journey.page("/manage-your-tax-agents")
    journey.answer(f"/manage-your-tax-agents/remove/{authorisation.id}", empty=False)
    # Changing their own details: the question, the check, the saved page.
    journey.answer(f"/clients/{world.itsa_client.id}/details/scottish-taxpayer", scottish_taxpayer="yes")
    journey.answer(f"/clients/{world.itsa_client.id}/details/scottish-taxpayer/check", empty=False)
    # A final declaration for a tax year whose updates are all sent, and its receipt.
    year = income_tax_year(engine, world.itsa_client.id, world.client_user.id, sent=4)
    journey.answer(year.declaration_url, confirm="yes")
    # Asking someone to be a trusted helper.
    journey.answer("/trusted-helpers/invite", email="helen@example.com")
    journey.answer("/trusted-helpers/invite/check", empty=False)
    # The invited helper opens the emailed link: first signed out, then signed in, and accepts.
    with unit_of_work(engine) as db:
        factories.user(db, settings, "helen@example.com", "Helen Helper")
    invitation = emailed_link(client, "helen@example.com")
    client.cookies.delete("session")
    journey.page(invitation)
    sign_in(client, "helen@example.com")
    journey.answer(invitation, empty=False, decision="accept")
    # The client then removes their helper.
    client.cookies.delete("session")
    sign_in(client, world.client_user.email)
    with Session(engine) as db:
        helper_link = db.execute(select(HelperLink.id)).scalars().one()
    journey.answer(f"/manage-your-tax-agents/remove-helper/{helper_link}", empty=False)
    kinds, problems = emails_in_welsh(engine, journey.data)
    journey.problems += problems
    print(f"client's journeys: {len(journey.visited)} pages, {journey.posted} forms posted empty: {journey.visited};"
          f" emails: {sorted(kinds)}")
    assert journey.problems == [], "\n".join(journey.problems)


@pytest.mark.parametrize("path", ["/sign-in", "/sign-up", "/password-reset"])
def test_the_pages_before_signing_in_are_in_welsh(client: TestClient, engine: Engine, path: str) -> None:
    choose_welsh(client)
    journey = Journey(client, data_values(engine))
    for page in ("/", "/signed-out", "/timed-out", path):
        journey.page(page)
    empty = client.post(path, data={"csrf_token": _csrf(client.get(path).text)})
    check_page(f"POST {path} (empty)", empty.text, journey.data, journey.problems, error_page=True)
    journey.page("/no-such-page", status=404)
    assert journey.problems == [], "\n".join(journey.problems)


def test_a_password_reset_from_its_email_is_in_welsh(client: TestClient, world: World, engine: Engine) -> None:
    choose_welsh(client)
    journey = Journey(client, data_values(engine))
    journey.answer("/password-reset", email=world.client_user.email)
    journey.question(emailed_link(client, world.client_user.email))
    kinds, problems = emails_in_welsh(engine, journey.data)
    assert journey.problems + problems == [], "\n".join(journey.problems + problems)


def test_the_second_step_of_signing_in_is_in_welsh(client: TestClient, world: World, engine: Engine,
                                                    settings: Settings) -> None:
    with unit_of_work(engine) as db:  # a new member of the firm, with no second step set up yet
        newcomer = factories.user(db, settings, "newcomer@example.com", "Nia Newcomer")
        db.add(Membership(firm_id=world.firm.id, user_id=newcomer.id, role="standard"))
    choose_welsh(client)
    journey = Journey(client, data_values(engine))
    for email, second in (("agent@example.com", "/sign-in/second-step"),
                          ("newcomer@example.com", "/sign-in/set-up-2-step")):
        client.cookies.delete("session")
        page = client.get("/sign-in")
        signed = client.post("/sign-in", data={"email": email, "password": factories.PASSWORD,
                                               "csrf_token": _csrf(page.text)})
        assert signed.status_code == 303 and signed.headers["location"].startswith(second), signed.headers
        pages = [second] + (["/sign-in/recovery-code"] if second == "/sign-in/second-step" else [])
        for path in pages:
            shown = journey.page(path)
            journey.visited.append(f"POST {path} (empty)")
            empty = client.post(path, data={"csrf_token": _csrf(shown.text)})
            check_page(f"POST {path} (empty)", empty.text, journey.data, journey.problems, error_page=True)
    print(f"second step: {journey.visited}")
    assert journey.problems == [], "\n".join(journey.problems)


def test_a_new_person_signs_up_registers_a_firm_and_links_a_tax_account_in_welsh(
        client: TestClient, world: World, engine: Engine) -> None:
    choose_welsh(client)
    journey = Journey(client, data_values(engine))
    journey.answer("/sign-up?next=/register/firm-name", name="Nia Patel", email="nia@example.com",
                   password="a long enough password", confirm_password="a long enough password")
    confirmation = emailed_link(client, "nia@example.com")
    journey.answer(confirmation, empty=False)
    journey.page("/register")
    for slug, answers in {
        "firm-name": {"firm_name": "Riverside Accounts"},
        "contact-email": {"contact_email": "office@riverside.example"},
        "address": {"address_line1": "1 River Street", "address_line2": "", "town": "Leeds", "postcode": "ls14dy"},
        "supervision": {"amls_body": "HM Revenue and Customs (HMRC)", "amls_number": "xaml00000123456"},
    }.items():
        journey.answer(f"/register/{slug}", **answers)
    set_up = journey.answer("/register/check-your-answers", empty=False)
    # A new member of an agent firm sets up 2-step verification before anything else (its page checked in Welsh).
    assert set_up.startswith("/sign-in/set-up-2-step")
    done, _secret = set_up_authenticator_app(client, set_up)
    check_page(f"POST {set_up}", done.text, journey.data, journey.problems)
    # A person with sign-in details links the tax account that is theirs.
    journey.answer("/account/link-tax-account", kind="nino", reference="CE654321A", postcode="LS1 4DY")
    kinds, problems = emails_in_welsh(engine, journey.data)
    print(f"a new person: {journey.visited}; emails: {sorted(kinds)}")
    assert journey.problems + problems == [], "\n".join(journey.problems + problems)

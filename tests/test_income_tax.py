from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain import submissions
from portal.domain.models import Business, HelperLink, Obligation, Submission, Taxpayer
from portal.domain.sql import unit_of_work
from portal.settings import Settings
from tests import factories
from tests.factories import World, csrf_from, sign_in

TAX_YEAR = 2024  # 6 April 2024 to 5 April 2025: ended, so its final declaration can be made


@dataclass
class Year:
    client_id: int
    updates: list[int]  # quarterly update obligation ids, in period order
    declaration: int

    @property
    def home(self) -> str:
        return f"/clients/{self.client_id}/income-tax"

    def update_url(self, index: int = -1) -> str:
        return f"{self.home}/updates/{self.updates[index]}"

    @property
    def declaration_url(self) -> str:
        return f"{self.home}/final-declaration/{self.declaration}"


def _tax_year(engine: Engine, taxpayer_id: int, sender_id: int, *, sent: int = 3, income: int = 10_000,
              expenses: int = 2_500, kind: str = "self-employment") -> Year:
    """One business with four quarterly updates of the tax year, the first `sent` already sent with these
    figures, and the year's final declaration."""
    with unit_of_work(engine) as db:
        business = Business(taxpayer_id=taxpayer_id, kind=kind, name="Whitfield Joinery")
        db.add(business)
        db.flush()
        updates = []
        starts = [date(TAX_YEAR, 4, 6), date(TAX_YEAR, 7, 6), date(TAX_YEAR, 10, 6), date(TAX_YEAR + 1, 1, 6)]
        for quarter, start in enumerate(starts):
            end = starts[quarter + 1] - timedelta(days=1) if quarter < 3 else date(TAX_YEAR + 1, 4, 5)
            update = Obligation(taxpayer_id=taxpayer_id, regime="ITSA", kind="Quarterly update",
                                business_id=business.id, period_key=f"{end:%y%m}QU{business.id}",
                                period_start=start, period_end=end, due_date=end + timedelta(days=33),
                                fulfilled_on=end + timedelta(days=10) if quarter < sent else None)
            db.add(update)
            db.flush()
            if quarter < sent:
                db.add(Submission(obligation_id=update.id, taxpayer_id=taxpayer_id, regime="ITSA",
                                  kind="Quarterly update", reference=submissions.new_reference(),
                                  submitted_by_user_id=sender_id, authority="self",
                                  figures={"income": income, "expenses": expenses}))
            updates.append(update.id)
        declaration = Obligation(taxpayer_id=taxpayer_id, regime="ITSA", kind="Final declaration",
                                 period_key=f"{TAX_YEAR + 1 - 2000}04FD", period_start=date(TAX_YEAR, 4, 6),
                                 period_end=date(TAX_YEAR + 1, 4, 5), due_date=date(TAX_YEAR + 2, 1, 31))
        db.add(declaration)
        db.flush()
        return Year(taxpayer_id, updates, declaration.id)


def _jane_year(engine: Engine, world: World, **kwargs: object) -> Year:
    return _tax_year(engine, world.itsa_client.id, world.client_user.id, **kwargs)  # type: ignore[arg-type]


def _post(client: TestClient, url: str, data: dict[str, str] | None = None, page: str = "/account"):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page).text)
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _send_update(client: TestClient, year: Year, income: str, expenses: str, index: int = -1):  # type: ignore[no-untyped-def]
    url = year.update_url(index)
    response = _post(client, url, {"income": income, "expenses": expenses})
    assert response.status_code == 303 and response.headers["location"] == url + "/check", response.text
    return _post(client, url + "/check")


def _submissions(engine: Engine, obligation_id: int) -> int:
    with unit_of_work(engine) as db:
        return db.execute(select(func.count()).select_from(Submission)
                          .where(Submission.obligation_id == obligation_id)).scalar_one()


def _supporting_agent(engine: Engine, world: World) -> None:
    with unit_of_work(engine) as db:
        factories.authorise(db, world.other_firm, world.itsa_client, "HMRC-MTD-IT-SUPP")


def _all_pages(year: Year) -> list[str]:
    return [year.home, year.update_url(), year.update_url() + "/check", year.update_url() + "/receipt",
            year.declaration_url, year.declaration_url + "/receipt"]


# --- sending quarterly updates and the final declaration ---------------------------------------------------------


def test_a_main_agent_sends_the_last_update_then_sees_the_calculation_and_submits_the_declaration(
        client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world)
    sign_in(client, "agent@example.com")
    overview = client.get(year.home)
    assert overview.status_code == 200 and "You are acting for" in overview.text
    assert "Income Tax – Jane Whitfield" in overview.text and "Whitfield Joinery" in overview.text
    assert "Send quarterly update" in overview.text and "Review and submit final declaration" in overview.text

    check = _post(client, year.update_url(), {"income": "9,000", "expenses": "1500"}, page=year.update_url())
    assert check.status_code == 303
    summary = client.get(year.update_url() + "/check").text
    assert "£9,000.00" in summary and "£1,500.00" in summary and "£7,500.00" in summary
    sent = _post(client, year.update_url() + "/check")
    assert sent.status_code == 303 and sent.headers["location"] == year.update_url() + "/receipt"
    receipt = client.get(sent.headers["location"]).text
    assert "Quarterly update sent" in receipt and "Test Person, Harbour Tax" in receipt  # one wording for every receipt

    # £30,000 profit: taxable £17,430 at 20% = £3,486.00; Class 4 6% of £17,430 = £1,045.80.
    page = client.get(year.declaration_url).text
    for shown in ("£30,000.00", "£12,570.00", "£17,430.00", "£3,486.00", "£1,045.80", "£4,531.80",
                  "I confirm that the information is correct and complete to the best of my knowledge"):
        assert shown in page
    response = _post(client, year.declaration_url, {"confirm": "yes"})
    assert response.status_code == 303 and response.headers["location"] == year.declaration_url + "/receipt"
    receipt = client.get(response.headers["location"]).text
    assert "Final declaration submitted" in receipt and "£3,486.00" in receipt and "£1,045.80" in receipt
    with unit_of_work(engine) as db:
        submission = submissions.receipt_for(db, year.declaration)
        assert submission is not None and submission.reference in receipt
        assert submission.figures["calculation"]["income_tax_pence"] == 348_600
        assert submission.figures["calculation"]["class4_pence"] == 104_580
        assert db.get(Obligation, year.declaration).fulfilled_on == date.today()  # type: ignore[union-attr]


def test_the_taxpayer_sends_their_own_update_and_final_declaration(client: TestClient, engine: Engine,
                                                                    world: World) -> None:
    year = _jane_year(engine, world)
    sign_in(client, "jane@example.com")
    overview = client.get(year.home).text
    assert "You are acting for" not in overview and "Review and submit final declaration" in overview
    response = _send_update(client, year, "9000", "1500")
    assert response.headers["location"] == year.update_url() + "/receipt"
    assert "Sent by</dt><dd class=\"govuk-summary-list__value\">Jane Whitfield<" in client.get(
        response.headers["location"]).text
    response = _post(client, year.declaration_url, {"confirm": "yes"})
    assert response.status_code == 303 and _submissions(engine, year.declaration) == 1


def test_a_property_business_pays_income_tax_but_no_class_4(client: TestClient, engine: Engine,
                                                             world: World) -> None:
    year = _jane_year(engine, world, sent=4, kind="uk-property")
    sign_in(client, "jane@example.com")
    page = client.get(year.declaration_url).text
    assert "£3,486.00" in page and "There is no Class 4 National Insurance to pay" in page


def test_a_supporting_agent_sends_updates_but_is_neither_offered_nor_let_into_the_final_declaration(
        client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world)
    _supporting_agent(engine, world)
    sign_in(client, "other@example.com")
    overview = client.get(year.home).text
    assert "Send quarterly update" in overview
    assert "Review and submit final declaration" not in overview and year.declaration_url not in overview
    assert "main Income Tax agent, or Jane Whitfield, can submit the final declaration" in overview
    assert _send_update(client, year, "9000", "1500").status_code == 303
    assert _submissions(engine, year.updates[-1]) == 1
    assert client.get(year.declaration_url).status_code == 404
    assert _post(client, year.declaration_url, {"confirm": "yes"}).status_code == 404
    assert client.get(year.declaration_url + "/receipt").status_code == 404
    assert _submissions(engine, year.declaration) == 0


def test_a_vat_only_agent_gets_not_found_on_every_income_tax_page(client: TestClient, engine: Engine,
                                                                   world: World, settings: Settings) -> None:
    year = _jane_year(engine, world, sent=4)
    with unit_of_work(engine) as db:
        vat_firm = factories.firm(db, "Ledger VAT Ltd")
        factories.member(db, settings, vat_firm, "vat-agent@example.com")
        factories.authorise(db, vat_firm, world.itsa_client, "HMRC-MTD-VAT")
    sign_in(client, "vat-agent@example.com")
    assert client.get(f"/clients/{world.itsa_client.id}").status_code == 200  # may act, but for VAT only
    for url in _all_pages(year):
        assert client.get(url).status_code == 404, url
    assert _post(client, year.update_url(), {"income": "1", "expenses": "0"}).status_code == 404
    assert _post(client, year.declaration_url, {"confirm": "yes"}).status_code == 404
    assert _submissions(engine, year.declaration) == 0


def test_harbour_cannot_open_income_tax_for_its_vat_client(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    assert client.get(f"/clients/{world.vat_client.id}/income-tax").status_code == 404


def test_a_trusted_helper_gets_not_found_on_every_income_tax_page(client: TestClient, engine: Engine, world: World,
                                                                  settings: Settings) -> None:
    year = _jane_year(engine, world, sent=4)
    with unit_of_work(engine) as db:
        helper = factories.user(db, settings, "helper@example.com", "Sam Whitfield")
        db.add(HelperLink(taxpayer_id=world.itsa_client.id, invited_email=helper.email, helper_user_id=helper.id,
                          status="active"))
    sign_in(client, "helper@example.com")
    for url in _all_pages(year):
        assert client.get(url).status_code == 404, url
    assert _post(client, year.declaration_url, {"confirm": "yes"}).status_code == 404


# --- refusals and checks -----------------------------------------------------------------------------------------


def test_the_declaration_must_be_confirmed(client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world, sent=4)
    sign_in(client, "agent@example.com")
    response = _post(client, year.declaration_url, {})
    assert response.status_code == 200
    assert "<title>Error: " in response.text and "Select the box to confirm" in response.text
    assert 'href="#confirm"' in response.text and "£3,486.00" in response.text
    assert _submissions(engine, year.declaration) == 0


def test_an_outstanding_quarterly_update_blocks_the_final_declaration(client: TestClient, engine: Engine,
                                                                       world: World) -> None:
    year = _jane_year(engine, world, sent=3)
    sign_in(client, "agent@example.com")
    page = client.get(year.declaration_url).text
    assert "You cannot submit the final declaration yet" in page and "5 April 2025" in page
    assert "Submit final declaration" not in page and "£3,486.00" not in page
    response = _post(client, year.declaration_url, {"confirm": "yes"})
    assert response.status_code == 200 and "You cannot submit the final declaration yet" in response.text
    assert _submissions(engine, year.declaration) == 0


@pytest.mark.parametrize(
    ("income", "expenses", "field", "message"),
    [
        ("", "100", "income", "Enter the business&#39;s income for this period"),
        ("100", "", "expenses", "Enter the business&#39;s expenses for this period"),
        ("12500.50", "100", "income", "Income must be a whole number of pounds, like 12500"),
        ("twelve", "100", "income", "Income must be a whole number of pounds, like 12500"),
        ("100", "-5", "expenses", "Expenses cannot be a negative number"),
        ("100000000000", "0", "income", "Income must be £99,999,999,999 or less"),
    ],
)
def test_update_figures_are_checked_the_govuk_way(client: TestClient, engine: Engine, world: World, income: str,
                                                   expenses: str, field: str, message: str) -> None:
    year = _jane_year(engine, world)
    sign_in(client, "agent@example.com")
    response = _post(client, year.update_url(), {"income": income, "expenses": expenses})
    assert response.status_code == 200
    assert message in response.text and f'href="#{field}"' in response.text and f'id="{field}-error"' in response.text
    assert f'name="income" type="text" value="{income}"' in response.text  # what was typed is kept
    assert _submissions(engine, year.updates[-1]) == 0


def test_the_largest_figures_allowed_are_accepted(client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world)
    sign_in(client, "agent@example.com")
    assert _send_update(client, year, "99999999999", "0").status_code == 303
    assert "£99,999,999,999.00" in client.get(year.update_url() + "/receipt").text


def test_a_second_send_lands_on_the_first_receipt(client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world)
    sign_in(client, "agent@example.com")
    first = _send_update(client, year, "9000", "1500")
    second = _post(client, year.update_url() + "/check")
    assert first.headers["location"] == second.headers["location"] == year.update_url() + "/receipt"
    assert client.get(year.update_url()).headers["location"] == year.update_url() + "/receipt"
    assert _submissions(engine, year.updates[-1]) == 1
    declared = [_post(client, year.declaration_url, {"confirm": "yes"}) for _ in range(2)]
    assert {r.status_code for r in declared} == {303}
    assert {r.headers["location"] for r in declared} == {year.declaration_url + "/receipt"}
    assert _submissions(engine, year.declaration) == 1


def test_the_check_page_without_answers_goes_back_to_the_question(client: TestClient, engine: Engine,
                                                                   world: World) -> None:
    year = _jane_year(engine, world)
    sign_in(client, "agent@example.com")
    assert client.get(year.update_url() + "/check").headers["location"] == year.update_url()
    assert _post(client, year.update_url() + "/check").headers["location"] == year.update_url()
    assert client.get(year.update_url() + "/receipt").status_code == 404
    assert _submissions(engine, year.updates[-1]) == 0


def test_ids_that_are_not_this_clients_income_tax_obligations_are_not_found(client: TestClient, engine: Engine,
                                                                            world: World) -> None:
    year = _jane_year(engine, world, sent=4)
    oscar = _tax_year(engine, world.other_client.id, world.client_user.id)
    with unit_of_work(engine) as db:
        vat_id = db.execute(select(Obligation.id).where(Obligation.taxpayer_id == world.itsa_client.id,
                                                        Obligation.regime == "VAT")).scalar_one()
    sign_in(client, "agent@example.com")
    home = year.home
    for url in (f"{home}/updates/{oscar.updates[-1]}", f"{home}/final-declaration/{oscar.declaration}",
                f"{home}/updates/{vat_id}", f"{home}/final-declaration/{vat_id}",
                f"{home}/updates/{year.declaration}", f"{home}/final-declaration/{year.updates[0]}",
                f"{home}/updates/{2**31}", f"{home}/final-declaration/99999999999999999999",
                f"/clients/{2**31}/income-tax", f"/clients/{world.other_client.id}/income-tax"):
        assert client.get(url).status_code == 404, url
    response = _post(client, f"{home}/updates/{oscar.updates[-1]}", {"income": "1", "expenses": "1"})
    assert response.status_code == 404 and _submissions(engine, oscar.updates[-1]) == 0


def test_signed_out_people_are_sent_to_sign_in(client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world)
    response = client.get(year.home)
    assert response.status_code in (302, 303) and "/sign-in" in response.headers["location"]


def test_two_final_declarations_at_the_same_moment_make_one_submission(file_engine: Engine, settings: Settings,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    on_postgres = file_engine.dialect.name == "postgresql"
    both_past_the_first_check = threading.Barrier(2)
    sent_now: list[bool] = []
    submit_once = submissions.submit_once

    def submit_once_together(db: Session, **kwargs: Any) -> tuple[Submission, bool]:
        # Both requests get past "no receipt yet" before either inserts, so the unique index must decide.
        # (SQLite lets one writing request in at a time, so there the second simply waits.)
        if on_postgres:
            both_past_the_first_check.wait(timeout=10)
        submission, now = submit_once(db, **kwargs)
        sent_now.append(now)
        return submission, now

    monkeypatch.setattr(submissions, "submit_once", submit_once_together)
    with unit_of_work(file_engine) as db:
        world = factories.build_world(db, settings)
    year = _tax_year(file_engine, world.itsa_client.id, world.client_user.id, sent=4)
    app = create_app(settings=settings, engine=file_engine)
    with ExitStack() as stack:
        browsers = [stack.enter_context(TestClient(app, follow_redirects=False)) for _ in range(2)]
        sign_in(browsers[0], "agent@example.com")
        sign_in(browsers[1], "jane@example.com")  # the agent and the client, at the same moment
        tokens = [csrf_from(browser.get(year.declaration_url).text) for browser in browsers]
        barrier, responses = threading.Barrier(2), [None, None]

        def submit(index: int) -> None:
            barrier.wait()
            responses[index] = browsers[index].post(  # type: ignore[call-overload]
                year.declaration_url, data={"confirm": "yes", "csrf_token": tokens[index]})

        threads = [threading.Thread(target=submit, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert [r.status_code for r in responses if r is not None] == [303, 303]  # type: ignore[attr-defined]
        assert {r.headers["location"] for r in responses} == {year.declaration_url + "/receipt"}  # type: ignore[union-attr]
        assert _submissions(file_engine, year.declaration) == 1
        assert sorted(sent_now) == ([False, True] if on_postgres else [True])


# --- issue 15: the declaration's own questions, and the figures HMRC would compute -------------------------------


def _answer(client: TestClient, year: Year, question: str, data: dict[str, str]) -> None:
    url = f"{year.declaration_url}/{question}"
    response = _post(client, url, data, page=url)
    assert response.status_code == 303 and response.headers["location"] == year.declaration_url, response.text


def test_the_page_names_what_the_calculation_does_not_include_before_the_declaration(
        client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world, sent=4)
    sign_in(client, "agent@example.com")
    page = client.get(year.declaration_url).text
    left_out = page.index("What this calculation does not include")
    for item in ("Pension contributions and Gift Aid", "High Income Child Benefit Charge", "Student loan repayments",
                 "Capital gains", "Losses brought forward from earlier years", "Marriage Allowance"):
        assert left_out < page.index(item) < page.index("I confirm that the information is correct"), item


def test_savings_interest_and_dividends_are_taxed_in_hmrcs_order_and_kept_with_the_declaration(
        client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world, sent=4)  # £30,000 profit: taxable £17,430, £3,486.00; Class 4 £1,045.80
    sign_in(client, "agent@example.com")
    question = client.get(f"{year.declaration_url}/other-income").text
    assert "Savings interest and dividends" in question and "Dividends from shares in UK companies" in question
    _answer(client, year, "other-income", {"savings_interest": "3,000", "dividends": "£2000"})
    # Savings: past £5,000 of taxable profits, no starting rate; allowance £1,000 at 0%, £2,000 × 20% = £400.00.
    # Dividends: £500 at 0%, £1,500 × 8.75% = £131.25. Total £3,486.00 + £400.00 + £131.25 + £1,045.80 = £5,063.05
    page = client.get(year.declaration_url).text
    for shown in ("Income Tax on savings interest", "Personal Savings Allowance", "£400.00",
                  "Income Tax on dividends", "Dividend Allowance", "8.75%", "£131.25", "£4,017.25", "£5,063.05",
                  "£35,000.00"):
        assert shown in page, shown
    assert _post(client, year.declaration_url, {"confirm": "yes"}).status_code == 303
    with unit_of_work(engine) as db:
        submission = submissions.receipt_for(db, year.declaration)
        assert submission is not None
        assert submission.figures["calculation"]["income_tax_pence"] == 401_725
        assert submission.figures["answers"]["dividends"] == 2_000
    receipt = client.get(year.declaration_url + "/receipt").text
    assert "£131.25" in receipt and "£5,063.05" in receipt


def test_a_scottish_taxpayer_is_shown_and_charged_scottish_rates_on_profits(client: TestClient, engine: Engine,
                                                                           world: World) -> None:
    year = _jane_year(engine, world, sent=4)
    with unit_of_work(engine) as db:
        taxpayer = db.get(Taxpayer, world.itsa_client.id)
        assert taxpayer is not None
        taxpayer.scottish_taxpayer = True
    sign_in(client, "agent@example.com")
    page = client.get(year.declaration_url).text
    # taxable £17,430: £2,827 × 19% = £537.13; £12,094 × 20% = £2,418.80; £2,509 × 21% = £526.89 → £3,482.82
    for shown in ("Yes: Scottish rates on profits", "Income Tax on profits (Scottish rates)", "Starter rate",
                  "Intermediate rate", "£526.89", "£3,482.82", "£4,528.62",
                  f"/clients/{world.itsa_client.id}/details/scottish-taxpayer"):
        assert shown in page, shown


def test_receipts_of_1000_or_less_have_no_taxable_profit_and_the_person_may_choose_expenses(
        client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world, sent=4, income=250, expenses=400)  # £1,000 received, £1,600 spent
    sign_in(client, "jane@example.com")
    page = client.get(year.declaration_url).text
    assert "Receipts of £1,000 or less are covered by the allowance" in page
    question = client.get(f"{year.declaration_url}/trading-allowance").text
    assert "The trading businesses received £1,000.00" in question
    _answer(client, year, "trading-allowance", {"trading_allowance": "expenses"})
    page = client.get(year.declaration_url).text
    assert "Expenses deducted" in page and "-£600.00" in page  # 1,000 − 1,600
    assert "Trading loss of £600.00" in page


def test_a_trading_loss_is_carried_forward_unless_the_person_claims_against_other_income(
        client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world, sent=4, income=1_000, expenses=6_000)  # a £20,000 loss
    sign_in(client, "agent@example.com")
    _answer(client, year, "other-income", {"savings_interest": "30000", "dividends": ""})
    # no claim: £30,000 interest − £12,570 = £17,430: £5,000 starting rate, £1,000 allowance, £11,430 × 20%
    page = client.get(year.declaration_url).text
    assert "Trading loss of £20,000.00" in page and "all of it is carried forward" in page and "£2,286.00" in page
    question = client.get(f"{year.declaration_url}/loss-relief").text
    assert "Set the trading loss of £20,000.00 against other income?" in question and "£50,000.00" in question
    refused = _post(client, f"{year.declaration_url}/loss-relief", {}, page=year.declaration_url)
    assert refused.text.count("Select yes if you want to set the loss against other income") == 2
    _answer(client, year, "loss-relief", {"sideways_relief": "yes"})
    # claimed: £30,000 − £20,000 = £10,000, under the Personal Allowance: nothing to pay
    page = client.get(year.declaration_url).text
    assert "Trading loss set against other income" in page and "Set against other income: £20,000.00" in page
    assert "There is no Income Tax to pay on this income." in page


@pytest.mark.parametrize(("typed", "message"), [
    ("12.50", "Savings interest must be a whole number of pounds, like 350"),
    ("-3", "Savings interest cannot be a negative number"),
    ("100000000000", "Savings interest must be £99,999,999,999 or less"),
])
def test_savings_figures_are_checked_the_govuk_way(client: TestClient, engine: Engine, world: World, typed: str,
                                                   message: str) -> None:
    year = _jane_year(engine, world, sent=4)
    sign_in(client, "agent@example.com")
    url = f"{year.declaration_url}/other-income"
    response = _post(client, url, {"savings_interest": typed, "dividends": "0"}, page=url)
    assert response.status_code == 200 and "<title>Error: " in response.text
    assert response.text.count(message) == 2 and 'href="#savings_interest"' in response.text
    assert f'value="{typed}"' in response.text


def test_the_declarations_questions_are_closed_to_whoever_cannot_declare(client: TestClient, engine: Engine,
                                                                         world: World) -> None:
    year = _jane_year(engine, world, sent=3)
    _supporting_agent(engine, world)
    sign_in(client, "agent@example.com")
    assert client.get(f"{year.declaration_url}/nonsense").status_code == 404
    # not ready yet (an update outstanding): back to the page that says why
    assert client.get(f"{year.declaration_url}/other-income").headers["location"] == year.declaration_url
    sign_in(client, "other@example.com")
    assert client.get(f"{year.declaration_url}/other-income").status_code == 404
    assert _post(client, f"{year.declaration_url}/loss-relief", {"sideways_relief": "yes"}).status_code == 404


def test_questions_that_do_not_apply_lead_back_to_the_declaration(client: TestClient, engine: Engine,
                                                                  world: World) -> None:
    year = _jane_year(engine, world, sent=4)  # one trade, at a £30,000 profit: no property, no loss
    sign_in(client, "agent@example.com")
    for question in ("property-allowance", "loss-relief"):
        url = f"{year.declaration_url}/{question}"
        assert client.get(url).headers["location"] == year.declaration_url, question
        assert _post(client, url, {"property_allowance": "allowance", "sideways_relief": "yes"}
                     ).headers["location"] == year.declaration_url
    assert client.get(f"{year.declaration_url}/trading-allowance").status_code == 200
    page = client.get(year.declaration_url).text
    assert "Change property allowance" not in page and "Change trading loss claim" not in page
    assert "£4,531.80" in page  # nothing the refused answers could have changed

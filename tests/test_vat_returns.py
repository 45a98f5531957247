from __future__ import annotations

import re
import threading
from contextlib import ExitStack
from datetime import date, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain import submissions
from portal.domain.models import AuditEvent, HelperLink, Obligation, Submission, Taxpayer
from portal.domain.sql import unit_of_work
from portal.settings import Settings
from tests import factories
from tests.factories import World, csrf_from, sign_in

VALID = {"box1": "1,250.50", "box2": "0", "box4": "300.25", "box6": "20000", "box7": "5000", "box8": "0",
         "box9": "0"}


def _vat_obligation(engine: Engine, client: Taxpayer, due_in_days: int = 10) -> int:
    with unit_of_work(engine) as session:
        record = Obligation(taxpayer_id=client.id, regime="VAT", kind="VAT return", period_key=f"V{due_in_days}",
                            period_start=date(2025, 10, 1), period_end=date(2025, 12, 31),
                            due_date=date.today() + timedelta(days=due_in_days))
        session.add(record)
        session.flush()
        assert record.id is not None
        return record.id


def _world_vat_obligation(engine: Engine, client: Taxpayer) -> int:
    with Session(engine) as session:
        return session.execute(select(Obligation.id).where(
            Obligation.taxpayer_id == client.id, Obligation.regime == "VAT")).scalar_one()


def _return_url(client_id: int, obligation_id: int, page: str = "") -> str:
    return f"/clients/{client_id}/vat/returns/{obligation_id}" + (f"/{page}" if page else "")


def _fill(client: TestClient, form_url: str, values: dict[str, str] = VALID) -> httpx.Response:
    token = csrf_from(client.get(form_url).text)
    return client.post(form_url, data=values | {"csrf_token": token})


def _confirm(client: TestClient, check_url: str, confirm: bool = True) -> httpx.Response:
    token = csrf_from(client.get(check_url).text)
    return client.post(check_url, data={"csrf_token": token} | ({"confirm": "yes"} if confirm else {}))


def _file(client: TestClient, client_id: int, obligation_id: int) -> httpx.Response:
    filled = _fill(client, _return_url(client_id, obligation_id))
    assert filled.status_code == 303
    assert filled.headers["location"] == _return_url(client_id, obligation_id, "check")
    return _confirm(client, _return_url(client_id, obligation_id, "check"))


def _submissions(engine: Engine, obligation_id: int) -> list[Submission]:
    with Session(engine) as session:
        return list(session.execute(select(Submission).where(Submission.obligation_id == obligation_id)).scalars())


def _any_csrf(client: TestClient) -> str:
    return csrf_from(client.get("/account").text)


def test_a_vat_agent_files_a_return_for_their_client(client: TestClient, world: World, engine: Engine) -> None:
    granite = world.vat_client.id
    obligation_id = _world_vat_obligation(engine, world.vat_client)
    sign_in(client, "agent@example.com")
    listing = client.get(f"/clients/{granite}/vat")
    assert "<title>VAT – Granite Bakery Ltd" in listing.text and "Overdue" in listing.text
    assert f'href="{_return_url(granite, obligation_id)}">Submit VAT return' in listing.text

    form = client.get(_return_url(granite, obligation_id))
    assert "<title>Submit VAT return – Granite Bakery Ltd" in form.text
    assert "You are acting for" in form.text
    assert _fill(client, _return_url(granite, obligation_id)).status_code == 303

    check = client.get(_return_url(granite, obligation_id, "check"))
    assert "<title>Check your VAT return – Granite Bakery Ltd" in check.text
    assert "£1,250.50" in check.text  # box 3, worked out from boxes 1 and 2
    assert "£950.25 to pay" in check.text  # box 5
    assert "£20,000" in check.text
    assert f'href="{_return_url(granite, obligation_id)}#box4">Change<span class="govuk-visually-hidden"> box 4' \
        in check.text
    assert "#box3" not in check.text and "#box5" not in check.text  # calculated, so nothing to change

    sent = _confirm(client, _return_url(granite, obligation_id, "check"))
    assert sent.status_code == 303
    assert sent.headers["location"] == _return_url(granite, obligation_id, "receipt")
    receipt = client.get(sent.headers["location"])
    [submission] = _submissions(engine, obligation_id)
    assert "VAT return submitted" in receipt.text and submission.reference in receipt.text
    assert "Test Person, Harbour Tax" in receipt.text and "You are acting for" in receipt.text
    assert submission.figures["box5"] == 95025 and submission.authority == "agent"

    with Session(engine) as session:
        assert session.get(Obligation, obligation_id).fulfilled_on == date.today()  # type: ignore[union-attr]
        event = session.execute(select(AuditEvent).where(AuditEvent.action == "vat_return_submitted")).scalar_one()
    assert (event.actor_user_id, event.taxpayer_id, event.authority, event.firm_id) == (
        world.agent.id, granite, "agent", world.firm.id)
    listing = client.get(f"/clients/{granite}/vat").text
    receipt_link = (f'href="{_return_url(granite, obligation_id, "receipt")}">'
                    f'<span class="govuk-visually-hidden">Receipt </span>{submission.reference}')
    assert receipt_link in listing
    assert "Submit VAT return" not in listing


def test_the_client_files_their_own_vat_return(client: TestClient, world: World, engine: Engine) -> None:
    jane = world.itsa_client.id
    obligation_id = _vat_obligation(engine, world.itsa_client)
    sign_in(client, "jane@example.com")
    assert f'href="{_return_url(jane, obligation_id)}"' in client.get(f"/clients/{jane}/vat").text
    sent = _file(client, jane, obligation_id)
    assert sent.headers["location"] == _return_url(jane, obligation_id, "receipt")
    receipt = client.get(sent.headers["location"]).text
    assert "<title>VAT return submitted – Jane Whitfield" in receipt
    assert "You are acting for" not in receipt
    [submission] = _submissions(engine, obligation_id)
    assert submission.authority == "self" and submission.submitted_by_user_id == world.client_user.id
    with Session(engine) as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.action == "vat_return_submitted")).scalar_one()
    assert (event.actor_user_id, event.taxpayer_id, event.authority) == (world.client_user.id, jane, "self")


def _all_pages_refused(client: TestClient, client_id: int, obligation_id: int) -> None:
    for url in (f"/clients/{client_id}/vat", _return_url(client_id, obligation_id),
                _return_url(client_id, obligation_id, "check"), _return_url(client_id, obligation_id, "receipt")):
        assert client.get(url).status_code == 404, url
    token = _any_csrf(client)
    # Whatever the browser sends, the server refuses it.
    assert client.post(_return_url(client_id, obligation_id), data=VALID | {"csrf_token": token}).status_code == 404
    check = _return_url(client_id, obligation_id, "check")
    assert client.post(check, data={"confirm": "yes", "csrf_token": token}).status_code == 404


def test_an_income_tax_only_agent_cannot_reach_the_clients_vat(client: TestClient, world: World,
                                                               engine: Engine) -> None:
    jane = world.itsa_client.id
    obligation_id = _world_vat_obligation(engine, world.itsa_client)
    sign_in(client, "agent@example.com")
    assert client.get(f"/clients/{jane}").status_code == 200  # the firm acts for her, for Income Tax only
    _all_pages_refused(client, jane, obligation_id)
    assert _submissions(engine, obligation_id) == []


def test_another_firms_agent_cannot_reach_the_clients_vat(client: TestClient, world: World, engine: Engine) -> None:
    obligation_id = _world_vat_obligation(engine, world.vat_client)
    sign_in(client, "other@example.com")
    _all_pages_refused(client, world.vat_client.id, obligation_id)
    assert _submissions(engine, obligation_id) == []


def test_a_trusted_helper_is_not_offered_and_cannot_reach_a_vat_return(client: TestClient, world: World,
                                                                        engine: Engine, settings: Settings) -> None:
    obligation_id = _world_vat_obligation(engine, world.itsa_client)
    with unit_of_work(engine) as session:
        helper = factories.user(session, settings, "helper@example.com", "Hal Helper")
        session.add(HelperLink(taxpayer_id=world.itsa_client.id, invited_email="helper@example.com",
                               helper_user_id=helper.id, status="active"))
    sign_in(client, "helper@example.com")
    _all_pages_refused(client, world.itsa_client.id, obligation_id)


def test_the_receipt_of_a_return_is_not_shown_to_someone_without_vat(client: TestClient, world: World,
                                                                      engine: Engine) -> None:
    obligation_id = _vat_obligation(engine, world.itsa_client)
    sign_in(client, "jane@example.com")
    assert _file(client, world.itsa_client.id, obligation_id).status_code == 303
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/account").text)})
    sign_in(client, "agent@example.com")
    assert client.get(_return_url(world.itsa_client.id, obligation_id, "receipt")).status_code == 404


def test_obligations_of_another_client_another_tax_or_impossible_ids_are_not_found(
        client: TestClient, world: World, engine: Engine) -> None:
    granite = world.vat_client.id
    janes_vat = _world_vat_obligation(engine, world.itsa_client)
    with unit_of_work(engine) as session:
        ppt = factories.obligation(session, world.vat_client, "PPT", date.today() + timedelta(days=9))
    sign_in(client, "agent@example.com")
    for obligation_id in (janes_vat, ppt.id, 2**31, 99999999999999999999, 0):
        for page in ("", "check", "receipt"):
            assert client.get(_return_url(granite, obligation_id, page)).status_code == 404, (obligation_id, page)
    assert client.get(f"/clients/{2**31}/vat").status_code == 404
    assert client.get(f"/clients/{world.other_client.id}/vat").status_code == 404


def test_a_return_already_met_another_way_cannot_be_filed(client: TestClient, world: World, engine: Engine) -> None:
    with unit_of_work(engine) as session:
        met = factories.obligation(session, world.vat_client, "VAT", date.today() - timedelta(days=40),
                                   kind="VAT return", fulfilled=date.today() - timedelta(days=41))
    sign_in(client, "agent@example.com")
    assert client.get(_return_url(world.vat_client.id, met.id)).status_code == 404
    assert client.get(_return_url(world.vat_client.id, met.id, "receipt")).status_code == 404
    assert "Not sent through this service" in client.get(f"/clients/{world.vat_client.id}/vat").text


def test_errors_are_shown_by_each_box_and_in_the_summary_and_the_values_are_kept(
        client: TestClient, world: World, engine: Engine) -> None:
    obligation_id = _world_vat_obligation(engine, world.vat_client)
    sign_in(client, "agent@example.com")
    typed = VALID | {"box1": "12.345", "box2": "", "box6": "20000.50", "box7": "ten"}
    page = _fill(client, _return_url(world.vat_client.id, obligation_id), typed)
    assert page.status_code == 200
    assert "<title>Error: Submit VAT return – Granite Bakery Ltd" in page.text
    for box, message in (("box1", "Box 1 must be an amount in pounds and pence, like 1250.50"),
                         ("box2", "Enter the amount for box 2. Enter 0 if there is none"),
                         ("box6", "Box 6 must be a whole number of pounds, like 20000"),
                         ("box7", "Box 7 must be a whole number of pounds, like 20000")):
        assert f'<a href="#{box}">{message}</a>' in page.text  # the summary
        assert f'id="{box}-error"' in page.text and page.text.count(message) == 2  # and by the box
    assert 'value="12.345"' in page.text and 'value="ten"' in page.text and 'value="300.25"' in page.text
    assert "box4-error" not in page.text
    assert client.get(_return_url(world.vat_client.id, obligation_id, "check")).status_code == 303  # nothing saved


def test_net_vat_over_hmrcs_limit_is_refused_by_box_4_and_nothing_is_saved(
        client: TestClient, world: World, engine: Engine) -> None:
    obligation_id = _world_vat_obligation(engine, world.vat_client)
    sign_in(client, "agent@example.com")
    url = _return_url(world.vat_client.id, obligation_id)
    # box 3 £100,000,000,000.00 − box 4 £0.00: a penny over HMRC's box 5 limit of £99,999,999,999.99
    page = _fill(client, url, VALID | {"box1": "100000000000", "box4": "0"})
    message = ("Net VAT (box 5, the difference between box 3 and box 4) must be £99,999,999,999.99 or less. "
               "Check boxes 1, 2 and 4")
    assert page.status_code == 200 and f'<a href="#box4">{message}</a>' in page.text
    assert 'id="box4-error"' in page.text and 'value="100000000000"' in page.text
    assert client.get(_return_url(world.vat_client.id, obligation_id, "check")).status_code == 303
    at_the_limit = _fill(client, url, VALID | {"box1": "99999999999.99", "box4": "0"})
    assert at_the_limit.status_code == 303


def test_change_brings_back_the_saved_answers(client: TestClient, world: World, engine: Engine) -> None:
    obligation_id = _world_vat_obligation(engine, world.vat_client)
    sign_in(client, "agent@example.com")
    _fill(client, _return_url(world.vat_client.id, obligation_id), VALID | {"box4": "2,000"})
    form = client.get(_return_url(world.vat_client.id, obligation_id)).text
    assert 'value="2,000"' in form and 'value="1,250.50"' in form
    check = client.get(_return_url(world.vat_client.id, obligation_id, "check")).text
    assert "£749.50 to reclaim" in check and "will be repaid £749.50" in check


def test_the_check_page_sends_you_back_to_the_boxes_when_nothing_is_saved(client: TestClient, world: World,
                                                                        engine: Engine) -> None:
    obligation_id = _world_vat_obligation(engine, world.vat_client)
    sign_in(client, "agent@example.com")
    check = _return_url(world.vat_client.id, obligation_id, "check")
    assert client.get(check).headers["location"] == _return_url(world.vat_client.id, obligation_id)
    response = client.post(check, data={"confirm": "yes", "csrf_token": _any_csrf(client)})
    assert response.status_code == 303 and _submissions(engine, obligation_id) == []


def test_the_declaration_must_be_confirmed(client: TestClient, world: World, engine: Engine) -> None:
    obligation_id = _world_vat_obligation(engine, world.vat_client)
    sign_in(client, "agent@example.com")
    _fill(client, _return_url(world.vat_client.id, obligation_id))
    page = _confirm(client, _return_url(world.vat_client.id, obligation_id, "check"), confirm=False)
    assert page.status_code == 200
    assert "<title>Error: Check your VAT return – Granite Bakery Ltd" in page.text
    assert '<a href="#confirm">Select the box to confirm</a>' in page.text
    assert re.search(r'id="confirm-error"[^>]*>.*Select the box to confirm', page.text)
    assert 'type="checkbox"' in page.text
    assert "I confirm that the information I have given is correct and complete" in page.text
    assert _submissions(engine, obligation_id) == []


def test_a_double_submit_sends_once_and_both_land_on_the_same_receipt(client: TestClient, world: World,
                                                                      engine: Engine) -> None:
    granite, obligation_id = world.vat_client.id, _world_vat_obligation(engine, world.vat_client)
    sign_in(client, "agent@example.com")
    _fill(client, _return_url(granite, obligation_id))
    check = _return_url(granite, obligation_id, "check")
    token = csrf_from(client.get(check).text)
    first = client.post(check, data={"confirm": "yes", "csrf_token": token})
    receipt_first = client.get(first.headers["location"]).text
    second = client.post(check, data={"confirm": "yes", "csrf_token": token})
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == _return_url(granite, obligation_id, "receipt")
    assert client.get(second.headers["location"]).text.split("<main")[1] == receipt_first.split("<main")[1]
    assert len(_submissions(engine, obligation_id)) == 1
    # The form of a sent return now leads to its receipt, too.
    assert client.get(_return_url(granite, obligation_id)).headers["location"] == first.headers["location"]
    with Session(engine) as session:
        events = session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "vat_return_submitted")).scalar_one()
    assert events == 1


def test_two_submits_at_the_same_moment_make_one_submission(file_engine: Engine, settings: Settings,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    on_postgres = file_engine.dialect.name == "postgresql"
    both_past_the_first_check = threading.Barrier(2)
    sent_now: list[bool] = []
    submit_once = submissions.submit_once

    def submit_once_together(db: Session, **kwargs: Any) -> tuple[Submission, bool]:
        # Hold each request until both have found no receipt yet, so both really try to insert: the unique
        # index must decide. (SQLite lets one writing request in at a time, so there the second simply waits.)
        if on_postgres:
            both_past_the_first_check.wait(timeout=10)
        submission, now = submit_once(db, **kwargs)
        sent_now.append(now)
        return submission, now

    monkeypatch.setattr(submissions, "submit_once", submit_once_together)
    with unit_of_work(file_engine) as session:
        world = factories.build_world(session, settings)
    obligation_id = _world_vat_obligation(file_engine, world.vat_client)
    check = _return_url(world.vat_client.id, obligation_id, "check")
    app = create_app(settings=settings, engine=file_engine)
    with ExitStack() as stack:
        browsers = [stack.enter_context(TestClient(app, follow_redirects=False)) for _ in range(2)]
        tokens = []
        for browser in browsers:  # two tabs, or two people of the firm, each ready to submit
            sign_in(browser, "agent@example.com")
            assert _fill(browser, _return_url(world.vat_client.id, obligation_id)).status_code == 303
            tokens.append(csrf_from(browser.get(check).text))
        barrier = threading.Barrier(2)
        responses: list[httpx.Response | None] = [None, None]

        def submit(index: int) -> None:
            barrier.wait()
            responses[index] = browsers[index].post(check, data={"confirm": "yes", "csrf_token": tokens[index]})

        threads = [threading.Thread(target=submit, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        locations = {response.headers["location"] for response in responses if response is not None
                     and response.status_code == 303}
        assert locations == {_return_url(world.vat_client.id, obligation_id, "receipt")}
        assert [r.status_code for r in responses if r is not None] == [303, 303]
        assert len(_submissions(file_engine, obligation_id)) == 1
        assert sorted(sent_now) == ([False, True] if on_postgres else [True])
        receipts = [browser.get(_return_url(world.vat_client.id, obligation_id, "receipt")) for browser in browsers]
        assert receipts[0].text.split("<main")[1] == receipts[1].text.split("<main")[1]

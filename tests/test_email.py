"""Email that really arrives (issue 11): each email to the right person, in their language, through a real SMTP
server on the loopback; nothing for a change that rolls back; nothing lost while the relay is down; each email
once with two senders; and, after a sender is killed mid-run, every email delivered at least once with its
stable Message-ID, as README ("Email") promises."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from portal.domain import handshake, outbox, reminders, submissions
from portal.domain.models import (
    Authorisation,
    AuthorisationRequest,
    Firm,
    Obligation,
    User,
    utcnow,
)
from portal.domain.outbox_models import OutboxAttempt, OutboxEmail
from portal.domain.people import Authority, Viewer
from portal.domain.services import BY_KEY
from portal.domain.sql import unit_of_work
from portal.mail.render import render
from portal.mail.sender import Sender
from portal.mail.transport import FileTransport, build
from portal.settings import Settings
from tests.factories import World
from tests.mailbox import Mailbox

BASE = "https://portal.example"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def relay() -> Iterator[Mailbox]:
    mailbox = Mailbox()
    mailbox.start()
    yield mailbox
    mailbox.stop()


@pytest.fixture
def mail_settings(settings: Settings, relay: Mailbox) -> Settings:
    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=relay.port, smtp_starttls=False,
                               smtp_timeout_seconds=5, base_url=BASE, mail_lease_seconds=30,
                               mail_from="Agent Online Self-Serve <no-reply@portal.example>")


def deliver(engine: Engine, settings: Settings) -> None:
    done = Sender(engine, settings).run_once()
    assert done.retrying == done.failed == 0, done


def ask(engine: Engine, world: World, *, service: str = "HMRC-MTD-IT", firm: Firm | None = None,
        user: User | None = None) -> AuthorisationRequest:
    with unit_of_work(engine) as db:
        return handshake.create_request(db, firm_id=(firm or world.other_firm).id,
                                        user_id=(user or world.other_agent).id, service=BY_KEY[service],
                                        taxpayer=world.itsa_client, today=date.today())


def queued(engine: Engine) -> list[OutboxEmail]:
    with Session(engine) as db:
        return list(db.execute(select(OutboxEmail).order_by(col(OutboxEmail.id))).scalars())


# Who gets what --------------------------------------------------------------------------------------------------

def test_accepting_tells_the_agent_confirms_to_the_client_and_tells_the_replaced_agent(
        engine: Engine, world: World, mail_settings: Settings, relay: Mailbox) -> None:
    request = ask(engine, world)
    with unit_of_work(engine) as db:
        handshake.accept_request(db, user_id=world.client_user.id, request=request, today=date.today())
    deliver(engine, mail_settings)

    agent = relay.one_to("other@example.com")
    assert agent.subject == "Jane Whitfield accepted your authorisation request"
    assert agent.language == "en"
    assert "Jane Whitfield has accepted Northgate Accountancy’s request to deal with Making Tax Digital for " \
           "Income Tax (main agent) for them." in agent.text
    assert f"{BASE}/clients/{world.itsa_client.id}" in agent.text
    assert f'href="{BASE}/clients/{world.itsa_client.id}"' in agent.html
    assert "Agent Online Self-Serve" in agent.text and "<img" not in agent.html
    assert agent.message["From"] == "Agent Online Self-Serve <no-reply@portal.example>"

    client = relay.one_to("jane@example.com")
    assert client.subject == "You have authorised Northgate Accountancy"
    assert f"{BASE}/manage-your-tax-agents" in client.text

    # Harbour was Jane's main agent: no request of theirs is on record, so the firm's contact address hears.
    replaced = relay.one_to(world.firm.email)
    assert replaced.subject == "Jane Whitfield has appointed another agent"
    assert "so Harbour Tax is no longer authorised for this service" in replaced.text
    assert len(relay.received) == 3


def test_a_welsh_client_gets_welsh_and_the_firm_can_ask_for_copies_at_its_contact_address(
        engine: Engine, world: World, mail_settings: Settings, relay: Mailbox) -> None:
    with unit_of_work(engine) as db:
        db.execute(update(User).where(col(User.id) == world.client_user.id).values(language="cy"))
        db.execute(update(Firm).where(col(Firm.id) == world.other_firm.id).values(contact_gets_copies=True))
    request = ask(engine, world)
    with unit_of_work(engine) as db:
        handshake.decline_request(db, user_id=world.client_user.id, request=request, today=date.today())
    deliver(engine, mail_settings)

    client = relay.one_to("jane@example.com")
    assert client.language == "cy"
    assert client.subject == "Rydych wedi gwrthod cais Northgate Accountancy"
    assert "Os byddwch yn newid eich meddwl, gofynnwch iddynt anfon cais newydd." in client.text
    assert '<html lang="cy">' in client.html
    assert "Anfonwyd yr e-bost hwn yn awtomatig" in client.text

    agent = relay.one_to("other@example.com")
    assert agent.language == "en" and agent.subject == "Jane Whitfield declined your authorisation request"
    copy = relay.one_to(world.other_firm.email)
    assert copy.subject == agent.subject
    assert len(relay.received) == 3


def test_a_client_removing_an_agent_tells_the_agent_and_confirms_to_the_client(
        engine: Engine, world: World, mail_settings: Settings, relay: Mailbox) -> None:
    with unit_of_work(engine) as db:
        held = db.execute(select(Authorisation).where(col(Authorisation.taxpayer_id) == world.itsa_client.id)
                          ).scalar_one()
        handshake.end_authorisation(db, held, ended_by="client", actor_user_id=world.client_user.id,
                                    authority="self")
    deliver(engine, mail_settings)
    agent = relay.one_to(world.firm.email)
    assert agent.subject == "Jane Whitfield removed your authorisation"
    assert f"{BASE}/authorisation-requests" in agent.text
    assert relay.one_to("jane@example.com").subject == "You have removed Harbour Tax’s authorisation"


def test_an_agent_stopping_or_cancelling_tells_whom_it_should(
        engine: Engine, world: World, mail_settings: Settings, relay: Mailbox) -> None:
    request = ask(engine, world, service="HMRC-MTD-VAT")
    with unit_of_work(engine) as db:
        handshake.cancel_request(db, firm_id=world.other_firm.id, user_id=world.other_agent.id, request=request,
                                 today=date.today())
    deliver(engine, mail_settings)
    cancelled = relay.one_to("jane@example.com")
    assert cancelled.subject == "Northgate Accountancy has cancelled their authorisation request"
    assert "You do not need to do anything." in cancelled.text
    assert len(relay.received) == 1


def test_reminders_go_once_each_at_day_7_and_day_16_and_the_agent_hears_5_days_before_expiry(
        engine: Engine, world: World, mail_settings: Settings, relay: Mailbox) -> None:
    request = ask(engine, world)
    today = date.today()
    with unit_of_work(engine) as db:
        db.execute(update(AuthorisationRequest).where(col(AuthorisationRequest.id) == request.id)
                   .values(created_at=utcnow() - timedelta(days=7)))
    for _ in range(2):  # a second round (another worker, or the next minute) sends nothing more
        with unit_of_work(engine) as db:
            reminders.run(db, today=today)
    deliver(engine, mail_settings)
    reminder = relay.one_to("jane@example.com")
    assert reminder.subject == "Reminder: Northgate Accountancy is waiting for your answer"
    assert "Sign in with jane@example.com to accept or decline the request." in reminder.text
    assert f"{BASE}/authorisation-response/{request.id}/consent" in reminder.text
    assert f"until {(request.expires_on).strftime('%-d %B %Y')}" in reminder.text

    with unit_of_work(engine) as db:  # day 16: five days left, so the agent is warned too
        db.execute(update(AuthorisationRequest).where(col(AuthorisationRequest.id) == request.id)
                   .values(created_at=utcnow() - timedelta(days=16), expires_on=today + timedelta(days=5)))
    for _ in range(2):
        with unit_of_work(engine) as db:
            reminders.run(db, today=today)
    deliver(engine, mail_settings)
    assert len(relay.to("jane@example.com")) == 2
    assert "You have 5 days to respond" in relay.to("jane@example.com")[1].text
    warning = relay.one_to("other@example.com")
    assert warning.subject == "The authorisation request for Jane Whitfield expires in 5 days"

    with unit_of_work(engine) as db:  # past its date: the worker records expiry and tells the agent, once
        db.execute(update(AuthorisationRequest).where(col(AuthorisationRequest.id) == request.id)
                   .values(expires_on=today - timedelta(days=1)))
    for _ in range(2):
        with unit_of_work(engine) as db:
            reminders.run(db, today=today)
    deliver(engine, mail_settings)
    expired = relay.to("other@example.com")[1]
    assert expired.subject == "The authorisation request for Jane Whitfield has expired"
    assert len(relay.received) == 4


def test_a_late_worker_sends_only_the_latest_reminder(engine: Engine, world: World, mail_settings: Settings,
                                                      relay: Mailbox) -> None:
    request = ask(engine, world)
    with unit_of_work(engine) as db:
        db.execute(update(AuthorisationRequest).where(col(AuthorisationRequest.id) == request.id)
                   .values(created_at=utcnow() - timedelta(days=17)))
        reminders.run(db, today=date.today())
    deliver(engine, mail_settings)
    assert len(relay.to("jane@example.com")) == 1


def test_a_return_sent_on_the_clients_behalf_is_emailed_unless_they_turned_it_off(
        engine: Engine, world: World, mail_settings: Settings, relay: Mailbox) -> None:
    viewer = Viewer(user_id=world.agent.id, name="Agent", email="agent@example.com", session_id=0,
                    firm_id=world.firm.id, firm_name=world.firm.name)
    authority = Authority(kind="agent", taxpayer=world.itsa_client)
    with unit_of_work(engine) as db:
        obligations = list(db.execute(select(Obligation).where(
            col(Obligation.taxpayer_id) == world.itsa_client.id).order_by(col(Obligation.id))).scalars())
        submission, sent = submissions.submit_once(db, obligation=obligations[0], viewer=viewer,
                                                   authority=authority, figures={})
    assert sent
    deliver(engine, mail_settings)
    told = relay.one_to("jane@example.com")
    assert told.subject == "Harbour Tax sent a return for you"
    assert f"The submission reference is {submission.reference}." in told.text
    assert "the quarterly update for Jane Whitfield for the period ending" in told.text

    with unit_of_work(engine) as db:
        db.execute(update(User).where(col(User.id) == world.client_user.id).values(emails_on_behalf=False))
        submissions.submit_once(db, obligation=obligations[1], viewer=viewer, authority=authority, figures={})
    deliver(engine, mail_settings)
    assert len(relay.received) == 1


# The outbox's promises -------------------------------------------------------------------------------------------

def test_a_change_that_rolls_back_sends_nothing(engine: Engine, world: World, mail_settings: Settings,
                                                relay: Mailbox) -> None:
    request = ask(engine, world)
    with pytest.raises(RuntimeError), unit_of_work(engine) as db:
        handshake.accept_request(db, user_id=world.client_user.id, request=request, today=date.today())
        assert db.execute(select(OutboxEmail)).first() is not None  # recorded in the change's transaction...
        raise RuntimeError("the page failed after the change")
    assert queued(engine) == []  # ...and gone with it
    deliver(engine, mail_settings)
    assert relay.received == []


def enqueue(engine: Engine, count: int, to: str = "agent@example.com") -> None:
    with unit_of_work(engine) as db:
        for n in range(count):
            outbox.enqueue(db, kind="request_cancelled", to=to, language="en", context={
                "firm_name": f"Firm {n}", "client_name": "Jane", "service": "HMRC-MTD-VAT"})


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def test_with_the_relay_down_nothing_is_lost_and_it_all_arrives_once_it_is_back(
        engine: Engine, mail_settings: Settings, relay: Mailbox) -> None:
    enqueue(engine, 3)
    relay.stop()
    clock = Clock()
    sender = Sender(engine, mail_settings, clock=clock)
    start = queued(engine)[0].created_at
    for minute in range(12):  # a worker round every simulated minute while the relay is down
        clock.now = start + timedelta(minutes=minute, seconds=1)
        sender.run_once()
    waiting = queued(engine)
    assert [e.status for e in waiting] == ["pending"] * 3  # kept, waiting for the relay
    assert all(e.attempts >= 3 and "ConnectionRefusedError" in (e.last_error or "") for e in waiting)
    with Session(engine) as db:
        tries = [a.at for a in db.execute(select(OutboxAttempt).where(
            col(OutboxAttempt.email_id) == waiting[0].id).order_by(col(OutboxAttempt.id))).scalars()]
    # Each waits longer after each failure (1, 2, 4 minutes...); a round stops at the first failure, so a dead
    # relay is asked once per round, not once per email.
    assert waiting[0].next_attempt_at == tries[-1] + outbox.backoff(waiting[0].attempts)
    assert len(tries) == waiting[0].attempts

    relay.start()
    clock.now += timedelta(hours=1)  # the longest wait between two tries
    done = sender.run_once()
    assert done.sent == 3
    assert sorted(r.subject for r in relay.received) == [f"Firm {n} has cancelled their authorisation request"
                                                         for n in range(3)]
    with Session(engine) as db:
        outcomes = [a.outcome for a in db.execute(select(OutboxAttempt).where(
            col(OutboxAttempt.email_id) == waiting[0].id).order_by(col(OutboxAttempt.id))).scalars()]
    assert outcomes == ["retry"] * (len(outcomes) - 1) + ["sent"]  # every attempt recorded


def test_backoff_doubles_to_an_hour_and_a_refused_email_is_kept_and_listed(
        engine: Engine, mail_settings: Settings, relay: Mailbox) -> None:
    assert [outbox.backoff(n).total_seconds() / 60 for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    relay.refuse.add("nobody@example.com")
    enqueue(engine, 1, to="nobody@example.com")
    Sender(engine, mail_settings).run_once()
    [refused] = queued(engine)
    assert refused.status == "failed" and "550" in (refused.last_error or "")
    with Session(engine) as db:
        assert [e.id for e in outbox.failing(db)] == [refused.id]
    with unit_of_work(engine) as db:
        assert outbox.retry(db, refused.id, now=utcnow())
    relay.refuse.clear()
    deliver(engine, mail_settings)
    assert queued(engine)[0].status == "sent" and len(relay.received) == 1


def test_two_senders_at_once_deliver_each_email_once(file_engine: Engine, mail_settings: Settings,
                                                     relay: Mailbox) -> None:
    enqueue(file_engine, 30)
    relay.delay = 0.01
    errors: list[BaseException] = []

    def send() -> None:
        try:
            sender = Sender(file_engine, mail_settings)
            while sender.run_once().sent:
                pass
        except BaseException as error:  # noqa: BLE001 (reported by the test below)
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    ids = [r.message_id for r in relay.received]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert {e.status for e in queued(file_engine)} == {"sent"}


def test_a_sender_killed_mid_run_then_restarted_delivers_everything_at_least_once_with_the_same_message_id(
        file_engine: Engine, mail_settings: Settings, relay: Mailbox, tmp_path: Path) -> None:
    """The worst moment: the relay has stored the third email, the sender dies before it records `sent`. After
    the lease runs out a new sender sends that email again, with the same Message-ID; everything else once."""
    enqueue(file_engine, 6)
    env = {**os.environ, "DATABASE_URL": file_engine.url.render_as_string(hide_password=False),
           "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(relay.port), "SMTP_STARTTLS": "false",
           "MAIL_LEASE_SECONDS": "2", "WORKER_POLL_SECONDS": "0.1", "PORTAL_BASE_URL": BASE,
           "PORTAL_DATA_DIR": str(tmp_path), "PORTAL_ENV": "development",
           "MAIL_FROM": mail_settings.mail_from}
    worker = subprocess.Popen([sys.executable, "-m", "portal", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill_on_the_third(item: object) -> None:
        if len(relay.received) == 3:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(10)

    relay.on_data = kill_on_the_third
    try:
        relay.wait_for(3)
        assert worker.wait(10) == -signal.SIGKILL
        relay.on_data = None
        states = [e.status for e in queued(file_engine)]
        assert states[:2] == ["sent", "sent"] and states[2] == "pending"  # delivered, but not recorded as sent

        worker = subprocess.Popen([sys.executable, "-m", "portal", "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while any(e.status != "sent" for e in queued(file_engine)):
            assert time.monotonic() < deadline, [e.status for e in queued(file_engine)]
            time.sleep(0.1)
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(10)

    rows = queued(file_engine)
    ids = [r.message_id for r in relay.received]
    expected = {f"<{e.message_id}@portal.example>" for e in rows}
    assert set(ids) == expected  # everything arrived
    assert len(ids) == 7  # once each, and the one in flight at the kill twice...
    [twice] = [i for i in expected if ids.count(i) == 2]
    assert twice == f"<{rows[2].message_id}@portal.example>"  # ...with the same Message-ID


# Rendering and development delivery -------------------------------------------------------------------------------

def test_development_delivers_into_files_and_a_resend_overwrites_its_own_file(tmp_path: Path,
                                                                            settings: Settings) -> None:
    email = OutboxEmail(message_id="abc123", kind="request_cancelled", to_address="jane@example.com",
                        language="en", context={"firm_name": "Harbour", "client_name": "Jane",
                                                "service": "HMRC-MTD-VAT"})
    files = FileTransport(tmp_path / "mail")
    message = build(email, render(email.kind, "en", email.context, base_url=BASE), settings,
                    readable=files.readable)
    files.send(message)
    files.send(message)
    [written] = list((tmp_path / "mail").glob("*.eml"))
    assert written.name.endswith("-jane@example.com-abc123.eml")
    assert b"Subject: Harbour has cancelled their authorisation request" in written.read_bytes()
    # Readable in any editor: the text as it is, not quoted-printable.
    assert "Harbour has cancelled their request to deal with VAT for Jane." in written.read_text(encoding="utf-8")


def test_every_sentence_of_every_email_has_its_welsh_translation() -> None:
    from babel.messages.pofile import read_po

    from portal.i18n import CATALOGUES

    with (CATALOGUES / "cy" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale="cy")
    in_emails = [m for m in catalogue if m.id and any("templates/emails/" in path for path, _ in m.locations)]
    assert len(in_emails) > 50
    untranslated = [m.id for m in in_emails
                    if not (all(m.string) if isinstance(m.string, tuple) else m.string) or m.fuzzy]
    assert untranslated == []
    templates = {p.stem for p in (ROOT / "portal" / "templates" / "emails").glob("[!_]*.html")}
    assert {path.rsplit("/", 1)[1].removesuffix(".html") for m in in_emails for path, _ in m.locations
            if "templates/emails/" in path and "/_" not in path} == templates


# Trusted helpers and details: driven through the pages, where those rules are called today -------------------------

def test_a_helper_invitation_carries_the_secret_link_only_to_the_invited_address_and_both_sides_hear_of_the_end(
        app, client, engine: Engine, settings: Settings, mail_settings: Settings,  # type: ignore[no-untyped-def]
        relay: Mailbox) -> None:
    from tests.factories import sign_in
    from tests.test_helpers import _accept, _client, _invite, _links, _person, _post, _user

    _person(engine, settings)
    _user(engine, settings, "helen@example.com")
    sign_in(client, "mary@example.com")
    path = _invite(client, "Helen@Example.com")
    deliver(engine, mail_settings)
    invitation = relay.one_to("helen@example.com")
    assert invitation.subject == "Mary Jones has asked you to help them with their tax"
    assert f"{BASE}{path}" in invitation.text and f'href="{BASE}{path}"' in invitation.html
    assert "sign in with helen@example.com" in invitation.text
    assert len(relay.received) == 1  # the secret is in no other email
    [row] = queued(engine)
    assert "secret_path" not in row.context  # and no longer in the database once delivered

    helper = _client(app)
    with helper:
        sign_in(helper, "helen@example.com")
        assert _accept(helper, path).headers["location"] == "/helping"
        [link] = _links(engine)
        assert _post(helper, f"/helping/stop/{link.id}").headers["location"] == "/helping"
    deliver(engine, mail_settings)
    assert relay.to("helen@example.com")[1].subject == "You have stopped helping Mary Jones"
    told = relay.one_to("mary@example.com")
    assert told.subject == "Helen Helper has stopped helping you"
    assert f"{BASE}/trusted-helpers" in told.text


def test_a_client_removing_a_helper_tells_both(app, client, engine: Engine, settings: Settings,  # type: ignore[no-untyped-def]
                                                mail_settings: Settings, relay: Mailbox) -> None:
    from tests.test_helpers import _helping, _links, _post

    _taxpayer_id, helper = _helping(engine, settings, app, client)
    with helper:
        [link] = _links(engine)
        assert _post(client, f"/trusted-helpers/remove/{link.id}").headers["location"] == "/trusted-helpers"
    deliver(engine, mail_settings)
    assert relay.to("helen@example.com")[-1].subject == "Mary Jones has removed you as their trusted helper"
    assert relay.one_to("mary@example.com").subject == "You have removed Helen Helper as your trusted helper"


def test_details_changed_by_an_agent_are_emailed_to_the_client_but_their_own_changes_are_not(
        client, world: World, engine: Engine, mail_settings: Settings, relay: Mailbox) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import sign_in
    from tests.test_details import ADDRESS, _change

    sign_in(client, "agent@example.com")
    _change(client, world.itsa_client.id, "address", ADDRESS)
    deliver(engine, mail_settings)
    told = relay.one_to("jane@example.com")
    assert told.subject == "Your details were changed on your behalf"
    assert "Harbour Tax changed the details held for Jane Whitfield." in told.text
    assert f"{BASE}/clients/{world.itsa_client.id}/details" in told.text

    client.cookies.clear()
    sign_in(client, "jane@example.com")
    _change(client, world.itsa_client.id, "contact", {"email": "jane@example.com", "phone": "07700 900123"})
    deliver(engine, mail_settings)
    assert len(relay.received) == 1


def test_the_client_turns_on_behalf_emails_off_and_a_firm_admin_asks_for_copies(
        client, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import csrf_from, sign_in

    sign_in(client, "jane@example.com")
    assert 'href="/account/emails"' in client.get("/account").text
    page = client.get("/account/emails")
    assert "Do you want an email when someone acting for you sends a return or changes your details?" in page.text
    assert "contact_copies" not in page.text  # not a firm's administrator
    refused = client.post("/account/emails", data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 200 and "Error: Emails you get" in refused.text
    saved = client.post("/account/emails", data={"on_behalf": "no", "csrf_token": csrf_from(page.text)})
    assert saved.status_code == 303
    with Session(engine) as db:
        assert db.get(User, world.client_user.id).emails_on_behalf is False  # type: ignore[union-attr]

    client.cookies.clear()
    sign_in(client, "agent@example.com")
    page = client.get("/account/emails")
    assert f"Should {world.firm.email} get a copy" in page.text and "on_behalf" not in page.text
    client.post("/account/emails", data={"contact_copies": "yes", "csrf_token": csrf_from(page.text)})
    with Session(engine) as db:
        assert db.get(Firm, world.firm.id).contact_gets_copies is True  # type: ignore[union-attr]


def test_the_outbox_command_lists_failing_emails_for_operators(file_engine: Engine, tmp_path: Path) -> None:
    enqueue(file_engine, 2, to="bounces@example.com")
    with unit_of_work(file_engine) as db:
        db.execute(update(OutboxEmail).where(col(OutboxEmail.id) == 1).values(
            status="failed", attempts=1, last_error="refused: 550 'No such mailbox'"))
    env = {**os.environ, "DATABASE_URL": file_engine.url.render_as_string(hide_password=False),
           "PORTAL_DATA_DIR": str(tmp_path), "PORTAL_ENV": "development"}
    listed = subprocess.run([sys.executable, "-m", "portal", "outbox", "--failed"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 1
    assert "1\tfailed\t1 attempt(s)" in listed.stdout and "to bounces@example.com" in listed.stdout
    assert "550" in listed.stdout and "1 email(s) failing" in listed.stdout
    again = subprocess.run([sys.executable, "-m", "portal", "outbox", "--retry", "1"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0
    assert [e.status for e in queued(file_engine)] == ["pending", "pending"]


def test_the_sender_starts_tls_checks_the_relays_certificate_and_logs_in(
        engine: Engine, settings: Settings, tmp_path: Path) -> None:
    import shutil
    import ssl

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate for the test relay")
    cert, key = tmp_path / "relay.pem", tmp_path / "relay.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True, timeout=60)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    relay = Mailbox(tls=tls, login=("portal", "relay-password"))
    relay.start()
    try:
        secure = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=relay.port, smtp_starttls=True,
                                     smtp_ca_file=str(cert), smtp_username="portal", smtp_password="relay-password",
                                     smtp_timeout_seconds=5, base_url=BASE)
        enqueue(engine, 1)
        untrusted = Sender(engine, dataclasses.replace(secure, smtp_ca_file="")).run_once()
        assert untrusted.retrying == 1 and relay.received == []  # an unverified relay gets nothing
        assert "CERTIFICATE_VERIFY_FAILED" in (queued(engine)[0].last_error or "")
        with unit_of_work(engine) as db:
            outbox.retry(db, queued(engine)[0].id, now=utcnow())
        deliver(engine, secure)
        assert relay.logins == ["portal"] and len(relay.received) == 1
    finally:
        relay.stop()


def test_no_page_can_wait_for_the_relay() -> None:
    """Pages and the domain only write outbox rows: nothing they import can talk to a relay."""
    from tests.test_layout import imported_modules, refused, sources

    for folder in ("areas", "web", "domain"):
        for path in sources(folder):
            assert refused(imported_modules(path), ("portal.mail", "portal.worker", "smtplib")) == [], path

"""Issue 12: sign-in limits an attacker cannot turn against the owner, answers that do not say who has an
account, confirming addresses, forgotten passwords, security details and the session's timeout."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain import accounts
from portal.domain.account_models import EmailToken
from portal.domain.models import AuditEvent, User, UserSession, utcnow
from portal.settings import Settings
from portal.web import journeys
from portal.web.sessions import SignInRequired
from tests import factories
from tests.factories import PASSWORD, World, allow_code_again, csrf_from, second_step, sign_in, totp_code
from tests.welsh import choose_welsh


def _password(client: TestClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/sign-in", data={"email": email, "password": password,
                                         "csrf_token": csrf_from(client.get("/sign-in").text)})


def _tokenless(html: str) -> str:
    return re.sub(r"[0-9a-f]{64}", "TOKEN", html)


# --- the lock that cannot lock the owner out ------------------------------------------------------------------------


def test_wrong_passwords_for_an_address_need_an_emailed_link_but_let_the_owner_in(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    for _ in range(5):
        _password(client, "agent@example.com", "guess")
    # From another worker and another place, the right password alone no longer signs in...
    with TestClient(create_app(settings=settings, engine=engine), follow_redirects=False,
                    client=("198.51.100.7", 4000)) as owner:
        right = _password(owner, "agent@example.com")
        wrong = _password(owner, "agent@example.com", "another guess")
        unknown = _password(owner, "nobody@example.com", "guess")
        for _ in range(5):
            _password(owner, "nobody@example.com", "guess")
        unknown_locked = _password(owner, "nobody@example.com", "guess")
        assert right.status_code == wrong.status_code == unknown_locked.status_code == 200
        assert "we have sent you an email with a link to finish signing in" in right.text
        # ...and the page says the same whatever was typed, and whether or not the address has an account.
        assert _tokenless(right.text) == _tokenless(wrong.text)
        assert _tokenless(right.text).replace("agent@example.com", "X") == _tokenless(unknown_locked.text).replace(
            "nobody@example.com", "X")
        assert "Enter a correct email address and password" in unknown.text
        # Only the right password sent a link, to the owner, who follows it and still passes the second step.
        links = factories.emails_to(owner, "agent@example.com")
        assert len(links) == 1 and links[0].subject == "Finish signing in"
        followed = factories.follow_emailed_link(owner, "agent@example.com")
        assert followed.headers["location"] == "/sign-in/second-step"
        assert owner.get("/clients").status_code == 303  # not before the second step
        done = second_step(owner, followed)
        assert done.status_code == 303 and owner.get("/clients").status_code == 200
    # Once the owner is in, their count starts again: the password works alone (with the second step).
    sign_in(client, "agent@example.com")


def test_an_emailed_sign_in_link_works_once_and_expires(client: TestClient, world: World, engine: Engine,
                                                       app) -> None:  # type: ignore[no-untyped-def]
    for _ in range(6):
        _password(client, "jane@example.com", "guess")
    _password(client, "jane@example.com")
    path = factories.EMAILED_LINK.findall(factories.last_email_to(client, "jane@example.com").text)[0]
    assert client.get(path).status_code == 200  # opening it (as an email scanner does) does not use it up
    with engine.begin() as connection:
        connection.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(path).status_code == 404
    with engine.begin() as connection:
        connection.execute(update(EmailToken).values(expires_at=utcnow() + timedelta(minutes=5)))
    used = client.post(path, data={"csrf_token": csrf_from(client.get(path).text)})
    assert used.headers["location"] == "/"
    with TestClient(app, follow_redirects=False) as again:
        assert again.get(path).status_code == 404


def test_password_spraying_from_one_place_is_slowed_but_not_elsewhere(
    settings: Settings, engine: Engine, world: World
) -> None:
    strict = dataclasses.replace(settings, sign_in_source_attempts_allowed=3)
    app = create_app(settings=strict, engine=engine)
    with TestClient(app, follow_redirects=False, client=("203.0.113.9", 1)) as sprayer:
        for email in ("agent@example.com", "staff@example.com", "other@example.com"):
            _password(sprayer, email, "Summer2026!")
        refused = _password(sprayer, "jane@example.com")  # even a right password, from there, waits
        assert "too many attempts to sign in from your network" in refused.text
    with TestClient(app, follow_redirects=False, client=("192.0.2.1", 1)) as elsewhere:
        assert _password(elsewhere, "jane@example.com").headers["location"] == "/"


def test_limits_hold_across_two_apps_and_a_restart(settings: Settings, engine: Engine, world: World) -> None:
    first = create_app(settings=settings, engine=engine)
    with TestClient(first, follow_redirects=False) as one:
        for _ in range(3):
            _password(one, "staff@example.com", "guess")
    with TestClient(create_app(settings=settings, engine=engine), follow_redirects=False) as two:
        for _ in range(2):
            _password(two, "staff@example.com", "guess")
    with TestClient(create_app(settings=settings, engine=engine), follow_redirects=False) as restarted:
        assert "too many times" in _password(restarted, "staff@example.com").text


def test_every_sign_in_path_does_one_password_hash(client: TestClient, world: World,
                                                   monkeypatch: pytest.MonkeyPatch, app) -> None:  # type: ignore[no-untyped-def]
    """No timing difference worth measuring: wrong password, unknown address, locked address, right password."""
    calls: list[str] = []
    checker = app.state.sessions.passwords
    original = checker.hasher

    class Counting:
        def verify(self, hashed: str, password: str) -> bool:
            calls.append(password)
            return bool(original.verify(hashed, password))

    monkeypatch.setattr(checker, "hasher", Counting())
    for email, password in (("agent@example.com", "wrong"), ("nobody@example.com", "wrong"),
                            ("agent@example.com", PASSWORD)):
        calls.clear()
        _password(client, email, password)
        assert len(calls) == 1, (email, password)
    calls.clear()
    token = csrf_from(client.get("/sign-up").text)
    for email in ("agent@example.com", "fresh@example.com"):  # sign-up: taken and free both hash once
        client.post("/sign-up", data={"name": "N", "email": email, "password": "a long enough password",
                                      "confirm_password": "a long enough password", "csrf_token": token})
    assert len(calls) == 1  # the taken address verifies against the dummy hash; the free one hashes to store


# --- forgotten passwords --------------------------------------------------------------------------------------------


def test_a_reset_looks_the_same_for_any_address_and_emails_only_an_owner(client: TestClient, world: World) -> None:
    def reset(email: str):  # type: ignore[no-untyped-def]
        return client.post("/password-reset", data={"email": email,
                                                     "csrf_token": csrf_from(client.get("/password-reset").text)})

    known, unknown = reset("agent@example.com"), reset("nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert _tokenless(known.text).replace("agent@example.com", "X") == \
        _tokenless(unknown.text).replace("nobody@example.com", "X")
    assert factories.last_email_to(client, "agent@example.com").subject == "Reset your password"
    assert factories.emails_to(client, "nobody@example.com") == []
    for _ in range(6):  # too many requests: the same page, and no more email
        reset("agent@example.com")
    assert len(factories.emails_to(client, "agent@example.com")) == 5


def test_resetting_ends_every_session_still_asks_the_second_step_and_the_link_works_once(
    client: TestClient, world: World, engine: Engine, app  # type: ignore[no-untyped-def]
) -> None:
    with TestClient(app, follow_redirects=False) as elsewhere:
        sign_in(elsewhere, "agent@example.com")
        client.post("/password-reset", data={"email": "agent@example.com",
                                             "csrf_token": csrf_from(client.get("/password-reset").text)})
        path = factories.EMAILED_LINK.findall(factories.last_email_to(client, "agent@example.com").text)[0]
        page = client.get(path)
        short = client.post(path, data={"password": "short", "confirm_password": "short",
                                        "csrf_token": csrf_from(page.text)})
        assert "Password must be 12 characters or more" in short.text
        done = client.post(path, data={"password": "a brand new password", "confirm_password": "a brand new password",
                                       "csrf_token": csrf_from(page.text)})
        assert done.headers["location"] == "/sign-in/second-step"
        assert client.get("/clients").status_code == 303  # the second step first
        allow_code_again(client)
        client.post("/sign-in/second-step", data={"code": totp_code(),
                                                  "csrf_token": csrf_from(client.get("/sign-in/second-step").text)})
        assert client.get("/clients").status_code == 200
        assert elsewhere.get("/clients").status_code == 303  # every other session ended
    assert client.get(path).status_code == 404  # used once
    assert "Your password was reset" in factories.last_email_to(client, "agent@example.com").text
    # For 48 hours after the reset, how codes are received cannot change.
    wait = client.get("/account/security/authenticator-app")
    assert wait.status_code == 403 and "You reset your password recently" in wait.text
    with engine.begin() as connection:
        connection.execute(update(User).where(User.email == "agent@example.com")
                           .values(password_reset_at=utcnow() - timedelta(hours=49)))
    assert client.get("/account/security/authenticator-app").status_code == 200
    with TestClient(app, follow_redirects=False) as later:
        sign_in(later, "agent@example.com", "a brand new password")


# --- sign-up confirmation ----------------------------------------------------------------------------------------


def test_nothing_is_made_until_the_address_is_confirmed_and_unconfirmed_addresses_cannot_join_a_firm(
    client: TestClient, engine: Engine, db, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    old = factories.user(db, settings, "older@example.com")
    old.email_confirmed_at = None  # made before sign-up asked for confirmation
    db.commit()
    sign_in(client, "older@example.com")
    refused = client.get("/register/firm-name")
    assert refused.status_code == 403 and "Confirm your email address first" in refused.text
    sent = client.post("/account/security/confirm-email", data={"csrf_token": csrf_from(refused.text)})
    assert "Check your email" in sent.text
    confirmed = factories.follow_emailed_link(client, "older@example.com")
    assert confirmed.headers["location"] == "/account/security"
    assert client.get("/register/firm-name").status_code == 200


def test_a_sign_up_link_expires(client: TestClient, engine: Engine) -> None:
    token = csrf_from(client.get("/sign-up").text)
    client.post("/sign-up", data={"name": "Late", "email": "late@example.com", "password": "a long enough password",
                                  "confirm_password": "a long enough password", "csrf_token": token})
    with engine.begin() as connection:
        connection.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    path = factories.EMAILED_LINK.findall(factories.last_email_to(client, "late@example.com").text)[0]
    assert client.get(path).status_code == 404


# --- sign in and security details ---------------------------------------------------------------------------------


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    client: TestClient, world: World, app  # type: ignore[no-untyped-def]
) -> None:
    with TestClient(app, follow_redirects=False, headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/133.0"}
                    ) as laptop:
        sign_in(laptop, "jane@example.com")
        sign_in(client, "jane@example.com")
        page = client.get("/account/security")
        assert "Firefox, Windows" in page.text and "This browser" in page.text
        form = client.get("/account/security/password")
        wrong = client.post("/account/security/password", data={
            "current_password": "nope", "password": "a brand new password", "confirm_password": "a brand new password",
            "csrf_token": csrf_from(form.text)})
        assert "Your current password is not correct" in wrong.text
        done = client.post("/account/security/password", data={
            "current_password": PASSWORD, "password": "a brand new password",
            "confirm_password": "a brand new password", "csrf_token": csrf_from(form.text)})
        assert done.headers["location"] == "/account/security?changed=password"
        assert client.get("/account").status_code == 200  # this session stays
        assert laptop.get("/account").status_code == 303  # the other ends
    assert "Your password was changed" in factories.last_email_to(client, "jane@example.com").text


def test_signing_out_of_all_other_sessions(client: TestClient, world: World, app, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, follow_redirects=False) as phone:
        sign_in(phone, "jane@example.com")
        sign_in(client, "jane@example.com")
        page = client.get("/account/security")
        assert "Sign out of all other sessions" in page.text
        client.post("/account/security/sign-out-others", data={"csrf_token": csrf_from(page.text)})
        assert phone.get("/account").status_code == 303 and client.get("/account").status_code == 200
    with engine.connect() as connection:
        assert len(connection.execute(select(UserSession.id).where(UserSession.ended_at.is_(None))).all()) == 1


# --- the timeout ------------------------------------------------------------------------------------------------


def test_keep_alive_renews_the_session_and_nothing_else(client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "jane@example.com")
    page = client.get("/account")
    assert 'name="hmrc-timeout-dialog"' in page.text and 'data-countdown="120"' in page.text
    assert 'data-keep-alive-url="/keep-alive"' in page.text
    with engine.begin() as connection:
        connection.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=13)))
    alive = client.get("/keep-alive")
    assert alive.status_code == 204 and alive.headers["cache-control"] == "no-store"
    with engine.begin() as connection:
        connection.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=14)))
    assert client.get("/account").status_code == 200  # 14 more idle minutes after a keep-alive: still signed in
    with engine.begin() as connection:
        connection.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=16)))
    ended = client.get("/account")
    assert ended.headers["location"] == "/timed-out?next=%2Faccount"  # without JavaScript: say what happened
    timed_out = client.get(ended.headers["location"])
    assert "For your security, we signed you out" in timed_out.text
    assert client.get("/keep-alive").status_code == 401


def test_the_dialog_speaks_welsh_in_hmrcs_words(client: TestClient, world: World) -> None:
    """shared/accounts.md §1, word for word: the dialog's text comes from the meta tag's data attributes."""
    sign_in(client, "jane@example.com")
    page = client.get("/account", params={"lang": "cy"})
    meta = re.search(r'<meta name="hmrc-timeout-dialog"[^>]*>', page.text)
    assert meta
    attributes = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', meta.group(0).replace("&#39;", "’")))
    assert attributes["title"] == "Rydych ar fin cael eich allgofnodi"
    assert attributes["message"] == "Er eich diogelwch, byddwn yn eich allgofnodi cyn pen"
    assert attributes["keep-alive-button-text"] == "Parhau i fod wedi’ch mewngofnodi"
    assert attributes["sign-out-button-text"] == "Allgofnodi"
    assert attributes["minutes"] == attributes["minute"] == "funud"
    assert attributes["seconds"] == attributes["second"] == "eiliad"


def test_nobody_who_is_not_signed_in_gets_a_dialog_because_no_answers_of_theirs_are_kept(
    client: TestClient, world: World
) -> None:
    """The not-signed-in variant ("We will delete your answers") has nothing to warn about: every journey that
    keeps answers on the server (portal/web/journeys.py) needs a signed-in session, and sign-up keeps nothing
    between pages (one form, then an emailed link)."""
    for path in ("/", "/sign-in", "/sign-up", "/password-reset", "/register"):
        page = client.get(path)
        assert page.status_code == 200 and "hmrc-timeout-dialog" not in page.text, path
    anonymous = Request({"type": "http", "app": client.app, "state": {}, "headers": [], "method": "GET", "path": "/"})
    with pytest.raises(SignInRequired):  # no server-side answers without a signed-in session
        journeys.answers(anonymous, "register")


def test_the_dialog_running_out_signs_out_on_the_server(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    page = client.get("/account")
    out = client.post("/sign-out", data={"timed_out": "yes", "csrf_token": csrf_from(page.text)})
    assert out.headers["location"] == "/timed-out"
    assert client.get("/account").status_code == 303


def test_the_timeouts_are_settings(settings: Settings, engine: Engine, world: World) -> None:
    short = dataclasses.replace(settings, session_idle_seconds=600, session_warning_seconds=480)
    with TestClient(create_app(settings=short, engine=engine), follow_redirects=False) as client:
        sign_in(client, "jane@example.com")
        assert 'data-countdown="120"' in client.get("/account").text
        assert 'data-idle="600"' in client.get("/account").text


def test_accounts_rules_are_domain_rules() -> None:
    assert accounts.password_problem("short") == "Password must be 12 characters or more"
    assert accounts.password_problem("plum kettle 7") is None
    assert accounts.password_problem("x" * 12) == accounts.COMMON_PASSWORD  # common, however long


# --- passwords that are easy to guess (ASVS 5.0 6.2.4, 6.2.11) -----------------------------------------------------


def test_the_common_passwords_list_holds_thousands_that_meet_the_policy() -> None:
    common = accounts.common_passwords()
    assert len(common) > 40_000  # ASVS asks for at least the top 3,000 that meet the policy
    assert all(accounts.MIN_PASSWORD_LENGTH <= len(p) <= accounts.MAX_PASSWORD_LENGTH for p in common)
    for guess in ("1qaz2wsx3edc", "qwertyuiopasdfghjkl", "passwordpassword", "QWERTY123456"):
        assert accounts.password_problem(guess) == accounts.COMMON_PASSWORD, guess
    assert accounts.password_problem(PASSWORD) is None and accounts.password_problem("demo-password-2026") is None


def test_passwords_made_only_of_the_service_or_the_person_are_refused() -> None:
    about = ("Jane Whitfield", "jane.whitfield@example.com")
    for guess in ("HMRC-agent-2026!", "AgentOnline Self Serve", "Jane.Whitfield1990", "whitfield-example-99",
                  "tax password 2026"):
        assert accounts.password_problem(guess, about=about) == accounts.GUESSABLE_PASSWORD, guess
    for fine in ("hmrc tax agent in leeds since 1998", "Jane likes plum kettles", PASSWORD):
        assert accounts.password_problem(fine, about=about) is None, fine


def _refused_password(page_text: str) -> bool:
    return "Enter a stronger password. Do not use very common passwords" in page_text


def test_sign_up_reset_and_change_all_refuse_a_common_password(client: TestClient, world: World, app) -> None:  # type: ignore[no-untyped-def]
    common = "qwertyuiopasdfghjkl"
    signing_up = client.post("/sign-up", data={"name": "New Person", "email": "new@example.com", "password": common,
                                              "confirm_password": common,
                                              "csrf_token": csrf_from(client.get("/sign-up").text)})
    assert signing_up.status_code == 200 and _refused_password(signing_up.text)
    assert "Error:" in signing_up.text and not factories.emails_to(client, "new@example.com")
    client.post("/password-reset", data={"email": "jane@example.com",
                                         "csrf_token": csrf_from(client.get("/password-reset").text)})
    path = factories.EMAILED_LINK.findall(factories.last_email_to(client, "jane@example.com").text)[0]
    resetting = client.post(path, data={"password": common, "confirm_password": common,
                                        "csrf_token": csrf_from(client.get(path).text)})
    assert resetting.status_code == 200 and _refused_password(resetting.text)
    assert client.get(path).status_code == 200  # the link is still good for a better password
    mine = client.post(path, data={"password": "Jane Whitfield 1990", "confirm_password": "Jane Whitfield 1990",
                                   "csrf_token": csrf_from(client.get(path).text)})
    assert "Do not make it only of your name" in mine.text
    with TestClient(app, follow_redirects=False) as signed_in:
        sign_in(signed_in, "jane@example.com")
        page = signed_in.get("/account/security/password")
        changing = signed_in.post("/account/security/password", data={
            "current_password": PASSWORD, "password": common, "confirm_password": common,
            "csrf_token": csrf_from(page.text)})
        assert changing.status_code == 200 and _refused_password(changing.text)
        assert signed_in.get("/account").status_code == 200  # nothing changed, still signed in


def test_the_refusal_is_in_welsh_on_a_welsh_page(client: TestClient) -> None:
    choose_welsh(client)
    common = "1qaz2wsx3edc"
    page = client.post("/sign-up", data={"name": "Person Newydd", "email": "newydd@example.com", "password": common,
                                         "confirm_password": common,
                                         "csrf_token": csrf_from(client.get("/sign-up").text)})
    assert "Gwall:" in page.text
    assert "Rhowch gyfrinair cryfach. Peidiwch â defnyddio cyfrineiriau cyffredin iawn" in page.text


# --- how many sessions at once (ASVS 5.0 7.1.2) ---------------------------------------------------------------------


def test_signing_in_past_the_limit_ends_the_session_signed_in_longest_ago(settings: Settings, engine: Engine,
                                                                           world: World) -> None:
    two = dataclasses.replace(settings, sessions_per_account=2)
    app = create_app(settings=two, engine=engine)
    with (TestClient(app, follow_redirects=False) as first, TestClient(app, follow_redirects=False) as second,
          TestClient(app, follow_redirects=False) as third, TestClient(app, follow_redirects=False) as half):
        sign_in(first, "agent@example.com")
        sign_in(second, "agent@example.com")
        assert first.get("/clients").status_code == 200 and second.get("/clients").status_code == 200
        # Past the password only: holds no place, so it pushes nobody out.
        assert _password(half, "agent@example.com").headers["location"].startswith("/sign-in/second-step")
        assert first.get("/clients").status_code == 200
        sign_in(third, "agent@example.com")
        assert first.get("/clients").status_code == 303  # the oldest ended, on the server
        assert second.get("/clients").status_code == 200 and third.get("/clients").status_code == 200
    with engine.connect() as connection:
        event = connection.execute(select(AuditEvent).where(AuditEvent.action == "sessions_ended_over_limit")).one()
    assert event.actor_user_id == world.agent.id and event.detail["count"] == 1


def test_the_limit_is_a_setting_of_five_by_default() -> None:
    assert Settings(database_url="sqlite://", secret_key="k").sessions_per_account == 5


def test_a_password_is_checked_exactly_as_typed_spaces_and_all(client: TestClient, world: World, app) -> None:  # type: ignore[no-untyped-def]
    """ASVS 5.0 6.2.8: no trimming or case change. 6.2.9: 64 characters and more are allowed (up to 128)."""
    spaced = "  spaces around my words  "
    long_one = "a sentence long enough to pass sixty-four characters, typed as a passphrase!"
    assert len(long_one) > 64 and accounts.password_problem(long_one) is None
    with TestClient(app, follow_redirects=False) as signed_in:
        sign_in(signed_in, "jane@example.com")
        page = signed_in.get("/account/security/password")
        changed = signed_in.post("/account/security/password", data={
            "current_password": PASSWORD, "password": spaced, "confirm_password": spaced,
            "csrf_token": csrf_from(page.text)})
        assert changed.status_code == 303
    assert _password(client, "jane@example.com", spaced.strip()).status_code == 200  # not the same password
    assert _password(client, "jane@example.com", spaced.upper()).status_code == 200
    assert _password(client, "jane@example.com", spaced).status_code == 303


def test_a_person_ends_one_other_session_or_all_of_them_after_proving_it_is_them(
    client: TestClient, world: World, app, engine: Engine  # type: ignore[no-untyped-def]
) -> None:
    """ASVS 5.0 7.5.2: view the sessions, and end any or all of them having re-entered a credential."""
    with TestClient(app, follow_redirects=False) as phone, TestClient(app, follow_redirects=False) as laptop:
        sign_in(phone, "agent@example.com")
        sign_in(laptop, "agent@example.com")
        sign_in(client, "agent@example.com")
        with engine.connect() as connection:
            ids = connection.execute(select(UserSession.id).where(UserSession.ended_at.is_(None))
                                     .order_by(UserSession.id)).scalars().all()
        phone_id = ids[0]
        page = client.get("/account/security")
        assert page.text.count('class="govuk-button govuk-button--secondary govuk-!-margin-bottom-0"') == 2
        with engine.begin() as connection:  # signed in a while ago: prove it again first
            connection.execute(update(UserSession).values(reauthenticated_at=utcnow() - timedelta(minutes=6)))
        asked = client.post(f"/account/security/sessions/{phone_id}/end", data={"csrf_token": csrf_from(page.text)})
        assert asked.headers["location"] == "/account/security/confirm-it-is-you?next=%2Faccount%2Fsecurity"
        assert phone.get("/clients").status_code == 200  # nothing ended yet
        confirm = client.get(asked.headers["location"])
        allow_code_again(client)
        proved = client.post(asked.headers["location"], data={"code": totp_code(),
                                                              "csrf_token": csrf_from(confirm.text)})
        assert proved.headers["location"] == "/account/security"
        page = client.get(proved.headers["location"])  # a new session identifier, so a new form token
        ended = client.post(f"/account/security/sessions/{phone_id}/end", data={"csrf_token": csrf_from(page.text)})
        assert ended.headers["location"] == "/account/security?changed=session"
        assert phone.get("/clients").status_code == 303 and laptop.get("/clients").status_code == 200
        assert client.post(f"/account/security/sessions/{phone_id}/end",
                           data={"csrf_token": csrf_from(page.text)}).status_code == 404  # already ended
    with TestClient(app, follow_redirects=False) as other:
        sign_in(other, "staff@example.com")
        with engine.connect() as connection:
            staff_session = connection.execute(select(UserSession.id).where(
                UserSession.user_id == world.staff.id, UserSession.ended_at.is_(None))).scalar_one()
        assert client.post(f"/account/security/sessions/{staff_session}/end",
                           data={"csrf_token": csrf_from(page.text)}).status_code == 404  # not theirs
        assert other.get("/clients").status_code == 200


def test_signing_out_of_all_others_asks_to_prove_it_is_you_when_not_recent(
    client: TestClient, world: World, app, engine: Engine  # type: ignore[no-untyped-def]
) -> None:
    with TestClient(app, follow_redirects=False) as other:
        sign_in(other, "jane@example.com")
        sign_in(client, "jane@example.com")
        page = client.get("/account/security")
        with engine.begin() as connection:
            connection.execute(update(UserSession).values(reauthenticated_at=utcnow() - timedelta(minutes=6)))
        asked = client.post("/account/security/sign-out-others", data={"csrf_token": csrf_from(page.text)})
        assert asked.headers["location"].startswith("/account/security/confirm-it-is-you")
        assert other.get("/account").status_code == 200
        confirm = client.get(asked.headers["location"])
        assert 'type="password"' in confirm.text  # no second step of her own: her password
        client.post(asked.headers["location"], data={"password": PASSWORD, "csrf_token": csrf_from(confirm.text)})
        page = client.get("/account/security")
        done = client.post("/account/security/sign-out-others", data={"csrf_token": csrf_from(page.text)})
        assert done.headers["location"] == "/account/security?changed=sessions"
        assert other.get("/account").status_code == 303


def test_an_operator_ends_one_persons_sessions_or_everyones(client: TestClient, world: World, app, engine: Engine,  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """ASVS 5.0 7.4.5, from the command line: `python -m portal end-sessions --email X | --everyone`."""
    from portal import __main__ as cli

    monkeypatch.setattr(cli.Settings, "from_environ", classmethod(lambda cls: app.state.settings))
    monkeypatch.setattr(cli, "make_engine", lambda url: engine)
    monkeypatch.setattr(engine, "dispose", lambda: None)
    with TestClient(app, follow_redirects=False) as other:
        sign_in(client, "jane@example.com")
        sign_in(other, "agent@example.com")
        assert cli.end_sessions_command(cli.argparse.Namespace(everyone=False, email="Jane@example.com")) == 0
        assert client.get("/account").status_code == 303 and other.get("/clients").status_code == 200
        assert cli.end_sessions_command(cli.argparse.Namespace(everyone=False, email="nobody@example.com")) == 1
        assert cli.end_sessions_command(cli.argparse.Namespace(everyone=True, email=None)) == 0
        assert other.get("/clients").status_code == 303
    assert "Ended 1 session(s)." in capsys.readouterr().out
    with engine.connect() as connection:
        details = connection.execute(select(AuditEvent.detail).where(
            AuditEvent.action == "sessions_ended_by_operator").order_by(AuditEvent.id)).scalars().all()
    assert [detail["everyone"] for detail in details] == [False, True]


def test_a_session_ends_after_12_hours_however_busy(client: TestClient, world: World, engine: Engine) -> None:
    """ASVS 5.0 7.3.2: an absolute lifetime, whatever the activity (7.3.1's idle limit: test_auth.py)."""
    sign_in(client, "jane@example.com")
    with engine.begin() as connection:
        connection.execute(update(UserSession).values(created_at=utcnow() - timedelta(hours=11, minutes=59),
                                                      last_seen_at=utcnow()))
    assert client.get("/account").status_code == 200
    with engine.begin() as connection:
        connection.execute(update(UserSession).values(created_at=utcnow() - timedelta(hours=12, minutes=1),
                                                      last_seen_at=utcnow()))
    assert client.get("/account").headers["location"].startswith("/timed-out")

"""Confirming an email address (at sign-up, or later for accounts made before sign-up asked) and resetting a
forgotten password. Every answer looks the same whether or not the address has an account (ASVS 5.0 6.3.8)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.areas.accounts.common import begin_session, settings_of
from portal.domain import account_emails, accounts, audit
from portal.domain.models import User, utcnow
from portal.i18n import gettext
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render


def request_sign_up(request: Request, *, name: str, email: str, password: str, next_url: str | None) -> Response:
    """After the sign-up form's own checks: the same page either way. A new address gets a confirmation link
    (the account is made only when it is followed, so nobody can hold an address they do not own); an address
    with an account gets an email telling its owner, and the same hashing work is done."""
    db = db_session(request)
    settings = settings_of(request)
    email = email.strip().lower()
    existing = accounts.find_user(db, email)
    if existing is not None:
        request.app.state.sessions.passwords.waste_time(password)
        account_emails.sign_up_with_existing_address(db, user=existing)
    else:
        token = accounts.new_email_token(
            db, purpose=accounts.SIGN_UP, email=email, lifetime=timedelta(seconds=settings.sign_up_link_seconds),
            payload={"name": name, "password_hash": accounts.hash_password(settings, password), "next": next_url})
        account_emails.sign_up_confirmation(db, to=email, name=name,
                                            path=path_for(request, "confirm_sign_up", token=token))
    audit.record(db, "sign_up_requested", authority="anonymous")
    return render(request, "auth/check_email.html", {
        "email": email,
        "instruction": gettext("Follow the link in the email to finish creating your sign-in details.")})


async def confirm_sign_up(request: Request) -> Response:
    db = db_session(request)
    token = request.path_params["token"]
    record = accounts.peek_email_token(db, accounts.SIGN_UP, token)
    if record is None:
        return render(request, "auth/link_expired.html", status_code=404)
    if request.method == "GET":  # a page with a button: email scanners that open links must not use it up
        return render(request, "auth/confirm_sign_up.html", {"email": record.email})
    record = accounts.use_email_token(db, accounts.SIGN_UP, token)
    if record is None:
        return render(request, "auth/link_expired.html", status_code=404)
    user = User(email=record.email, name=record.payload["name"], password_hash=record.payload["password_hash"],
                email_confirmed_at=utcnow())
    try:
        with db.begin_nested():  # confirmed twice over from two sign-ups: the first one made it
            db.add(user)
            db.flush()
    except IntegrityError:
        return redirect_to(request, "sign_in")
    audit.record(db, "signed_up", authority="self", actor_user_id=user.id)
    return begin_session(request, db, user, record.payload.get("next") or path_for(request, "account"))


async def confirm_email(request: Request) -> Response:
    """The link sent from "Sign in and security details" to an address held before sign-up asked."""
    db = db_session(request)
    token = request.path_params["token"]
    record = accounts.peek_email_token(db, accounts.CONFIRM_EMAIL, token)
    if record is None:
        return render(request, "auth/link_expired.html", status_code=404)
    if request.method == "GET":
        return render(request, "auth/confirm_sign_up.html", {"email": record.email})
    record = accounts.use_email_token(db, accounts.CONFIRM_EMAIL, token)
    user = db.get(User, record.user_id) if record and record.user_id else None
    if user is None or user.email != record.email:  # type: ignore[union-attr]
        return render(request, "auth/link_expired.html", status_code=404)
    user.email_confirmed_at = utcnow()
    db.add(user)
    audit.record(db, "email_confirmed", authority="self", actor_user_id=user.id)
    return redirect_to(request, "security")


async def password_reset_request(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "auth/password_reset_request.html", {"form": Form()})
    form = await read_form(request, "email")
    email = form.get("email").strip().lower()
    if not email:
        form.error("email", gettext("Enter your email address"))
    elif len(email) > accounts.MAX_EMAIL_LENGTH or "@" not in email:
        form.error("email", gettext("Enter an email address in the correct format, like name@example.com"))
    if not form.ok:
        return render(request, "auth/password_reset_request.html", {"form": form})
    db = db_session(request)
    settings = settings_of(request)
    user = accounts.find_user(db, email)
    # Past the limit no more links are sent; the page says the same, so it tells nobody anything.
    if user is not None and accounts.email_requests_allowed(db, settings, accounts.PASSWORD_RESET, email):
        token = accounts.new_email_token(db, purpose=accounts.PASSWORD_RESET, email=email, user_id=user.id,
                                         lifetime=timedelta(seconds=settings.email_link_seconds))
        account_emails.password_reset(db, user=user, path=path_for(request, "password_reset", token=token))
    audit.record(db, "password_reset_requested", authority="anonymous")
    return render(request, "auth/check_email.html", {
        "email": email, "instruction": gettext("If you have sign-in details with this address, follow the link in "
                                               "the email to reset your password. The link works once, for 10 "
                                               "minutes.")})


async def password_reset(request: Request) -> Response:
    db = db_session(request)
    token = request.path_params["token"]
    link = accounts.peek_email_token(db, accounts.PASSWORD_RESET, token)
    if link is None:
        return render(request, "auth/link_expired.html", status_code=404)
    if request.method == "GET":
        return render(request, "auth/password_reset.html", {"form": Form()})
    form = await read_form(request, "password", "confirm_password")
    owner = db.get(User, link.user_id) if link.user_id else None
    if problem := accounts.password_problem(form.get("password"), about=(owner.name, owner.email) if owner else ()):
        form.error("password", gettext(problem))
    if not form.get("confirm_password"):
        form.error("confirm_password", gettext("Enter your password again"))
    elif form.get("confirm_password") != form.get("password"):
        form.error("confirm_password", gettext("The passwords do not match"))
    if not form.ok:
        form.values["password"] = form.values["confirm_password"] = ""
        return render(request, "auth/password_reset.html", {"form": form})
    record = accounts.use_email_token(db, accounts.PASSWORD_RESET, token)
    user = db.get(User, record.user_id) if record and record.user_id else None
    if user is None:
        return render(request, "auth/link_expired.html", status_code=404)
    accounts.change_password(db, settings_of(request), user, form.get("password"), keep_session_id=None)
    user.password_reset_at = utcnow()
    user.email_confirmed_at = user.email_confirmed_at or utcnow()  # the link proved the address
    accounts.clear_sign_in_failures(db, user.email)
    audit.record(db, "password_reset", authority="self", actor_user_id=user.id)
    account_emails.security_changed(db, user=user, what=account_emails.PASSWORD_RESET)
    # The new password is the first step only: anyone with a second step is asked for it now.
    return begin_session(request, db, user, None)


routes = [
    Route("/sign-up/confirm/{token}", confirm_sign_up, methods=["GET", "POST"], name="confirm_sign_up"),
    Route("/confirm-email/{token}", confirm_email, methods=["GET", "POST"], name="confirm_email"),
    Route("/password-reset", password_reset_request, methods=["GET", "POST"], name="password_reset_request"),
    Route("/password-reset/{token}", password_reset, methods=["GET", "POST"], name="password_reset"),
]

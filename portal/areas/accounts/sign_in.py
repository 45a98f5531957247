"""Signing in and out, the emailed link that finishes a locked sign-in, and the session's timeout."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.areas.accounts.common import begin_session, next_of, settings_of, source_of, with_next
from portal.domain import account_emails, accounts, audit
from portal.domain.accounts import MAX_EMAIL_LENGTH, SignInOutcome
from portal.i18n import gettext
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render
from portal.web.sessions import current_viewer, half_signed_in


async def sign_in(request: Request) -> Response:
    next_url = next_of(request)
    if request.method == "GET":
        return render(request, "auth/sign_in.html", {"form": Form(), "next_url": next_url})
    form = await read_form(request, "email", "password")
    if not form.get("email"):
        form.error("email", gettext("Enter your email address"))
    elif len(form.get("email")) > MAX_EMAIL_LENGTH:
        form.error("email", gettext("Email address must be %(max)d characters or fewer") % {"max": MAX_EMAIL_LENGTH})
    if not form.get("password"):
        form.error("password", gettext("Enter your password"))
    if not form.ok:
        return render(request, "auth/sign_in.html", {"form": form, "next_url": next_url})
    db = db_session(request)
    settings = settings_of(request)
    result = accounts.attempt_sign_in(db, settings, request.app.state.sessions.passwords, email=form.get("email"),
                                      password=form.get("password"), source=source_of(request))
    form.values["password"] = ""  # never echo a password back into the page
    if result.outcome is SignInOutcome.SIGNED_IN:
        assert result.user is not None
        return begin_session(request, db, result.user, next_url)
    if result.outcome is SignInOutcome.WRONG:
        audit.record(db, "sign_in_failed", authority="anonymous", email=form.get("email").lower())
        # Translators: the same words for an unknown address and a wrong password, so they say nothing about who
        # has an account.
        form.error("email", gettext("Enter a correct email address and password"))
    elif result.outcome is SignInOutcome.SOURCE_LOCKED:
        audit.record(db, "sign_in_refused_source", authority="anonymous", source=source_of(request))
        form.error("email", gettext("There have been too many attempts to sign in from your network. Wait 15 "
                                    "minutes, then try again"))
    else:  # ACCOUNT_LOCKED: the same words whatever was typed, and whether or not the address has an account
        audit.record(db, "sign_in_locked", authority="anonymous", email=form.get("email").lower())
        if result.send_link and result.user is not None and accounts.email_requests_allowed(
                db, settings, accounts.SIGN_IN_LINK, result.user.email):
            token = accounts.new_email_token(db, purpose=accounts.SIGN_IN_LINK, email=result.user.email,
                                             user_id=result.user.id, payload={"next": next_url},
                                             lifetime=timedelta(seconds=settings.email_link_seconds))
            account_emails.sign_in_link(db, user=result.user, path=path_for(request, "sign_in_link", token=token))
        form.error("email", gettext("You have tried to sign in too many times. If the email address and password "
                                    "you entered are right, we have sent you an email with a link to finish "
                                    "signing in"))
    return render(request, "auth/sign_in.html", {"form": form, "next_url": next_url})


async def sign_in_link(request: Request) -> Response:
    """The emailed link that gets the real owner past the lock on their address. A GET only shows a button:
    email scanners that open links must not use it up."""
    db = db_session(request)
    token = request.path_params["token"]
    record = accounts.peek_email_token(db, accounts.SIGN_IN_LINK, token)
    if record is None:
        return render(request, "auth/link_expired.html", {"form": Form()}, status_code=404)
    if request.method == "GET":
        return render(request, "auth/sign_in_link.html", {"form": Form()})
    record = accounts.use_email_token(db, accounts.SIGN_IN_LINK, token)
    user = db.get(accounts.User, record.user_id) if record and record.user_id else None
    if user is None:
        return render(request, "auth/link_expired.html", {"form": Form()}, status_code=404)
    accounts.clear_sign_in_failures(db, user.email)
    audit.record(db, "sign_in_link_followed", authority="self", actor_user_id=user.id)
    return begin_session(request, db, user, record.payload.get("next") if record else None)


async def sign_out(request: Request) -> Response:
    viewer = current_viewer(request)
    form = await read_form(request, "timed_out")
    timed_out = form.get("timed_out") == "yes"  # the timeout dialog ran out
    response = redirect_to(request, "timed_out" if timed_out else "signed_out")
    db = db_session(request)
    half = half_signed_in(request)
    if viewer is not None:
        request.app.state.sessions.end(db, viewer, response)
        audit.record(db, "timed_out" if timed_out else "signed_out", authority="self", actor_user_id=viewer.user_id)
    elif half is not None:  # signing out half-way through: this session only, not the person's others
        accounts.end_session(db, half.session_id)
        response.headers.append("set-cookie", request.app.state.sessions.cookies.header(
            request.app.state.sessions.cookies.session, "", max_age=0))
    return response


async def signed_out(request: Request) -> Response:
    return render(request, "auth/signed_out.html")


async def timed_out(request: Request) -> Response:
    """After the dialog ran out (JavaScript) or the server's idle limit passed (without it)."""
    return render(request, "auth/timed_out.html", {"sign_in_url": with_next(request, "sign_in", next_of(request))})


async def keep_alive(request: Request) -> Response:
    """The timeout dialog's "Stay signed in": renews the session's last-seen time and changes nothing else."""
    renewed = request.app.state.sessions.renew(request)
    return Response(status_code=204 if renewed else 401, headers={"Cache-Control": "no-store"})


routes = [
    Route("/sign-in", sign_in, methods=["GET", "POST"], name="sign_in"),
    Route("/sign-in/link/{token}", sign_in_link, methods=["GET", "POST"], name="sign_in_link"),
    Route("/sign-out", sign_out, methods=["POST"], name="sign_out"),
    Route("/signed-out", signed_out, name="signed_out"),
    Route("/timed-out", timed_out, name="timed_out"),
    Route("/keep-alive", keep_alive, name="keep_alive"),
]

"""The second step at sign-in: a code from an authenticator app, a recovery code or a passkey; and setting one
up, before anything else, for a member of an agent firm who has none. Only a half-signed-in session gets here."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.areas.accounts.common import (
    finish_second_step,
    go_on,
    next_of,
    origin,
    rp_id,
    save,
    saved,
    settings_of,
    with_next,
)
from portal.domain import account_emails, audit, passkeys, two_step
from portal.domain.models import User, utcnow
from portal.i18n import N_, gettext
from portal.web.db import db_session, will_write
from portal.web.forms import Form, read_form
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render
from portal.web.sessions import HalfSession, half_signed_in

WRONG_CODE = N_("The code you entered is not correct, or may have expired. Check your authenticator app and try again")


def _half(request: Request) -> HalfSession | None:
    return half_signed_in(request)


def _locked(request: Request, half: HalfSession) -> Response | None:
    db = db_session(request)
    if two_step.codes_locked(db, settings_of(request), half.user_id, utcnow()):
        return render(request, "auth/codes_locked.html", status_code=429)
    return None


def _wrong(request: Request, half: HalfSession, form: Form, field: str, message: str) -> None:
    db = db_session(request)
    two_step.record_wrong_code(db, settings_of(request), half.user_id, utcnow())
    audit.record(db, "second_step_failed", authority="self", actor_user_id=half.user_id)
    form.error(field, message)


def _context(request: Request, half: HalfSession, form: Form) -> dict[str, Any]:
    db = db_session(request)
    kinds = {m.kind for m in two_step.methods(db, half.user_id)}
    context: dict[str, Any] = {"form": form, "next_url": next_of(request), "has_totp": two_step.TOTP in kinds,
                               "has_passkey": two_step.PASSKEY in kinds, "passkey_options": ""}
    if two_step.PASSKEY in kinds:
        options, challenge = passkeys.authentication_options(db, user_id=half.user_id, rp_id=rp_id(request),
                                                              unused=saved(db, half.session_id, "passkey_challenge"))
        save(db, half.session_id, passkey_challenge=challenge)
        context["passkey_options"] = options
    return context


async def second_step(request: Request) -> Response:
    will_write(request)  # even a GET saves a passkey challenge: take SQLite's write lock at BEGIN, not mid-way
    half = _half(request)
    if half is None:
        return redirect_to(request, "sign_in", query={"next": next_of(request) or ""})
    db = db_session(request)
    if not two_step.has_methods(db, half.user_id):
        return redirect_to(request, "set_up_second_step", query={"next": next_of(request) or ""})
    if (locked := _locked(request, half)) is not None:
        return locked
    if request.method == "GET":
        return render(request, "auth/second_step.html", _context(request, half, Form()))
    form = await read_form(request, "code")
    code = form.get("code")
    if not code:
        form.error("code", gettext("Enter the 6 digit code"))
    elif not two_step.is_code_shaped(code):
        form.error("code", gettext("Enter the code using only 6 digits"))
    elif two_step.check_totp(db, settings_of(request), half.user_id, code):
        response = go_on(request, next_of(request))
        finish_second_step(request, db, half, response, method="totp")
        return response
    else:
        _wrong(request, half, form, "code", gettext(WRONG_CODE))
    form.values["code"] = ""
    return render(request, "auth/second_step.html", _context(request, half, form))


async def recovery_code(request: Request) -> Response:
    half = _half(request)
    if half is None:
        return redirect_to(request, "sign_in", query={"next": next_of(request) or ""})
    if (locked := _locked(request, half)) is not None:
        return locked
    if request.method == "GET":
        return render(request, "auth/recovery_code.html", {"form": Form(), "next_url": next_of(request)})
    db = db_session(request)
    form = await read_form(request, "recovery_code")
    if not form.get("recovery_code"):
        form.error("recovery_code", gettext("Enter a recovery code"))
    elif two_step.use_recovery_code(db, settings_of(request), half.user_id, form.get("recovery_code")):
        left = two_step.recovery_codes_left(db, half.user_id)
        user = db.get(User, half.user_id)
        assert user is not None
        account_emails.security_changed(db, user=user, what=account_emails.RECOVERY_CODE_USED, codes_left=left)
        response = go_on(request, next_of(request))
        finish_second_step(request, db, half, response, method="recovery-code")
        return response
    else:
        _wrong(request, half, form, "recovery_code", gettext("The recovery code you entered is not correct, or "
                                                             "has been used"))
    form.values["recovery_code"] = ""
    return render(request, "auth/recovery_code.html", {"form": form, "next_url": next_of(request)})


async def passkey_sign_in(request: Request) -> Response:
    half = _half(request)
    if half is None:
        return redirect_to(request, "sign_in", query={"next": next_of(request) or ""})
    if (locked := _locked(request, half)) is not None:
        return locked
    db = db_session(request)
    form = await read_form(request, "credential")
    challenge = saved(db, half.session_id, "passkey_challenge")
    save(db, half.session_id, passkey_challenge=None)  # a challenge is good once
    if challenge and passkeys.check_passkey(db, user_id=half.user_id, credential=form.get("credential"),
                                            challenge=challenge, rp_id=rp_id(request), origin=origin(request)):
        response = go_on(request, next_of(request))
        finish_second_step(request, db, half, response, method="passkey")
        return response
    form = Form()
    _wrong(request, half, form, "passkey", gettext("Your passkey or security key could not be checked. Try again, "
                                                   "or use another way to sign in"))
    return render(request, "auth/second_step.html", _context(request, half, form))


async def set_up(request: Request) -> Response:
    """A member of an agent firm with no second step sets one up now, before anything else."""
    will_write(request)  # even a GET saves the new secret: take SQLite's write lock at BEGIN, not mid-way
    half = _half(request)
    if half is None:
        return redirect_to(request, "sign_in", query={"next": next_of(request) or ""})
    db = db_session(request)
    if two_step.has_methods(db, half.user_id):  # set up in another tab meanwhile: ask for it instead
        return redirect_to(request, "second_step", query={"next": next_of(request) or ""})
    secret = saved(db, half.session_id, "totp_secret")
    if not secret:
        secret = two_step.new_totp_secret()
        save(db, half.session_id, totp_secret=secret)
    form = Form()
    if request.method == "POST":
        form = await read_form(request, "code")
        factor = None
        if not form.get("code"):
            form.error("code", gettext("Enter the 6 digit code"))
        elif not two_step.is_code_shaped(form.get("code")):
            form.error("code", gettext("Enter the code using only 6 digits"))
        else:
            factor = two_step.add_totp(db, settings_of(request), half.user_id, secret, form.get("code"))
            if factor is None:
                form.error("code", gettext(WRONG_CODE))
        if factor is not None:
            save(db, half.session_id, totp_secret=None)
            codes = two_step.new_recovery_codes(db, settings_of(request), half.user_id)
            user = db.get(User, half.user_id)
            assert user is not None
            audit.record(db, "second_step_added", authority="self", actor_user_id=half.user_id, kind="totp")
            account_emails.security_changed(db, user=user, what=account_emails.APP_ADDED)
            response = render(request, "auth/recovery_codes.html",
                              {"codes": codes, "continue_url": next_of(request) or path_for(request, "start")})
            finish_second_step(request, db, half, response, method="totp-set-up")
            return response
        form.values["code"] = ""
    return render(request, "auth/set_up.html", {
        "form": form, "next_url": next_of(request), "secret": two_step.grouped(secret),
        "qr_code": two_step.qr_code_svg(two_step.provisioning_uri(secret, half.email)), "during_sign_in": True,
        "action": with_next(request, "set_up_second_step", next_of(request))})


routes = [
    Route("/sign-in/second-step", second_step, methods=["GET", "POST"], name="second_step"),
    Route("/sign-in/recovery-code", recovery_code, methods=["GET", "POST"], name="recovery_code_sign_in"),
    Route("/sign-in/passkey", passkey_sign_in, methods=["POST"], name="passkey_sign_in"),
    Route("/sign-in/set-up-2-step", set_up, methods=["GET", "POST"], name="set_up_second_step"),
]

"""Sign in and security details: password, 2-step methods, recovery codes, signed-in sessions, and a firm
administrator resetting a team member's 2-step verification. Changes ask for the second step again first
(ASVS 5.0 7.5.1) and each one is emailed to the person."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.areas.accounts.common import origin, rp_id, save, saved, session_record, settings_of, with_next
from portal.areas.accounts.second_step import WRONG_CODE
from portal.domain import account_emails, accounts, audit, passkeys, two_step
from portal.domain.models import Membership, User, utcnow
from portal.domain.people import Viewer
from portal.i18n import gettext
from portal.web.db import db_session, will_write
from portal.web.forms import Form, read_form
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer


def _user(request: Request, viewer: Viewer) -> User:
    user = db_session(request).get(User, viewer.user_id)
    assert user is not None
    return user


def _recent(request: Request, viewer: Viewer) -> bool:
    record = session_record(db_session(request), viewer.session_id)
    if record.reauthenticated_at is None:
        return False
    window = timedelta(seconds=settings_of(request).reauthentication_seconds)
    return utcnow() - accounts.aware(record.reauthenticated_at) <= window


def _ask_again(request: Request, back_to: str | None = None) -> Response:
    """To "Confirm it is you", then back to `back_to` (a page to GET; by default the one asked for)."""
    return redirect_to(request, "confirm_it_is_you", query={"next": back_to or request.url.path})


def browser_name(user_agent: str) -> str:
    """A rough name for the sessions list; the whole string is no use to a person. Browser and system names are
    proper names, the same in Welsh; only "Unknown browser" is translated."""
    browsers = (("Edg/", "Microsoft Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),  # i18n: proper names
                ("Safari/", "Safari"))
    for needle, name in browsers:
        if needle in user_agent:
            system = next((s for s in ("Windows", "Android", "iPhone", "Mac OS", "Linux") if s in user_agent), "")
            return f"{name}, {system}" if system else name
    return gettext("Unknown browser")


async def overview(request: Request) -> Response:
    viewer = require_viewer(request)
    db = db_session(request)
    user = _user(request, viewer)
    idle = timedelta(seconds=settings_of(request).session_idle_seconds)
    sessions = [{"id": s.id, "browser": browser_name(s.user_agent), "last_seen": s.last_seen_at,
                 "this": s.id == viewer.session_id} for s in accounts.open_sessions(db, viewer.user_id, idle)]
    return render(request, "auth/security.html", {
        "user": user, "methods": two_step.methods(db, viewer.user_id), "required": two_step.required(db, user.id),
        "codes_left": two_step.recovery_codes_left(db, viewer.user_id), "sessions": sessions,
        "change": two_step.may_change_methods(db, settings_of(request), user, utcnow()),
        "changed": request.query_params.get("changed", "")})


async def confirm_it_is_you(request: Request) -> Response:
    """The second step again (or the password, for someone without one) before a change to how they sign in."""
    viewer = require_viewer(request)
    db = db_session(request)
    settings = settings_of(request)
    home = path_for(request, "security")
    next_url = request.query_params.get("next", home)
    # Back only to a page that asked: the security pages, or an administrator's team pages (resetting a member).
    allowed = (home, path_for(request, "team") + "/")
    next_url = next_url if next_url.startswith(allowed) and "//" not in next_url else home
    has_methods = two_step.has_methods(db, viewer.user_id)
    if has_methods and two_step.codes_locked(db, settings, viewer.user_id, utcnow()):
        return render(request, "auth/codes_locked.html", status_code=429)
    form = Form()
    if request.method == "POST":
        form = await read_form(request, "code", "password")
        ok = False
        if has_methods:
            code = form.get("code")
            ok = (two_step.check_totp(db, settings, viewer.user_id, code) if two_step.is_code_shaped(code)
                  else two_step.use_recovery_code(db, settings, viewer.user_id, code))
        else:
            ok = request.app.state.sessions.passwords.check(_user(request, viewer), form.get("password"))
        if ok:
            record = session_record(db, viewer.session_id)
            record.reauthenticated_at = utcnow()
            db.add(record)
            two_step.clear_wrong_codes(db, viewer.user_id)
            audit.record(db, "reauthenticated", authority="self", actor_user_id=viewer.user_id)
            response = RedirectResponse(next_url, status_code=303)
            request.app.state.sessions.rotate(db, viewer.session_id, response)  # a new identifier (ASVS 7.2.4)
            return response
        if has_methods:
            two_step.record_wrong_code(db, settings, viewer.user_id, utcnow())
            form.error("code", gettext(WRONG_CODE))
        else:
            form.error("password", gettext("Enter the correct password"))
        form.values = {"code": "", "password": ""}
    return render(request, "auth/reauthenticate.html", {
        "form": form, "has_methods": has_methods, "resetting": next_url.startswith(allowed[1]),
        "action": with_next(request, "confirm_it_is_you", next_url)})


async def change_password(request: Request) -> Response:
    viewer = require_viewer(request)
    db = db_session(request)
    if request.method == "GET":
        return render(request, "auth/change_password.html", {"form": Form()})
    form = await read_form(request, "current_password", "password", "confirm_password")
    user = _user(request, viewer)
    if not form.get("current_password"):
        form.error("current_password", gettext("Enter your current password"))
    elif not request.app.state.sessions.passwords.check(user, form.get("current_password")):
        form.error("current_password", gettext("Your current password is not correct"))
    if problem := accounts.password_problem(form.get("password"), about=(user.name, user.email)):
        form.error("password", gettext(problem))
    if form.get("confirm_password") != form.get("password"):
        form.error("confirm_password", gettext("The passwords do not match"))
    if not form.ok:
        form.values = {name: "" for name in form.values}
        return render(request, "auth/change_password.html", {"form": form})
    accounts.change_password(db, settings_of(request), user, form.get("password"), keep_session_id=viewer.session_id)
    audit.record(db, "password_changed", authority="self", actor_user_id=user.id)
    account_emails.security_changed(db, user=user, what=account_emails.PASSWORD_CHANGED)
    return redirect_to(request, "security", query={"changed": "password"})


def _may_change(request: Request, viewer: Viewer) -> Response | None:
    db = db_session(request)
    if two_step.has_methods(db, viewer.user_id) and not _recent(request, viewer):
        return _ask_again(request)
    change = two_step.may_change_methods(db, settings_of(request), _user(request, viewer), utcnow())
    if not change.allowed:
        return render(request, "auth/change_wait.html", {"until": change.from_time}, status_code=403)
    return None


async def add_authenticator_app(request: Request) -> Response:
    will_write(request)  # even a GET saves the new secret: take SQLite's write lock at BEGIN, not mid-way
    viewer = require_viewer(request)
    if (refusal := _may_change(request, viewer)) is not None:
        return refusal
    db = db_session(request)
    secret = saved(db, viewer.session_id, "totp_secret")
    if not secret:
        secret = two_step.new_totp_secret()
        save(db, viewer.session_id, totp_secret=secret)
    form = Form()
    if request.method == "POST":
        form = await read_form(request, "code")
        factor = two_step.add_totp(db, settings_of(request), viewer.user_id, secret, form.get("code"))
        if factor is not None:
            save(db, viewer.session_id, totp_secret=None)
            return _method_added(request, viewer, account_emails.APP_ADDED, "totp")
        form.error("code", gettext("Enter the 6 digit code the app shows") if not form.get("code") else
                   gettext(WRONG_CODE))
        form.values["code"] = ""
    return render(request, "auth/set_up.html", {
        "form": form, "secret": two_step.grouped(secret), "during_sign_in": False,
        "action": path_for(request, "add_authenticator_app"),
        "qr_code": two_step.qr_code_svg(two_step.provisioning_uri(secret, viewer.email))})


def _method_added(request: Request, viewer: Viewer, what: str, kind: str) -> Response:
    db = db_session(request)
    user = _user(request, viewer)
    audit.record(db, "second_step_added", authority="self", actor_user_id=viewer.user_id, kind=kind)
    account_emails.security_changed(db, user=user, what=what)
    if two_step.recovery_codes_left(db, viewer.user_id) == 0:
        codes = two_step.new_recovery_codes(db, settings_of(request), viewer.user_id)
        return render(request, "auth/recovery_codes.html",
                      {"codes": codes, "continue_url": path_for(request, "security")})
    return redirect_to(request, "security", query={"changed": "method"})


async def add_passkey(request: Request) -> Response:
    will_write(request)  # even a GET saves the passkey challenge: take SQLite's write lock at BEGIN, not mid-way
    viewer = require_viewer(request)
    if (refusal := _may_change(request, viewer)) is not None:
        return refusal
    db = db_session(request)
    form = Form()
    if request.method == "POST":
        form = await read_form(request, "credential")
        challenge = saved(db, viewer.session_id, "passkey_challenge")
        save(db, viewer.session_id, passkey_challenge=None)
        factor = challenge and passkeys.add_passkey(db, user_id=viewer.user_id, credential=form.get("credential"),
                                                    challenge=challenge, rp_id=rp_id(request), origin=origin(request))
        if factor:
            return _method_added(request, viewer, account_emails.PASSKEY_ADDED, "passkey")
        form.error("credential", gettext("Your passkey or security key could not be added. Try again"))
    options, challenge = passkeys.registration_options(db, user_id=viewer.user_id, email=viewer.email,
                                                       name=viewer.name, rp_id=rp_id(request),
                                                       unused=saved(db, viewer.session_id, "passkey_challenge"))
    save(db, viewer.session_id, passkey_challenge=challenge)
    return render(request, "auth/add_passkey.html", {"form": form, "options": options})


async def remove_method(request: Request) -> Response:
    viewer = require_viewer(request)
    db = db_session(request)
    factor = next((m for m in two_step.methods(db, viewer.user_id) if m.id == request.path_params["factor_id"]), None)
    if factor is None:
        raise HTTPException(status_code=404)
    if (refusal := _may_change(request, viewer)) is not None:
        return refusal
    last = len(two_step.methods(db, viewer.user_id)) == 1
    if last and two_step.required(db, viewer.user_id):
        return render(request, "auth/last_method.html", status_code=403)
    if request.method == "GET":
        return render(request, "auth/remove_method.html", {"form": Form(), "method": factor, "last": last})
    two_step.remove_method(db, viewer.user_id, factor.id)
    audit.record(db, "second_step_removed", authority="self", actor_user_id=viewer.user_id, kind=factor.kind)
    account_emails.security_changed(db, user=_user(request, viewer), what=account_emails.METHOD_REMOVED)
    return redirect_to(request, "security", query={"changed": "method"})


async def new_recovery_codes(request: Request) -> Response:
    viewer = require_viewer(request)
    db = db_session(request)
    if not two_step.has_methods(db, viewer.user_id):
        return redirect_to(request, "security")
    if (refusal := _may_change(request, viewer)) is not None:
        return refusal
    if request.method == "GET":
        return render(request, "auth/new_codes.html", {"form": Form()})
    codes = two_step.new_recovery_codes(db, settings_of(request), viewer.user_id)
    audit.record(db, "recovery_codes_replaced", authority="self", actor_user_id=viewer.user_id)
    account_emails.security_changed(db, user=_user(request, viewer), what=account_emails.CODES_REPLACED)
    return render(request, "auth/recovery_codes.html", {"codes": codes, "continue_url": path_for(request, "security")})


async def sign_out_others(request: Request) -> Response:
    """Ending sessions asks for the second step (or password) again first, as ASVS 5.0 7.5.2 asks: someone who
    has taken over a session must not be able to throw the owner out."""
    viewer = require_viewer(request)
    if not _recent(request, viewer):
        return _ask_again(request, path_for(request, "security"))
    db = db_session(request)
    ended = accounts.end_sessions(db, viewer.user_id, except_session_id=viewer.session_id)
    audit.record(db, "other_sessions_ended", authority="self", actor_user_id=viewer.user_id, count=ended)
    account_emails.security_changed(db, user=_user(request, viewer), what=account_emails.OTHERS_SIGNED_OUT)
    return redirect_to(request, "security", query={"changed": "sessions"})


async def end_one_session(request: Request) -> Response:
    """Sign out of one other device or browser (the sessions list's button)."""
    viewer = require_viewer(request)
    db = db_session(request)
    idle = timedelta(seconds=settings_of(request).session_idle_seconds)
    target = next((s for s in accounts.open_sessions(db, viewer.user_id, idle)
                   if s.id == request.path_params["session_id"] and s.id != viewer.session_id), None)
    if target is None:
        raise HTTPException(status_code=404)  # someone else's session, this one, or one already ended
    if not _recent(request, viewer):
        return _ask_again(request, path_for(request, "security"))
    accounts.end_session(db, target.id)
    audit.record(db, "other_session_ended", authority="self", actor_user_id=viewer.user_id)
    account_emails.security_changed(db, user=_user(request, viewer), what=account_emails.OTHERS_SIGNED_OUT)
    return redirect_to(request, "security", query={"changed": "session"})


async def send_confirmation(request: Request) -> Response:
    viewer = require_viewer(request)
    db = db_session(request)
    settings = settings_of(request)
    user = _user(request, viewer)
    if user.email_confirmed_at is None and accounts.email_requests_allowed(db, settings, accounts.CONFIRM_EMAIL,
                                                                            user.email):
        token = accounts.new_email_token(db, purpose=accounts.CONFIRM_EMAIL, email=user.email, user_id=user.id,
                                         lifetime=timedelta(seconds=settings.email_link_seconds))
        account_emails.confirm_email(db, user=user, path=path_for(request, "confirm_email", token=token))
    return render(request, "auth/check_email.html", {
        "email": user.email, "instruction": gettext("Follow the link in the email to confirm your email address.")})


# --- a firm's administrator and their team ------------------------------------------------------------------------


def _team_member(request: Request, viewer: Viewer) -> User:
    if not viewer.is_firm_admin:
        raise HTTPException(status_code=404)
    db = db_session(request)
    member: User | None = db.execute(select(User).join(Membership, col(Membership.user_id) == col(User.id))
                        .where(col(Membership.firm_id) == viewer.firm_id,
                               col(User.id) == request.path_params["user_id"])).scalar_one_or_none()
    if member is None or member.id == viewer.user_id:
        raise HTTPException(status_code=404)  # another firm's people look exactly like nobody
    return member


async def team(request: Request) -> Response:
    viewer = require_viewer(request)
    if not viewer.is_firm_admin:
        raise HTTPException(status_code=404)
    db = db_session(request)
    members = db.execute(select(User, col(Membership.role)).join(Membership, col(Membership.user_id) == col(User.id))
                         .where(col(Membership.firm_id) == viewer.firm_id).order_by(col(User.name))).all()
    rows: list[dict[str, Any]] = [{"user": user, "role": role, "has_2sv": two_step.has_methods(db, user.id),
                                   "me": user.id == viewer.user_id} for user, role in members]
    return render(request, "auth/team.html", {"members": rows, "done": request.query_params.get("reset", "")})


async def reset_member(request: Request) -> Response:
    """Resetting someone's 2-step verification opens their account to whoever sets it up next, so the
    administrator proves it is them first, as for a change to their own methods (ASVS 5.0 7.5.1)."""
    viewer = require_viewer(request)
    member = _team_member(request, viewer)
    if not _recent(request, viewer):
        return _ask_again(request)
    if request.method == "GET":
        return render(request, "auth/reset_member.html", {"form": Form(), "member": member})
    db = db_session(request)
    two_step.reset(db, member.id)
    accounts.end_sessions(db, member.id)
    proved_at = session_record(db, viewer.session_id).reauthenticated_at  # when the administrator proved it was them
    audit.record(db, "second_step_reset", authority="agent", actor_user_id=viewer.user_id, firm_id=viewer.firm_id,
                 member_user_id=member.id, reauthenticated_at=proved_at.isoformat() if proved_at else None)
    account_emails.two_step_reset_by_admin(db, user=member, admin_name=viewer.name)
    return redirect_to(request, "team", query={"reset": "done"})


HOME = "/account/security"  # the routes below; links and redirects use their names

routes = [
    Route(HOME, overview, name="security"),
    Route(HOME + "/confirm-it-is-you", confirm_it_is_you, methods=["GET", "POST"], name="confirm_it_is_you"),
    Route(HOME + "/password", change_password, methods=["GET", "POST"], name="change_password"),
    Route(HOME + "/authenticator-app", add_authenticator_app, methods=["GET", "POST"], name="add_authenticator_app"),
    Route(HOME + "/passkey", add_passkey, methods=["GET", "POST"], name="add_passkey"),
    Route(HOME + "/methods/{factor_id:id}/remove", remove_method, methods=["GET", "POST"], name="remove_method"),
    Route(HOME + "/recovery-codes", new_recovery_codes, methods=["GET", "POST"], name="new_recovery_codes"),
    Route(HOME + "/sign-out-others", sign_out_others, methods=["POST"], name="sign_out_others"),
    Route(HOME + "/sessions/{session_id:id}/end", end_one_session, methods=["POST"], name="end_one_session"),
    Route(HOME + "/confirm-email", send_confirmation, methods=["POST"], name="send_email_confirmation"),
    Route("/account/team", team, name="team"),
    Route("/account/team/{user_id:id}/reset-2-step", reset_member, methods=["GET", "POST"], name="reset_member"),
]

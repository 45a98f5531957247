"""Manage account: the firm's team. Administrators change roles and remove members; any member can leave the
firm from Your account. The rules (at least one administrator, sessions ending at once) are portal.domain.team."""

from __future__ import annotations

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.areas.trusted_helpers import mask_email
from portal.domain import accounts, firm_access, team, two_step
from portal.domain.models import Firm, User
from portal.i18n import N_, gettext
from portal.web.db import db_session
from portal.web.forms import Form, check_email, read_form
from portal.web.gate import require_firm_admin
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render
from portal.web.sessions import Sessions, current_viewer, require_viewer

ERRORS = {
    team.Refusal.LAST_ADMIN: N_("Your firm must always have at least one administrator. Make someone else an "
                                "administrator first"),
    team.Refusal.BAD_ROLE: N_("Select administrator or standard user"),
    team.Refusal.NOT_A_MEMBER: N_("That person is not in your firm"),
    team.Refusal.ALREADY_MEMBER: N_("Someone with this email address is already in your firm"),
    team.Refusal.ALREADY_INVITED: N_("You have already invited this email address: resend that invitation instead"),
}


def _page(request: Request, form: Form, status_code: int = 200) -> Response:
    viewer = require_firm_admin(request)
    assert viewer.firm_id is not None
    db = db_session(request)
    return render(request, "firm/team.html", {
        "members": firm_access.firm_members(db, viewer.firm_id), "form": form,
        "invitations": [(invitation, team.is_open(invitation))
                        for invitation in team.open_invitations(db, viewer.firm_id)]},
        status_code=status_code)


async def team_page(request: Request) -> Response:
    return _page(request, Form())


async def change_role(request: Request) -> Response:
    viewer = require_firm_admin(request)
    assert viewer.firm_id is not None
    form = await read_form(request, "role")
    try:
        team.change_role(db_session(request), firm_id=viewer.firm_id, user_id=request.path_params["user_id"],
                         role=form.get("role"), actor_user_id=viewer.user_id)
    except team.Refused as refused:
        if refused.reason is team.Refusal.NOT_A_MEMBER:
            raise HTTPException(status_code=404) from None
        form.error("members", gettext(ERRORS[refused.reason]))
        return _page(request, form, status_code=400)
    return redirect_to(request, "firm_team")


async def remove_member(request: Request) -> Response:
    viewer = require_firm_admin(request)
    assert viewer.firm_id is not None
    form = Form()
    try:
        team.remove(db_session(request), firm_id=viewer.firm_id, user_id=request.path_params["user_id"],
                    actor_user_id=viewer.user_id)
    except team.Refused as refused:
        if refused.reason is team.Refusal.NOT_A_MEMBER:
            raise HTTPException(status_code=404) from None
        form.error("members", gettext(ERRORS[refused.reason]))
        return _page(request, form, status_code=400)
    if request.path_params["user_id"] == viewer.user_id:  # an administrator removed themselves: they are out
        return redirect_to(request, "signed_out")
    return redirect_to(request, "firm_team")


async def invite(request: Request) -> Response:
    viewer = require_firm_admin(request)
    assert viewer.firm_id is not None
    if request.method == "GET":
        return render(request, "firm/invite.html", {"form": Form(values={"role": "standard"})})
    form = await read_form(request, "email", "role")
    check_email(form, "email", gettext("Enter the email address of the person you want to invite"))
    if form.get("role") not in team.ROLES:
        form.error("role", gettext("Select administrator or standard user"))
    if form.ok:
        try:
            team.invite(db_session(request), firm_id=viewer.firm_id, email=form.get("email"), role=form.get("role"),
                        actor_user_id=viewer.user_id)
        except team.Refused as refused:
            form.error("email", gettext(ERRORS[refused.reason]))
    if not form.ok:
        return render(request, "firm/invite.html", {"form": form}, status_code=400)
    return redirect_to(request, "firm_team", query={"invited": form.get("email").lower()})


async def change_invitation(request: Request) -> Response:
    viewer = require_firm_admin(request)
    assert viewer.firm_id is not None
    db = db_session(request)
    invitation = team.invitation_of(db, firm_id=viewer.firm_id, invitation_id=request.path_params["invitation_id"])
    if invitation is None:
        raise HTTPException(status_code=404)
    form = await read_form(request, "action")
    try:
        if form.get("action") == "resend":
            team.resend(db, invitation, actor_user_id=viewer.user_id)
        elif form.get("action") == "withdraw":
            team.withdraw(db, invitation, actor_user_id=viewer.user_id)
    except team.Refused:  # used or withdrawn meanwhile: the list shows how things stand
        pass
    return redirect_to(request, "firm_team")


async def join(request: Request) -> Response:
    """The link in the invitation: sign in (or create sign-in details) with the invited address, then join."""
    db = db_session(request)
    token = request.path_params["token"]
    invitation = team.invitation_by_token(db, token)
    if invitation is None:
        return render(request, "firm/join_closed.html", {}, status_code=404)
    firm = db.get(Firm, invitation.firm_id)
    assert firm is not None
    context = {"invitation": invitation, "firm": firm, "token": token}
    if not team.is_open(invitation):
        return render(request, "firm/join_closed.html", context)
    viewer = current_viewer(request)
    if viewer is None:
        return render(request, "firm/join_signed_out.html", context)
    if viewer.email.lower() != invitation.email:
        return render(request, "firm/join_wrong_email.html", {**context, "masked": mask_email(invitation.email)})
    if viewer.firm_id is not None:
        return render(request, "firm/join_in_a_firm.html", context)
    if not accounts.email_confirmed(db, viewer.user_id):  # only a proved address joins a firm
        return render(request, "auth/confirm_email_first.html", status_code=403)
    if request.method == "GET":
        return render(request, "firm/join.html", context)
    try:
        team.join(db, invitation, user_id=viewer.user_id, email=viewer.email)
    except team.Refused:
        return redirect_to(request, "join_firm", token=token)
    return after_becoming_a_member(request, db, viewer.user_id, "clients")


def after_becoming_a_member(request: Request, db: Session, user_id: int, then: str) -> Response:
    """Every member of an agent firm has 2-step verification: one who has none yet sets it up before reaching
    any client (their sessions elsewhere end), then goes on to the page named `then`."""
    if two_step.has_methods(db, user_id):
        return redirect_to(request, then)
    user = db.get(User, user_id)
    assert user is not None
    response = redirect_to(request, "set_up_second_step", query={"next": path_for(request, then)})
    sessions: Sessions = request.app.state.sessions
    sessions.restart_for_second_step(db, request, user, response)
    return response


async def leave_firm(request: Request) -> Response:
    """Any member leaves their firm (from Your account). Their sessions end with it, this one included."""
    viewer = require_viewer(request)
    if viewer.firm_id is None:
        raise HTTPException(status_code=404)
    try:
        team.remove(db_session(request), firm_id=viewer.firm_id, user_id=viewer.user_id,
                    actor_user_id=viewer.user_id)
    except team.Refused:
        return redirect_to(request, "account", query={"leave": "last-admin"})
    return redirect_to(request, "signed_out")


routes = [
    Route("/manage-account/team", team_page, name="firm_team"),
    Route("/manage-account/team/{user_id:id}/role", change_role, methods=["POST"], name="firm_team_role"),
    Route("/manage-account/team/{user_id:id}/remove", remove_member, methods=["POST"], name="firm_team_remove"),
    Route("/manage-account/team/invite", invite, methods=["GET", "POST"], name="firm_team_invite"),
    Route("/manage-account/team/invitations/{invitation_id:id}", change_invitation, methods=["POST"],
          name="firm_team_invitation"),
    Route("/account/leave-firm", leave_firm, methods=["POST"], name="leave_firm"),
    Route("/join/{token}", join, methods=["GET", "POST"], name="join_firm"),
]

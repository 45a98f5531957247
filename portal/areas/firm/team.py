"""Manage account: the firm's team. Administrators change roles and remove members; any member can leave the
firm from Your account. The rules (at least one administrator, sessions ending at once) are portal.domain.team."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.domain import firm_access, team
from portal.i18n import N_
from portal.i18n import gettext as _
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.gate import require_firm_admin
from portal.web.links import redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer

ERRORS = {
    team.Refusal.LAST_ADMIN: N_("Your firm must always have at least one administrator. Make someone else an "
                                "administrator first"),
    team.Refusal.BAD_ROLE: N_("Select administrator or standard user"),
    team.Refusal.NOT_A_MEMBER: N_("That person is not in your firm"),
}


def _page(request: Request, form: Form, status_code: int = 200) -> Response:
    viewer = require_firm_admin(request)
    assert viewer.firm_id is not None
    return render(request, "firm/team.html", {
        "members": firm_access.firm_members(db_session(request), viewer.firm_id), "form": form},
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
        form.error("members", _(ERRORS[refused.reason]))
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
        form.error("members", _(ERRORS[refused.reason]))
        return _page(request, form, status_code=400)
    if request.path_params["user_id"] == viewer.user_id:  # an administrator removed themselves: they are out
        return redirect_to(request, "signed_out")
    return redirect_to(request, "firm_team")


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
    Route("/account/leave-firm", leave_firm, methods=["POST"], name="leave_firm"),
]

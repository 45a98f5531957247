"""The start page, and the account page of someone who is not an agent."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.areas.accounts import home_for
from portal.domain.models import Taxpayer
from portal.web.db import db_session
from portal.web.links import redirect_to
from portal.web.rendering import render
from portal.web.sessions import current_viewer, require_viewer


async def start(request: Request) -> Response:
    viewer = current_viewer(request)
    if viewer is not None:
        return redirect_to(request, home_for(viewer))
    return render(request, "home/start.html")


async def account(request: Request) -> Response:
    viewer = require_viewer(request)
    own = db_session(request).execute(
        select(col(Taxpayer.id), col(Taxpayer.name)).where(col(Taxpayer.owner_user_id) == viewer.user_id)
        .order_by(col(Taxpayer.name))
    ).all()
    return render(request, "home/account.html", {"own_taxpayers": own})


routes = [
    Route("/", start, name="start"),
    Route("/account", account, name="account"),
]

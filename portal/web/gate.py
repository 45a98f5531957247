"""The gate at the door of every client page: the domain's answer (portal.domain.access), or a 404."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from portal.domain.access import authority_for
from portal.domain.people import Authority, Viewer
from portal.web.db import db_session
from portal.web.sessions import require_viewer


def require_authority(request: Request, taxpayer_id: int) -> Authority:
    """The check every client-scoped handler makes first. No authority is a 404, never a 403: a person
    must not learn that a taxpayer they cannot act for exists."""
    viewer = require_viewer(request)
    authority = authority_for(db_session(request), viewer, taxpayer_id)
    if authority is None:
        raise HTTPException(status_code=404)
    request.state.authority = authority
    return authority


def require_firm_admin(request: Request) -> Viewer:
    """The check every firm-management page makes first: an administrator of a firm, or a 404 (a standard user
    or someone with no firm learns nothing about pages they may not use)."""
    viewer = require_viewer(request)
    if not viewer.is_firm_admin or viewer.firm_id is None:
        raise HTTPException(status_code=404)
    return viewer

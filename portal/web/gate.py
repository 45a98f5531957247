"""The gate at the door of every client page: the domain's answer (portal.domain.access), or a 404."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from portal.domain.access import authority_for
from portal.domain.people import Authority
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

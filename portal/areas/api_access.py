"""The portal's side of the API: a developer registers software; a signed-in agent grants it access on the
consent page; an agent (or their firm's administrator, for the whole firm) sees and revokes what they granted.
The OAuth protocol is Authlib's (portal.api.oauth)."""

from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.api import openapi
from portal.api.oauth import Server, StarletteOAuth2Request
from portal.domain import api_access, audit
from portal.domain.models import User
from portal.i18n import gettext
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.links import redirect_to
from portal.web.rendering import render
from portal.web.security import content_security_policy
from portal.web.sessions import require_viewer

AUTHORIZE_FIELDS = ("client_id", "response_type", "redirect_uri", "scope", "state", "code_challenge",
                    "code_challenge_method")


async def authorize(request: Request) -> Response:
    """The consent page: what the software asks to do, in plain words, for a signed-in agent to allow or deny."""
    viewer = require_viewer(request)
    db = db_session(request)
    form: dict[str, str] = {}
    if request.method == "POST":
        form = (await read_form(request, "decision")).values
    oauth_request = StarletteOAuth2Request(request, {})
    server = Server(db)
    user = db.get(User, viewer.user_id)
    try:
        grant = server.get_consent_grant(request=oauth_request, end_user=user)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):  # a known application and address: tell the software
            response: Response = server.handle_error_response(oauth_request, error)
            return response
        # An unknown application or an unregistered address: never redirect anywhere on its say-so.
        return render(request, "api_access/oauth_error.html", {"description": error.description or error.error},
                      status_code=400)
    if not viewer.is_agent:
        return render(request, "api_access/not_an_agent.html", status_code=403)
    client = grant.client
    if request.method == "POST":
        allowed = form.get("decision") == "allow"
        response = server.create_authorization_response(request=oauth_request, grant_user=user if allowed else None,
                                                        grant=grant)
        if allowed:
            audit.record(db, "api_access_granted", authority="agent", actor_user_id=viewer.user_id,
                         firm_id=viewer.firm_id, application=client.row.name, scope=grant.request.scope or "")
        return response
    response = render(request, "api_access/consent.html", {
        "application": client.row, "scopes": [(s, gettext(api_access.SCOPES[s])) for s in api_access.scopes_in(
            grant.request.scope or "")], "query": request.url.query})
    # The answer to this form is a redirect to the software's address (checked against its registration above);
    # browsers hold that redirect to the page's form-action, so the page names that one origin as well.
    if origin := _origin(grant.redirect_uri or client.get_default_redirect_uri() or ""):
        response.headers["Content-Security-Policy"] = content_security_policy(form_action_also=origin)
    return response


def _origin(uri: str) -> str | None:
    """scheme://host[:port] of a registered redirect URI, as a CSP source (no user name, path or query)."""
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host or any(c in host for c in " ;,'\"\\*"):
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _scope_words() -> dict[str, str]:
    """Each scope and what it lets software do, in the reader's language."""
    return {name: gettext(words) for name, words in api_access.SCOPES.items()}


def _application_form(form: Form) -> list[str]:
    name = form.get("name").strip()
    if not name:
        form.error("name", gettext("Enter the name of your software"))
    elif len(name) > api_access.MAX_NAME:
        form.error("name", gettext("The name must be %(max)s characters or fewer") % {"max": api_access.MAX_NAME})
    uris = [line.strip() for line in form.get("redirect_uris").splitlines() if line.strip()]
    if not uris:
        form.error("redirect_uris", gettext("Enter at least one redirect URI"))
    elif len(uris) > api_access.MAX_REDIRECT_URIS:
        form.error("redirect_uris",
                   gettext("Enter %(max)s redirect URIs or fewer") % {"max": api_access.MAX_REDIRECT_URIS})
    else:
        for uri in uris:
            if problem := api_access.redirect_uri_problem(uri):
                form.error("redirect_uris", problem)
                break
    return uris


async def applications(request: Request) -> Response:
    """A developer's software: register one (its secret shown on the next page, once), see those registered."""
    viewer = require_viewer(request)
    db = db_session(request)
    form = Form()
    if request.method == "POST":
        form = await read_form(request, "name", "redirect_uris")
        uris = _application_form(form)
        if form.ok:
            owner = db.get(User, viewer.user_id)
            assert owner is not None
            application, secret = api_access.register_application(db, owner=owner, name=form.get("name").strip(),
                                                                    redirect_uris=uris)
            # Shown in this response only: never stored, never in a URL, never in a later page.
            return render(request, "api_access/application_created.html",
                          {"application": application, "secret": secret})
    return render(request, "api_access/applications.html",
                  {"form": form, "applications": api_access.applications_of(db, viewer.user_id)},
                  status_code=200 if form.ok else 400)


async def connected(request: Request) -> Response:
    """Applications this agent has granted access; an administrator also sees everyone else's in the firm."""
    viewer = require_viewer(request)
    db = db_session(request)
    if request.method == "POST":
        form = await read_form(request, "application_id", "user_id")
        try:
            application_id, user_id = int(form.get("application_id")), int(form.get("user_id"))
        except ValueError:
            return redirect_to(request, "connected_applications")
        firm_wide = viewer.is_firm_admin and viewer.firm_id is not None
        mine = user_id == viewer.user_id
        in_firm = firm_wide and any(c.user_id == user_id for c in api_access.connections(db, firm_id=viewer.firm_id))
        if mine or in_firm:
            api_access.revoke_connection(db, application_id=application_id, user_id=user_id,
                                         actor_user_id=viewer.user_id, firm_id=viewer.firm_id)
        return redirect_to(request, "connected_applications")
    own = api_access.connections(db, user_id=viewer.user_id)
    firm = ([c for c in api_access.connections(db, firm_id=viewer.firm_id) if c.user_id != viewer.user_id]
            if viewer.is_firm_admin and viewer.firm_id is not None else [])
    return render(request, "api_access/connected.html", {"own": own, "firm": firm, "scope_words": _scope_words()})


async def reference(request: Request) -> Response:
    """The API reference, read from the same OpenAPI document software gets (portal.api.openapi)."""
    doc = openapi.document(request.app.routes, request.app.state.settings.base_url)
    operations = [(path, method.upper(), op) for path, item in doc["paths"].items() for method, op in item.items()]
    return render(request, "api_access/reference.html", {"doc": doc, "operations": operations,
                                                         "scopes": _scope_words()})


routes = [
    Route("/api/reference", reference, name="api_reference"),
    Route("/oauth/authorize", authorize, methods=["GET", "POST"], name="oauth_authorize"),
    Route("/developer/applications", applications, methods=["GET", "POST"], name="developer_applications"),
    Route("/account/connected-applications", connected, methods=["GET", "POST"], name="connected_applications"),
]

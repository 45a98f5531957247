"""The one wiring point: settings, database, middleware, routes. Run with `uvicorn --factory portal.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from portal import i18n
from portal.api import agents as api_agents
from portal.api import beyond as api_beyond
from portal.api import oauth, openapi
from portal.api import test_support as api_test_support
from portal.api import vat as api_vat
from portal.areas import (
    accounts,
    activity,
    api_access,
    clients,
    content,
    details,
    email_preferences,
    firm,
    firm_contact,
    home,
    income_tax,
    language,
    registration,
    trusted_helpers,
    vat_returns,
    worklist,
)
from portal.areas.handshake import agent as handshake_agent
from portal.areas.handshake import client as handshake_client
from portal.domain.sql import make_engine
from portal.settings import Settings
from portal.web import errors
from portal.web.compression import CompressionMiddleware
from portal.web.db import UnitOfWorkMiddleware
from portal.web.i18n import LanguageMiddleware, path_without_language
from portal.web.links import PathFinder
from portal.web.rendering import make_templates
from portal.web.security import CSRFMiddleware, SecurityHeadersMiddleware
from portal.web.sessions import Sessions, seconds_left
from portal.web.static import StaticAssets


def template_context(request: Request) -> dict[str, Any]:
    state = request.state._state
    path = request.scope["path"]
    # here: the page's path; section: its first segment ("/clients" for /clients/21), which the menu marks.
    settings: Settings = request.app.state.settings
    # The timeout dialog (shared/accounts.md §1), from the real session: None when nobody is signed in.
    timeout = seconds_left(request) if state.get("viewer") else None
    session_timer = None if timeout is None else {
        "timeout": timeout, "idle": settings.session_idle_seconds,
        "countdown": settings.session_idle_seconds - settings.session_warning_seconds}
    return {"viewer": state.get("viewer"), "csrf_token": state.get("csrf_token", ""), "here": path,
            "section": "/" + path.split("/", 2)[1], "session_timer": session_timer,
            # <html lang>, and the page the ENG/CYM toggle comes back to when the browser sends no Referer.
            "language": i18n.current_language(),
            "this_page": None if state.get("error_page") else
            path_without_language(path, request.scope.get("query_string", b"").decode("latin-1"))}


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Starlette:
    settings = settings or Settings.from_environ()
    owns_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    static = StaticAssets()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if owns_engine:  # an engine handed in (by tests, say) belongs to whoever made it
            engine.dispose()

    routes = [
        *home.routes,
        *accounts.routes,
        *clients.routes,
        *worklist.routes,
        *registration.routes,
        *handshake_agent.routes,
        *handshake_client.routes,
        *trusted_helpers.routes,
        *vat_returns.routes,
        *income_tax.routes,
        *details.routes,
        *activity.routes,
        *firm.routes,
        *email_preferences.routes,
        *firm_contact.routes,
        *api_access.routes,
        *oauth.routes,
        *api_agents.routes,
        *api_vat.routes,
        *api_beyond.routes,
        *openapi.routes,
        *content.routes,
        *language.routes,
        Route("/static/{path:path}", static.serve, name="static"),
    ]
    if settings.environment in ("development", "test"):  # HMRC's sandbox helpers: never where real clients are
        routes += api_test_support.routes
    middleware = [
        Middleware(SecurityHeadersMiddleware, settings=settings),
        Middleware(LanguageMiddleware, settings=settings),  # outside CSRF, so its refusal page speaks it too
        Middleware(CompressionMiddleware),
        Middleware(CSRFMiddleware, settings=settings, on_refused=errors.error_page),
        # Tests make a GET that writes without saying so fail every time, not only under load (see will_write).
        Middleware(UnitOfWorkMiddleware, engine=engine, refuse_unannounced_writes=settings.environment == "test"),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=errors.HANDLERS, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.static = static
    app.state.templates = make_templates(static, context_processors=[template_context], path_for=PathFinder(app.routes))
    app.state.sessions = Sessions(settings)
    app.state.security_headers = SecurityHeadersMiddleware(app, settings).headers
    return app

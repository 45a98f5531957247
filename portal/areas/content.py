"""Pages of plain content every service needs: help and contact, cookies, accessibility."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.web.rendering import render
from portal.web.sessions import current_viewer


def _content_page(template: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        current_viewer(request)  # so the header shows the signed-in navigation
        return render(request, template)

    return page


routes = [
    Route("/help", _content_page("pages/help.html"), name="help"),
    Route("/cookies", _content_page("pages/cookies.html"), name="cookies"),
    Route("/accessibility", _content_page("pages/accessibility.html"), name="accessibility"),
]

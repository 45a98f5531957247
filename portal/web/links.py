"""Paths on this site from route names, so that renaming a URL is one edit and a typo fails loudly.

Handlers redirect with `redirect_to(request, "vat_return_receipt", client_id=…, obligation_id=…)`; templates call
the `path_for` global (portal.web.rendering), which is `PathFinder` below. Both give a path, never an absolute URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, NoMatchFound, Route

Query = Mapping[str, object] | Sequence[tuple[str, object]]


def path_for(request: Request, name: str, /, *, query: Query | None = None, **params: object) -> str:
    """The path of the route called `name`, with `query` (pairs whose value is empty are left out) after a '?'."""
    path = str(request.app.url_path_for(name, **params))
    return path + query_string(query) if query else path


def redirect_to(request: Request, name: str, /, *, query: Query | None = None, **params: object) -> RedirectResponse:
    """303 See Other to a named route: after a POST the browser GETs the next page (post/redirect/get)."""
    return RedirectResponse(path_for(request, name, query=query, **params), status_code=303)


def query_string(query: Query) -> str:
    pairs = query.items() if isinstance(query, Mapping) else query
    kept = [(key, value) for key, value in pairs if value not in ("", None)]
    return "?" + urlencode(kept) if kept else ""


class PathFinder:
    """`path_for(name, **params)` for templates: Starlette's answer, without its walk over every route per call.

    Router.url_path_for asks each of the ~80 routes in turn; the client list calls this for every row. The route
    that answers a name and a set of parameter names never changes, so it is looked up once and then asked alone.
    """

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = routes
        self._found: dict[tuple[str, frozenset[str]], Route] = {}

    def __call__(self, name: str, /, **params: object) -> str:
        key = (name, frozenset(params))
        route = self._found.get(key)
        if route is None:
            route = self._find(name, params)
            self._found[key] = route
        return str(route.url_path_for(name, **params))

    def _find(self, name: str, params: dict[str, object]) -> Route:
        for route in self._routes:
            if isinstance(route, Route):
                try:
                    route.url_path_for(name, **params)
                except NoMatchFound:
                    continue
                return route
        raise NoMatchFound(name, params)

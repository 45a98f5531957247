"""Paths on this site from route names, so that renaming a URL is one edit and a typo fails loudly.

Handlers redirect with `redirect_to(request, "vat_return_receipt", client_id=…, obligation_id=…)`; templates call
the `path_for` global (portal.web.rendering), which is `PathFinder` below. Both give a path, never an absolute URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.convertors import Convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, NoMatchFound, Route

Query = Mapping[str, object] | Sequence[tuple[str, object]]
PARAM = re.compile(r"{(\w+)}")  # a parameter in a route's path_format, as starlette.routing writes them


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

    Router.url_path_for asks each of the ~80 routes in turn (about 11µs); the client list calls this twice a row.
    The route that answers a name and a set of parameter names never changes, so it is found once; after that a
    path is the route's own format filled with its own convertors' strings (about 1µs; tests/test_links.py checks
    the two agree on every route).
    """

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = routes
        self._found: dict[tuple[str, tuple[str, ...]], Callable[[dict[str, Any]], str]] = {}

    def __call__(self, name: str, /, **params: Any) -> str:
        key = (name, tuple(params))  # in the order a template passes them: one entry per order, found alike
        build = self._found.get(key)
        if build is None:
            build = self._found[key] = self._builder(name, params)
        return build(params)

    def _builder(self, name: str, params: dict[str, Any]) -> Callable[[dict[str, Any]], str]:
        for route in self._routes:
            if isinstance(route, Route):
                try:
                    path = route.url_path_for(name, **params)  # Starlette's own checks: name, parameter names
                except NoMatchFound:
                    continue
                return _builder(route.path_format, route.param_convertors, str(path))
        raise NoMatchFound(name, params)


def _builder(path_format: str, convertors: dict[str, Convertor[Any]], path: str) -> Callable[[dict[str, Any]], str]:
    """A function from parameters to the path: the format's text between parameters, each parameter in its
    convertor's string; a route with one parameter (most of them) is a prefix, a string and a suffix."""
    if not convertors:
        return lambda params: path
    parts = PARAM.split(path_format)  # text, name, text, name, ..., text
    if len(parts) == 3:
        before, key, after = parts
        to_string = convertors[key].to_string
        return lambda params: before + to_string(params[key]) + after
    return lambda params: path_format.format_map(
        {key: convertors[key].to_string(value) for key, value in params.items()})

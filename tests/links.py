"""The links and forms of a page, and whether each leads to one of the app's routes.

Used twice: conftest checks every HTML page any fast test receives, and tests/test_links.py walks the pages
an agent, a taxpayer and a trusted helper can reach from their start pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from starlette.applications import Starlette
from starlette.routing import Match

# (attribute, the method it asks with); a form's action asks with the form's method.
LINK_ATTRIBUTES = {"href": "GET", "hx-get": "GET", "data-hx-get": "GET", "hx-post": "POST", "data-hx-post": "POST"}


@dataclass(frozen=True)
class Link:
    method: str
    path: str  # without query or fragment
    target: str  # as written in the page, for the failure message
    attribute: str


def links_in(tree: Element) -> list[Link]:
    """Every path on this site the page links to or submits to: href, form actions, htmx attributes."""
    found: list[Link] = []
    for element in tree.iter():
        if not isinstance(element.tag, str):  # a comment
            continue
        for attribute, method in LINK_ATTRIBUTES.items():
            if (value := element.get(attribute)) is not None:
                found.extend(_site_link(method, value, attribute))
        if element.tag == "form" and (action := element.get("action")) is not None:
            found.extend(_site_link((element.get("method") or "get").upper(), action, "action"))
    return found


def _site_link(method: str, value: str, attribute: str) -> Iterable[Link]:
    if value.startswith("/") and not value.startswith("//"):  # a path on this site, not another site or '#x'
        yield Link(method, urlsplit(value).path, value, attribute)


def route_of(app: Starlette, method: str, path: str) -> str | None:
    """The name of the route that answers this method and path, or None if none does."""
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return getattr(route, "name", None) or "(unnamed)"
    return None


def unrouted(app: Starlette, links: Iterable[Link]) -> list[Link]:
    return [link for link in links if route_of(app, link.method, link.path) is None]

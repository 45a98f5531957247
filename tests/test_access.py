"""The one gate, seen from outside: every page about a client answers 404 to anyone who may not act for them,
exactly as if the client did not exist. New client pages are picked up from the routing table, so a page
that forgets the gate fails here."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from portal.app import create_app
from tests.factories import World, csrf_from, sign_in


def _client_routes() -> list[Route]:
    app = create_app()
    return [r for r in app.routes if isinstance(r, Route) and "{client_id" in r.path]


def _url(route: Route, client_id: int) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(client_id) if name == "client_id" else ("1" if match.group(2) in ("int", "id") else "vat")

    return re.sub(r"\{(\w+)(?::(\w+))?\}", value, route.path)


CLIENT_ROUTES = _client_routes()


def test_the_routing_table_has_client_pages_to_check() -> None:
    assert len(CLIENT_ROUTES) >= 15


@pytest.mark.parametrize("route", CLIENT_ROUTES, ids=lambda r: r.path)
def test_another_firms_client_is_a_404_on_every_client_page(client: TestClient, world: World, route: Route) -> None:
    sign_in(client, "agent@example.com")
    token = csrf_from(client.get("/clients").text)
    for client_id in (world.other_client.id, 987_654):  # someone else's client, and no client at all
        url = _url(route, client_id)
        assert client.get(url).status_code == 404, url
        if "POST" in (route.methods or ()):
            assert client.post(url, data={"csrf_token": token}).status_code == 404, url

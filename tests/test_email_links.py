"""Every page an email links to is a real page: portal.domain.email_links names each route with its path (domain
code cannot ask the web's routing table), and here each is proved to be exactly what Starlette's router gives for
that route, with the emails' own parameters. A route renamed or moved fails here, not in someone's inbox."""

from __future__ import annotations

import string

import pytest
from starlette.applications import Starlette

from portal.domain import email_links


@pytest.mark.parametrize("name", sorted(email_links.PATHS))
def test_each_email_link_is_its_routes_path(app: Starlette, name: str) -> None:
    fields = [field for _, field, _, _ in string.Formatter().parse(email_links.PATHS[name]) if field]
    params = {field: 7 if field.endswith("_id") else "a-secret-token" for field in fields}
    assert email_links.link(name, **params) == app.url_path_for(name, **params)


def test_a_link_needs_the_routes_parameters() -> None:
    assert email_links.link("client_activity", client_id=12) == "/clients/12/activity"
    with pytest.raises(KeyError):
        email_links.link("client_activity")

"""Links come from route names (portal.web.links), and every link and form leads to a route.

conftest checks the links of every HTML page any test receives; here an agent, a taxpayer and a trusted helper
walk the demo data from their start pages, following every link they are offered, and the template global
path_for is proved to give exactly Starlette's url_path_for on every route.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from datetime import date
from xml.etree.ElementTree import Element

import html5lib
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from starlette.convertors import IntegerConvertor, PathConvertor, StringConvertor
from starlette.routing import NoMatchFound, Route
from starlette.testclient import TestClient

from portal.app import create_app
from portal.devdata import demo
from portal.domain.sql import make_engine, unit_of_work
from portal.settings import Settings
from portal.web.convertors import IdConvertor
from portal.web.links import PathFinder
from tests.conftest import _check_html_and_links
from tests.factories import sign_in
from tests.links import Link, links_in, route_of, unrouted

TODAY = date.today()
PAGES_PER_ROUTE = 2  # enough to meet each page's links in more than one state, few enough to stay fast


def _parse(html: str) -> Element:
    return html5lib.parse(html, namespaceHTMLElements=False)  # type: ignore[no-any-return]


def test_links_are_found_in_hrefs_forms_and_htmx_attributes_but_not_other_sites() -> None:
    tree = _parse('<a href="/clients?page=2#top">a</a><a href="https://www.gov.uk/">b</a><a href="#main">c</a>'
                  '<form method="post" action="/sign-out"></form><form action="/clients"></form>'
                  '<div hx-get="/clients/7" data-hx-get="/whats-due"></div><a href="//evil.example/">d</a>')
    assert [(link.method, link.path) for link in links_in(tree)] == [
        ("GET", "/clients"), ("POST", "/sign-out"), ("GET", "/clients"), ("GET", "/clients/7"), ("GET", "/whats-due")]


def test_a_link_to_no_route_or_a_form_with_the_wrong_method_is_caught(app) -> None:  # type: ignore[no-untyped-def]
    tree = _parse('<a href="/clients/7/vat">ok</a><a href="/clients/seven">no</a><a href="/no-such-page">no</a>'
                  '<form method="post" action="/signed-out"></form><form method="post" action="/sign-out"></form>')
    assert [link.target for link in unrouted(app, links_in(tree))] == ["/clients/seven", "/no-such-page", "/signed-out"]
    assert route_of(app, "GET", "/clients/7/vat") == "vat_obligations"


def test_every_route_gives_the_same_path_through_path_for_as_through_starlette(app) -> None:  # type: ignore[no-untyped-def]
    path_for = PathFinder(app.routes)
    samples = {IntegerConvertor: 2147483647, IdConvertor: 2147483647, StringConvertor: "a-b_c",
               PathConvertor: "app/x.css"}
    for route in app.routes:
        assert isinstance(route, Route) and route.name
        params = {name: samples[type(convertor)] for name, convertor in route.param_convertors.items()}
        assert path_for(route.name, **params) == app.url_path_for(route.name, **params), route.path
        assert path_for(route.name, **params) == app.url_path_for(route.name, **params)  # remembered, still equal
    with pytest.raises(NoMatchFound):
        path_for("client_overview")  # a missing parameter is Starlette's error, not a wrong link
    with pytest.raises(NoMatchFound):
        path_for("no_such_route")


@pytest.fixture(scope="module")
def demo_engine(postgres_engine: Engine | None, settings: Settings,  # type: ignore[no-untyped-def]
                tmp_path_factory) -> Iterator[Engine]:
    """The demo data, small: every kind of page has something on it (requests in each state, a helper...)."""
    if postgres_engine is not None:
        pytest.skip("the walk reads a seeded SQLite file; PostgreSQL runs the same templates")
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('links') / 'demo.db'}")
    SQLModel.metadata.create_all(engine)
    with unit_of_work(engine) as db:
        demo.seed(db, settings, today=TODAY, clients=12)
    yield engine
    engine.dispose()


def _walk(client: TestClient, app, start: list[str]) -> tuple[Counter[str], list[tuple[str, Link]]]:  # type: ignore[no-untyped-def]
    """Follows every GET link from the start pages, a few pages per route; returns the pages per route seen and
    every link found on them. conftest's hook has already failed the test on a link to no route."""
    seen: set[str] = set()
    per_route: Counter[str] = Counter()
    found: list[tuple[str, Link]] = []
    queue = deque(start)
    while queue:
        target = queue.popleft()
        path = target.split("#")[0]
        name = route_of(app, "GET", path.split("?")[0])
        if path in seen or name is None or name == "static" or per_route[name] >= PAGES_PER_ROUTE:
            continue
        seen.add(path)
        per_route[name] += 1
        response = client.get(path)
        assert response.status_code in (200, 303), f"{path} answered {response.status_code}"
        if response.status_code == 303:
            queue.append(response.headers["location"])
            continue
        if not response.headers["content-type"].startswith("text/html"):
            continue
        for link in links_in(_parse(response.text)):
            found.append((path, link))
            if link.method == "GET":
                queue.append(link.target)
    return per_route, found


@pytest.mark.parametrize(("email", "start", "expected"), [
    ("agent@example.com", ["/", "/clients", "/whats-due", "/authorisation-requests", "/activity"],
     {"clients", "client_overview", "vat_obligations", "income_tax", "client_details", "stop_acting",
      "whats_due", "track_requests", "request_resend", "request_cancel", "new_authorisation_request",
      "ask_client_type", "firm_activity", "account", "help"}),
    ("client@example.com", ["/", "/account", "/manage-your-tax-agents", "/trusted-helpers"],
     {"account", "client_overview", "client_activity", "client_details", "manage_tax_agents", "trusted_helpers",
      "helper_invite", "remove_agent", "remove_helper", "register", "helping"}),
    ("helper@example.com", ["/", "/helping"], {"account", "helping", "client_overview", "stop_helping"}),
])
def test_every_link_an_agent_a_taxpayer_and_a_helper_are_offered_leads_to_a_route(
        demo_engine: Engine, settings: Settings, email: str, start: list[str], expected: set[str]) -> None:
    app = create_app(settings=settings, engine=demo_engine)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        client.event_hooks["response"].append(_check_html_and_links(app))
        sign_in(client, email, demo.DEMO_PASSWORD, demo.DEMO_TOTP_SECRET)
        per_route, found = _walk(client, app, start)
    assert expected <= set(per_route), f"not reached: {expected - set(per_route)}"
    assert found and not [(page, link) for page, link in found if route_of(app, link.method, link.path) is None]


def test_path_for_in_a_template_gives_the_same_path_however_it_is_called(app) -> None:  # type: ignore[no-untyped-def]
    """The code generator folds constant calls and calls the PathFinder directly; the answer must not change."""
    env = app.state.templates.env
    source = ('{{ path_for("vat_return", client_id=7, obligation_id=8) }}|{{ path_for("vat_return", client_id=c,'
              ' obligation_id=o) }}|{{ path_for(name, **params) }}|{% set p = path_for %}{{ p("clients") }}')
    rendered = env.from_string(source).render(c=7, o=8, name="remove_helper", params={"link_id": 3})
    assert rendered.split("|") == ["/clients/7/vat/returns/8", "/clients/7/vat/returns/8",
                                   "/manage-your-tax-agents/remove-helper/3", "/clients"]
    with pytest.raises(NoMatchFound):
        env.from_string('{{ path_for("no_such_route") }}')  # a constant typo fails when the template compiles

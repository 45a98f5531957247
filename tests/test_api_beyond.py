"""Beyond HMRC: the firm's client list by cursor and the authorisation change feed (api.md §9)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col
from starlette.testclient import TestClient

from portal.domain import handshake
from portal.domain.models import AuthorisationRequest, Firm, Taxpayer
from portal.domain.sql import unit_of_work
from portal.domain.team_models import AccessGroup
from tests import factories
from tests.oauth_dance import Api, access_for
from tests.test_api_agents import ITSA


def test_the_client_list_pages_by_cursor(api: Api, engine: Engine, world: factories.World) -> None:
    with unit_of_work(engine) as db:
        for n in range(5):
            client = factories.taxpayer(db, f"Client {n}", vrn=f"10000{n:04d}")
            factories.authorise(db, db.get(Firm, world.firm.id), client, "HMRC-MTD-VAT")  # type: ignore[arg-type]
    seen, cursor, pages = [], None, 0
    while True:
        response = api("GET", "/agents/{arn}/relationships?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.text
        seen += response.json()["items"]
        pages += 1
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 7  # the world's two, and five more
    assert {"clientName": "Jane Whitfield", "service": "MTD-IT", "agentType": "main", "clientIdType": "ni",
            "clientId": "AB123456C"}.items() <= next(i for i in seen if i["clientName"] == "Jane Whitfield").items()
    only_vat = api("GET", "/agents/{arn}/relationships?service=MTD-VAT").json()["items"]
    assert len(only_vat) == 6 and all(i["service"] == "MTD-VAT" for i in only_vat)
    assert api("GET", "/agents/{arn}/relationships?cursor=garbage").json()["code"] == "INVALID_CURSOR"
    assert api("GET", "/agents/{arn}/relationships?limit=0").json()["code"] == "INVALID_LIMIT"


def test_access_groups_apply_to_the_client_list(client: TestClient, engine: Engine, world: factories.World) -> None:
    with unit_of_work(engine) as db:
        firm = db.get(Firm, world.firm.id)
        assert firm is not None
        firm.access_groups_enabled = True
        group = AccessGroup(firm_id=firm.id, name="Partners")
        db.add(group)
        db.flush()
        factories.in_group(db, group, world.itsa_client)
    _app, tokens = access_for(client, "staff@example.com")
    staff = Api(client, str(tokens["access_token"]), world.firm.arn)
    names = [i["clientName"] for i in staff("GET", "/agents/{arn}/relationships").json()["items"]]
    assert names == ["Granite Bakery Ltd"]


def test_the_change_feed_follows_every_end(api: Api, engine: Engine, world: factories.World) -> None:
    start = api("GET", "/agents/{arn}/relationship-events").json()
    assert start["events"] == []
    cancelled = api("POST", "/agents/{arn}/invitations", ITSA).headers["location"]
    api("DELETE", cancelled)
    api("PUT", "/agents/{arn}/deauthorise-client", {"service": "MTD-IT", "clientType": "personal",
                                                   "clientIdType": "ni", "clientId": "AB123456C"})
    with unit_of_work(engine) as db:  # a request nobody answered, swept as expired
        taxpayer = db.get(Taxpayer, world.other_client.id)
        assert taxpayer is not None
        made = handshake.create_request(db, firm_id=world.firm.id, user_id=world.agent.id,
                                        service=handshake.BY_KEY["HMRC-MTD-IT"], taxpayer=taxpayer,
                                        today=date.today())
        db.execute(update(AuthorisationRequest).where(col(AuthorisationRequest.id) == made.id)
                   .values(expires_on=date.today() - timedelta(days=1)))
        handshake.expire_overdue(db, today=date.today())
    feed = api("GET", "/agents/{arn}/relationship-events?after=" + start["next_cursor"]).json()
    assert [e["type"] for e in feed["events"]] == ["request_cancelled", "authorisation_ended_by_agent",
                                                   "request_expired"]
    assert feed["events"][0]["invitationId"] == cancelled.rsplit("/", 1)[1]
    later = api("GET", "/agents/{arn}/relationship-events?after=" + feed["next_cursor"]).json()
    assert later["events"] == [] and later["next_cursor"] == feed["next_cursor"]


def test_a_client_choosing_another_main_agent_shows_as_replaced(api: Api, engine: Engine,
                                                                 world: factories.World) -> None:
    with unit_of_work(engine) as db:
        taxpayer = db.get(Taxpayer, world.itsa_client.id)
        assert taxpayer is not None
        request = handshake.create_request(db, firm_id=world.other_firm.id, user_id=world.other_agent.id,
                                           service=handshake.BY_KEY["HMRC-MTD-IT"], taxpayer=taxpayer,
                                           today=date.today())
        handshake.accept_request(db, user_id=world.client_user.id, request=request, today=date.today())
    events = api("GET", "/agents/{arn}/relationship-events").json()["events"]
    assert [e["type"] for e in events] == ["authorisation_replaced"]

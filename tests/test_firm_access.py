"""Manage account and access groups: only a firm's administrators reach its management pages (every route is
found from the routing table), groups are made and filled through the pages, and what a standard user may
see follows at once, in the gate and every list alike (portal.domain.access is the one rule)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.routing import Route
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain import firm_access
from portal.domain.firm_access import ClientChoice, Refusal, Refused
from portal.domain.models import AuditEvent, Membership, UserSession
from portal.domain.sql import unit_of_work
from portal.domain.team_models import AccessGroup, AccessGroupClient
from tests import factories
from tests.factories import World, csrf_from, sign_in


def _firm_routes() -> list[Route]:
    return [r for r in create_app().routes if isinstance(r, Route) and r.path.startswith("/manage-account")]


FIRM_ROUTES = _firm_routes()


def _url(route: Route, group_id: int, user_id: int = 0) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(user_id if m.group(1) == "user_id" else group_id), route.path)


def _names(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="govuk-table__header"><a [^>]*>([^<]+)</a>', html)


def _ticked_names(html: str) -> list[str]:
    return re.findall(r'<span class="govuk-visually-hidden">Tick ([^<]+)</span>', html)


@pytest.fixture
def group_id(engine, world: World) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        group = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="VAT team")
        return group.id


def test_the_routing_table_has_firm_pages_to_check() -> None:
    assert len(FIRM_ROUTES) >= 7


@pytest.mark.parametrize("route", FIRM_ROUTES, ids=lambda r: f"{sorted(r.methods or ())} {r.path}")
def test_standard_users_and_other_firms_get_a_404_on_every_firm_page(
        client: TestClient, world: World, group_id: int, route: Route) -> None:
    # Another firm's administrator has a Manage account of their own; this firm's group is not theirs.
    other_firm = ("other@example.com",) if "{" in route.path else ()
    for email in ("staff@example.com", "jane@example.com", *other_firm):
        client.cookies.clear()
        sign_in(client, email)
        token = csrf_from(client.get("/account").text)
        url = _url(route, group_id, world.staff.id)
        if "GET" in (route.methods or ()):
            assert client.get(url).status_code == 404, (email, url)
        if "POST" in (route.methods or ()):
            assert client.post(url, data={"csrf_token": token, "name": "X", "enabled": "on", "role": "admin",
                                          "action": "add_all"}).status_code == 404, (email, url)
    with unit_of_work(client.app.state.engine) as db:  # type: ignore[attr-defined]
        assert db.execute(select(AccessGroupClient)).first() is None
        assert [g.name for g in db.execute(select(AccessGroup)).scalars()] == ["VAT team"]
        staff = db.execute(select(Membership).where(col(Membership.user_id) == world.staff.id)).scalar_one()
        assert (staff.firm_id, staff.role) == (world.firm.id, "standard")


def test_another_firms_group_is_a_404_to_an_administrator(client: TestClient, world: World, engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        theirs = firm_access.create_group(db, firm_id=world.other_firm.id, actor_user_id=world.other_agent.id,
                                          name="Theirs").id
    sign_in(client, "agent@example.com")
    token = csrf_from(client.get("/manage-account").text)
    for route in FIRM_ROUTES:
        if "{group_id" in route.path:
            url = _url(route, theirs)
            method = client.get if "GET" in (route.methods or ()) else client.post
            assert method(url, **({} if method == client.get else {"data": {"csrf_token": token}})).status_code == 404


def test_group_names_are_unique_per_firm_ignoring_case_and_spaces(db: Session, world: World) -> None:
    firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="VAT team")
    for name, reason in (("  vat   TEAM ", Refusal.NAME_TAKEN), ("", Refusal.NAME_MISSING),
                         ("x" * 51, Refusal.NAME_TOO_LONG)):
        with pytest.raises(Refused) as refused:
            firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name=name)
        assert refused.value.reason is reason
    firm_access.create_group(db, firm_id=world.other_firm.id, actor_user_id=world.other_agent.id, name="VAT team")


def test_an_administrator_builds_a_group_and_the_members_list_shrinks(client: TestClient, world: World,
                                                                      engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        for n in range(25):
            factories.authorise(db, world.firm, factories.taxpayer(db, f"Alder {n:02} Ltd", "business"),
                                "HMRC-MTD-VAT")
    sign_in(client, "agent@example.com")
    token = csrf_from(client.get("/manage-account").text)
    assert client.post("/manage-account/access-groups", data={"csrf_token": token, "enabled": "on"}
                       ).status_code == 303
    page = client.post("/manage-account/groups/new", data={"csrf_token": token, "name": "Alders"})
    assert page.status_code == 303
    group_url = page.headers["location"]
    clients_url = group_url + "/clients"

    # Search, tick two on page 1, page on (the ticks go with the form), tick one on page 2, add all three.
    page = client.post(clients_url, data={"csrf_token": token, "q": "alder", "action": "search"})
    first = client.get(page.headers["location"]).text
    assert "25 clients match" in first and len(_ticked_names(first)) == 20
    shown = re.findall(r'name="shown" value="(\d+)"', first)
    page = client.post(clients_url, data={"csrf_token": token, "q": "alder", "goto": "2", "shown": shown,
                                          "selected": shown[:2]})
    second = client.get(page.headers["location"]).text
    assert "2</strong> clients ticked" in second and "Page 2 of 2" in second
    shown2 = re.findall(r'name="shown" value="(\d+)"', second)
    page = client.post(clients_url, data={"csrf_token": token, "q": "alder", "action": "add_selected",
                                          "shown": shown2, "selected": shown2[:1]})
    assert "added=3" in page.headers["location"]
    assert "3 clients added to Alders" in client.get(page.headers["location"]).text

    # "Select all N matching": the 22 others in one action, the 3 already in are not added twice.
    page = client.post(clients_url, data={"csrf_token": token, "q": "alder", "action": "add_all"})
    assert "added=22" in page.headers["location"]

    # The staff member, in no group, loses the 25 at once; added to the group, sees them again.
    staff = TestClient(client.app, follow_redirects=False)
    sign_in(staff, "staff@example.com")
    assert "Alder 00 Ltd" not in _names(staff.get("/clients").text)
    assert _names(staff.get("/clients").text) == ["Granite Bakery Ltd", "Jane Whitfield"]  # in no group
    unassigned = client.get("/manage-account/unassigned-clients").text
    assert "2 clients" in unassigned and "Granite Bakery Ltd" in unassigned and "Alder" not in unassigned

    assert client.post(group_url + "/members", data={"csrf_token": token, "add": str(world.staff.id)}
                       ).status_code == 303
    assert "Alder 00 Ltd" in _names(staff.get("/clients").text)
    assert "25 clients are in this group" in client.get(group_url).text

    # Removed from the group: refused on the very next request, in the list and at the gate.
    alder = int(shown[0])
    assert staff.get(f"/clients/{alder}").status_code == 200
    client.post(group_url + "/members", data={"csrf_token": token, "remove": str(world.staff.id)})
    assert staff.get(f"/clients/{alder}").status_code == 404
    assert "Alder 00 Ltd" not in _names(staff.get("/clients").text)

    # Remove every matching client; the firm's activity says who did each change.
    page = client.post(clients_url, data={"csrf_token": token, "q": "alder 0", "action": "remove_all"})
    assert "removed=10" in page.headers["location"]
    with unit_of_work(engine) as db:
        actions = db.execute(select(col(AuditEvent.action)).where(col(AuditEvent.actor_user_id) == world.agent.id,
                                                                 col(AuditEvent.action).like("access_group%"))
                             ).scalars().all()
    assert sorted(set(actions)) == ["access_group_clients_added", "access_group_clients_removed",
                                    "access_group_created", "access_group_member_added",
                                    "access_group_member_removed", "access_groups_turned_on"]


def test_gate_and_lists_for_a_standard_user_in_a_group_outside_it_and_a_client_in_no_group(
        client: TestClient, world: World, engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        firm_access.set_access_groups(db, firm_id=world.firm.id, actor_user_id=world.agent.id, enabled=True)
        mine = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="Mine")
        theirs = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="Theirs")
        firm_access.add_member(db, mine, user_id=world.staff.id, actor_user_id=world.agent.id)
        firm_access.add_clients(db, theirs, actor_user_id=world.agent.id, taxpayer_ids=[world.vat_client.id])
        firm_access.add_clients(db, mine, actor_user_id=world.agent.id, taxpayer_ids=[world.other_client.id])
        loner = factories.taxpayer(db, "Loner Ltd", "business")
        factories.authorise(db, world.firm, loner, "HMRC-MTD-VAT")
        factories.obligation(db, loner, "VAT", date.today() + timedelta(days=3), kind="VAT return")
        db.flush()
        loner_id = loner.id
    sign_in(client, "staff@example.com")
    # vat_client is in a group the staff member is not in; Jane and Loner are in no group.
    assert _names(client.get("/clients").text) == ["Jane Whitfield", "Loner Ltd"]
    assert client.get(f"/clients/{world.vat_client.id}").status_code == 404
    assert client.get(f"/clients/{loner_id}").status_code == 200
    due = client.get("/whats-due").text
    assert "Granite Bakery Ltd" not in due and "Loner Ltd" in due
    # Another firm's client stays invisible even when (wrongly) put in one of this firm's groups.
    assert client.get(f"/clients/{world.other_client.id}").status_code == 404
    # Put vat_client in Mine as well: a client in several groups is seen by the members of any of them.
    with unit_of_work(engine) as db:
        group = firm_access.group_of(db, firm_id=world.firm.id, group_id=mine.id)
        assert group is not None
        firm_access.add_clients(db, group, actor_user_id=world.agent.id,
                                matching=ClientChoice(world.firm.id, "granite"))
    assert client.get(f"/clients/{world.vat_client.id}").status_code == 200
    # Access groups off: every member sees every client again, and the groups are kept.
    with unit_of_work(engine) as db:
        firm_access.set_access_groups(db, firm_id=world.firm.id, actor_user_id=world.agent.id, enabled=False)
        assert len(firm_access.groups(db, world.firm.id)) == 2
    assert _names(client.get("/clients").text) == ["Granite Bakery Ltd", "Jane Whitfield", "Loner Ltd"]


def test_adding_clients_by_id_ignores_another_firms_clients(db: Session, world: World) -> None:
    group = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="G")
    added = firm_access.add_clients(db, group, actor_user_id=world.agent.id,
                                    taxpayer_ids=[world.other_client.id, world.vat_client.id])
    assert added == 1
    assert firm_access.count_choice(db, ClientChoice(world.firm.id, group=str(group.id))) == 1
    assert firm_access.count_choice(db, ClientChoice(world.firm.id, group=firm_access.NO_GROUP)) == 1


def test_deleting_a_group_makes_its_clients_unassigned(db: Session, world: World) -> None:
    group = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="G")
    firm_access.add_clients(db, group, actor_user_id=world.agent.id, matching=ClientChoice(world.firm.id))
    assert firm_access.count_choice(db, ClientChoice(world.firm.id, group=firm_access.NO_GROUP)) == 0
    firm_access.delete_group(db, group, actor_user_id=world.agent.id)
    assert firm_access.count_choice(db, ClientChoice(world.firm.id, group=firm_access.NO_GROUP)) == 2


def test_a_tax_service_group_follows_clients_as_they_come_and_go(client: TestClient, world: World,
                                                                  engine) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "agent@example.com")
    token = csrf_from(client.get("/manage-account").text)
    client.post("/manage-account/access-groups", data={"csrf_token": token, "enabled": "on"})
    page = client.post("/manage-account/groups/new-tax-service", data={"csrf_token": token, "regime": "VAT"})
    assert page.status_code == 303
    group_url = page.headers["location"]
    again = client.post("/manage-account/groups/new-tax-service", data={"csrf_token": token, "regime": "VAT"})
    assert again.status_code == 400  # one group per tax service
    staff = TestClient(client.app, follow_redirects=False)
    sign_in(staff, "staff@example.com")
    assert _names(staff.get("/clients").text) == ["Jane Whitfield"]  # the VAT client is in the VAT group

    with unit_of_work(engine) as db:  # a new VAT client joins the group by itself
        newcomer = factories.taxpayer(db, "Newcomer Ltd", "business")
        factories.authorise(db, world.firm, newcomer, "HMRC-MTD-VAT")
        db.flush()
        newcomer_id = newcomer.id
    assert "Newcomer Ltd" not in _names(staff.get("/clients").text)
    assert staff.get(f"/clients/{newcomer_id}").status_code == 404
    assert "2 clients are in this group" in client.get(group_url).text

    # Removing a client from a tax service group excludes it: visible to all again (it is in no other group).
    client.post(group_url + "/clients", data={"csrf_token": token, "q": "newcomer", "action": "remove_all"})
    assert "1 client is in this group" in client.get(group_url).text
    assert staff.get(f"/clients/{newcomer_id}").status_code == 200
    # Adding it back ends the exclusion; the staff member in the group sees both.
    client.post(group_url + "/clients", data={"csrf_token": token, "q": "newcomer", "action": "add_all"})
    client.post(group_url + "/members", data={"csrf_token": token, "add": str(world.staff.id)})
    assert _names(staff.get("/clients").text) == ["Granite Bakery Ltd", "Jane Whitfield", "Newcomer Ltd"]
    unassigned = client.get("/manage-account/unassigned-clients").text
    assert "Jane Whitfield" in unassigned and "Newcomer" not in unassigned


def test_the_firm_sets_its_own_client_reference_shown_in_the_list_the_csv_and_the_chooser(
        client: TestClient, world: World) -> None:
    sign_in(client, "staff@example.com")  # anyone in the firm who may act for the client
    url = f"/clients/{world.vat_client.id}/client-reference"
    token = csrf_from(client.get(url).text)
    assert client.post(url, data={"csrf_token": token, "reference": "x" * 81}).status_code == 400
    assert client.post(url, data={"csrf_token": token, "reference": "  GB-0042  bakery "}).status_code == 303
    assert "Your client reference" in client.get(f"/clients/{world.vat_client.id}").text
    assert "Your reference: GB-0042 bakery" in client.get("/clients").text
    csv_rows = client.get("/whats-due.csv").text.splitlines()
    assert csv_rows[0].startswith("Client,Client reference,") and "Granite Bakery Ltd,GB-0042 bakery," in csv_rows[1]
    # The firm's own reference is the firm's: the client's own view has none, and the other firm cannot set it.
    other = TestClient(client.app, follow_redirects=False)
    sign_in(other, "other@example.com")
    assert other.get(url).status_code == 404
    jane = TestClient(client.app, follow_redirects=False)
    sign_in(jane, "jane@example.com")
    assert jane.get(f"/clients/{world.itsa_client.id}/client-reference").status_code == 404
    assert "Your client reference" not in jane.get(f"/clients/{world.itsa_client.id}").text
    admin = TestClient(client.app, follow_redirects=False)
    sign_in(admin, "agent@example.com")
    token = csrf_from(admin.get("/manage-account").text)
    group = admin.post("/manage-account/groups/new", data={"csrf_token": token, "name": "G"}).headers["location"]
    assert _ticked_names(admin.get(group + "/clients?q=gb-00").text) == ["Granite Bakery Ltd"]


def test_administrators_change_roles_and_remove_members_whose_sessions_end_at_once(
        client: TestClient, world: World, engine) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "agent@example.com")
    token = csrf_from(client.get("/manage-account/team").text)
    staff = TestClient(client.app, follow_redirects=False)
    sign_in(staff, "staff@example.com")
    assert staff.get("/manage-account").status_code == 404

    # The only administrator cannot stop being one, nor leave.
    page = client.post(f"/manage-account/team/{world.agent.id}/role", data={"csrf_token": token, "role": "standard"})
    assert page.status_code == 400 and "at least one administrator" in page.text
    assert client.post("/account/leave-firm", data={"csrf_token": token}).headers["location"].endswith(
        "leave=last-admin")

    assert client.post(f"/manage-account/team/{world.staff.id}/role",
                       data={"csrf_token": token, "role": "admin"}).status_code == 303
    assert staff.get("/manage-account").status_code == 200  # on their next request
    assert client.post(f"/manage-account/team/{world.staff.id}/role",
                       data={"csrf_token": token, "role": "standard"}).status_code == 303
    assert staff.get("/manage-account").status_code == 404

    assert staff.get(f"/clients/{world.vat_client.id}").status_code == 200
    assert client.post(f"/manage-account/team/{world.staff.id}/remove", data={"csrf_token": token}
                       ).status_code == 303
    assert staff.get(f"/clients/{world.vat_client.id}").status_code == 303  # signed out: to the sign-in page
    with unit_of_work(engine) as db:
        assert db.execute(select(UserSession).where(col(UserSession.user_id) == world.staff.id,
                                                    col(UserSession.ended_at).is_(None))).first() is None
        actions = db.execute(select(col(AuditEvent.action), col(AuditEvent.actor_user_id))
                             .where(col(AuditEvent.action).like("team_member%"))).all()
    assert sorted(set(actions)) == [("team_member_removed", world.agent.id),
                                    ("team_member_role_changed", world.agent.id)]
    sign_in(staff, "staff@example.com")  # they can still sign in, as a person with no firm
    assert staff.get(f"/clients/{world.vat_client.id}").status_code == 404
    assert "Removed a team member" in client.get("/activity").text


def test_a_member_can_leave_their_firm(client: TestClient, world: World) -> None:
    sign_in(client, "staff@example.com")
    token = csrf_from(client.get("/account").text)
    assert client.post("/account/leave-firm", data={"csrf_token": token}).headers["location"] == "/signed-out"
    sign_in(client, "staff@example.com")
    assert "Leave Harbour Tax" not in client.get("/account").text
    assert client.get(f"/clients/{world.vat_client.id}").status_code == 404


def _invitation_path(engine) -> str:  # type: ignore[no-untyped-def]
    from portal.domain.outbox_models import OutboxEmail
    with unit_of_work(engine) as db:
        row = db.execute(select(OutboxEmail).where(col(OutboxEmail.kind) == "team_invitation")
                         .order_by(col(OutboxEmail.id).desc())).scalars().first()
        assert row is not None
        return str(row.context["secret_path"])


def test_an_invited_colleague_signs_in_with_that_address_and_joins(client: TestClient, world: World, engine,
                                                                   settings) -> None:  # type: ignore[no-untyped-def]
    from portal.domain.outbox_models import OutboxEmail
    from portal.mail.render import render as render_email
    sign_in(client, "agent@example.com")
    token = csrf_from(client.get("/manage-account/team/invite").text)
    assert client.post("/manage-account/team/invite", data={"csrf_token": token, "email": "staff@example.com",
                                                            "role": "standard"}).status_code == 400  # a member
    page = client.post("/manage-account/team/invite", data={"csrf_token": token, "email": "New.Person@example.com",
                                                             "role": "standard"})
    assert page.status_code == 303
    assert "new.person@example.com" in client.get("/manage-account/team").text
    assert client.post("/manage-account/team/invite", data={"csrf_token": token, "email": "new.person@example.com",
                                                            "role": "admin"}).status_code == 400  # already invited
    first = _invitation_path(engine)
    with unit_of_work(engine) as db:
        email = db.execute(select(OutboxEmail).where(col(OutboxEmail.kind) == "team_invitation")).scalars().one()
        assert email.to_address == "new.person@example.com"
        rendered = render_email("team_invitation", "en", email.context, base_url="http://portal.test")
        assert "invited you to join Harbour Tax" in rendered.text and f"http://portal.test{first}" in rendered.text

    # Resending replaces the link: the first one no longer works.
    invitation_id = re.findall(r'/manage-account/team/invitations/(\d+)', client.get("/manage-account/team").text)[0]
    client.post(f"/manage-account/team/invitations/{invitation_id}", data={"csrf_token": token, "action": "resend"})
    link = _invitation_path(engine)
    assert link != first

    newcomer = TestClient(client.app, follow_redirects=False)
    assert newcomer.get(first).status_code == 404
    assert "sign in with the email address" in newcomer.get(link).text
    # Someone else signed in is told the invitation is not theirs; a member of a firm must leave it first.
    other = TestClient(client.app, follow_redirects=False)
    sign_in(other, "other@example.com")
    assert "for someone else" in other.get(link).text
    with unit_of_work(engine) as db:
        factories.user(db, settings, "new.person@example.com", "New Person")
    sign_in(newcomer, "new.person@example.com")
    assert newcomer.get("/clients").status_code == 303  # not an agent yet
    join_token = csrf_from(newcomer.get(link).text)
    # A member of a firm has 2-step verification: set up before any client (gap 4 of issue 13's closing work).
    joined = newcomer.post(link, data={"csrf_token": join_token})
    assert joined.headers["location"] == "/sign-in/set-up-2-step?next=%2Fclients"
    assert newcomer.get("/clients").headers["location"].startswith("/sign-in/second-step")
    done, _secret = factories.set_up_authenticator_app(newcomer, joined.headers["location"])
    assert "Save your recovery codes" in done.text and 'href="/clients"' in done.text
    assert "Granite Bakery Ltd" in newcomer.get("/clients").text
    assert newcomer.get(link).status_code == 404  # single use
    team_page = client.get("/manage-account/team").text
    assert "New Person" in team_page and "There are no invitations waiting" in team_page
    assert "Joined the firm" in client.get("/activity").text


def test_invitations_expire_and_can_be_withdrawn(client: TestClient, world: World, engine) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from portal.domain import team
    from portal.domain.team_models import FirmInvitation
    with unit_of_work(engine) as db:
        team.invite(db, firm_id=world.firm.id, email="late@example.com", role="admin", actor_user_id=world.agent.id)
    link = _invitation_path(engine)
    with unit_of_work(engine) as db:
        invitation = db.execute(select(FirmInvitation)).scalars().one()
        invitation.expires_at = datetime(2020, 1, 1, tzinfo=UTC)
    sign_in(client, "agent@example.com")
    assert "Expired" in client.get("/manage-account/team").text
    assert "does not work" in client.get(link).text
    token = csrf_from(client.get("/manage-account/team").text)
    invitation_id = re.findall(r'/manage-account/team/invitations/(\d+)', client.get("/manage-account/team").text)[0]
    client.post(f"/manage-account/team/invitations/{invitation_id}", data={"csrf_token": token, "action": "withdraw"})
    assert "There are no invitations waiting" in client.get("/manage-account/team").text


def test_the_invitation_reads_in_welsh() -> None:
    from portal.mail.render import render as render_email
    rendered = render_email("team_invitation", "cy", {
        "firm_name": "Harbour Tax", "inviter_name": "Amira", "invited_email": "a@example.com", "role": "admin",
        "expires_on": "2026-12-13", "secret_path": "/join/x", "recipient_name": None}, base_url="http://portal.test")
    assert "wedi eich gwahodd i ymuno â Harbour Tax" in rendered.text and "fel gweinyddwr" in rendered.text
